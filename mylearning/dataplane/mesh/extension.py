"""The App Mesh metrics extension's metrics, counted by the sidecar and handed to its StatsD sink.

With ``APPMESH_METRIC_EXTENSION_VERSION=1`` App Mesh's Envoy emits metrics named after the mesh's
own resources (https://docs.aws.amazon.com/app-mesh/latest/userguide/metrics.html, "Metrics
extension for App Mesh"):

* inbound, dimensions ``Mesh`` and ``VirtualNode`` (or ``VirtualGateway``): ``RequestCount`` (the
  HTTP requests the proxy's listeners processed), ``NewConnectionCount`` and
  ``ActiveConnectionCount`` (its listeners' TCP connections);
* outbound, dimensions ``Mesh``, ``VirtualNode`` (or ``VirtualGateway``), ``TargetVirtualService``,
  ``TargetVirtualNode``: ``RequestCountPerTarget``, ``HTTPCode_Target_2XX_Count`` ...
  ``HTTPCode_Target_5XX_Count`` and ``TargetResponseTime`` (milliseconds from the request to the
  target until its full response).

A request answered by the proxy itself on the target's behalf (no healthy host, a connection
failure, a timeout after retries) counts with the status the caller got: it was a request to
that target, and it failed. The byte counts (``ProcessedBytes``, ``TargetProcessedBytes``) and
``GrpcRequestCount`` are not kept: this proxy does not count bytes and has no gRPC.

`Extension.drain` gives what changed since the last drain, the way Envoy's stats sinks receive
counter deltas at each flush; response times are kept as samples until then, as a StatsD sink
sends every histogram value.
"""
from __future__ import annotations

import threading
from typing import Iterable, NamedTuple

from mylearning.facts.envoy import EXTENSION_PREFIX


class Sample(NamedTuple):
    """One metric's change since the last drain: a counter delta, a gauge value or timings."""
    name: str  # with the export prefix, e.g. envoy.appmesh.RequestCount
    kind: str  # "counter", "gauge" or "timing"
    dimensions: tuple[tuple[str, str], ...]
    values: tuple[float, ...]


def enabled(env: dict | None) -> bool:
    """Whether a proxy's environment turns the extension on (metrics.html: the value ``1``)."""
    from mylearning.facts.envoy import METRIC_EXTENSION_VARIABLE
    return str((env or {}).get(METRIC_EXTENSION_VARIABLE, "")).strip() == "1"


class Extension:
    """The extension's counters for one proxy (thread-safe, as `Stats` is)."""

    def __init__(self, mesh: str, kind: str, name: str) -> None:
        """`kind` is ``VirtualNode`` or ``VirtualGateway``; `name` the resource's name."""
        self._own = (("Mesh", mesh), (kind, name))
        self._counts: dict[tuple[str, tuple], int] = {}
        self._timings: dict[tuple, list[float]] = {}
        self._gauges: dict[str, int] = {}
        self._lock = threading.Lock()

    def inbound_request(self) -> None:
        self._add("RequestCount", self._own)

    def connections(self, total: int, active: int) -> None:
        """The listeners' connection counters, as read from the proxy's listener stats."""
        with self._lock:
            previous = self._gauges.get("_total", 0)
            self._gauges["_total"] = total
            self._gauges["ActiveConnectionCount"] = active
            if total > previous:
                key = ("NewConnectionCount", self._own)
                self._counts[key] = self._counts.get(key, 0) + (total - previous)

    def outbound(self, virtual_service: str, target_node: str, status: int, milliseconds: float) -> None:
        """One request to `target_node` (as a member of `virtual_service`) answered `status`."""
        dimensions = self._own + (("TargetVirtualService", virtual_service), ("TargetVirtualNode", target_node))
        self._add("RequestCountPerTarget", dimensions)
        if 200 <= status < 600:
            self._add(f"HTTPCode_Target_{status // 100}XX_Count", dimensions)
        with self._lock:
            self._timings.setdefault(dimensions, []).append(round(milliseconds, 3))

    def _add(self, metric: str, dimensions: tuple) -> None:
        with self._lock:
            key = (metric, dimensions)
            self._counts[key] = self._counts.get(key, 0) + 1

    def drain(self) -> list[Sample]:
        """What changed since the last drain (counters reset, timings handed over once)."""
        with self._lock:
            counts, self._counts = self._counts, {}
            timings, self._timings = self._timings, {}
            active = self._gauges.get("ActiveConnectionCount")
        samples = [Sample(EXTENSION_PREFIX + metric, "counter", dimensions, (float(n),))
                   for (metric, dimensions), n in sorted(counts.items())]
        samples += [Sample(EXTENSION_PREFIX + "TargetResponseTime", "timing", dimensions, tuple(values))
                    for dimensions, values in sorted(timings.items()) if values]
        if active is not None:
            samples.append(Sample(EXTENSION_PREFIX + "ActiveConnectionCount", "gauge", self._own, (float(active),)))
        return samples


def dogstatsd_lines(samples: Iterable[Sample]) -> list[str]:
    """DogStatsD datagram lines, ``name:value|type|#tag:value,...``
    (https://docs.datadoghq.com/developers/dogstatsd/datagram_shell/: ``c`` counters, ``g``
    gauges, ``ms`` timings), one line per timing value, as a StatsD sink sends histogram values."""
    codes = {"counter": "c", "gauge": "g", "timing": "ms"}
    lines = []
    for sample in samples:
        tags = ",".join(f"{key}:{_tag(value)}" for key, value in sample.dimensions)
        for value in sample.values:
            number = int(value) if float(value).is_integer() else value
            lines.append(f"{sample.name}:{number}|{codes[sample.kind]}" + (f"|#{tags}" if tags else ""))
    return lines


def _tag(value: str) -> str:
    """Tag values cannot hold the datagram's separators."""
    return value.replace(",", "_").replace("|", "_").replace("#", "_")
