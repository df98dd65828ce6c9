"""How the data plane's task agent hears from ECS: a stand-in for ACS and TCS.

The real ECS container agent never polls ListTasks. It asks `DiscoverPollEndpoint` where
its Agent Communication Service (ACS) is, keeps a connection open there and is told when
a task is placed or must stop; it sends container health and metrics to the Telemetry
Service (TCS) at the `telemetryEndpoint` of the same answer.
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DiscoverPollEndpoint.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ECS_agent.html

Here ACS is a long poll (`GET /mylearning/acs?since=N`: answers as soon as the task
version moves past N, or after `wait` seconds) and TCS a JSON post
(`POST /mylearning/tcs`). Both are part of the emulator's AWS surface, as ACS and TCS are
part of AWS's; the agent still reads tasks and reports state changes through the ECS API
itself (`ListTasks`, `DescribeTasks`, `SubmitTaskStateChange`,
`SubmitContainerStateChange`).

Once an agent has asked for its poll endpoint the account is *attached*: tasks start in
PROVISIONING and only the agent's reports move them on. Without an agent (an emulator
started with no data plane, as some unit tests do) tasks are RUNNING when placed, as
before the data plane existed.
"""
from __future__ import annotations

import collections
import json
import threading
import time
import urllib.parse
from typing import Any, Callable, Iterable

ACS_PATH = "/mylearning/acs"
TCS_PATH = "/mylearning/tcs"
#: Longest an ACS poll is held open, in seconds.
MAX_WAIT = 30.0

_cond = threading.Condition()
_version = 0
_regions: set[str] = set()
#: The latest changes, (version, region, cluster name or None for "anything"), so an agent
#: looks again only at the clusters that changed (ACS pushes per task, not a list).
_changes: collections.deque = collections.deque(maxlen=2000)
_attached = False
#: What the agent last said about itself (its heartbeat through TCS).
_agent_status: dict[str, Any] = {}
#: Health reports go to this callback (the scheduler installs it): (region, body) -> None.
_health_sink: Callable[[dict], None] | None = None


def attach() -> None:
    global _attached
    _attached = True


def attached() -> bool:
    """True once a task agent asked for its poll endpoint: the agent runs the tasks."""
    return _attached


def changed(region: str, cluster: str | None = None) -> None:
    """Tasks of `cluster` in `region` were placed or must stop: wake every agent that polls."""
    global _version
    with _cond:
        _version += 1
        _regions.add(region)
        _changes.append((_version, region, cluster))
        _cond.notify_all()


def version() -> int:
    return _version


def wait_for_change(since: int, wait: float) -> dict:
    deadline = time.monotonic() + max(0.0, min(wait, MAX_WAIT))
    with _cond:
        while _version <= since and not _closing:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            _cond.wait(left)
        news: dict[str, Any] = {"version": _version, "regions": sorted(_regions)}
        recent = [c for c in _changes if c[0] > since]
        complete = bool(_changes) and _changes[0][0] <= since + 1 and since >= 0
        if complete and all(c[2] for c in recent):
            news["clusters"] = sorted({(region, cluster) for _, region, cluster in recent})
        return news  # without "clusters": look at everything


def set_health_sink(fn: Callable[[dict], None]) -> None:
    global _health_sink
    _health_sink = fn


def agent_status() -> dict[str, Any]:
    return dict(_agent_status)


_closing = False


def close() -> None:
    """The emulator is stopping: answer every held poll now, and every later one at once."""
    global _closing
    with _cond:
        _closing = True
        _cond.notify_all()


def reset() -> None:
    """The account was reset: every task is gone; tell the agents (they stay attached)."""
    global _version
    with _cond:
        _version += 1
        _changes.append((_version, "", None))
        _cond.notify_all()


def long_poll(environ: dict, start_response: Callable,
              wait_for: Callable[[int, float], dict]) -> Iterable[bytes]:
    """Answer ``GET ...?since=N&wait=W`` with ``wait_for(N, W)`` (ACS here, ELB's news too)."""
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    try:
        since = int(query.get("since", ["-1"])[0])
        wait = float(query.get("wait", ["20"])[0])
    except ValueError:
        return answer(start_response, "400 Bad Request", {"message": "since and wait are numbers"})
    return answer(start_response, "200 OK", wait_for(since, wait))


def answer(start_response: Callable, status: str, payload: Any) -> Iterable[bytes]:
    body = json.dumps(payload, default=str).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """Serve ACS (long poll) and TCS (health and the agent's heartbeat)."""
    path = environ.get("PATH_INFO", "")
    if path == ACS_PATH and environ.get("REQUEST_METHOD") == "GET":
        return long_poll(environ, start_response, wait_for_change)
    if path == TCS_PATH and environ.get("REQUEST_METHOD") == "POST":
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            report = json.loads(environ["wsgi.input"].read(length) or b"{}")
        except (ValueError, KeyError):
            return answer(start_response, "400 Bad Request", {"message": "expected a JSON body"})
        if isinstance(report.get("agent"), dict):
            _agent_status.clear()
            _agent_status.update(report["agent"], reported=time.time())
        if report.get("health") and _health_sink is not None:
            _health_sink(report)
        return answer(start_response, "200 OK", {"accepted": True})
    return answer(start_response, "404 Not Found", {"message": f"no such agent endpoint: {path}"})
