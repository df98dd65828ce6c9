"""mylearning.dataplane.awslogs: options, stream naming, and shipping to the embedded AWS's CloudWatch Logs."""
from __future__ import annotations

import asyncio
import json
import uuid

import boto3
import pytest

from mylearning import roles
from mylearning.dataplane import awslogs
from mylearning.dataplane.errors import TaskStartError
from mylearning.dataplane.execution_role import ExecutionRole
from mylearning.facts.ecs import EXECUTION_POLICY_ARN

OPTIONS = {"awslogs-group": "/ecs/courses-api", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}


def _config(**options):
    merged = {k: v for k, v in {**OPTIONS, **options}.items() if v is not None}
    return {"logDriver": "awslogs", "options": merged}


@pytest.fixture
def clients(emulator):
    kw = dict(endpoint_url=emulator.url, region_name="us-east-1", aws_access_key_id="test",
              aws_secret_access_key="test")
    return boto3.client("logs", **kw), boto3.client("iam", **kw)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- options and naming

def test_stream_name_is_prefix_container_task():
    assert awslogs.stream_name("ecs", "web", "0123abcd") == "ecs/web/0123abcd"
    options = awslogs.AwslogsOptions.parse(_config(), launch_type="FARGATE")
    assert options.stream_for("api", "t1") == "ecs/api/t1"
    ec2 = awslogs.AwslogsOptions.parse(_config(**{"awslogs-stream-prefix": None}), launch_type="EC2")
    assert ec2.stream_prefix is None and ec2.stream_for("api", "t1", "docker-id") == "docker-id"


def test_defaults_and_options():
    options = awslogs.AwslogsOptions.parse(_config(), launch_type="FARGATE")
    assert options == awslogs.AwslogsOptions("/ecs/courses-api", "us-east-1", "ecs", False,
                                             "non-blocking", 1024 * 1024)
    custom = awslogs.AwslogsOptions.parse(
        _config(**{"awslogs-create-group": "true", "mode": "non-blocking", "max-buffer-size": "25m"}),
        launch_type="FARGATE")
    assert custom.create_group and custom.max_buffer_size == 25 * 1024 * 1024
    assert awslogs.AwslogsOptions.parse(_config(mode="blocking"), launch_type="EC2").mode == "blocking"


@pytest.mark.parametrize("options,launch,reason", [
    ({"awslogs-group": None}, "FARGATE", "must specify a value for log opt 'awslogs-group'"),
    ({"awslogs-region": None}, "EC2", "must specify a value for log opt 'awslogs-region'"),
    ({"awslogs-stream-prefix": None}, "FARGATE", "must specify a value for log opt 'awslogs-stream-prefix'"),
    ({"awslogs-create-group": "yes"}, "FARGATE",
     "must specify valid value for log opt 'awslogs-create-group': strconv.ParseBool: parsing \"yes\": invalid syntax"),
    ({"awslogs-colour": "red"}, "FARGATE", "unknown log opt 'awslogs-colour' for awslogs log driver"),
    ({"mode": "sometimes"}, "FARGATE", "logger: logging mode not supported: sometimes"),
    ({"mode": "blocking", "max-buffer-size": "4m"}, "FARGATE", "max-buffer-size is only valid with mode=non-blocking"),
    ({"max-buffer-size": "lots"}, "FARGATE", "could not parse max-buffer-size"),
])
def test_invalid_options_stop_the_task(options, launch, reason):
    with pytest.raises(TaskStartError) as caught:
        awslogs.AwslogsOptions.parse(_config(**options), launch_type=launch)
    assert caught.value.reason.startswith("ResourceInitializationError: failed to validate logger args: ")
    assert reason in caught.value.reason
    assert caught.value.stop_code == "TaskFailedToStart"


# ---------------------------------------------------------------- prepare

def test_a_missing_group_fails_with_ecs_reason(clients):
    logs, _ = clients
    options = awslogs.AwslogsOptions.parse(_config(**{"awslogs-group": _name("/ecs/missing")}),
                                           launch_type="FARGATE")
    with pytest.raises(TaskStartError) as caught:
        asyncio.run(options.prepare(logs, container_name="web", task_id="abc"))
    assert caught.value.reason == (
        "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
        "failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. "
        ": exit status 1")


def test_create_group_creates_group_and_stream(clients):
    logs, _ = clients
    group = _name("/ecs/created")
    options = awslogs.AwslogsOptions.parse(_config(**{"awslogs-group": group, "awslogs-create-group": "true"}),
                                           launch_type="FARGATE")
    for _ in range(2):  # a second task of the same family finds both already there
        stream = asyncio.run(options.prepare(logs, container_name="web", task_id="t-1"))
    assert stream == "ecs/web/t-1"
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["ecs/web/t-1"]


