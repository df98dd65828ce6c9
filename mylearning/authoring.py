"""Single-source authoring: `labs/` is generated from the master notebooks in `solutions/`.

Markers in solution notebooks:

* In a code cell, lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
  are the answer. The lab gets the block's placeholder instead: the lines inside
  the block that start with ``#> `` (without that mark), or, when there are
  none, ``# YOUR CODE HERE`` (plus ``pass`` where Python needs a statement).
  Placeholders must still run, so an untouched lab runs top to bottom.
* In a Markdown cell, text between ``<!-- BEGIN SOLUTION -->`` and
  ``<!-- END SOLUTION -->`` is dropped from the lab.
* A cell tagged ``solution-only`` is left out of the lab.

Both trees are stored without outputs, so diffs stay readable and no
credential or account id printed by a run can be committed.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
PLACEHOLDER_MARK = "#> "
SOLUTION_ONLY_TAG = "solution-only"
NOTEBOOK_NAME = re.compile(r"^\d\d-[a-z0-9-]+\.ipynb$")


class AuthoringError(ValueError):
    """A solution notebook's markers are malformed; the message names the cell."""


def strip_code(source: str, where: str = "cell") -> str:
    """The learner's version of a code cell's source."""
    out: list[str] = []
    block: list[str] | None = None
    indent = ""
    for number, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == BEGIN:
            if block is not None:
                raise AuthoringError(f"{where}, line {number}: nested {BEGIN}")
            block, indent = [], line[: len(line) - len(line.lstrip())]
        elif marker == END:
            if block is None:
                raise AuthoringError(f"{where}, line {number}: {END} without {BEGIN}")
            out.extend(_placeholder(block, indent))
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise AuthoringError(f"{where}: {BEGIN} is never closed")
    return "\n".join(out)


def _placeholder(block: list[str], indent: str) -> list[str]:
    marked = [line for line in block if line.strip().startswith(PLACEHOLDER_MARK.strip())]
    if marked:
        lines = []
        for line in marked:
            pad = line[: len(line) - len(line.lstrip())]
            text = line.strip()[len(PLACEHOLDER_MARK.strip()):]
            lines.append(pad + text[1:] if text.startswith(" ") else pad + text)
        return lines
    lines = [f"{indent}# YOUR CODE HERE"]
    if indent:
        lines.append(f"{indent}pass")
    return lines


def strip_markdown(source: str, where: str = "cell") -> str:
    if source.count(MD_BEGIN) != source.count(MD_END):
        raise AuthoringError(f"{where}: unbalanced {MD_BEGIN} / {MD_END}")
    pattern = re.compile(re.escape(MD_BEGIN) + r".*?" + re.escape(MD_END) + r"\n?", re.S)
    return pattern.sub("", source)


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def clean_cell(cell: dict) -> dict:
    """A cell without outputs or run counts."""
    cell = dict(cell)
    if cell.get("cell_type") == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    metadata = {k: v for k, v in cell.get("metadata", {}).items()
                if k not in ("execution", "collapsed", "scrolled")}
    cell["metadata"] = metadata
    return cell


def make_lab(solution: dict, name: str = "notebook") -> dict:
    """The learner's notebook for a solution notebook (a new dict; input untouched)."""
    cells = []
    for index, cell in enumerate(solution.get("cells", []), 1):
        if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        where = f"{name}, cell {index}"
        cell = clean_cell(cell)
        if cell.get("cell_type") == "code":
            cell["source"] = strip_code(_source(cell), where)
        elif cell.get("cell_type") == "markdown":
            cell["source"] = strip_markdown(_source(cell), where)
        cells.append(cell)
    lab = {k: v for k, v in solution.items() if k != "cells"}
    lab["cells"] = cells
    return lab


def clean_notebook(notebook: dict) -> dict:
    out = {k: v for k, v in notebook.items() if k != "cells"}
    out["cells"] = [clean_cell(c) for c in notebook.get("cells", [])]
    return out


def dumps(notebook: dict) -> str:
    """Stable JSON, as Jupyter writes it, so regenerating gives byte-identical files."""
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def solution_files(solutions: Path) -> list[Path]:
    files = sorted(p for p in Path(solutions).glob("*.ipynb"))
    bad = [p.name for p in files if not NOTEBOOK_NAME.match(p.name)]
    if bad:
        raise AuthoringError(f"Notebook names must look like 'NN-topic.ipynb': {', '.join(bad)}")
    return files


def build_labs(solutions: Path, labs: Path) -> list[Path]:
    """Write labs/ from solutions/; return the files written. Removes stale lab files."""
    labs.mkdir(parents=True, exist_ok=True)
    written = []
    wanted = set()
    for src in solution_files(solutions):
        notebook = json.loads(src.read_text())
        out = labs / src.name
        wanted.add(out.name)
        text = dumps(make_lab(notebook, src.name))
        if not out.exists() or out.read_text() != text:
            out.write_text(text)
        written.append(out)
    for stale in labs.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    return written


def outdated(solutions: Path, labs: Path) -> list[str]:
    """Names of lab files that differ from what `build_labs` would write (or are extra)."""
    problems = []
    expected = {}
    for src in solution_files(solutions):
        expected[src.name] = dumps(make_lab(json.loads(src.read_text()), src.name))
    for name, text in expected.items():
        path = labs / name
        if not path.exists():
            problems.append(f"{name}: missing")
        elif path.read_text() != text:
            problems.append(f"{name}: differs")
    for extra in sorted(labs.glob("*.ipynb")):
        if extra.name not in expected:
            problems.append(f"{extra.name}: has no solution notebook")
    return problems


def normalise_solutions(solutions: Path) -> list[Path]:
    """Strip outputs from the masters in place (they are stored without outputs)."""
    changed = []
    for src in solution_files(solutions):
        text = dumps(clean_notebook(json.loads(src.read_text())))
        if src.read_text() != text:
            src.write_text(text)
            changed.append(src)
    return changed
