"""One submission's grade: what it is, and how it is stored and found again.

The stored form is the Gradescope `results.json` itself, with the grader's own
record under `extra_data` (Gradescope keeps extra data as it is). One file per
submission is then both the hand-in for Gradescope and the resume marker: a
later run that finds a record for the same content hash, lab and grading
configuration reuses it instead of grading again.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mylearning.steps import StepResult

RECORD_KEY = "mylearning"
RECORD_VERSION = 1


@dataclass
class Grade:
    submission: str
    slug: str
    path: str
    sha256: str
    lab: str
    config: str
    steps: list[StepResult]
    #: Why the notebook could not run as written (empty when it ran to the end).
    reasons: list[str] = field(default_factory=list)
    #: For the instructor: tampering detected, conversions made, identical copies.
    notes: list[str] = field(default_factory=list)
    execution: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    #: The isolation the submission ran under (`isolation.Protection.to_dict`).
    protection: dict[str, Any] = field(default_factory=dict)
    #: The course version that graded it (package version and code fingerprint).
    course: dict[str, str] = field(default_factory=dict)
    #: True when this run reused an earlier run's record.
    resumed: bool = False

    @property
    def total(self) -> float:
        return sum(s.points for s in self.steps)

    @property
    def max_total(self) -> float:
        return sum(s.max_points for s in self.steps)

    @property
    def seconds(self) -> float:
        return float(self.timings.get("total", 0.0))

    def points(self) -> dict[str, float]:
        return {s.step_id: s.points for s in self.steps}

    def to_record(self) -> dict:
        data = asdict(self)
        data.pop("resumed")
        data["steps"] = [_stored_step(s) for s in self.steps]
        data["version"] = RECORD_VERSION
        data["total"], data["max_total"] = self.total, self.max_total
        return data

    @classmethod
    def from_record(cls, data: dict) -> "Grade":
        steps = [StepResult.from_dict(s) for s in data["steps"]]
        fields = {k: data[k] for k in ("submission", "slug", "path", "sha256", "lab", "config")}
        return cls(steps=steps, reasons=list(data.get("reasons", [])),
                   notes=list(data.get("notes", [])), execution=dict(data.get("execution", {})),
                   timings=dict(data.get("timings", {})),
                   protection=dict(data.get("protection", {})),
                   course=dict(data.get("course", {})), **fields)


def _stored_step(step: StepResult) -> dict:
    """A step as a record keeps it: without the check's run time.

    Records of version 1 never held it, and earlier graders read steps strictly,
    so leaving it out keeps every record readable by every grader of this version.
    """
    data = step.to_dict()
    data.pop("seconds")
    return data


def config_key(lab: str, limits: Any, fingerprint: str, sandboxed: bool = True) -> str:
    """What a grade depends on besides the notebook: lab, limits, the code that grades,
    and whether the sandbox was on.

    If any of these changes, earlier grades are stale and a resumed run grades again
    (a grade made without the sandbox is never reused by a sandboxed run).
    """
    text = json.dumps({"lab": lab, "limits": asdict(limits), "code": fingerprint,
                       **({} if sandboxed else {"sandbox": False})}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def code_fingerprint(roots: list[Path]) -> str:
    """Hash of every Python source under `roots` (the library, emulator and graders)."""
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(root.parent).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def find_previous(results_path: Path, sha256: str, config: str) -> Grade | None:
    """The earlier grade stored at `results_path` if it is for this content and config."""
    try:
        data = json.loads(results_path.read_text())
        record = data["extra_data"][RECORD_KEY]
        if record.get("version") != RECORD_VERSION:
            return None
        if record.get("sha256") != sha256 or record.get("config") != config:
            return None
        grade = Grade.from_record(record)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    grade.resumed = True
    return grade
