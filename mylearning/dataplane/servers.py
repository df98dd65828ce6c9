"""The data plane's own HTTP servers (the AWS endpoints it serves to tasks): aiohttp apps on a
free loopback port, since the data plane binds to loopback only."""
from __future__ import annotations

from typing import Any


async def start(app: Any, host: str = "127.0.0.1") -> tuple[Any, tuple[str, int]]:
    """Serve `app` on `host`, a free port: (its runner, to clean up; the address it listens on)."""
    from aiohttp import web
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[:2]  # type: ignore[union-attr]
