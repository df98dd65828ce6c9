"""The load generator against a real emulator and data plane: a course image's task,
reached by its private IP through the edge, says which version and which task answered."""
from __future__ import annotations

import boto3
import pytest

from mylearning import traffic
from mylearning.backend import CourseSession
from tests.dataplane.world import REGION, World, private_ip, wait_for


@pytest.fixture
def world(emulator_with_dataplane):
    emulator_with_dataplane.reset()
    return World(emulator_with_dataplane.url)


def test_requests_through_the_edge_count_the_version_and_task_that_answered(world):
    session = CourseSession(boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION),
                            "emulator", world.url, "traffic-test")
    running = world.wait_status(world.run(world.register())["taskArn"], "RUNNING")
    task_id = running["taskArn"].rsplit("/", 1)[1]
    url = f"http://{private_ip(running)}:8080/api/courses"
    wait_for("the courses API to answer", lambda: world.get(url)[0] == 200)

    summary = traffic.send(session, url, requests=50, concurrency=5)
    assert summary.via == world.proxy == traffic.proxy_url(session)
    assert summary.by_status == {200: 50} and summary.errors == {}
    assert summary.by_version == {"1.1.0": 50} and summary.by_target == {task_id: 50}
    assert summary.ok_latency.count == 50 and summary.ok_latency.p50 <= summary.ok_latency.p99

    answer = traffic.get(session, url)  # the header itself, as any client sees it through the edge
    headers = answer.headers  # the edge sends names in lower case; they are found in any case
    assert headers["X-MyLearning-Task"] == task_id and headers["X-MyLearning-Version"] == "1.1.0"

    nowhere = traffic.send(session, "http://10.0.200.9:8080/api/courses", requests=3)
    assert nowhere.errors == {"edge 502 no-route": 3} and nowhere.by_target == {"unknown": 3}
