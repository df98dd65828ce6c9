"""What a run is asked to do, checked before anything is sent (no I/O).

Two shapes, as load tools have them:

* ``requests=N``: a *closed* loop. `concurrency` workers each send a request, wait for its
  answer, send the next, until N were sent. A slow server slows the run down, so this
  measures how much the server gives when pushed.
* ``rate=R, duration=S``: an *open* loop. Request i starts at i/R seconds whether or not
  earlier ones have been answered, as independent users arrive; a slow server then
  piles requests up in flight, as it would in production. A client can hold only so
  much: at most `MAX_IN_FLIGHT` requests, and a start that finds that many in flight is
  skipped, and said in the summary. `concurrency` does not limit an open loop.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Mapping
from urllib.parse import urlsplit

#: Most requests one client may have in flight (an open loop's cap; and `concurrency`'s).
MAX_IN_FLIGHT = 500
#: Most requests one run may send: enough for any lab, few enough for a notebook's memory.
MAX_REQUESTS = 1_000_000
#: An open-loop start this late (seconds) counts as late.
LATE_SECONDS = 0.1
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 §5.6.2 token (a method is one)


def _number(name: str, value: Any, *, integer: bool = False) -> float:
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be {kind}, not {value!r}")
    if integer and int(value) != value:
        raise ValueError(f"{name} must be {kind}, not {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be more than 0, not {value!r}")
    return value


def check_url(url: Any) -> str:
    """An absolute http(s) URL with a host; anything else raises ValueError saying why."""
    example = "e.g. http://10.0.1.23:8080/health or https://my-alb-123.us-east-1.elb.amazonaws.com/"
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"url must be a URL string, {example}; not {url!r}")
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"url needs a scheme (http:// or https://) and a host, {example}; not {url!r}")
    if not parts.hostname:
        raise ValueError(f"url {url!r} has no host, {example}")
    try:
        parts.port
    except ValueError:
        raise ValueError(f"url {url!r} has an invalid port (0-65535)") from None
    return url.strip()


@dataclass(frozen=True)
class Plan:
    url: str
    requests: int | None = None
    rate: float | None = None
    duration: float | None = None
    concurrency: int = 10
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    timeout: float = 10.0
    max_in_flight: int = MAX_IN_FLIGHT

    @property
    def mode(self) -> str:
        return "requests" if self.requests is not None else "rate"

    @property
    def scheduled(self) -> int:
        if self.requests is not None:
            return self.requests
        return int(math.floor(self.rate * self.duration + 1e-9))

    @property
    def expected_seconds(self) -> float | None:
        """How long the run should last, when the plan says (an open loop's duration)."""
        return self.duration

    @classmethod
    def build(cls, url: Any, *, requests: Any = None, rate: Any = None, duration: Any = None,
              concurrency: Any = 10, method: Any = "GET", headers: Mapping[str, str] | None = None,
              body: Any = None, timeout: Any = 10.0) -> "Plan":
        url = check_url(url)
        if requests is not None and (rate is not None or duration is not None):
            raise ValueError("give either requests=N, or rate= and duration=, not both")
        if requests is None and rate is None and duration is None:
            raise ValueError("say how much to send: requests=N (as fast as concurrency allows), "
                             "or rate=R, duration=S (R requests per second for S seconds)")
        if requests is None and (rate is None or duration is None):
            raise ValueError("an open-loop run needs both rate= (requests per second) and duration= (seconds)")
        if requests is not None:
            requests = int(_number("requests", requests, integer=True))
        else:
            rate, duration = float(_number("rate", rate)), float(_number("duration", duration))
        concurrency = int(_number("concurrency", concurrency, integer=True))
        if concurrency > MAX_IN_FLIGHT:
            raise ValueError(f"concurrency must be at most {MAX_IN_FLIGHT}, not {concurrency}")
        timeout = float(_number("timeout", timeout))
        if not isinstance(method, str) or not _TOKEN.match(method):
            raise ValueError(f"method must be an HTTP method such as 'GET' or 'POST', not {method!r}")
        plan = cls(url=url, requests=requests, rate=rate, duration=duration, concurrency=concurrency,
                   method=method.upper(), headers=_headers(headers), timeout=timeout,
                   max_in_flight=MAX_IN_FLIGHT)
        plan = _with_body(plan, body)
        if plan.scheduled < 1:
            raise ValueError(f"rate × duration is {rate * duration:g}: less than one request")
        if plan.scheduled > MAX_REQUESTS:
            raise ValueError(f"{plan.scheduled} requests is more than one run may send ({MAX_REQUESTS})")
        return plan


def _headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ValueError(f"headers must be a mapping of names to values, not {headers!r}")
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.match(name) or not isinstance(value, str) or \
                any(c in value for c in "\r\n\0"):
            raise ValueError(f"header {name!r}: {value!r} is not a valid HTTP field (name: token, value: text)")
    return dict(headers)


def _with_body(plan: Plan, body: Any) -> Plan:
    """Bytes as given, text as UTF-8, a dict or list as JSON (with its Content-Type)."""
    if body is None:
        return plan
    headers = dict(plan.headers)
    if isinstance(body, (bytes, bytearray, memoryview)):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode("utf-8")
    elif isinstance(body, (dict, list)):
        data = json.dumps(body).encode("utf-8")
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
    else:
        raise ValueError(f"body must be bytes, str, or a dict/list to send as JSON; not {type(body).__name__}")
    return Plan(**{**vars(plan), "headers": headers, "body": data})
