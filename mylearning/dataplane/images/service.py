"""What every MyLearning HTTP service does alike: serve, log, be checked, be broken, stop.

One scaffold, so /health, the per-request JSON log line, the knobs and the SIGTERM
behaviour are the same in every image and a lab learns them once. ECS stops a task by
sending SIGTERM and, after the container's stopTimeout, SIGKILL; a well-behaved service
stops accepting, finishes what is in flight and exits 0.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_timeout
"""
from __future__ import annotations

import asyncio
import json
import signal
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from aiohttp import web

from .container import Container
from .knobs import KnobError, Knobs, rng, start_background
from .xray_sdk import Recorder, TracedHTTP

#: How long a stopping server waits for requests in flight; under ECS's default
#: stopTimeout of 30 s, so a graceful stop finishes before the SIGKILL.
SHUTDOWN_GRACE_SECONDS = 25.0
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class LoadFlaw:
    """The bug in a flawed release: a connection pool too small for its load.

    With `pool_size` requests in flight everything is fine but for a small base error
    rate; each request beyond it waits (latency per request in flight) and raises the
    chance of a 500 steeply, as pool timeouts do. The curve is what a canary catches.
    """

    pool_size: int = 4
    query_ms: float = 10.0  # 2.0.0's new query holds a pooled connection this long
    base_error_rate: float = 0.05
    error_rate_per_request_over_pool: float = 0.15
    max_error_rate: float = 0.9
    latency_ms_per_request_in_flight: float = 15.0

    def error_rate(self, in_flight: int) -> float:
        over = max(0, in_flight - self.pool_size)
        return min(self.max_error_rate, self.base_error_rate + over * self.error_rate_per_request_over_pool)

    def latency_ms(self, in_flight: int) -> float:
        return self.query_ms + self.latency_ms_per_request_in_flight * max(0, in_flight - 1)


@dataclass(frozen=True)
class Release:
    """One release of a service: its name and version, and what it needs to start."""

    service: str
    version: str
    needs_database: bool = False
    flaw: LoadFlaw | None = None


class Service:
    """A running service: its knobs, its load, and the helpers its handlers answer with."""

    def __init__(self, container: Container, release: Release, knobs: Knobs) -> None:
        self.container, self.release, self.knobs = container, release, knobs
        self.random = rng(knobs)
        self.started = time.monotonic()
        self.in_flight = 0
        #: The X-Ray SDK the service is instrumented with (xray_sdk), None when turned off.
        self.recorder = Recorder.for_container(container, release.service)
        self.app = web.Application(middlewares=[self._middleware])
        self.app.router.add_get("/health", self._health)
        self.app.router.add_get("/_mylearning/knobs", self._get_knobs)
        self.app.router.add_post("/_mylearning/knobs", self._set_knobs)

    def http(self, timeout: float = 5.0) -> Any:
        """The service's HTTP client for its backends: the task's (`Container.http`), its calls
        recorded as subsegments of the request's segment when the SDK is on."""
        client = self.container.http(timeout=timeout)
        if self.recorder is None:
            return client
        return TracedHTTP(client)

    # -- answers ----------------------------------------------------------------
    def reply(self, payload: dict[str, Any], status: int = 200) -> web.Response:
        """A JSON answer that says which version gave it (how a canary lab counts versions)."""
        return web.json_response({**payload, "version": self.release.version}, status=status)

    def unhealthy_reason(self) -> str | None:
        if self.knobs.health == "fail":
            return "HEALTH=fail"
        after = self.knobs.unhealthy_after_seconds
        if after and time.monotonic() - self.started >= after:
            return f"unhealthy after {after:g} s (UNHEALTHY_AFTER_SECONDS)"
        return None

    # -- built-in routes ----------------------------------------------------------
    async def _health(self, request: web.Request) -> web.Response:
        reason = self.unhealthy_reason()
        body = {"status": "unhealthy" if reason else "ok", "service": self.release.service,
                "uptime_seconds": round(time.monotonic() - self.started, 3), "task_id": self.container.task_id}
        if reason:
            body["reason"] = reason
        return self.reply(body, 503 if reason else 200)

    async def _get_knobs(self, request: web.Request) -> web.Response:
        return self.reply({"knobs": self.knobs.as_dict()})

    async def _set_knobs(self, request: web.Request) -> web.Response:
        try:
            values = await request.json()
            if not isinstance(values, dict):
                raise KnobError("send a JSON object of knobs, e.g. {\"ERROR_RATE\": 0.5}")
            changed = self.knobs.update(values)
        except (json.JSONDecodeError, KnobError) as exc:
            return self.reply({"error": str(exc)}, 400)
        self.container.log("knobs changed", "WARNING", knobs={k.upper(): getattr(self.knobs, k) for k in changed})
        return self.reply({"knobs": self.knobs.as_dict()})

    # -- every request ------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request,
                          handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        began = time.perf_counter()
        api = not request.path.startswith(("/health", "/_mylearning/"))
        fault: str | None = None
        segment = None
        if api:
            self.in_flight += 1
            if self.recorder is not None:
                segment = self.recorder.begin(request.headers.get("X-Amzn-Trace-Id"))
        try:
            if api:
                fault = await self._inject(self.in_flight)
            if fault:
                response: web.StreamResponse = self.reply({"error": "internal server error"}, 500)
            else:
                response = await handler(request)
        except web.HTTPException as exc:  # routing misses and handlers' refusals answer JSON too
            response = exc if exc.status < 400 else self.reply({"error": exc.reason}, exc.status)
        except Exception as exc:  # an unexpected bug answers 500 and is logged, as a framework does
            self.container.log("unhandled error", "ERROR", error=repr(exc), path=request.path)
            response = self.reply({"error": "internal server error"}, 500)
        finally:
            if api:
                self.in_flight -= 1
        response.headers["X-MyLearning-Version"] = self.release.version
        if segment is not None:
            response.headers["X-Amzn-Trace-Id"] = f"Root={segment.trace_id}"
            self.recorder.end(segment, request, response.status)  # type: ignore[union-attr]
        if self.container.task_id:  # which task answered: how mylearning.traffic counts targets
            response.headers["X-MyLearning-Task"] = self.container.task_id
        fields: dict[str, Any] = {"method": request.method, "path": request.path, "status": response.status,
                                  "latency_ms": round((time.perf_counter() - began) * 1000, 2),
                                  "version": self.release.version}
        if fault:
            fields["error"] = fault
        self.container.log("request", "ERROR" if response.status >= 500 else "INFO", **fields)
        return response

    async def _inject(self, in_flight: int) -> str | None:
        """Apply latency and error knobs (and a release's flaw); the fault to answer, if any."""
        flaw = self.release.flaw
        delay = self.knobs.latency_ms + (flaw.latency_ms(in_flight) if flaw else 0.0)
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        if self.knobs.error_rate and self.random.random() < self.knobs.error_rate:
            return "injected error (ERROR_RATE)"
        waiting = max(in_flight, self.in_flight)  # others may have piled up while this one waited
        if flaw and self.random.random() < flaw.error_rate(waiting):
            return (f"database connection pool exhausted (pool size {flaw.pool_size}, "
                    f"{waiting} requests in flight)")
        return None


