"""Every case of the fidelity table against the embedded AWS: each must answer as AWS does.

The same table feeds benchmarks/fidelity_report.py, which runs it against plain moto too.
"""
from __future__ import annotations

from collections import Counter

import pytest

from mylearning.emulator.fidelity.cases import OK, all_cases, outcome_of

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case, env):
    assert outcome_of(case, env) == case.expect, case.doc


def test_every_case_cites_an_aws_page():
    uncited = [c.id for c in CASES if "aws.amazon.com" not in c.doc]
    assert not uncited


def test_every_service_has_both_errors_and_valid_forms():
    """Rules are checked both ways: AWS's errors, and that AWS's valid forms still pass."""
    valid = Counter(c.service for c in CASES if c.expect == OK)
    errors = Counter(c.service for c in CASES if c.expect != OK)
    for service in {c.service for c in CASES}:
        assert valid[service] >= 1, f"{service}: no valid form in the table"
        assert errors[service] + valid[service] >= 3, f"{service}: table too small"
