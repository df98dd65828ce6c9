"""The data plane's own calls (the task agent, standing for AWS's internals) stay out of the
learner's CloudTrail Event history; the learner's calls are there, and so is what ECS does with
the task's execution role (reading its secret), as a session of that role."""
from __future__ import annotations

import json

import pytest

from mylearning.facts.cloudtrail import DATAPLANE_USER_AGENT
from tests.dataplane.world import World


@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return World(emulator_with_dataplane.url)


def test_a_running_tasks_agent_calls_are_not_in_event_history(world):
    task = world.run(world.register(role=world.role))
    world.wait_status(task["taskArn"], "RUNNING")  # the agent assumed the execution role, read the secret
    pages = world.client("cloudtrail").get_paginator("lookup_events").paginate()
    records = [json.loads(e["CloudTrailEvent"]) for page in pages for e in page["Events"]]
    names = {r["eventName"] for r in records}
    assert {"RunTask", "RegisterTaskDefinition", "CreateSecret", "CreateCluster"} <= names
    assert "AssumeRole" not in names  # the agent's own (plain) credentials: AWS's internals
    assert not any(DATAPLANE_USER_AGENT in r["userAgent"] for r in records if r["userIdentity"]["type"] != "AssumedRole")
    reads = [r for r in records if r["eventName"] == "GetSecretValue"]
    assert reads and all(r["userIdentity"]["type"] == "AssumedRole" and
                         r["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] == world.role for r in reads)
    assert {r["userIdentity"]["accessKeyId"] for r in records if r["userIdentity"]["type"] != "AssumedRole"} == {"x"}
