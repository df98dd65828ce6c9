"""`send()`: the course's load generator, from a notebook cell or any Python.

The run itself happens in the client's thread (`mylearning.traffic.client`); this
thread checks the plan, finds the way (the edge on the embedded AWS, direct on a real
account), keeps the live view up to date while it waits, and turns Ctrl-C into an
early end: the run is cancelled, its connections closed, and the summary of what was
measured so far is returned, marked ``interrupted``.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Mapping

from . import live as live_views
from .plan import Plan, check_url
from .reach import proxy_url
from .results import Recorder
from .summary import Summary

#: How often the waiting thread wakes to refresh the view (and to notice Ctrl-C).
TICK_SECONDS = 0.05
#: How long a cancelled run may take to close its connections before we stop waiting.
STOP_GRACE_SECONDS = 5.0


def route(session: Any, proxy: str | None = None) -> str | None:
    """The proxy a run goes through: `proxy` if given, the edge on the embedded AWS, else none."""
    if proxy is not None:
        try:
            return check_url(proxy)
        except ValueError as exc:
            raise ValueError(f"proxy: {exc}") from None
    if getattr(session, "is_emulator", False):
        return proxy_url(session)  # raises Unreachable, saying why, when there is no data plane
    return None


def send(session: Any, url: str, *, requests: int | None = None, rate: float | None = None,
         duration: float | None = None, concurrency: int = 10, method: str = "GET",
         headers: Mapping[str, str] | None = None, body: bytes | str | dict | list | None = None,
         timeout: float = 10.0, live: bool | None = None, proxy: str | None = None) -> Summary:
    """Send traffic to `url` and summarize what answered.

    Either ``requests=N`` (N requests, `concurrency` at a time, each worker sending its
    next as soon as the last one answered) or ``rate=R, duration=S`` (an open loop: R
    requests per second for S seconds, each started on time whatever the earlier ones
    do, at most `MAX_IN_FLIGHT` (500) in flight). `timeout` bounds each request, in
    seconds. `body` may be bytes, text, or a dict/list sent as JSON.

    On the embedded AWS (`session.is_emulator`) every request goes through the data
    plane's edge, which reaches tasks by private IP and load balancers by DNS name; on a
    real account they go straight to `url` (a load balancer's DNS name, say). `proxy`
    overrides either; `session` may be None for a URL that needs no edge.

    `live`: True shows a live view in Jupyter (requests/s, error rate, answers by
    version) at once, None shows it for runs that last more than a few seconds, False
    never. Ctrl-C (Jupyter's interrupt) ends the run early and returns what it measured.
    """
    running = start(session, url, requests=requests, rate=rate, duration=duration, concurrency=concurrency,
                    method=method, headers=headers, body=body, timeout=timeout, proxy=proxy)
    view = live_views.view_for(running.plan, live)
    interrupted = False
    try:
        while not running.runner.done.wait(TICK_SECONDS):
            view.tick(running.recorder)
    except KeyboardInterrupt:
        interrupted = True
        running.runner.stop()
        _wait(running.runner.done)
    summary = running.wait(interrupted=interrupted)
    view.finish(summary)
    return summary


def start(session: Any, url: str, *, requests: int | None = None, rate: float | None = None,
          duration: float | None = None, concurrency: int = 10, method: str = "GET",
          headers: Mapping[str, str] | None = None, body: bytes | str | dict | list | None = None,
          timeout: float = 10.0, proxy: str | None = None) -> "Running":
    """`send`, in the background: returns at once with a `Running` run, so the cell can do
    something else while the traffic flows (roll out a new version, stop a task), then
    ``run.wait()`` for its `Summary` (or ``run.stop()`` to end it early). Same arguments as
    `send`, without the live view."""
    plan = Plan.build(url, requests=requests, rate=rate, duration=duration, concurrency=concurrency,
                      method=method, headers=headers, body=body, timeout=timeout)
    via = route(session, proxy)
    from . import client  # aiohttp is imported on the first run, not with mylearning.traffic

    recorder = Recorder()
    runner, thread = client.start(plan, via, recorder)
    return Running(plan, via, recorder, runner, thread)


class Running:
    """Traffic that `start` sends in the background."""

    def __init__(self, plan: Plan, via: str | None, recorder: Recorder, runner: Any,
                 thread: threading.Thread) -> None:
        self.plan, self.via, self.recorder, self.runner, self.thread = plan, via, recorder, runner, thread
        self._summary: Summary | None = None

    @property
    def done(self) -> bool:
        return self.runner.done.is_set()

    def __repr__(self) -> str:
        state = "finished" if self.done else "running"
        return f"<traffic to {self.plan.url}: {state}, {len(self.recorder.results)} answered so far>"

    def stop(self) -> Summary:
        """End the run now (requests in flight finish) and summarize it."""
        if not self.done:
            self.runner.stop()
        return self.wait(interrupted=True)

    def wait(self, interrupted: bool = False) -> Summary:
        """Wait until the run has sent all it planned; its `Summary`."""
        if self._summary is not None:
            return self._summary
        try:
            while not self.runner.done.wait(TICK_SECONDS):
                pass
        except KeyboardInterrupt:
            interrupted = True
            self.runner.stop()
            _wait(self.runner.done)
        self.thread.join(STOP_GRACE_SECONDS)  # it only has to return: the run is over
        plan = self.plan
        self._summary = Summary.build(
            self.recorder, url=plan.url, method=plan.method, mode=plan.mode, scheduled=plan.scheduled,
            concurrency=plan.concurrency if plan.mode == "requests" else None, rate=plan.rate,
            planned_duration=plan.duration, interrupted=interrupted, via=self.via,
            examples=self.runner.examples)
        if self.runner.error is not None:
            raise self.runner.error
        return self._summary


def _wait(done: threading.Event) -> None:
    """Wait for a cancelled run to close what it opened; a second Ctrl-C does not abandon it.

    Waiting is on an Event, not `Thread.join`: a join that Ctrl-C interrupts can mark a
    thread that still runs as stopped (https://github.com/python/cpython/issues/90882; seen
    here on 3.11), and the run's connections would then outlive the call.
    """
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while not done.is_set() and time.monotonic() < deadline:
        try:
            done.wait(TICK_SECONDS)
        except KeyboardInterrupt:
            continue
