"""Shared helpers of the grading tests: notebooks made to order, and process checks."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lab 00's three answers, as a learner's cells would record them.
SETUP = "import mylearning\nsession = mylearning.connect()"
IDENTITY = ("me = session.client('sts').get_caller_identity()\n"
            "mylearning.record_answer('00', 'identity', "
            "{'account': me['Account'], 'region': session.region_name})")
DATE = "mylearning.record_answer('00', 'appmesh_end_of_support', '2026-09-30')"
SUCCESSOR = "mylearning.record_answer('00', 'appmesh_successor', 'ECS Service Connect')"


def notebook(*sources: str, kernel: str = "python3") -> dict:
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": kernel, "display_name": kernel, "language": "python"}},
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                   "id": f"c{i}", "source": src} for i, src in enumerate(sources)],
    }


def write(folder: Path, name: str, content: dict | str | bytes) -> Path:
    path = folder / name
    if isinstance(content, dict):
        path.write_text(json.dumps(content))
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return path


def grade_cli(*args: str, timeout: float = 600) -> tuple[subprocess.CompletedProcess, int]:
    """Run `mylearning grade ...` as an instructor would; return its result and pid."""
    cmd = [sys.executable, "-m", "mylearning", "grade", "--no-progress", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), proc.pid


def results(out: Path, slug: str) -> dict:
    return json.loads((out / slug / "results.json").read_text())


def record(out: Path, slug: str) -> dict:
    return results(out, slug)["extra_data"]["mylearning"]


def csv_rows(out: Path) -> dict[str, dict[str, str]]:
    import csv
    with open(out / "grades.csv", newline="") as fh:
        return {row["submission"]: row for row in csv.DictReader(fh)}


def grading_leftovers(grader_pid: int, marker: str | None = None) -> list[str]:
    """Processes a grader run with pid `grader_pid` may have left behind."""
    import psutil
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            if marker and marker in cmd:
                found.append(f"{proc.pid}: {cmd}")
                continue
            if "emulator_child" in cmd and f"--parent {grader_pid}" in cmd:
                found.append(f"{proc.pid}: {cmd}")
                continue
            if ("ipykernel_launcher" in cmd or "mylearning.grading.kernel_boot" in cmd) and proc.environ().get("JPY_PARENT_PID") == str(grader_pid):
                found.append(f"{proc.pid}: {cmd}")
        except (psutil.Error, OSError):
            continue
    return found
