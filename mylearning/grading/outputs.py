"""What the grader writes: grades.csv, Gradescope results.json, and feedback.

Every file is written atomically (a temporary file renamed into place), so an
interrupted run never leaves half a gradebook. The output guard remembers what
the grader wrote and puts it back if a submission changed the folder while its
kernel ran: a notebook cannot award itself (or anyone) a grade by writing files.
"""
from __future__ import annotations

import csv
import io
import json
import os
import stat
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from mylearning.grading.records import RECORD_KEY, Grade

if TYPE_CHECKING:  # pragma: no cover
    from mylearning.grading.ledger import Ledger

GRADES_CSV = "grades.csv"
SUMMARY_TXT = "summary.txt"
RESULTS_JSON = "results.json"
FEEDBACK = "feedback.md"


class OutputProblem(OSError):
    """An output path is not what the grader may write to; the message says what to do."""


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def refuse_non_file(path: Path) -> None:
    """Raise OutputProblem if `path` exists and is anything but a regular file."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise OutputProblem(f"{path} is {_kind(mode)}, not a regular file, so the grader will "
                            "not write there. Remove it (or choose another --out) and run again.")


def refuse_non_folder(path: Path) -> None:
    """Raise OutputProblem if `path` exists and is anything but a real folder."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        raise OutputProblem(f"{path} is {_kind(mode)}, not a folder, so the grader will not "
                            "write there. Remove it (or choose another --out) and run again.")


def check_output_folder(out: Path, slugs: Iterable[str]) -> None:
    """Before anything runs: every path the grader will write is a file or free (or raise)."""
    refuse_non_folder(out)
    from mylearning.grading.ledger import LEDGER
    for name in (GRADES_CSV, SUMMARY_TXT, LEDGER):
        refuse_non_file(out / name)
    for slug in slugs:
        refuse_non_folder(out / slug)
        for name in (RESULTS_JSON, FEEDBACK):
            refuse_non_file(out / slug / name)


