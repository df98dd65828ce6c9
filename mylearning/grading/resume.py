"""Work that needs no grading: content graded by an earlier run, and copies within this one.

Grades are keyed by a notebook's content hash, so a re-run (after an
interruption, or with more submissions) grades only what is new, and
byte-for-byte copies cost one kernel between them. A stored grade counts only
under the same grading configuration (lab, limits, grading code); otherwise the
content is graded again.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from mylearning.grading.discovery import Submission
from mylearning.grading.gradebook import Gradebook
from mylearning.grading.job import GradingOptions
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
    if not options.force:
        for path in sorted(options.out.glob(f"*/{RESULTS_JSON}")):
            grade = _peek(path, config)
            if grade is not None:
                earlier.setdefault(grade.sha256, grade)
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


def _peek(path: Path, config: str) -> Grade | None:
    """An earlier grade stored at `path` under the same grading configuration."""
    try:
        sha = json.loads(path.read_text())["extra_data"][RECORD_KEY]["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
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
