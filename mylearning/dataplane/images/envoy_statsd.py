"""The sidecar's DogStatsD sink: the metrics extension's metrics over UDP to a StatsD daemon.

App Mesh's Envoy sends its stats to a DogStatsD daemon when ``ENABLE_ENVOY_DOG_STATSD=1``, at
``STATSD_ADDRESS:STATSD_PORT`` (default 127.0.0.1:8125: in an awsvpc task, the CloudWatch agent
sidecar's StatsD listener) (https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-config.html).
Counters and gauges go at each stats flush (every 5 s), timings as they are sampled; here
timings wait for the next flush too, in the same datagrams.

Where this differs from Envoy: only the metrics extension's metrics are sent
(`mylearning.dataplane.mesh.extension`), not every Envoy stat with its tags; Envoy's own stats
stay readable at the admin interface's ``/stats``. Without the extension nothing is sent.
UDP is fire and forget, as for Envoy: when no daemon listens, the datagrams are lost.
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any, Callable, Optional

from mylearning.facts.envoy import STATS_FLUSH_SECONDS, STATSD_ADDRESS, STATSD_PORT, STATSD_VARIABLE

#: A datagram stays under a typical MTU, as StatsD clients keep theirs.
MAX_DATAGRAM = 1400
_LOCAL = {"127.0.0.1", "localhost", "::1"}


def statsd_target(env: dict, task_address: str) -> Optional[tuple[str, int]]:
    """Where the proxy sends its stats, or None when DogStatsD is off. ``127.0.0.1`` is the task's
    own network namespace, the task's address here (container.py)."""
    if str(env.get(STATSD_VARIABLE, "")).strip() != "1":
        return None
    address = (env.get("STATSD_ADDRESS") or STATSD_ADDRESS).strip()
    port = int(env.get("STATSD_PORT") or STATSD_PORT)
    return (task_address if address in _LOCAL else address), port


class StatsdSink:
    """Flushes `drain()`'s samples to `target` every `interval` seconds, from `local` (the task's address)."""

    def __init__(self, drain: Callable[[], list], target: tuple[str, int], local: str,
                 interval: float = STATS_FLUSH_SECONDS, before_flush: Optional[Callable[[], None]] = None) -> None:
        self.drain = drain
        self.target = target
        self.local = local
        self.interval = interval
        self.before_flush = before_flush
        self.sent = 0
        self._socket: Optional[socket.socket] = None
        self._task: Optional[asyncio.Task] = None

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        with contextlib.suppress(OSError):
            sock.bind((self.local, 0))
        self._socket = sock
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.flush()

    def flush(self) -> None:
        from mylearning.dataplane.mesh.extension import dogstatsd_lines
        if self.before_flush is not None:
            self.before_flush()
        for datagram in _datagrams(dogstatsd_lines(self.drain())):
            try:
                self._socket.sendto(datagram, self.target)  # type: ignore[union-attr]
                self.sent += 1
            except OSError:
                pass  # nobody listens, or the buffer is full: StatsD over UDP drops, as on AWS

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        with contextlib.suppress(Exception):
            self.flush()  # what was counted since the last flush, as Envoy flushes on shutdown
        if self._socket is not None:
            self._socket.close()


def _datagrams(lines: list[str]) -> list[bytes]:
    out: list[bytes] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if current and size + len(line) + 1 > MAX_DATAGRAM:
            out.append("\n".join(current).encode())
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        out.append("\n".join(current).encode())
    return out


def wire(sidecar: Any) -> Optional[StatsdSink]:
    """The sink for `sidecar` (envoy.Sidecar), started, or None when the environment asks for none."""
    extension = getattr(sidecar, "extension", None)
    target = statsd_target(dict(sidecar.container.env), sidecar.address)
    if extension is None or target is None:
        return None

    def connections() -> None:
        total = active = 0
        for port in sidecar.servers:
            listener = sidecar.stats.listener(port)
            total += listener.get("downstream_cx_total")
            active += listener.get("downstream_cx_active")
        extension.connections(total, active)

    sink = StatsdSink(extension.drain, target, sidecar.address, before_flush=connections)
    sink.start()
    return sink
