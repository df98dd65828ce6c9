"""Does a request match a route's criteria? Pure functions over the API's match objects.

A ``Request`` is what the proxy saw: method, scheme, the Host's name, the normalized path, the
query string's parameters and the headers (names in lower case, several values kept).

* path: ``prefix`` is a plain string prefix ("/" matches everything); ``path.exact`` the whole
  path; ``path.regex`` the whole path too (the query string is not part of the path)
  (https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_HttpRouteMatch.html,
  API_HttpPathMatch.html; App Mesh hands them to Envoy's route match, where "the entire path
  (without the query string) must match the regex",
  https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto,
  RouteMatch.safe_regex).
* paths are normalized first: "If you enable Path/Prefix based matching, App Mesh enables path
  normalization (normalize_path and merge_slashes)"
  (https://docs.aws.amazon.com/app-mesh/latest/userguide/routes.html): ``normalize_path``.
* headers (API_HttpRouteHeader.html, API_HeaderMatchMethod.html): exact, prefix, suffix, regex,
  range; no ``match`` means the header must be present; ``invert`` "match anything except the
  match criteria". A header that is absent fails a positive match and so passes an inverted one,
  as Envoy's header matcher does (invert_match negates the whole result). Regex must match the
  whole value (Envoy's safe_regex_match: "the entire request header value must match the regex";
  the API reference's wording, "must include the specified characters", is looser than what the
  proxy does). Several values of one header are joined with "," before matching, as Envoy does.
* range (API_MatchRange.html): "The first character of the range is included in the range, though
  the last character is not. For example, if the range specified were 1-100, only values 1-99
  would be matched." A value that is not an integer does not match.
* method and scheme: one value each, compared exactly (scheme "Applicable only for HTTP2
  routes": an HTTP/1 request's scheme is http, so a route asking for https never matches it).
* query parameters (API_HttpQueryParameter.html, API_QueryParameterMatch.html): ``match.exact``
  compares the first value of that name, undecoded; no ``match`` means the parameter is present.
* gRPC (API_GrpcRouteMatch.html): serviceName and methodName against the ``/service/method``
  path; metadata as headers.
* gateway hostname (API_GatewayRouteHostnameMatch.html): exact or suffix, on the Host without
  its port, case-insensitively (host names are).

Python's ``re`` stands in for Envoy's RE2; patterns that use features RE2 lacks (backreferences,
look-around) work here although App Mesh's Envoy would reject them.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from typing import Iterable, Mapping


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str  # normalized, without the query string
    host: str = ""  # lower case, without the port
    scheme: str = "http"
    headers: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    query: tuple[tuple[str, str], ...] = ()
    raw_query: str = ""  # as received, forwarded unchanged

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return ",".join(values) if values else None

    def query_value(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)

    def has_query(self, name: str) -> bool:
        return any(k == name for k, _ in self.query)


def normalize_path(path: str) -> str:
    """Merge repeated slashes and remove ``.`` and ``..`` segments (RFC 3986 section 5.2.4)."""
    if not path.startswith("/"):
        path = "/" + path
    if "//" not in path and "/." not in path:
        return path  # nothing to merge or remove: the common case, on every request
    path = re.sub(r"/{2,}", "/", path)
    out: list[str] = []
    segments = path.split("/")[1:]
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/" + "/".join(out)


def parse_query(query: str) -> tuple[tuple[str, str], ...]:
    """``a=1&b&a=2`` -> (("a","1"), ("b",""), ("a","2")); values are not percent-decoded."""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((name, value))
    return tuple(pairs)


def headers_of(headers: Mapping[str, str | Iterable[str]] | Iterable[tuple[str, str]] | None
               ) -> dict[str, tuple[str, ...]]:
    """Header names in lower case, each with all its values in order."""
    out: dict[str, list[str]] = {}
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in items:
        values = [value] if isinstance(value, str) else list(value)
        out.setdefault(name.lower(), []).extend(values)
    return {k: tuple(v) for k, v in out.items()}


def split_host(host: str) -> tuple[str, int | None]:
    """``Example.COM:8080`` -> ("example.com", 8080); IPv6 literals keep their brackets off."""
    host = (host or "").strip().lower()
    port = None
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[1:end], host[end + 1:]
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
        return name, port
    name, sep, tail = host.rpartition(":")
    if sep and tail.isdigit() and ":" not in name:
        return name.rstrip("."), int(tail)
    return host.rstrip("."), None


def make_request(method: str, path: str, *, host: str = "", scheme: str = "http",
                 headers: Mapping | Iterable | None = None, query: str | Mapping | None = None) -> Request:
    """A ``Request`` from what the proxy read off the wire; ``path`` may carry ``?query``."""
    raw_path, _, raw_query = (path or "/").partition("?")
    if isinstance(query, str):
        raw_query = query
    elif query is not None:
        raw_query = "&".join(f"{k}={v}" for k, vs in query.items() for v in ([vs] if isinstance(vs, str) else vs))
    return Request(method=method.upper(), path=normalize_path(raw_path), host=split_host(host)[0],
                   scheme=scheme.lower(), headers=headers_of(headers), query=parse_query(raw_query),
                   raw_query=raw_query)


@functools.lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None  # App Mesh's Envoy would have rejected the route; it matches nothing here


def _full(pattern: str, value: str) -> bool:
    compiled = _regex(pattern)
    return bool(compiled and compiled.fullmatch(value))


def value_matches(method: Mapping | None, value: str | None) -> bool:
    """A HeaderMatchMethod (or gRPC metadata match) against one value; None means absent."""
    if value is None:
        return False
    if not method:
        return True  # present
    if "exact" in method:
        return value == method["exact"]
    if "prefix" in method:
        return value.startswith(method["prefix"])
    if "suffix" in method:
        return value.endswith(method["suffix"])
    if "regex" in method:
        return _full(method["regex"], value)
    if "range" in method:
        try:
            number = int(value.strip())
        except ValueError:
            return False
        return int(method["range"]["start"]) <= number < int(method["range"]["end"])
    return True


def headers_match(criteria: Iterable[Mapping], request: Request) -> bool:
    """Every header criterion holds (API_HttpRouteHeader.html)."""
    for criterion in criteria or ():
        matched = value_matches(criterion.get("match"), request.header(criterion["name"]))
        if matched == bool(criterion.get("invert", False)):
            return False
    return True


def query_match(criteria: Iterable[Mapping], request: Request) -> bool:
    for criterion in criteria or ():
        name = criterion["name"]
        exact = (criterion.get("match") or {}).get("exact")
        if exact is None:
            if not request.has_query(name):
                return False
        elif request.query_value(name) != exact:
            return False
    return True


def path_match(match: Mapping, path: str) -> bool:
    """``prefix`` or ``path`` (exact / regex); neither means every path."""
    if match.get("prefix") is not None:
        return path.startswith(match["prefix"])
    spec = match.get("path")
    if spec:
        if "exact" in spec:
            return path == spec["exact"]
        if "regex" in spec:
            return _full(spec["regex"], path)
    return True


def http_match(match: Mapping, request: Request, port: int | None = None) -> bool:
    """An HttpRouteMatch or HttpGatewayRouteMatch (without the hostname) against a request."""
    if match.get("port") is not None and port is not None and int(match["port"]) != port:
        return False
    if match.get("method") and request.method != match["method"]:
        return False
    if match.get("scheme") and request.scheme != match["scheme"]:
        return False
    return (path_match(match, request.path) and headers_match(match.get("headers") or (), request)
            and query_match(match.get("queryParameters") or (), request))


def grpc_match(match: Mapping, request: Request, port: int | None = None) -> bool:
    """A GrpcRouteMatch: ``/serviceName/methodName`` and metadata (sent as headers)."""
    if match.get("port") is not None and port is not None and int(match["port"]) != port:
        return False
    service, method = match.get("serviceName"), match.get("methodName")
    if service and not request.path.startswith(f"/{service}/"):
        return False
    if method and request.path != f"/{service}/{method}":
        return False
    return headers_match(match.get("metadata") or (), request)


def hostname_match(spec: Mapping | None, host: str) -> bool:
    """A GatewayRouteHostnameMatch against the request's host name (already without port)."""
    if not spec:
        return True
    host = host.lower()
    if "exact" in spec:
        return host == spec["exact"].lower()
    if "suffix" in spec:
        return host.endswith(spec["suffix"].lower())
    return True


def specificity(match: Mapping) -> int:
    """How long the path criterion is: the order App Mesh gave routes of equal priority
    ("App Mesh does sort the routes according to length", aws-app-mesh-roadmap issue 77)."""
    if match.get("prefix") is not None:
        return len(match["prefix"])
    path = match.get("path") or {}
    if path:
        return len(path.get("exact") or path.get("regex") or "")
    if match.get("serviceName"):
        return len(match["serviceName"]) + len(match.get("methodName") or "")
    return 0
