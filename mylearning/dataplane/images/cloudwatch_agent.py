"""The CloudWatch agent image, as an ECS sidecar: StatsD in, CloudWatch metrics out.

The App Mesh examples publish Envoy's metrics by running the CloudWatch agent in the task with
its StatsD listener on, Envoy sending DogStatsD to it (aws-app-mesh-examples,
walkthroughs/howto-metrics-extension-ecs). What this program does, from the agent's documentation:

* Configuration: the JSON in ``CW_CONFIG_CONTENT`` (on ECS, usually an SSM parameter given through
  the container's ``secrets``:
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/deploy_servicelens_CloudWatch_agent_deploy_ECS.html).
  ``metrics.namespace`` (default ``CWAgent``) and ``metrics.metrics_collected.statsd`` with
  ``service_address`` (default ``:8125``), ``metrics_collection_interval`` (default 10 s) and
  ``metrics_aggregation_interval`` (default 60 s; 0 turns aggregation off)
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-custom-metrics-statsd.html).
  Without a configuration, or with one that is not JSON, the agent exits with an error.
* Metrics: each StatsD metric becomes a CloudWatch metric of the same name; DogStatsD tags become
  dimensions, and ``metric_type`` (counter, gauge, timing) is added, as the walkthrough's queries
  (``metric_type=counter``) show. Counters are summed over the period, gauges keep their last
  value, timings are published as a distribution (``Values``/``Counts``, unit Milliseconds) so
  CloudWatch can answer percentiles such as p99.
* Publishing: ``PutMetricData`` with the task role's credentials, which must allow
  ``cloudwatch:PutMetricData`` (the CloudWatchAgentServerPolicy grants it). Here the call goes
  through the task's network to ``monitoring.<region>.amazonaws.com``, which the data plane serves
  (`mylearning.dataplane.monitoring`); a refusal is logged, as the agent logs AccessDenied.

Where it differs from the agent: it publishes once per aggregation interval (or per collection
interval when aggregation is off), with 1-second storage resolution when that is under a minute,
so a lesson's canary can read its metrics within seconds; no other input (cpu, disk, Prometheus,
EMF) is collected.
"""
from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import time
from typing import Any, Optional

import aiohttp

from mylearning.facts import cloudwatch_agent as facts

#: PutMetricData takes up to 1000 metrics per call, and up to 150 values in a datum's Values
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
MAX_DATA_PER_CALL = 1000
MAX_VALUES = 150


class ConfigError(ValueError):
    pass


def read_config(text: Optional[str]) -> dict:
    """The agent's settings from its JSON configuration (see the module docstring)."""
    if not text:
        raise ConfigError(f"E! No JSON configuration: set {facts.CONFIG_VARIABLE} (for example from an SSM "
                          "parameter through the container's secrets)")
    try:
        config = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"E! {facts.CONFIG_VARIABLE} is not valid JSON: {error}") from None
    metrics = (config or {}).get("metrics") or {}
    statsd = (metrics.get("metrics_collected") or {}).get("statsd")
    settings = {"namespace": metrics.get("namespace") or facts.DEFAULT_NAMESPACE, "statsd": None}
    if statsd is not None:
        address = str(statsd.get("service_address") or facts.STATSD_SERVICE_ADDRESS)
        _, _, port = address.rpartition(":")
        if not port.isdigit():
            raise ConfigError(f"E! statsd service_address {address!r} has no port")
        settings["statsd"] = {
            "port": int(port),
            "collection": float(statsd.get("metrics_collection_interval", facts.STATSD_COLLECTION_SECONDS)),
            "aggregation": float(statsd.get("metrics_aggregation_interval", facts.STATSD_AGGREGATION_SECONDS)),
        }
    return settings


def parse_line(line: str) -> Optional[tuple[str, str, float, tuple[tuple[str, str], ...]]]:
    """``name:value|type[|@rate][|#k:v,...]`` -> (name, kind, value, tags); None for what is not one."""
    name, sep, rest = line.strip().partition(":")
    if not sep or not name:
        return None
    fields = rest.split("|")
    if len(fields) < 2:
        return None
    try:
        value = float(fields[0])
    except ValueError:
        return None
    kind = {"c": "counter", "g": "gauge", "ms": "timing", "h": "timing"}.get(fields[1])
    if kind is None:
        return None
    rate, tags = 1.0, ()
    for extra in fields[2:]:
        if extra.startswith("@"):
            try:
                rate = float(extra[1:]) or 1.0
            except ValueError:
                pass
        elif extra.startswith("#"):
            tags = tuple(tuple(t.split(":", 1)) if ":" in t else (t, "") for t in extra[1:].split(",") if t)
    if kind == "counter":
        value /= rate  # a sampled counter stands for 1/rate events
    return name, kind, value, tags  # type: ignore[return-value]


