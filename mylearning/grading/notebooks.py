"""Read a submitted notebook defensively and reduce it to the code that will run.

Learners' files arrive in every state: truncated JSON, an old or future
nbformat, cells without source, tags that ask tools to skip cells. The grader
runs fresh cells built from each code cell's source only, so no metadata in a
submission can change how it is executed (kernel name, skip or error tags).
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

#: The notebook format this grader executes; older ones are converted.
SUPPORTED_MAJOR = 4


class NotebookProblem(ValueError):
    """The file cannot be executed; the message is the learner-facing reason."""


@dataclass
class Program:
    """What will run: (cell position, source) for every non-empty code cell."""

    cells: list[tuple[int, str]]
    total_cells: int
    notes: list[str] = field(default_factory=list)


def load(path: Path, max_bytes: int) -> Program:
    """The code cells of `path`, or NotebookProblem saying why there are none to run."""
    size = path.stat().st_size
    if size > max_bytes:
        raise NotebookProblem(
            f"The file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit for a "
            "notebook; clear its outputs (Edit > Clear Outputs of All Cells) and submit again.")
    return parse(path.read_bytes())


def parse(data: bytes) -> Program:
    """The code cells of a notebook's bytes (already within the size limit)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookProblem("The file is not text (not UTF-8), so it is not a Jupyter "
                              "notebook. Submit the .ipynb file saved by JupyterLab.") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookProblem(
            f"The file is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}), "
            "so it is not a Jupyter notebook; it may be truncated or edited by hand. "
            "Submit the .ipynb file saved by JupyterLab.") from None
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise NotebookProblem("The file is JSON but not a Jupyter notebook (it has no "
                              "'nbformat' field). Submit the .ipynb file saved by JupyterLab.")
    major = raw.get("nbformat")
    if not isinstance(major, int) or isinstance(major, bool):
        raise NotebookProblem(f"The notebook's format version is {major!r}, not a number; "
                              "the file is damaged. Save it again from JupyterLab.")
    if major > SUPPORTED_MAJOR:
        raise NotebookProblem(f"The notebook uses format version {major}, newer than version "
                              f"{SUPPORTED_MAJOR} that this grader runs. Save it from the "
                              "course's JupyterLab.")
    if major < 3:
        raise NotebookProblem(f"The notebook uses format version {major}, too old to convert. "
                              "Open it in the course's JupyterLab and save it again.")
    return _program(text, major)


def _program(text: str, major: int) -> Program:
    import nbformat

    captured: dict = {}
    notes: list[str] = []
    try:
        with warnings.catch_warnings():  # nbformat warns about missing cell ids; irrelevant here
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=SUPPORTED_MAJOR,
                                capture_validation_error=captured)
    except Exception as exc:  # nbformat raises many kinds on damaged files
        raise NotebookProblem(f"The notebook could not be read as format version {major} "
                              f"({type(exc).__name__}: {_short(exc)}). Save it again from "
                              "JupyterLab.") from None
    if major < SUPPORTED_MAJOR:
        notes.append(f"Converted from notebook format version {major} to {SUPPORTED_MAJOR}.")
    if captured.get("ValidationError") is not None:
        notes.append("The notebook does not fully follow the notebook format "
                     f"({_short(captured['ValidationError'])}); its code cells ran anyway.")
    raw_cells = nb.get("cells")
    if not isinstance(raw_cells, list) or not raw_cells:
        raise NotebookProblem("The notebook has no cells, so there is nothing to run.")
    cells: list[tuple[int, str]] = []
    for index, cell in enumerate(raw_cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            notes.append(f"Cell {index + 1} has no readable source and was skipped.")
            continue
        if source.strip():
            cells.append((index, source))
    if not cells:
        raise NotebookProblem("The notebook has no code to run (no non-empty code cells).")
    return Program(cells=cells, total_cells=len(raw_cells), notes=notes)


def _short(exc: object, limit: int = 160) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
