"""The sidecar's endpoint lists: re-resolved off the request path, as Envoy's DNS clusters are.

"Envoy never synchronously resolves DNS in the forwarding path" (Envoy's service discovery
overview, "Strict DNS"): once a cluster has hosts, a request uses them while a newer list is
read; only a cluster without hosts waits for its resolution.
"""
from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

from mylearning.dataplane.images import envoy
from mylearning.dataplane.images.container import Container

NODE = "arn:aws:appmesh:us-east-1:123456789012:mesh/shop/virtualNode/enrollment"
DECISION = SimpleNamespace(cluster="cds_egress_shop_courses_http_8080", discovery=None, outlier=None)


def _sidecar(answers: list[list[str]], delay: float) -> tuple[envoy.Sidecar, list[float]]:
    """A sidecar whose resolutions take `delay` seconds and give `answers` in turn."""
    sidecar = envoy.Sidecar(Container(name="envoy", address="127.45.0.9", ports=[], env={"APPMESH_RESOURCE_ARN": NODE}))
    started: list[float] = []

    async def resolve(cluster: str, upstream: envoy._Upstream) -> None:
        started.append(time.monotonic())
        try:
            await asyncio.sleep(delay)
            upstream.hosts = answers.pop(0)
            upstream.resolved_at = time.monotonic()
        finally:
            upstream.refresh = None
    sidecar._resolve = resolve  # type: ignore[method-assign]
    return sidecar, started


def test_a_stale_list_serves_while_it_is_resolved_again(monkeypatch):
    monkeypatch.setattr(envoy, "ENDPOINT_TTL", 0.05)

    async def run() -> None:
        sidecar, started = _sidecar([["10.0.1.5"], ["10.0.1.6"]], delay=0.3)
        first = await sidecar._endpoints(DECISION)  # no hosts yet: waits for the first answer
        assert first.hosts == ["10.0.1.5"] and len(started) == 1
        await asyncio.sleep(0.1)  # older than the TTL now
        t0 = time.monotonic()
        again = await sidecar._endpoints(DECISION)
        also = await sidecar._endpoints(DECISION)
        assert time.monotonic() - t0 < 0.1, "a request waited for a re-resolution"
        assert again is first and again.hosts == ["10.0.1.5"]
        assert also.refresh is not None
        await asyncio.sleep(0)
        assert len(started) == 2  # one resolution under way, not one per request
        await again.refresh
        assert (await sidecar._endpoints(DECISION)).hosts == ["10.0.1.6"]
    asyncio.run(run())


def test_a_cluster_without_hosts_waits_for_its_resolution(monkeypatch):
    monkeypatch.setattr(envoy, "ENDPOINT_TTL", 0.05)

    async def run() -> None:
        sidecar, started = _sidecar([[], ["10.0.1.7"]], delay=0.05)
        assert (await sidecar._endpoints(DECISION)).hosts == []
        await asyncio.sleep(0.1)
        assert (await sidecar._endpoints(DECISION)).hosts == ["10.0.1.7"]
        assert len(started) == 2
    asyncio.run(run())
