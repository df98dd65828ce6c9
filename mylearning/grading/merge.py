"""`mylearning grade merge DIR...`: shard outputs joined into one gradebook and summary.

A cohort graded as a CI matrix or a batch job (`mylearning grade --shard I/N`)
leaves one output folder per shard. Joining them is only honest when every
shard graded the same lab with the same course code and limits, so a mix is
refused with the versions named; and only files a grader wrote are taken (each
results.json must match its folder's ledger; the ledger's signature belongs to
the machine that graded it, so it cannot be checked here).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from mylearning.grading import outputs
from mylearning.grading.gradebook import protection_lines
from mylearning.grading.ledger import Ledger, digest, read_entries
from mylearning.grading.records import RECORD_KEY, Grade
from mylearning.grading.summary import summarize


class MergeError(ValueError):
    """The shard folders cannot be joined; the message says which and why."""


def _grades_of(folder: Path) -> list[Grade]:
    files, _ = read_entries(folder)
    if files is None:
        raise MergeError(f"{folder} has no grader ledger: it is not a `mylearning grade` "
                         "output folder (or its ledger was removed).")
    grades = []
    for path in sorted(folder.glob(f"*/{outputs.RESULTS_JSON}")):
        rel = path.relative_to(folder).as_posix()
        data = path.read_bytes()
        if files.get(rel) != digest(data):
            raise MergeError(f"{path} is not the file the grader wrote (it is missing from, or "
                             f"differs from, {folder}'s ledger); grade that shard again.")
        record = json.loads(data)["extra_data"][RECORD_KEY]
        grades.append(Grade.from_record(record))
    return grades


def _version(grade: Grade) -> str:
    course = grade.course or {}
    return (f"lab {grade.lab}, course {course.get('version', '?')} code "
            f"{course.get('code', '?')}, configuration {grade.config}")


def merge(folders: Sequence[Path], out: Path) -> str:
    """Join `folders` into `out`; return the summary text. Raises MergeError."""
    if not folders:
        raise MergeError("Name at least one shard folder.")
    by_folder = {Path(f): _grades_of(Path(f)) for f in folders}
    versions = {}
    for folder, grades in by_folder.items():
        for grade in grades:
            versions.setdefault(_version(grade), folder)
    if len(versions) > 1:
        raise MergeError("The shards were graded by different course versions, so their "
                         "grades are not comparable: " + "; ".join(
                             f"{folder}: {v}" for v, folder in versions.items())
                         + ". Grade every shard with the same course checkout and options.")
    merged: dict[str, Grade] = {}
    for folder, grades in by_folder.items():
        for grade in grades:
            other = merged.get(grade.submission)
            if other is not None and other.sha256 != grade.sha256:
                raise MergeError(f"{grade.submission} appears in two shards with different "
                                 "content; shards must split one cohort.")
            merged[grade.submission] = grade
    if not merged:
        raise MergeError("The shard folders hold no grades.")
    outputs.check_output_folder(out, [g.slug for g in merged.values()])
    out.mkdir(parents=True, exist_ok=True)
    ledger = Ledger.open(out)
    guard = outputs.OutputGuard(out, ledger)
    grades = sorted(merged.values(), key=lambda g: g.submission)
    step_ids = [s.step_id for s in grades[0].steps]
    for grade in grades:
        guard.write(out / grade.slug / outputs.RESULTS_JSON, outputs.results_json(grade))
        guard.write(out / grade.slug / outputs.FEEDBACK, outputs.feedback(grade))
    text = summarize(grades, step_ids, slowest=0)
    text += f"\nMerged from {len(by_folder)} shard folder(s): " + ", ".join(
        str(f) for f in by_folder) + "."
    protections = {json.dumps(g.protection, sort_keys=True) for g in grades}
    if len(protections) == 1:
        text += "\n" + protection_lines(grades[0].protection)
    else:
        text += "\nIsolation differed between shards; each results.json says which applied."
    guard.write(out / outputs.GRADES_CSV, outputs.grades_csv(grades, step_ids))
    guard.write(out / outputs.SUMMARY_TXT, (text + "\n").encode())
    return text
