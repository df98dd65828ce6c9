"""Real containers of the HTTP images: answers, logs, health, knobs, secrets, signals."""
from __future__ import annotations

import importlib.util
import os
import signal
import threading
import time
from typing import Any, Callable

import psutil
import pytest

from .conftest import DB_SECRETS, Running

API = "public.ecr.aws/mylearning/courses-api"
Launch = Callable[..., Running]


def test_health_and_courses_answer_with_their_version(launch: Launch) -> None:
    api = launch(f"{API}:1.0.0", DB_SECRETS)
    status, health = api.json("/health")
    assert status == 200 and health["status"] == "ok" and health["version"] == "1.0.0"
    assert health["service"] == "courses-api" and health["task_id"] == api.spec.task_id
    status, listing = api.json("/api/courses")
    assert status == 200 and listing["version"] == "1.0.0" and listing["count"] == 12
    assert {"id", "title", "level"} == set(listing["courses"][0])
    status, one = api.json("/api/courses/appmesh-301")
    assert status == 200 and one["course"]["title"] == "Service meshes with AWS App Mesh"
    status, missing = api.json("/api/courses/cobol-999")
    assert status == 404 and missing["error"] == "course not found"
    status, headers, _ = api.request("/api/courses")
    assert headers["X-MyLearning-Version"] == "1.0.0"
    assert headers["X-MyLearning-Task"] == api.spec.task_id  # the task that answered
    status, headers, _ = api.request("/api/courses/cobol-999")
    assert status == 404 and headers["X-MyLearning-Task"] == api.spec.task_id  # errors say it too


def test_releases_differ_as_releases_do(launch: Launch) -> None:
    v11, v12 = launch(f"{API}:1.1.0", DB_SECRETS), launch(f"{API}:1.2.0", DB_SECRETS)
    _, listing = v11.json("/api/courses?level=advanced")
    assert listing["version"] == "1.1.0" and listing["count"] == 5
    assert all(c["level"] == "advanced" and "duration_minutes" in c and "rating" not in c for c in listing["courses"])
    assert v11.json("/api/courses?level=expert")[0] == 400
    _, detail = v12.json("/api/courses/ecs-101")
    assert detail["version"] == "1.2.0" and detail["course"]["rating"] == 4.7


def test_one_json_log_line_per_request(launch: Launch) -> None:
    api = launch(f"{API}:1.1.0", DB_SECRETS)
    for path in ("/health", "/api/courses", "/api/courses/nope"):
        api.request(path)
    time.sleep(0.05)
    logs = api.logs()
    assert logs[0]["message"] == "listening" and logs[0]["port"] == api.port
    assert logs[0]["hostname"].startswith("ip-127-77-")
    requests = [line for line in logs if line["message"] == "request"]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", "/health", 200), ("GET", "/api/courses", 200), ("GET", "/api/courses/nope", 404)]
    for line in requests:
        assert line["version"] == "1.1.0" and line["latency_ms"] >= 0 and line["level"] == "INFO"
        assert line["time"].endswith("Z")
    assert DB_SECRETS["DB_PASSWORD"] not in api.log_text()  # secrets are never logged


def test_missing_database_secrets_fail_fast(launch: Launch) -> None:
    api = launch(f"{API}:1.2.0", {"DB_USER": "courses_app"}, ready=False)
    assert api.wait_exit() == 1
    line = api.wait_log("missing database credentials: DB_PASSWORD not set; add them to the container "
                        "definition's secrets (Secrets Manager or SSM Parameter Store)")
    assert line["level"] == "ERROR"


def test_error_rate_and_latency_knobs_from_the_environment(launch: Launch) -> None:
    failing = launch(f"{API}:1.1.0", {**DB_SECRETS, "ERROR_RATE": "1"})
    status, body = failing.json("/api/courses")
    assert status == 500 and body["error"] == "internal server error"
    assert failing.json("/health")[0] == 200  # the health endpoint is not an API call
    slow = launch(f"{API}:1.1.0", {**DB_SECRETS, "LATENCY_MS": "300"})
    began = time.perf_counter()
    assert slow.json("/api/courses")[0] == 200
    assert time.perf_counter() - began >= 0.3


def test_seeded_error_rate_is_reproducible(launch: Launch) -> None:
    env = {**DB_SECRETS, "ERROR_RATE": "0.5", "RANDOM_SEED": "7"}
    runs = []
    for _ in range(2):
        api = launch(f"{API}:1.1.0", env)
        runs.append([api.request("/api/courses")[0] for _ in range(40)])
    assert runs[0] == runs[1]
    assert 5 < runs[0].count(500) < 35


