"""identity, answers and capacity: the small pieces every lab leans on."""
from __future__ import annotations

import pytest

from mylearning import answers, capacity, identity


def test_learner_id_is_name_safe(monkeypatch):
    monkeypatch.setenv("MYLEARNING_LEARNER", "Ana María O'Neil-Smith 2026")
    assert identity.learner_id() == "anamaraoneil"
    monkeypatch.setenv("MYLEARNING_LEARNER", "!!!")
    assert identity.learner_id() == "learner"
    assert identity.prefix("bob") == "ml-bob"


@pytest.mark.parametrize("given, expected", [(2, "02"), ("2", "02"), ("02", "02"), ("10", "10")])
def test_lab_ids(given, expected):
    assert identity.lab_id(given) == expected


@pytest.mark.parametrize("bad", ["", "abc", "123", "-1", "2.3"])
def test_bad_lab_ids(bad):
    with pytest.raises(ValueError):
        identity.lab_id(bad)


def test_answers_round_trip_and_can_be_corrected(session):
    assert answers.read_answer(session, "00", "favourite") is None
    name = answers.record_answer("00", "favourite", {"a": 1}, session=session)
    assert name == f"/mylearning/{session.learner}/lab00/favourite"
    assert answers.read_answer(session, "00", "favourite") == '{"a": 1}'
    answers.record_answer("00", "favourite", "second", session=session)
    assert answers.read_answer(session, "00", "favourite") == "second"
    tags = session.client("ssm").list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert {"Key": "learner", "Value": session.learner} in tags


@pytest.mark.parametrize("key", ["", "a/b", "has space"])
def test_answer_keys_are_validated(key):
    with pytest.raises(ValueError):
        answers.parameter_name("alice", "00", key)


STRATEGY = [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
            {"capacityProvider": "FARGATE_SPOT", "weight": 3}]


@pytest.mark.parametrize("count, fargate, spot", [
    (0, 0, 0), (1, 1, 0),
    (5, 2, 3),     # base 1, then 4 split 1:3
    (9, 3, 6),     # base 1, then 8 split 2:6
    (4, 2, 2),     # base 1, then 3 split 0.75:2.25 -> largest remainder gives FARGATE the odd one
    (101, 26, 75),
])
def test_strategy_split_follows_base_then_weights(count, fargate, spot):
    assert capacity.split_tasks(STRATEGY, count) == {"FARGATE": fargate, "FARGATE_SPOT": spot}


def test_strategy_rules_are_enforced():
    with pytest.raises(ValueError, match="Only one"):
        capacity.split_tasks([{"capacityProvider": "A", "base": 1}, {"capacityProvider": "B", "base": 1}], 3)
    with pytest.raises(ValueError, match="no weight"):
        capacity.split_tasks([{"capacityProvider": "A", "base": 1, "weight": 0}], 3)
    assert capacity.split_tasks([{"capacityProvider": "A", "base": 2, "weight": 0}], 2) == {"A": 2}
    with pytest.raises(ValueError, match="once"):
        capacity.split_tasks([{"capacityProvider": "A", "weight": 1}] * 2, 3)
    assert capacity.spot_share(STRATEGY, 9) == pytest.approx(6 / 9)