def test_the_execution_role_must_allow_creating_the_group(clients):
    logs, iam = clients
    name = _name("exec")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(roles.trust_policy()))
    iam.attach_role_policy(RoleName=name, PolicyArn=EXECUTION_POLICY_ARN)
    role = ExecutionRole(iam, f"arn:aws:iam::123456789012:role/{name}", "task0001")
    group = _name("/ecs/denied")
    options = awslogs.AwslogsOptions.parse(_config(**{"awslogs-group": group, "awslogs-create-group": "true"}),
                                           launch_type="FARGATE")
    with pytest.raises(TaskStartError) as caught:
        asyncio.run(options.prepare(logs, container_name="web", task_id="task0001", role=role))
    assert caught.value.reason == (
        "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
        f"failed to create Cloudwatch log group: AccessDeniedException: User: arn:aws:sts::123456789012:"
        f"assumed-role/{name}/task0001 is not authorized to perform: logs:CreateLogGroup on resource: "
        f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:log-stream: because no identity-based policy "
        "allows the logs:CreateLogGroup action : exit status 1")
    assert not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    # The managed policy does allow the stream, so an existing group works.
    logs.create_log_group(logGroupName=group)
    plain = awslogs.AwslogsOptions.parse(_config(**{"awslogs-group": group}), launch_type="FARGATE")
    assert asyncio.run(plain.prepare(logs, container_name="web", task_id="task0001", role=role)) == "ecs/web/task0001"


# ---------------------------------------------------------------- shipping

def _events(logs, group, stream):
    events, token = [], None
    while True:
        kw = {"nextToken": token} if token else {}
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, **kw)
        events += page["events"]
        if not page["events"] or page["nextForwardToken"] == token:
            return events
        token = page["nextForwardToken"]


def test_shipper_tails_flushes_every_second_and_loses_nothing_at_close(clients, tmp_path):
    logs, _ = clients
    group = _name("/ecs/ship")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="ecs/web/t")
    out = tmp_path / "stdout.log"

    async def go():
        shipper = awslogs.LogShipper(logs, group, "ecs/web/t", out, flush_seconds=0.2)
        shipper.start()
        with open(out, "a") as f:
            f.write("starting\n")
            f.flush()
            await asyncio.sleep(0.6)
            live = [e["message"] for e in _events(logs, group, "ecs/web/t")]
            f.write("request 1 ok\n")
            f.write("bye, no newline")  # the process ends mid-line
        await shipper.close()
        return live, shipper
    live, shipper = asyncio.run(go())
    assert live == ["starting"]  # shipped while the container ran
    events = _events(logs, group, "ecs/web/t")
    assert [e["message"] for e in events] == ["starting", "request 1 ok", "bye, no newline"]
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    assert shipper.shipped == 3 and shipper.dropped == 0


def test_batches_honour_cloudwatch_limits(clients, tmp_path):
    logs, _ = clients
    group = _name("/ecs/limits")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    out = tmp_path / "out.log"
    big = "é" * 200_000  # 400,000 bytes: split into events of at most 262,118 bytes
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(f"line {i}" for i in range(12_000)) + "\n")
        f.write(big + "\n")
        f.write("x" * 300_000 + "\n")

    async def go():
        shipper = awslogs.LogShipper(logs, group, "s", out)
        await shipper.close()
        return shipper
    shipper = asyncio.run(go())
    assert shipper.pending == [] and shipper.pending_bytes == 0
    events = _events(logs, group, "s")
    messages = [e["message"] for e in events]
    assert messages[:2] == ["line 0", "line 1"] and messages[11_999] == "line 11999"
    assert all(len(m.encode()) <= awslogs.MAX_EVENT_BYTES for m in messages)
    assert "".join(messages[12_000:14_000]) == big + "x" * 300_000
    assert len(messages) == 12_000 + 2 + 2
    assert shipper.batches >= 2  # 12,000 events cannot go in one PutLogEvents


def test_batch_splitting_by_count_and_bytes():
    shipper = awslogs.LogShipper(None, "g", "s", "/nonexistent")
    for i in range(10_001):
        shipper._add(b"a")
    assert [len(b) for b in shipper._batches()] == [10_000, 1]
    shipper = awslogs.LogShipper(None, "g", "s", "/nonexistent")
    for i in range(5):
        shipper._add(b"b" * 262_000)
    sizes = [sum(e[2] + awslogs.EVENT_OVERHEAD for e in b) for b in shipper._batches()]
    assert all(size <= awslogs.MAX_BATCH_BYTES for size in sizes) and len(sizes) == 2


def test_non_blocking_mode_drops_beyond_its_buffer():
    shipper = awslogs.LogShipper(None, "g", "s", "/nonexistent", mode="non-blocking", max_buffer_size=10)
    for _ in range(4):
        shipper._add(b"abcd")
    assert len(shipper.pending) == 2 and shipper.dropped == 2
    blocking = awslogs.LogShipper(None, "g", "s", "/nonexistent", mode="blocking", max_buffer_size=10)
    for _ in range(4):
        blocking._add(b"abcd")
    assert len(blocking.pending) == 4 and blocking.dropped == 0
