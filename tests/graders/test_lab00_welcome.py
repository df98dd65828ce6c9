"""Lab 00's checks go from red, with a hint, to green as the learner records the right answers."""
from __future__ import annotations

from mylearning import check, record_answer


def test_checks_against_the_emulator_go_red_to_green(session):
    before = check("0.2", session)
    assert not before.passed and "YYYY-MM-DD" in before.hint
    record_answer("00", "appmesh_end_of_support", "2026-13-01", session=session)
    assert "not the date" in check("0.2", session).message
    record_answer("00", "appmesh_end_of_support", "2026-09-30", session=session)
    assert check("0.2", session).passed