def check_database_secrets(container: Container) -> str | None:
    """Why the service cannot reach its database, if the credentials secrets are missing.

    The agent injects `secrets` as environment variables before the process starts;
    without them a fail-fast service refuses to start rather than serve errors.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
    """
    missing = [name for name in ("DB_USER", "DB_PASSWORD") if not container.env.get(name)]
    if missing:
        return (f"missing database credentials: {', '.join(missing)} not set; add them to the container "
                f"definition's secrets (Secrets Manager or SSM Parameter Store)")
    return None


def run(container: Container, release: Release, setup: Callable[[Service], None]) -> int:
    """Start `release` on the container's address and serve until SIGTERM; the exit code.

    `setup` adds the service's own routes (and startup/cleanup hooks) to `service.app`.
    """
    try:
        knobs = Knobs.from_env(container.env)
        port = int(container.env.get("PORT", DEFAULT_PORT))
    except (KnobError, ValueError) as exc:
        container.log(f"invalid configuration: {exc}", "ERROR", service=release.service, version=release.version)
        return 1
    if release.needs_database:
        problem = check_database_secrets(container)
        if problem:
            container.log(problem, "ERROR", service=release.service, version=release.version)
            return 1
    service = Service(container, release, knobs)
    setup(service)
    return asyncio.run(_serve(service, port))


async def _serve(service: Service, port: int) -> int:
    container, release, knobs = service.container, service.release, service.knobs
    stop = asyncio.Event()

    def on_sigterm() -> None:
        if knobs.ignore_sigterm:
            container.log("SIGTERM ignored (IGNORE_SIGTERM=true)", "WARNING")
            return
        container.log("shutting down", "INFO", signal="SIGTERM", in_flight=service.in_flight)
        stop.set()

    # before the port opens: once it answers, a SIGTERM must find the handler in place
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    loop.add_signal_handler(signal.SIGINT, on_sigterm)
    runner = web.AppRunner(service.app, access_log=None, handle_signals=False,
                           shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
    await runner.setup()
    try:
        await web.TCPSite(runner, container.address, port, reuse_address=True).start()
    except OSError as exc:
        container.log(f"cannot listen on {container.address}:{port}: {exc.strerror}", "ERROR",
                      service=release.service, version=release.version)
        await runner.cleanup()
        return 1
    start_background(knobs, service.started, container.log)
    container.log("listening", "INFO", service=release.service, version=release.version,
                  address=container.address, port=port, hostname=container.env.get("HOSTNAME"))
    await stop.wait()
    await runner.cleanup()  # stops accepting, waits for requests in flight
    container.log("stopped", "INFO", service=release.service, version=release.version)
    return 0