def atomic_write(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all, in a real folder, never through a link."""
    refuse_non_folder(path.parent.parent) if path.parent.parent != path.parent else None
    refuse_non_folder(path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    refuse_non_folder(path.parent)
    refuse_non_file(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _num(value: float) -> str:
    return f"{value:g}"


def grades_csv(grades: Iterable[Grade], step_ids: list[str]) -> bytes:
    """The gradebook: submission, one column per step (points), total, max_total."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["submission", *step_ids, "total", "max_total"])
    for grade in sorted(grades, key=lambda g: g.submission):
        points = grade.points()
        writer.writerow([grade.submission, *(_num(points.get(s, 0.0)) for s in step_ids),
                         _num(grade.total), _num(grade.max_total)])
    return buf.getvalue().encode()


def results_json(grade: Grade) -> bytes:
    """Gradescope's results format, with the full record kept under extra_data."""
    tests = []
    for step in grade.steps:
        lines = [step.message, *(f"- {d}" for d in step.details)]
        if step.hint and not step.passed:
            lines.append(f"Hint: {step.hint}")
        tests.append({
            "name": f"Step {step.step_id}: {step.title}",
            "number": step.step_id,
            "score": step.points,
            "max_score": step.max_points,
            "status": "passed" if step.passed else "failed",
            "output": "\n".join(lines),
            "visibility": "visible",
        })
    overview = [f"Lab {grade.lab}: {_num(grade.total)}/{_num(grade.max_total)} points."]
    overview += grade.reasons
    data = {
        "score": grade.total,
        "execution_time": round(grade.seconds, 3),
        "output": "\n".join(overview),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {RECORD_KEY: grade.to_record()},
    }
    return (json.dumps(data, indent=2) + "\n").encode()


def feedback(grade: Grade) -> bytes:
    """A learner-readable report: score, what stopped the run, each step's message and hint."""
    done = sum(s.passed for s in grade.steps)
    lines = [f"# Lab {grade.lab} feedback: {grade.submission}", "",
             f"**Score: {_num(grade.total)} / {_num(grade.max_total)}** "
             f"({done} of {len(grade.steps)} steps passed)", ""]
    if grade.reasons:
        lines += ["## How your notebook ran", ""]
        lines += [f"- {r}" for r in grade.reasons] + [""]
    lines += ["## Steps", ""]
    for step in grade.steps:
        mark = "PASS" if step.passed else "FAIL"
        lines.append(f"### [{mark}] Step {step.step_id} {step.title} "
                     f"({_num(step.points)}/{_num(step.max_points)})")
        lines += ["", step.message]
        lines += [f"- {d}" for d in step.details]
        if step.hint and not step.passed:
            lines += ["", f"Hint: {step.hint}"]
        lines.append("")
    if grade.notes:
        lines += ["## Notes from the grader", ""] + [f"- {n}" for n in grade.notes] + [""]
    lines += ["Grades come from the state of your (emulated) AWS account after your notebook "
              "ran, read by the course's checks outside your notebook.", ""]
    return "\n".join(lines).encode()


class OutputGuard:
    """Keeps the output folder exactly as the grader wrote it.

    It remembers the bytes of every file the grader wrote (and of the small
    files that were there before the run). `verify()` compares the folder with
    that memory; changed or deleted files are written back and unexpected new
    files removed, and the changes are returned so the grader can say which
    submission ran while they happened.
    """

    MAX_REMEMBERED = 1 << 20

    def __init__(self, root: Path, ledger: "Ledger | None" = None):
        self.root = root
        #: The record of what the grader wrote (resume trusts nothing else).
        self.ledger = ledger
        self._lock = threading.Lock()
        self._known: dict[Path, bytes | None] = {}
        self._stat: dict[Path, tuple[int, int]] = {}
        root.mkdir(parents=True, exist_ok=True)
        for path in self._files():
            regular = stat.S_ISREG(path.lstat().st_mode)
            data = (path.read_bytes() if regular and path.lstat().st_size <= self.MAX_REMEMBERED
                    else None)
            self._remember(path, data)

    def _files(self) -> list[Path]:
        from mylearning.grading.ledger import LEDGER
        return [p for p in self.root.rglob("*")
                if (p.is_file() or p.is_symlink() or _special(p)) and p.name != LEDGER]

    def _remember(self, path: Path, data: bytes | None) -> None:
        self._known[path] = data
        try:
            st = path.lstat()
            self._stat[path] = (st.st_size, st.st_mtime_ns)
        except OSError:
            self._stat.pop(path, None)

    def write(self, path: Path, data: bytes) -> None:
        with self._lock:
            atomic_write(path, data)
            self._remember(path, data)
            if self.ledger is not None and path.name == RESULTS_JSON:
                self.ledger.record(path, data)
                self._save_ledger()

    def _save_ledger(self) -> None:
        from mylearning.grading.ledger import LEDGER
        atomic_write(self.root / LEDGER, self.ledger.payload())

    def verify(self) -> list[str]:
        """Undo any change the grader did not make; return what was changed."""
        changes: list[str] = []
        with self._lock:
            present = set(self._files())
            for path in sorted(present - set(self._known)):
                if path.name.startswith(".") and path.name.endswith(".tmp"):
                    continue
                changes.append(f"added {path.relative_to(self.root)}")
                _remove(path)
            for path, data in self._known.items():
                rel = path.relative_to(self.root)
                if path not in present:
                    if data is not None:
                        changes.append(f"deleted {rel}")
                        atomic_write(path, data)
                        self._remember(path, data)
                    continue
                try:
                    st = path.lstat()
                except OSError:
                    continue
                if (st.st_size, st.st_mtime_ns) == self._stat.get(path) and not path.is_symlink():
                    continue
                if data is None:
                    changes.append(f"changed {rel} (too large to restore)")
                    self._remember(path, None)
                    continue
                if path.is_symlink() or _special(path) or path.read_bytes() != data:
                    changes.append(f"changed {rel}")
                    _remove(path)
                    atomic_write(path, data)
                self._remember(path, data)
        return changes


def _special(path: Path) -> bool:
    """A FIFO, socket or device where the grader keeps a file (a planted trap)."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode))


def _remove(path: Path) -> None:
    """Remove whatever is at `path` without following it (a folder planted as a file too)."""
    import shutil
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        pass
