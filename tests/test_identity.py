"""identity: learner ids, name prefixes and lab numbers every name depends on."""
from __future__ import annotations

import pytest

from mylearning import identity


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
