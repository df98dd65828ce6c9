"""Helpers for the data plane's unit tests: a real HTTP app on a task's loopback address."""
from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import AsyncIterator

import pytest
from aiohttp import web

#: A task address other than 127.0.0.1, so "localhost means the task" is really tested.
TASK_ADDRESS = "127.45.0.2"


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def serving(app: web.Application, host: str = TASK_ADDRESS) -> AsyncIterator[int]:
    """Serve `app` on host:port (a free port) for the duration of the block."""
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port(host)
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        yield port
    finally:
        await runner.cleanup()


def sample_app() -> web.Application:
    """/health 200, /fail 503, /slow sleeps 2 s, /echo answers method, body, headers, caller."""
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def fail(request: web.Request) -> web.Response:
        return web.Response(status=503, text="down")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(text="late")

    async def echo(request: web.Request) -> web.Response:
        body = await request.text()
        return web.json_response({"method": request.method, "body": body,
                                  "host": request.headers.get("Host"),
                                  "x": request.headers.get("X-Test"),
                                  "peer": request.remote})

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/health")

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/fail", fail)
    app.router.add_get("/slow", slow)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/moved", moved)
    return app


@pytest.fixture
def run_async():
    """Run a coroutine to its end on a fresh event loop (no pytest-asyncio here)."""
    return lambda coro: asyncio.run(coro)
