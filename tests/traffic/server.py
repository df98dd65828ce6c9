"""A real HTTP server on 127.0.0.1 for the load generator's tests, in a thread of its own.

`send()` blocks the test's thread while its client runs in another, so the server needs a
third: its own event loop, started and stopped (and joined) by the context manager. It
records what arrived, when, and how many requests it held at once, so the tests check the
client by what the server saw. The edge proxy of the data plane can run on the same
loop, standing for the embedded AWS's edge without an emulator.
"""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from typing import Any, Callable

from aiohttp import web

from mylearning.dataplane.edge import EdgeProxy


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mix_answer(i: int) -> tuple[int, dict[str, str]]:
    """The i-th answer of /mix: every 10th says nothing about itself, every 5th fails."""
    if i % 10 == 9:
        return 200, {}
    headers = {"X-MyLearning-Version": "1.0.0" if i % 2 == 0 else "2.0.0", "X-MyLearning-Task": f"task-{i % 3}"}
    return (500 if i % 5 == 4 else 200), headers


class Server:
    def __init__(self) -> None:
        self.arrivals: list[float] = []  # time.perf_counter() of each request's arrival
        self.paths: Counter[str] = Counter()
        self.in_flight = self.max_in_flight = 0
        self.seen: list[dict[str, Any]] = []  # what /echo received
        self.mixed = 0
        self.proxy: str | None = None  # the edge, once started; /mylearning/health names it
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-server", daemon=True)
        self.edge: EdgeProxy | None = None

    # -- handlers ----------------------------------------------------------------
    async def _count(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        self.arrivals.append(time.perf_counter())
        self.paths[request.path] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await handler(request)
        finally:
            self.in_flight -= 1

    async def version(self, request: web.Request) -> web.Response:
        return web.Response(text="ok", headers={"X-MyLearning-Version": request.match_info["version"],
                                                "X-MyLearning-Task": request.match_info["task"]})

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("ms", "100")) / 1000)
        return web.Response(text="late", headers={"X-MyLearning-Version": "1.0.0"})

    async def mix(self, request: web.Request) -> web.Response:
        status, headers = mix_answer(self.mixed)
        self.mixed += 1
        return web.Response(status=status, text="internal server error" if status == 500 else "ok",
                            headers=headers)

    async def echo(self, request: web.Request) -> web.Response:
        self.seen.append({"method": request.method, "body": await request.read(), "headers": dict(request.headers)})
        return web.Response(text="seen")

    async def reset(self, request: web.Request) -> web.Response:
        request.transport.abort()  # the connection dies before any answer
        await asyncio.sleep(0.05)
        return web.Response(text="never sent")

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "dataplane": {"proxy": self.proxy}})

    async def moved(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/v/1.0.0/t")

    # -- lifecycle ---------------------------------------------------------------
    def _call(self, coro: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self) -> int:
        @web.middleware
        async def count(request: web.Request, handler: Callable) -> web.StreamResponse:
            return await self._count(request, handler)

        app = web.Application(middlewares=[count])
        app.router.add_get("/v/{version}/{task}", self.version)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/mix", self.mix)
        app.router.add_route("*", "/echo", self.echo)
        app.router.add_get("/reset", self.reset)
        app.router.add_get("/mylearning/health", self.health)
        app.router.add_get("/moved", self.moved)
        # A short shutdown: requests a test left hanging must not hold the teardown up.
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        return self.runner.addresses[0][1]

    async def _drain(self) -> None:
        """Cancel what is still running on the loop (handlers of abandoned requests)."""
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def start_edge(self, routes: dict[tuple[str, int], tuple[str, int]]) -> str:
        """The data plane's edge on this loop, routing `routes` (private address -> loopback)."""
        self.edge = EdgeProxy(lambda host, port: routes.get((host, port)), connect_timeout=1.0)
        self.proxy = self._call(self.edge.start())
        return self.proxy

    def __enter__(self) -> "Server":
        self.thread.start()
        self.port = self._call(self._start())
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self.edge is not None:
            self._call(self.edge.close())
        self._call(self.runner.cleanup())
        self._call(self._drain())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def body_json(self, index: int = -1) -> Any:
        return json.loads(self.seen[index]["body"])
