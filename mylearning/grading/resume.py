"""Work that needs no grading: content graded by an earlier run, and copies within this one.

Grades are keyed by a notebook's content hash, so a re-run (after an
interruption, or with more submissions) grades only what is new, and
byte-for-byte copies cost one kernel between them. A stored grade counts only
under the same grading configuration (lab, limits, grading code); otherwise the
content is graded again.
"""
from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

from mylearning.grading.discovery import Submission
from mylearning.grading.gradebook import Gradebook
from mylearning.grading.job import GradingOptions
from mylearning.grading.ledger import Ledger
from mylearning.grading.outputs import RESULTS_JSON
from mylearning.grading.records import RECORD_KEY, Grade, find_previous


def reuse_earlier(submissions: list[Submission], options: GradingOptions, config: str,
                  book: Gradebook) -> list[Submission]:
    """Put earlier grades of the same content into `book`; return what must still be graded.

    A reused grade takes this run's name for the file; it is written again only
    when it was stored under another folder (the file was renamed) or its
    results are gone, so a plain re-run rewrites nothing.
    """
    earlier: dict[str, Grade] = {}
    untrusted = 0
    if not options.force:
        for path in sorted(options.out.glob(f"*/{RESULTS_JSON}")):
            grade = _peek(path, config, book.ledger)
            if grade is None:
                continue
            if grade is _UNTRUSTED:
                untrusted += 1
                continue
            earlier.setdefault(grade.sha256, grade)
    if untrusted and book.ledger is not None and book.ledger.trusted:
        book.warnings.append(
            f"{untrusted} results.json file(s) in the output folder were not written by this "
            "grader (or were changed since); they were not trusted, and those submissions "
            "were graded again.")
    todo: list[Submission] = []
    for sub in submissions:
        previous = earlier.get(sub.sha256)
        if previous is None:
            todo.append(sub)
            continue
        grade = replace(previous, submission=sub.name, slug=sub.slug, path=str(sub.path),
                        resumed=True)
        book.add(grade)
        if previous.slug != sub.slug or not (options.out / sub.slug / RESULTS_JSON).exists():
            book.write(grade)
    return todo


#: What `_peek` returns for a results file the grader did not write (or that changed).
_UNTRUSTED: Any = object()


def _peek(path: Path, config: str, ledger: Ledger | None) -> Grade | None:
    """An earlier grade stored at `path` under the same grading configuration.

    Only bytes the ledger says this grader wrote count: a results.json forged by
    a submission (or edited by hand) is `_UNTRUSTED`, and its content is graded again.
    """
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return _UNTRUSTED
        data = path.read_bytes()
        sha = json.loads(data)["extra_data"][RECORD_KEY]["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if ledger is None or not ledger.trusts(path, data):
        return _UNTRUSTED
    return find_previous(path, sha, config)


class Duplicates:
    """Identical submissions in one run: graded once, the grade copied to the others."""

    def __init__(self, todo: list[Submission]):
        self.unique: dict[str, Submission] = {}
        self.copies: dict[str, list[Submission]] = {}
        for sub in todo:
            if sub.sha256 in self.unique:
                self.copies.setdefault(sub.sha256, []).append(sub)
            else:
                self.unique[sub.sha256] = sub

    def fill_in(self, book: Gradebook) -> None:
        """After grading: each copy gets its original's grade, and both say so."""
        for sha, subs in self.copies.items():
            original = book.grades.get(self.unique[sha].name)
            if original is None:
                continue
            note = (f"Byte-for-byte identical to {original.submission} (same content hash); "
                    "graded once.")
            for sub in subs:
                grade = replace(original, submission=sub.name, slug=sub.slug, path=str(sub.path),
                                notes=original.notes + [note])
                book.add(grade)
                book.write(grade)
                book.advance(sub.name, f"{grade.total:g}/{grade.max_total:g} (copy)")
            original.notes.append("Identical copies: " + ", ".join(s.name for s in subs) + ".")
            book.write(original)
