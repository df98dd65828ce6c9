"""One request to what runs, and the way there: the data plane's edge (or none).

On the embedded AWS every request goes through the data plane's edge proxy, which
stands for the internet (DESIGN.md, interface 6): its URL is in the emulator's health
answer, and `proxy_url` finds it by itself. Any HTTP client works the same way through
it (`curl -x PROXY http://10.0.1.23:8080/health`). On a real account a task's private IP
is not reachable from your laptop at all: only a load balancer (lab 04) is.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

HEALTH_PATH = "/mylearning/health"
#: How long the emulator may take to say where its edge listens: it answers at once when idle,
#: but a machine running many labs' tasks (a course CI run) can hold it for seconds.
HEALTH_TIMEOUT = 20


class Unreachable(RuntimeError):
    """Nothing on this backend can carry the request (say why, and what to do)."""


class Headers(dict):
    """Response header fields, looked up in any case (``headers["X-MyLearning-Task"]``):
    field names are case-insensitive (RFC 9110 section 5.1), and the edge passes them on in
    lower case."""

    def _key(self, name: object) -> object:
        if not isinstance(name, str) or dict.__contains__(self, name):
            return name
        lower = name.lower()
        return next((k for k in self if isinstance(k, str) and k.lower() == lower), name)

    def __getitem__(self, name: object) -> str:
        return dict.__getitem__(self, self._key(name))

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, self._key(name))

    def get(self, name: object, default: object = None) -> object:  # type: ignore[override]
        return dict.get(self, self._key(name), default)


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def proxy_url(session: Any) -> str:
    """The edge proxy of the session's emulator."""
    if not getattr(session, "is_emulator", False) or not session.endpoint:
        raise Unreachable("On a real account a task's private IP is reachable only from inside its "
                          "VPC; send requests to a load balancer's DNS name instead (lab 04).")
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                session.endpoint.rstrip("/") + HEALTH_PATH, timeout=HEALTH_TIMEOUT) as resp:
            plane = json.loads(resp.read()).get("dataplane") or {}
    except (OSError, ValueError) as exc:
        raise Unreachable(f"the embedded AWS at {session.endpoint} does not answer: {exc}") from exc
    if not plane.get("proxy"):
        raise Unreachable("this embedded AWS runs without a data plane (started with "
                          "--no-dataplane, or it failed: see `mylearning emulator status`)")
    return plane["proxy"]


def get(session: Any, url: str, *, method: str = "GET", body: bytes | None = None,
        headers: dict[str, str] | None = None, timeout: float = 10.0) -> Response:
    """One HTTP request, as a client on the internet would send it: through the edge on
    the embedded AWS, straight to the URL on a real account.

    HTTP errors are answers too (a 503 is what the learner should see), so they are
    returned, not raised; a request that cannot be carried (no answer within `timeout`, as
    when a security group drops it) raises `Unreachable`.
    """
    proxies = {}
    if getattr(session, "is_emulator", False):
        proxy = proxy_url(session)
        proxies = {"http": proxy, "https": proxy}
    opener = urllib.request.build_opener(urllib.request.ProxyHandler(proxies))
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    t0 = time.perf_counter()
    try:
        with opener.open(request, timeout=timeout) as resp:
            return Response(resp.status, resp.read(), Headers(resp.headers), time.perf_counter() - t0)
    except urllib.error.HTTPError as err:
        return Response(err.code, err.read(), Headers(err.headers or {}), time.perf_counter() - t0)
    except (urllib.error.URLError, OSError) as exc:
        raise Unreachable(f"{url}: {getattr(exc, 'reason', exc)}") from exc
