"""answers: what a notebook records in the account, where a grader outside the kernel reads it."""
from __future__ import annotations

import pytest

from mylearning import answers


def test_answers_round_trip_and_can_be_corrected(session):
    assert answers.read_answer(session, "99", "favourite") is None
    name = answers.record_answer("99", "favourite", {"a": 1}, session=session)
    assert name == f"/mylearning/{session.learner}/lab99/favourite"
    assert answers.read_answer(session, "99", "favourite") == '{"a": 1}'
    answers.record_answer("99", "favourite", "second", session=session)
    assert answers.read_answer(session, "99", "favourite") == "second"
    tags = session.client("ssm").list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert {"Key": "learner", "Value": session.learner} in tags


@pytest.mark.parametrize("key", ["", "a/b", "has space"])
def test_answer_keys_are_validated(key):
    with pytest.raises(ValueError):
        answers.parameter_name("alice", "99", key)