class Collector:
    """What arrived since the last publication, by metric."""

    def __init__(self) -> None:
        self.counters: dict[tuple, float] = {}
        self.gauges: dict[tuple, float] = {}
        self.timings: dict[tuple, list[float]] = {}
        self.received = 0

    def add(self, datagram: bytes) -> None:
        for line in datagram.decode(errors="replace").splitlines():
            parsed = parse_line(line)
            if parsed is None:
                continue
            name, kind, value, tags = parsed
            key = (name, tuple(sorted(tags)))
            self.received += 1
            if kind == "counter":
                self.counters[key] = self.counters.get(key, 0.0) + value
            elif kind == "gauge":
                self.gauges[key] = value
            else:
                self.timings.setdefault(key, []).append(value)

    def take(self, resolution: int) -> list[dict]:
        """The MetricData of one publication, and a fresh start."""
        at = time.time()
        data: list[dict] = []

        def datum(key: tuple, kind: str, unit: str) -> dict:
            name, tags = key
            dimensions = [{"Name": k, "Value": v} for k, v in tags if k and v][:29]
            dimensions.append({"Name": facts.METRIC_TYPE_DIMENSION, "Value": kind})
            return {"MetricName": name, "Dimensions": dimensions, "Timestamp": at, "Unit": unit,
                    "StorageResolution": resolution}

        for key, total in self.counters.items():
            data.append({**datum(key, "counter", "Count"), "Value": total})
        for key, value in self.gauges.items():
            data.append({**datum(key, "gauge", "None"), "Value": value})
        for key, values in self.timings.items():
            counts: dict[float, int] = {}
            for value in values:
                counts[round(value, 1)] = counts.get(round(value, 1), 0) + 1
            pairs = sorted(counts.items())
            for start in range(0, len(pairs), MAX_VALUES):
                chunk = pairs[start:start + MAX_VALUES]
                data.append({**datum(key, "timing", "Milliseconds"), "Values": [v for v, _ in chunk],
                             "Counts": [float(n) for _, n in chunk]})
        self.counters, self.gauges, self.timings = {}, {}, {}
        return data


class _Listener(asyncio.DatagramProtocol):
    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.collector.add(data)


class Agent:
    def __init__(self, container: Any, settings: dict) -> None:
        self.container = container
        self.settings = settings
        self.namespace = settings["namespace"]
        env = container.env
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if not region and str(container.task_arn).startswith("arn:"):
            region = container.task_arn.split(":")[3]
        self.region = region or "us-east-1"
        self.collector = Collector()
        self.denied_logged = False

    def log(self, level: str, message: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        sys.stdout.write(f"{stamp} {level}! {message}\n")
        sys.stdout.flush()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        statsd = self.settings["statsd"]
        transport = None
        if statsd is not None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.container.address, statsd["port"]))
            transport, _ = await loop.create_datagram_endpoint(lambda: _Listener(self.collector), sock=sock)
            self.log("I", f"[inputs.statsd] Started the statsd service on :{statsd['port']}; publishing to "
                     f"namespace {self.namespace} in {self.region}")
        else:
            self.log("W", "no metrics_collected.statsd in the configuration: nothing to collect")
        period = (statsd["aggregation"] or statsd["collection"]) if statsd else 60.0
        http = self.container.http(timeout=10.0)
        try:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), timeout=max(1.0, period))
                except asyncio.TimeoutError:
                    pass
                await self.publish(http, 1 if period < 60 else 60)
        finally:
            if transport is not None:
                transport.close()
            await http.close()
        return 0

    async def publish(self, http: Any, resolution: int) -> None:
        data = self.collector.take(resolution)
        for start in range(0, len(data), MAX_DATA_PER_CALL):
            body = {"Namespace": self.namespace, "MetricData": data[start:start + MAX_DATA_PER_CALL]}
            url = (f"http://monitoring.{self.region}.amazonaws.com:443/v1/put-metric-data"
                   f"?task={self.container.task_arn}")
            try:
                async with http.post(url, data=json.dumps(body)) as answer:
                    text = await answer.text()
                    if answer.status == 403:
                        if not self.denied_logged:
                            self.log("E", f"cloudwatch: code: AccessDenied, message: {text}")
                            self.denied_logged = True
                    elif answer.status >= 300:
                        self.log("E", f"cloudwatch: PutMetricData failed ({answer.status}): {text[:300]}")
                    else:
                        self.denied_logged = False
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                self.log("E", f"cloudwatch: WriteToCloudWatch failure: {error}")


def main(container: Any) -> int:
    """The image's entry point."""
    try:
        settings = read_config(container.env.get(facts.CONFIG_VARIABLE))
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return 1
    return asyncio.run(Agent(container, settings).run())
