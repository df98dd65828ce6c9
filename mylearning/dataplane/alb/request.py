"""One HTTP request as an ALB listener sees it, and the two ways the ALB answers it with 503.

``Request`` holds only what listener rules, actions and stickiness read: the method, the path
as sent, the decoded query, the headers as received, the client address and the listener's
protocol and port. The listener server builds one per request (``Request.parse`` splits a
request target); everything in ``rules`` and ``stickiness`` is a pure function of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional
from urllib.parse import unquote


class Unroutable(Exception):
    """The load balancer answers the request itself with ``status``; no target sees it."""

    status = 503


class NoRoute(Unroutable):
    """No target group can take the request: every weight of the forward action is 0, or the
    listener has no rule that applies.

    A weight of 0 sends a group no requests (forward actions,
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-action-types.html);
    with every weight 0 no group is left, and the load balancer answers as it does when it has
    nowhere to send a request, HTTP 503 ("The target groups for the load balancer have no
    registered targets",
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html).
    The documentation names no other code for this case; 503 is our reading.
    """


class NoHealthyTarget(Unroutable):
    """The target group has no target to send the request to (HTTP 503, "The target groups for
    the load balancer have no registered targets",
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html).
    """


def _split_host(value: str) -> str:
    """The host of a Host header value: ``Example.COM:8080`` -> ``example.com``,
    ``[2001:DB8::1]:80`` -> ``[2001:db8::1]`` (RFC 9110 §7.2 uri-host [":" port])."""
    value = value.strip()
    if value.startswith("["):
        end = value.find("]")
        host = value[:end + 1] if end >= 0 else value
    else:
        host = value.rsplit(":", 1)[0] if value.count(":") == 1 else value
    return host.lower()


def split_query(raw: str) -> tuple[tuple[str, str], ...]:
    """Decode a query string into (key, value) pairs in order: ``a=1&b&c=%41`` ->
    (("a", "1"), ("b", ""), ("c", "A")).

    The query's syntax is RFC 3986's ("The allowed characters are specified by RFC 3986. Any
    character can be percentage encoded" --
    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_QueryStringConditionConfig.html),
    so ``%XX`` is decoded and ``+`` stays a plus sign (the space-for-plus rule belongs to HTML
    forms, not to RFC 3986). Empty pieces (``a=1&&b=2``) are not pairs.
    """
    pairs = []
    for piece in raw.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return tuple(pairs)


@dataclass(frozen=True)
class Request:
    """What an ALB listener rule can look at in one request.

    ``path`` is the path as sent, before ``?``, still percent-encoded; ``query`` is the decoded
    (key, value) pairs in order (``?a`` gives ``("a", "")``); ``headers`` are (name, value) as
    received, names in any case, repeats allowed; ``source_ip`` is the address of the peer
    that connected to the load balancer (not X-Forwarded-For); ``protocol`` and ``port`` are
    the listener's. ``raw_query`` is the query as sent without ``?`` (``None`` when the caller
    only has the decoded pairs); redirects reuse it for ``#{query}`` so that it is not encoded
    twice.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    source_ip: str
    protocol: str = "HTTP"
    port: int = 80
    raw_query: Optional[str] = None

    @classmethod
    def parse(cls, method: str, target: str, headers: Iterable[tuple[str, str]], source_ip: str,
              protocol: str = "HTTP", port: int = 80) -> "Request":
        """Build a request from an origin-form request target (``/a/b?x=1#frag``): the path is
        what comes before the first ``?`` and the query what follows it, up to ``#``
        (RFC 3986 §3.4, as API_QueryStringConditionConfig.html states it)."""
        target = target.split("#", 1)[0]
        path, mark, raw = target.partition("?")
        return cls(method=method, path=path or "/", query=split_query(raw),
                   headers=tuple((str(n), str(v)) for n, v in headers), source_ip=source_ip,
                   protocol=protocol, port=port, raw_query=raw if mark else None)

    def header(self, name: str) -> Optional[str]:
        """The first value of header ``name`` (names are case-insensitive, RFC 9110 §5.1)."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name``, in the order received."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    @property
    def host(self) -> str:
        """The Host header without its port, lower-cased ("" if absent): host names are
        case-insensitive (rule-condition-types.html, host conditions)."""
        value = self.header("host")
        return _split_host(value) if value else ""

    def cookies(self) -> dict[str, str]:
        """The request's cookies by name, from every Cookie header (RFC 6265 §5.4: pairs
        separated by ``; ``). The first of several cookies with one name wins, as RFC 6265
        §5.4 lists the most specific first; surrounding double quotes are removed."""
        found: dict[str, str] = {}
        for header in self.header_values("cookie"):
            for piece in header.split(";"):
                name, eq, value = piece.strip().partition("=")
                if not eq or not name:
                    continue
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                found.setdefault(name.strip(), value)
        return found
