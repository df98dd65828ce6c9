"""Edge proxy hop latency: the same keep-alive requests, direct and through the edge.

DESIGN.md's target: each proxy hop adds under 1 ms at the median over a direct request.
Three processes, as in the data plane: a tiny aiohttp server on a task's loopback address
(127.0.9.1:8080, standing for private IP 10.0.1.23), the edge proxy in its own process,
and this client (``http.client``, one keep-alive connection each way). Direct and proxied
requests run in alternating blocks so that both see the same machine load; the figures
are printed side by side with their difference, in one run.

Run: PYTHONPATH=. .venv/bin/python benchmarks/edge_bench.py [--requests 3000]
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TASK_IP, TASK_PORT = "10.0.1.23", 8080
LOOPBACK = "127.0.9.1"


def serve_upstream() -> None:
    from aiohttp import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text='{"service": "courses-api", "status": "ok"}',
                            content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/health", hello)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, LOOPBACK, TASK_PORT).start()
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())


def serve_proxy() -> None:
    from mylearning.dataplane.edge import EdgeProxy

    routes = {(TASK_IP, TASK_PORT): (LOOPBACK, TASK_PORT)}

    async def main() -> None:
        proxy = EdgeProxy(lambda host, port: routes.get((host, port)))
        print(await proxy.start(), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        print(proxy.stats(), file=sys.stderr)
        await proxy.close()

    asyncio.run(main())


def start(mode: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, __file__, mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def timed(conn: http.client.HTTPConnection, target: str, n: int) -> list[float]:
    headers = {"Host": f"{TASK_IP}:{TASK_PORT}"}
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("GET", target, headers=headers)
        response = conn.getresponse()
        response.read()
        out.append(time.perf_counter() - t0)
        assert response.status == 200, response.status
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", default="bench")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--block", type=int, default=250)
    args = parser.parse_args()
    if args.mode == "upstream":
        return serve_upstream()
    if args.mode == "proxy":
        return serve_proxy()
    upstream, _ = start("upstream")
    proxy, url = start("proxy")
    try:
        proxy_host, proxy_port = url.removeprefix("http://").rsplit(":", 1)
        direct = http.client.HTTPConnection(LOOPBACK, TASK_PORT)
        via = http.client.HTTPConnection(proxy_host, int(proxy_port))
        absolute = f"http://{TASK_IP}:{TASK_PORT}/health"
        timed(direct, "/health", 200)  # warm-up both paths
        timed(via, absolute, 200)
        d: list[float] = []
        p: list[float] = []
        for _ in range(max(1, args.requests // args.block)):
            d += timed(direct, "/health", args.block)
            p += timed(via, absolute, args.block)
        direct.close()
        via.close()
    finally:
        for proc in (upstream, proxy):
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=10)
    ms = 1000.0
    print(f"edge hop, {len(d)} sequential keep-alive GETs each way (http.client, "
          f"aiohttp upstream on {LOOPBACK}:{TASK_PORT})")
    print(f"{'':10} {'median ms':>10} {'p95 ms':>10} {'mean ms':>10}")
    for name, values in (("direct", d), ("via edge", p)):
        print(f"{name:10} {statistics.median(values) * ms:10.3f} {pct(values, .95) * ms:10.3f} "
              f"{statistics.fmean(values) * ms:10.3f}")
    added = statistics.median(p) - statistics.median(d)
    print(f"added by one hop: median {added * ms:.3f} ms, p95 "
          f"{(pct(p, .95) - pct(d, .95)) * ms:.3f} ms (target: median under 1 ms) -> "
          f"{'OK' if added < 0.001 else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
