"""The client that sends a run's requests: aiohttp on its own event loop, in its own thread.

Its own loop, because a Jupyter cell already runs inside one (ipykernel's), where
``asyncio.run`` refuses to start; its own thread, so the caller's thread stays free to
draw the live view and to receive Ctrl-C (Python delivers signals to the main thread
only: https://docs.python.org/3/library/signal.html#signals-and-threads). `stop()`
cancels the run from any thread; everything the loop opened (connections, the resolver's
threads) is closed before `run()` returns, because ``asyncio.run`` closes them.

No cookies are kept (``DummyCookieJar``): each request arrives as a new client would,
so a load balancer's sticky sessions do not pin the run to one target. Redirects are not
followed: a 301 is counted as the answer it is.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import threading
import time
from typing import Iterable

import aiohttp

from .plan import LATE_SECONDS, Plan
from .results import EDGE_HEADER, NO_ANSWER, TASK_HEADER, UNKNOWN, VERSION_HEADER, Recorder, Result, error_kind

_RESET = {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED}
_DNS_ERROR = getattr(aiohttp, "ClientConnectorDNSError", None)  # aiohttp >= 3.11


def classify(exc: BaseException) -> str:
    """The kind of error a request that got no HTTP answer met."""
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):  # aiohttp's own timeouts included
        return "timeout"
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return "proxy-unreachable"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "tls"
    if _DNS_ERROR is not None and isinstance(exc, _DNS_ERROR):
        return "dns"
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        if isinstance(cause, socket.gaierror):
            return "dns"
        if cause.errno == errno.ECONNREFUSED:
            return "refused"
        return "reset" if cause.errno in _RESET else "connect"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "reset"
    if isinstance(exc, OSError) and (exc.errno in _RESET or isinstance(exc, ConnectionResetError)):
        return "reset"
    if isinstance(exc, (aiohttp.ClientPayloadError, aiohttp.ClientResponseError)):
        return "bad-response"
    if isinstance(exc, OSError):
        return "connect"
    return "other"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _all(tasks: Iterable[asyncio.Future]) -> None:
    """Wait for every task; whatever ends the wait (an error, a cancel), none is left running."""
    tasks = list(tasks)
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Runner:
    """One run of `plan` through `proxy` (None: direct), recording into `recorder`."""

    def __init__(self, plan: Plan, proxy: str | None, recorder: Recorder) -> None:
        self.plan, self.proxy, self.recorder = plan, proxy, recorder
        self.examples: dict[str, str] = {}  # the first message of each error kind
        self.error: BaseException | None = None  # what broke the run itself, for the caller
        self.done = threading.Event()  # set when everything the run opened is closed
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._work: asyncio.Future | None = None

    # -- from the caller's thread --------------------------------------------------
    def run(self) -> None:
        """The thread's body: the whole run on a fresh event loop."""
        try:
            asyncio.run(self._guarded())
        except BaseException as exc:  # handed to the caller, who raises it in its own thread
            self.error = exc
        finally:
            self.recorder.end()
            self.done.set()

    def stop(self) -> None:
        """Cancel the run (safe from any thread, at any time, more than once)."""
        self._stopping.set()
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(self._cancel_work)

    # -- on the run's loop ---------------------------------------------------------
    def _cancel_work(self) -> None:
        if self._work is not None:
            self._work.cancel()

    async def _guarded(self) -> None:
        self._loop = asyncio.get_running_loop()
        if not self._stopping.is_set():  # else stopped before the loop existed
            await self._drive()

    async def _drive(self) -> None:
        """Send, then close: only the sending is ever cancelled, never the closing."""
        plan = self.plan
        limit = plan.concurrency if plan.mode == "requests" else plan.max_in_flight
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, limit_per_host=0),
            timeout=aiohttp.ClientTimeout(total=plan.timeout), trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar())
        try:
            with self.recorder.lock:  # the run starts now, not when the thread was made
                self.recorder.t0 = time.perf_counter()
            self._work = asyncio.ensure_future(
                self._closed_loop(http) if plan.mode == "requests" else self._open_loop(http))
            if self._stopping.is_set():  # stop() came while the work was being made
                self._work.cancel()
            try:
                await self._work
            except asyncio.CancelledError:
                if not self._stopping.is_set():
                    raise
            finally:
                self.recorder.end()
        finally:
            await http.close()
            await asyncio.sleep(0)  # let the closed transports' callbacks run before the loop ends

    async def _closed_loop(self, http: aiohttp.ClientSession) -> None:
        indices = iter(range(self.plan.requests or 0))  # shared: each request is taken once

        async def worker() -> None:
            for _ in indices:
                self.recorder.begin()
                await self._one(http)

        await _all(asyncio.ensure_future(worker()) for _ in range(min(self.plan.concurrency, self.plan.requests or 0)))

    async def _open_loop(self, http: aiohttp.ClientSession) -> None:
        plan, recorder = self.plan, self.recorder
        interval = 1.0 / (plan.rate or 1.0)
        flying: set[asyncio.Future] = set()
        try:
            for i in range(plan.scheduled):
                due = i * interval
                wait = due - recorder.now()
                if wait > 0:
                    await asyncio.sleep(wait)
                if len(flying) >= plan.max_in_flight:
                    recorder.skip()
                    continue
                recorder.begin(max(0.0, recorder.now() - due), LATE_SECONDS)
                request = asyncio.ensure_future(self._one(http))
                flying.add(request)
                request.add_done_callback(flying.discard)
            rest = (plan.duration or 0.0) - recorder.now()
            if rest > 0:  # the run lasts its duration even when the last answer came early
                await asyncio.sleep(rest)
        finally:
            await _all(list(flying))

    async def _one(self, http: aiohttp.ClientSession) -> None:
        plan, recorder = self.plan, self.recorder
        began = recorder.now()
        status, version, target = NO_ANSWER, UNKNOWN, UNKNOWN
        try:
            async with http.request(plan.method, plan.url, headers=plan.headers, data=plan.body,
                                    proxy=self.proxy, allow_redirects=False) as answer:
                body = await answer.read()
            status = answer.status
            version = answer.headers.get(VERSION_HEADER) or UNKNOWN
            target = answer.headers.get(TASK_HEADER) or UNKNOWN
            kind = error_kind(status, answer.headers.get(EDGE_HEADER))
            if kind and kind not in self.examples:
                self.examples[kind] = body[:200].decode("utf-8", "replace").strip() or (answer.reason or "")
        except Exception as exc:  # no HTTP answer: classified, never raised (CancelledError passes)
            status, kind = NO_ANSWER, classify(exc)
            self.examples.setdefault(kind, _describe(exc)[:200])
        recorder.add(Result(began, recorder.now() - began, status, version, target, kind))


def start(plan: Plan, proxy: str | None, recorder: Recorder) -> tuple[Runner, threading.Thread]:
    """Start a run in a thread of its own; the caller joins it (see `load.send`)."""
    runner = Runner(plan, proxy, recorder)
    thread = threading.Thread(target=runner.run, name="mylearning-traffic", daemon=True)
    thread.start()
    return runner, thread
