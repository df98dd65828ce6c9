"""Reading a proxy: Envoy's admin ``/stats`` and its access log, the way operators verify a mesh.

The App Mesh walkthroughs check every step in Envoy's own counters
(``curl localhost:9901/stats | grep cds_egress``; the names are App Mesh's,
https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy-metrics.html) and in its access
log, which App Mesh writes in Envoy's default format to the file a virtual node's
``logging.accessLog`` names (``/dev/stdout``: the awslogs driver ships it to CloudWatch Logs).

On AWS the admin port is reached from inside the task (ECS Exec) or the VPC; from outside,
a security group must admit it, and should admit only the operator's own address: the admin
interface can change and stop the proxy
(https://www.envoyproxy.io/docs/envoy/latest/operations/admin, "the administration interface
... should only be exposed on a secure network").
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from mylearning.facts import envoy as facts

#: Envoy's default access log line (envoy.py's format, the one Envoy documents):
#: [start] "METHOD PATH PROTOCOL" CODE FLAGS RECEIVED SENT DURATION UPSTREAM_TIME
#: "X-FORWARDED-FOR" "USER-AGENT" "REQUEST-ID" "AUTHORITY" "UPSTREAM-HOST"
#: (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#default-format-string)
ACCESS_LINE = re.compile(r'^\[(?P<start>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<protocol>[^"]*)" '
                         r'(?P<code>\d+) (?P<flags>\S+) \d+ \d+ \d+ \S+ "(?P<forwarded>[^"]*)" '
                         r'"(?P<agent>[^"]*)" "[^"]*" "(?P<authority>[^"]*)" "(?P<upstream>[^"]*)"\s*$')


def egress_cluster(mesh: str, node: str, port: int = 8080, protocol: str = "http") -> str:
    """The cluster a caller's proxy sends a virtual node's requests to."""
    return facts.cluster_name("egress", mesh, node, protocol, port)


def egress_listener_stat(stat: str) -> str:
    """A stat of the egress listener, e.g. ``no_filter_chain_match``: a connection on a port
    no declared backend uses, which Envoy closes."""
    return f"{facts.listener_stat_prefix(facts.EGRESS_PORT)}.{stat}"


def parse_stats(text: str) -> dict[str, int]:
    """``/stats``'s ``name: value`` lines as numbers (histograms and text values left out)."""
    found: dict[str, int] = {}
    for line in text.splitlines():
        name, _, value = line.partition(": ")
        value = value.strip()
        if value.lstrip("-").isdigit():
            found[name.strip()] = int(value)
    return found


def stats(session: Any, ip: str, *, timeout: float = 3.0) -> dict[str, int] | None:
    """The counters of the proxy of the task at `ip` (its admin port), or None when nothing
    answers there: a security group drops the connection, or no proxy listens."""
    from mylearning import traffic
    try:
        answer = traffic.get(session, f"http://{ip}:{facts.ADMIN_PORT}/stats", timeout=timeout)
    except Exception:  # dropped, refused or timed out: the caller says what to do
        return None
    if answer.status != 200:
        return None
    return parse_stats(answer.text)


def certs(session: Any, ip: str, *, timeout: float = 3.0) -> list[dict] | None:
    """The TLS contexts of the proxy at `ip`, from ``/certs``: each with ``ca_cert`` and
    ``cert_chain``, every certificate's ``path`` (``<inline>`` for one from ACM),
    ``serial_number``, ``subject_alt_names`` and ``days_until_expiration``
    (https://www.envoyproxy.io/docs/envoy/latest/api-v3/admin/v3/certs.proto); None when
    nothing answers."""
    import json

    from mylearning import traffic
    try:
        answer = traffic.get(session, f"http://{ip}:{facts.ADMIN_PORT}/certs", timeout=timeout)
        return json.loads(answer.text).get("certificates", []) if answer.status == 200 else None
    except Exception:
        return None


def served_serials(contexts: Iterable[Mapping[str, Any]] | None) -> list[str]:
    """The serial numbers of the certificates a proxy serves from ACM (``<inline>``)."""
    return [cert.get("serial_number", "") for context in contexts or []
            for cert in context.get("cert_chain", []) if cert.get("path") == "<inline>"]


def total(found: Iterable[Mapping[str, int] | None], name: str) -> int:
    """One counter summed over several proxies' stats (those that answered)."""
    return sum(s.get(name, 0) for s in found if s)


def access_entries(lines: Iterable[str]) -> list[dict[str, str]]:
    """The access log lines among a container's output, as their fields."""
    return [m.groupdict() for m in (ACCESS_LINE.match(line) for line in lines) if m]


def caller_address(lines: Iterable[str]) -> str | None:
    """Who called through the load balancer, by the newest access log line that says: the
    first address in X-Forwarded-For, which an ALB sets to its client's address
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html)."""
    for entry in reversed(access_entries(lines)):
        forwarded = entry["forwarded"]
        if forwarded and forwarded != "-":
            return forwarded.split(",")[0].strip()
    return None
