"""Run a notebook in a fresh kernel for tests, as a learner would top to bottom."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run_notebook(path: Path, learner: str, extra_cells: list[str] = (), timeout: int = 120):
    """Execute `path` with MYLEARNING_LEARNER=learner; return the executed notebook.

    Raises nbclient's CellExecutionError if any cell raises. The kernel inherits
    MYLEARNING_ENDPOINT from the test process (set by conftest's emulator).
    """
    nb = nbformat.read(str(path), as_version=4)
    for source in extra_cells:
        nb.cells.append(nbformat.v4.new_code_cell(source))
    env = dict(os.environ, MYLEARNING_LEARNER=learner)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env)  # passed through to the kernel manager; the client shuts it down
    return nb


def outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")))
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)