def test_live_knobs_change_a_running_service(launch: Launch) -> None:
    api = launch(f"{API}:1.2.0", DB_SECRETS)
    assert api.json("/api/courses")[0] == 200
    status, answer = api.json("/_mylearning/knobs", "POST", {"ERROR_RATE": 1, "health": "fail"})
    assert status == 200 and answer["knobs"]["ERROR_RATE"] == 1.0
    assert api.json("/api/courses")[0] == 500
    status, health = api.json("/health")
    assert status == 503 and health["status"] == "unhealthy" and health["reason"] == "HEALTH=fail"
    assert api.json("/_mylearning/knobs", "POST", {"ERROR_RATE": 0, "HEALTH": "ok"})[0] == 200
    assert api.json("/api/courses")[0] == 200 and api.json("/health")[0] == 200
    assert api.json("/_mylearning/knobs", "POST", {"ERROR_RATE": 2})[0] == 400
    assert api.json("/_mylearning/knobs", "POST", {"TURBO": True})[0] == 400
    assert any(line["message"] == "knobs changed" for line in api.logs())


def test_unhealthy_after_seconds(launch: Launch) -> None:
    api = launch(f"{API}:1.1.0", {**DB_SECRETS, "UNHEALTHY_AFTER_SECONDS": "0.5"})
    assert api.json("/health")[0] == 200
    time.sleep(0.6)
    status, health = api.json("/health")
    assert status == 503 and "UNHEALTHY_AFTER_SECONDS" in health["reason"]


def test_memory_growth_really_grows_rss(launch: Launch) -> None:
    api = launch(f"{API}:1.1.0", {**DB_SECRETS, "MEMORY_GROWTH_MB_PER_S": "100"})
    process = psutil.Process(api.process.pid)
    first = process.memory_info().rss
    deadline = time.monotonic() + 10
    while process.memory_info().rss - first < 60 * 2**20:
        assert time.monotonic() < deadline, "RSS did not grow"
        time.sleep(0.1)
    calm = launch(f"{API}:1.1.0", DB_SECRETS)
    calm_rss = psutil.Process(calm.process.pid).memory_info().rss
    assert process.memory_info().rss > calm_rss + 50 * 2**20


def test_crash_after_seconds_exits_with_the_exit_code(launch: Launch) -> None:
    api = launch(f"{API}:1.0.0", {**DB_SECRETS, "CRASH_AFTER_SECONDS": "0.3", "EXIT_CODE": "3"})
    assert api.wait_exit() == 3
    assert api.wait_log("fatal error: crashing")["exit_code"] == 3


def test_sigterm_finishes_requests_in_flight_and_exits_0(launch: Launch) -> None:
    api = launch(f"{API}:1.2.0", {**DB_SECRETS, "LATENCY_MS": "700"})
    answers: list[Any] = []
    slow = threading.Thread(target=lambda: answers.append(api.request("/api/courses")[0]))
    slow.start()
    time.sleep(0.2)  # the request is in flight, sleeping in the handler
    os.kill(api.process.pid, signal.SIGTERM)
    slow.join(10)
    assert answers == [200]
    assert api.wait_exit() == 0
    assert api.wait_log("shutting down")["in_flight"] == 1
    assert api.logs()[-1]["message"] == "stopped"


def test_ignore_sigterm_keeps_serving_until_sigkill(launch: Launch) -> None:
    api = launch(f"{API}:1.1.0", {**DB_SECRETS, "IGNORE_SIGTERM": "true"})
    os.kill(api.process.pid, signal.SIGTERM)
    api.wait_log("SIGTERM ignored (IGNORE_SIGTERM=true)")
    time.sleep(0.3)
    assert api.process.is_alive() and api.json("/health")[0] == 200
    os.kill(api.process.pid, signal.SIGKILL)
    assert api.wait_exit() == -signal.SIGKILL  # the agent reports this as exit code 137


def test_unknown_image_exits_1_with_the_pull_error(launch: Launch) -> None:
    ghost = launch("public.ecr.aws/mylearning/ghost:1.0.0", ready=False)
    assert ghost.wait_exit() == 1
    assert "CannotPullContainerError" in ghost.log_text()


@pytest.mark.skipif(importlib.util.find_spec("mylearning.dataplane.images.busybox") is not None,
                    reason="busybox has landed; its own tests cover it")
def test_a_program_that_cannot_start_exits_1(launch: Launch) -> None:
    box = launch("public.ecr.aws/docker/library/busybox:1.36", ready=False)
    assert box.wait_exit() == 1
    assert "exec mylearning.dataplane.images.busybox:main: cannot start" in box.log_text()


def test_port_in_use_exits_1(launch: Launch) -> None:
    first = launch(f"{API}:1.1.0", DB_SECRETS)
    second = launch(f"{API}:1.1.0", {**DB_SECRETS, "PORT": str(first.port)}, ready=False, address=first.spec.address)
    assert second.wait_exit() == 1
    assert "cannot listen on" in second.log_text()
