"""What X-Ray tracing costs a proxy on its request path, in-process.

Prints, in one run, the time per request of the work the sidecar does around a request's headers,
in alternating blocks so that each variant sees the same machine load:

* ``baseline``: copying the request's headers for the upstream, as ``envoy.Sidecar._upstream_headers``
  does without tracing;
* ``unsampled``: the same with the X-Ray tracer on and the request not sampled (header parsed,
  ids made, ``Sampled=0`` passed on, nothing sent);
* ``sampled``: the tracer on and the request sampled: the segment document built and queued, and
  the queue written to a UDP socket once per turn of the event loop (`images.tracing.Emitter`).

The figures are the extra microseconds per request over the baseline (issue #12's target for a
whole proxy hop is under 1 ms at the median). Printed, never asserted.

Run: PYTHONPATH=. .venv/bin/python benchmarks/tracing_bench.py [--requests 20000]
"""
from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import time

from aiohttp.test_utils import make_mocked_request

from mylearning.dataplane.images.envoy_xray import ProxyTracer
from mylearning.dataplane.images.tracing import Emitter, Sampler

HOP_BY_HOP = {"connection", "host", "content-length"}
HEADERS = {"Host": "courses.shop.internal:8080", "User-Agent": "bench/1", "Accept": "*/*",
           "X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"}


def _copy(request) -> dict:
    return {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}


async def _block(request, tracer, n: int) -> float:
    began = time.perf_counter()
    for _ in range(n):
        started = time.time()
        if tracer is not None:
            tracer.begin(request, started)
        headers = _copy(request)
        if tracer is not None:
            tracer.inject(request, headers)
            tracer.end(request, 200, 120, time.time())
        if _ % 64 == 0:
            await asyncio.sleep(0)  # the event loop turns, as between requests: the emitter flushes
    await asyncio.sleep(0)
    return (time.perf_counter() - began) / n * 1e6


async def _run(requests: int) -> None:
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    request = make_mocked_request("GET", "/api/courses", headers=HEADERS)
    emitter = Emitter(sink.getsockname(), "127.0.0.1")
    variants = {"baseline": None,
                "unsampled": ProxyTracer("shop/enrollment", emitter, Sampler(0.0)),
                "sampled": ProxyTracer("shop/enrollment", emitter, Sampler(1.0))}
    # The header's own decision would win over the rate: give the tracer none to follow.
    results: dict[str, list[float]] = {name: [] for name in variants}
    block = max(100, requests // 20)
    for _ in range(20):
        for name, tracer in variants.items():
            results[name].append(await _block(request, tracer, block))
            while True:  # drain the sink so the socket buffer never fills
                try:
                    sink.recv(65536)
                except BlockingIOError:
                    break
    base = statistics.median(results["baseline"])
    print(f"per request, median of 20 blocks of {block} ({emitter.sent} segments sent, {emitter.dropped} dropped):")
    for name, values in results.items():
        median = statistics.median(values)
        extra = "" if name == "baseline" else f"   +{median - base:6.2f} us over the baseline"
        print(f"  {name:10s} {median:7.2f} us{extra}")
    emitter.close()
    sink.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    asyncio.run(_run(parser.parse_args().requests))


if __name__ == "__main__":
    main()
