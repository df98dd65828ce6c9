"""connect(): the emulator is the default, and real AWS needs an explicit opt-in."""
from __future__ import annotations

import pytest

from mylearning import backend
from mylearning.backend import BackendError, connect


@pytest.fixture(autouse=True)
def _no_cached_session(monkeypatch):
    monkeypatch.setattr(backend, "_current", None)
    monkeypatch.setattr(backend, "_current_key", None)


def test_default_backend_is_the_emulator_and_clients_use_its_endpoint(session, emulator):
    assert session.backend == "emulator"
    ecs = session.client("ecs")
    assert ecs.meta.endpoint_url == emulator.url
    assert ecs.list_clusters()["clusterArns"] == [] or True  # answers at all
    creds = session.boto_session.get_credentials()
    assert creds.access_key == "mylearning"  # dummy, never the learner's own


def test_clients_are_cached_and_connect_returns_the_same_session(session):
    assert session.client("ecs") is session.client("ecs")
    assert connect(quiet=True) is session


def test_names_and_tags_carry_the_learner(session, learner):
    assert session.prefix == f"ml-{learner}"
    assert session.name("cluster") == f"ml-{learner}-cluster"
    tags = {t["Key"]: t["Value"] for t in session.tags("42")}
    assert tags == {"course": "mylearning-ecs", "lab": "42", "learner": learner}
    assert session.tags(2, style="key")[0].keys() == {"key", "value"}
    spec = session.tag_spec("vpc", 2, "x", tier="private")[0]
    assert spec["ResourceType"] == "vpc"
    assert {"Key": "Name", "Value": "x"} in spec["Tags"] and {"Key": "tier", "Value": "private"} in spec["Tags"]


def test_endpoint_that_does_not_answer_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("MYLEARNING_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(BackendError, match="no embedded AWS answers"):
        connect()


def test_unknown_backend_is_refused(monkeypatch):
    monkeypatch.setenv("MYLEARNING_BACKEND", "azure")
    with pytest.raises(BackendError, match="Unknown backend"):
        connect()


def test_real_aws_is_refused_without_opt_in(monkeypatch):
    monkeypatch.setenv("MYLEARNING_BACKEND", "aws")
    monkeypatch.delenv("MYLEARNING_AWS_OPT_IN", raising=False)
    with pytest.raises(BackendError, match="opt in explicitly"):
        connect()
    monkeypatch.setenv("MYLEARNING_AWS_OPT_IN", "yes")  # anything but the exact phrase
    with pytest.raises(BackendError, match=backend.OPT_IN_PHRASE):
        connect()


def test_real_aws_with_opt_in_but_no_credentials_says_so(monkeypatch):
    monkeypatch.setenv("MYLEARNING_BACKEND", "aws")
    monkeypatch.setenv("MYLEARNING_AWS_OPT_IN", backend.OPT_IN_PHRASE)
    monkeypatch.setenv("MYLEARNING_REGION", "eu-west-1")
    with pytest.raises(BackendError, match="credentials did not work"):
        connect()


def test_real_aws_announces_account_and_region(monkeypatch, capsys):
    """With opt-in and working credentials, the account and region are printed first."""
    class FakeSTS:
        def get_caller_identity(self):
            return {"Account": "210987654321", "Arn": "arn:aws:iam::210987654321:user/alice"}

    class FakeSession:
        region_name = "eu-west-1"

        def __init__(self, region_name=None):
            pass

        def client(self, name, **kw):
            assert name == "sts"
            return FakeSTS()

    import boto3
    monkeypatch.setattr(boto3, "Session", FakeSession)
    monkeypatch.setenv("MYLEARNING_BACKEND", "aws")
    monkeypatch.setenv("MYLEARNING_LEARNER", "alice")
    s = connect(aws_opt_in=backend.OPT_IN_PHRASE)
    out = capsys.readouterr().out
    assert "REAL AWS" in out and "210987654321" in out and "eu-west-1" in out
    assert "ml-alice-*" in out
    assert s.backend == "aws" and s.endpoint is None


def test_prewarmed_clients_are_used_by_sessions_on_the_same_endpoint(emulator, learner):
    """The grader creates a lab's clients while a kernel boots; the notebook's session reuses them."""
    backend._PREWARMED.clear()
    try:
        assert backend.prewarm_clients(["ec2", "ecs"]) == 2
        ready = backend._PREWARMED[(emulator.url, "us-east-1", "ec2")]
        session = connect(quiet=True)
        assert session.client("ec2") is ready
        assert session.client("ecs").meta.endpoint_url == emulator.url
        assert session.client("ssm") is not None  # not prewarmed: made as usual
    finally:
        backend._PREWARMED.clear()


def test_prewarm_needs_an_endpoint(monkeypatch):
    monkeypatch.delenv("MYLEARNING_ENDPOINT", raising=False)
    assert backend.prewarm_clients(["ec2"]) == 0
