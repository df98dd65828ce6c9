"""`mylearning grade --live`: the full report of the current backend, read-only.

For a learner who wants to see everything the instructor's grader will see,
on their own emulator or real account. It only evaluates the checks (which
read through the API); it runs no notebook and changes nothing.
"""
from __future__ import annotations

import sys
from typing import TextIO


def live_report(lab: str, stream: TextIO | None = None) -> int:
    from mylearning import course
    from mylearning.backend import BackendError, connect

    out = stream or sys.stdout
    try:
        lab_obj = course.grader(lab)
    except (KeyError, ValueError) as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 2
    try:
        session = connect()
    except BackendError as exc:
        print(exc, file=sys.stderr)
        return 2
    report = lab_obj.evaluate(session)
    print(f"Backend: {session!r}", file=out)
    print(report.to_text(), file=out)
    return 0
