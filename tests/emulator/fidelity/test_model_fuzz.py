"""The model fuzz test: requests made from botocore's models for every operation the course calls.

Each operation gets one valid request and up to five that each break one constraint
of its model (a missing required member, an enum, a length, a range, a pattern), sent
with client-side validation off. An invalid one must be refused with a 4xx naming the
parameter, a valid one must not be refused by model validation, and nothing may
answer 5xx. Seeded and bounded: a failure replays with the same seed.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.validation import fuzz
from tests.emulator.fidelity.course_operations import course_operations

#: Three seeds: each picks other optional members for the valid requests the broken ones start from.
SEEDS = (7, 8, 9)


def test_every_course_operation_holds_to_its_model(emulator):
    operations = course_operations()
    assert sum(len(ops) for ops in operations.values()) > 50, "the course calls more than this"
    for seed in SEEDS:
        report = fuzz.run(emulator.url, operations, seed=seed)
        assert report.server_errors == 0, "\n".join(report.failures)
        assert not report.failures, f"seed {seed}: " + report.line() + "\n" + "\n".join(report.failures[:30])
        assert report.refused_correctly > report.accepted_correctly > 0, report.line()
