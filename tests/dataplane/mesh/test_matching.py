"""Route criteria against requests, case by case (API_HttpRouteMatch.html and its members)."""
from __future__ import annotations

import pytest

from mylearning.dataplane.mesh.matching import (grpc_match, headers_match, hostname_match, http_match, make_request,
                                                normalize_path, parse_query, split_host, value_matches)


@pytest.mark.parametrize("raw, normalized", [
    ("/", "/"),
    ("/a//b", "/a/b"),                 # merge_slashes
    ("//a///b/", "/a/b/"),
    ("/a/./b", "/a/b"),                # normalize_path: dot segments
    ("/a/b/../c", "/a/c"),
    ("/a/b/..", "/a/"),
    ("/../../a", "/a"),
    ("/a/.", "/a/"),
    ("metrics", "/metrics"),
    ("/api/courses/ecs-101", "/api/courses/ecs-101"),  # nothing to do (the fast path)
    ("/a/.well-known/b", "/a/.well-known/b"),          # a dot that is no dot segment
    ("/a/b/", "/a/b/"),
])
def test_paths_are_normalized_before_matching(raw, normalized):
    assert normalize_path(raw) == normalized


@pytest.mark.parametrize("host, name, port", [
    ("Catalog.Local", "catalog.local", None),
    ("catalog.local:8080", "catalog.local", 8080),
    ("catalog.local.", "catalog.local", None),
    ("[::1]:8080", "::1", 8080),
    ("127.0.0.1:80", "127.0.0.1", 80),
])
def test_host_header_is_split_into_name_and_port(host, name, port):
    assert split_host(host) == (name, port)


def test_query_string_keeps_order_repeats_and_raw_values():
    assert parse_query("a=1&b&a=2&c=x%20y") == (("a", "1"), ("b", ""), ("a", "2"), ("c", "x%20y"))


# The header cases of the App Mesh team's post "Routing using HTTP headers and configuring route
# priority" (aws-app-mesh-examples blogs/http-headers-and-priority), and API_HeaderMatchMethod.html.
@pytest.mark.parametrize("method, value, matches", [
    ({"range": {"start": 100, "end": 150}}, "100", True),    # "a header value of 100 would match"
    ({"range": {"start": 100, "end": 150}}, "149", True),
    ({"range": {"start": 100, "end": 150}}, "150", False),   # "while a header value of 150 would not"
    ({"range": {"start": 100, "end": 150}}, "99", False),
    ({"range": {"start": 100, "end": 150}}, "thisvalueisnotinanyroute", False),
    ({"range": {"start": -5, "end": 5}}, "-5", True),
    ({"regex": "redor.*"}, "redorgreen", True),
    ({"regex": "redor.*"}, "xredorgreen", False),            # the whole value must match
    ({"regex": "red"}, "redorgreen", False),
    ({"prefix": "redorgreen"}, "redorgreen", True),
    ({"prefix": "redorgreen"}, "redorgreenish", True),
    ({"prefix": "redorgreen"}, "redor", False),
    ({"suffix": "-beta"}, "web-beta", True),
    ({"suffix": "-beta"}, "web-beta2", False),
    ({"exact": "v2"}, "v2", True),
    ({"exact": "v2"}, "V2", False),                          # values are case-sensitive
    (None, "anything", True),                                # no match: present
    (None, None, False),
    ({"exact": "v2"}, None, False),
])
def test_header_match_methods(method, value, matches):
    assert value_matches(method, value) is matches


@pytest.mark.parametrize("criterion, headers, matches", [
    ({"name": "branch", "match": {"exact": "v2"}}, {"branch": "v2"}, True),
    ({"name": "branch", "match": {"exact": "v2"}}, {"Branch": "v2"}, True),   # names are case-insensitive
    ({"name": "branch", "match": {"exact": "v2"}}, {}, False),
    # Invert: "the route is matched for any request that has a header that starts with anything
    # other than 123" (routes.html); an absent header fails the match, so the inverted one holds.
    ({"name": "clientRequestId", "match": {"prefix": "123"}, "invert": True}, {"clientRequestId": "456"}, True),
    ({"name": "clientRequestId", "match": {"prefix": "123"}, "invert": True}, {"clientRequestId": "1234"}, False),
    ({"name": "clientRequestId", "match": {"prefix": "123"}, "invert": True}, {}, True),
    ({"name": "clientRequestId", "invert": True}, {"clientRequestId": "x"}, False),
    # several values of one header are joined with ","
    ({"name": "x-tag", "match": {"exact": "a,b"}}, [("x-tag", "a"), ("X-Tag", "b")], True),
])
def test_header_criteria(criterion, headers, matches):
    request = make_request("GET", "/", headers=headers)
    assert headers_match([criterion], request) is matches


def test_every_header_criterion_must_hold():
    criteria = [{"name": "a", "match": {"exact": "1"}}, {"name": "b"}]
    assert headers_match(criteria, make_request("GET", "/", headers={"a": "1", "b": ""}))
    assert not headers_match(criteria, make_request("GET", "/", headers={"a": "1"}))


@pytest.mark.parametrize("match, method, path, matches", [
    ({"prefix": "/"}, "GET", "/anything", True),
    ({"prefix": "/metrics"}, "GET", "/metrics", True),
    ({"prefix": "/metrics"}, "GET", "/metrics/cpu", True),
    ({"prefix": "/metrics"}, "GET", "/metricsfoo", True),         # a plain string prefix
    ({"prefix": "/metrics"}, "GET", "/Metrics", False),           # case-sensitive
    ({"prefix": "/metrics"}, "GET", "/app/../metrics", True),     # normalized first
    ({"prefix": "/metrics"}, "GET", "//metrics", True),
    ({"prefix": "/a"}, "GET", "/b?x=/a", False),                  # the query is not the path
    ({"path": {"exact": "/login"}}, "GET", "/login", True),
    ({"path": {"exact": "/login"}}, "GET", "/login/", False),
    ({"path": {"exact": "/login"}}, "GET", "/login?next=/", True),
    ({"path": {"regex": "/users/[0-9]+"}}, "GET", "/users/42", True),
    ({"path": {"regex": "/users/[0-9]+"}}, "GET", "/users/42/posts", False),
    ({"path": {"regex": "/users/[0-9]+"}}, "GET", "/v1/users/42", False),
    ({"prefix": "/", "method": "POST"}, "POST", "/", True),
    ({"prefix": "/", "method": "POST"}, "GET", "/", False),
    ({"prefix": "/", "method": "GET"}, "get", "/", True),            # methods are read upper-case
])
def test_path_and_method(match, method, path, matches):
    assert http_match(match, make_request(method, path)) is matches


@pytest.mark.parametrize("match, path, matches", [
    ({"prefix": "/", "queryParameters": [{"name": "fishes", "match": {"exact": "nemo"}}]}, "/?fishes=nemo", True),
    ({"prefix": "/", "queryParameters": [{"name": "fishes", "match": {"exact": "nemo"}}]}, "/?fishes=dory", False),
    ({"prefix": "/", "queryParameters": [{"name": "fishes", "match": {"exact": "nemo"}}]}, "/", False),
    ({"prefix": "/", "queryParameters": [{"name": "fishes", "match": {"exact": "nemo"}}]},
     "/?fishes=nemo&fishes=dory", True),                               # the first value counts
    ({"prefix": "/", "queryParameters": [{"name": "debug"}]}, "/?debug", True),   # present
    ({"prefix": "/", "queryParameters": [{"name": "debug"}]}, "/?debug=0", True),
    ({"prefix": "/", "queryParameters": [{"name": "debug"}]}, "/?nodebug=1", False),
    ({"prefix": "/", "queryParameters": [{"name": "q", "match": {"exact": "a b"}}]}, "/?q=a%20b", False),
])
def test_query_parameters(match, path, matches):
    assert http_match(match, make_request("GET", path)) is matches


@pytest.mark.parametrize("scheme, wanted, matches", [
    ("https", "https", True), ("http", "https", False), ("HTTP", "http", True)])
def test_scheme(scheme, wanted, matches):
    assert http_match({"prefix": "/", "scheme": wanted}, make_request("GET", "/", scheme=scheme)) is matches


@pytest.mark.parametrize("match_port, port, matches", [(8080, 8080, True), (8080, 9090, False), (None, 9090, True)])
def test_port_match(match_port, port, matches):
    match = {"prefix": "/", **({"port": match_port} if match_port else {})}
    assert http_match(match, make_request("GET", "/"), port) is matches


@pytest.mark.parametrize("match, path, metadata, matches", [
    ({"serviceName": "color.ColorService"}, "/color.ColorService/GetColor", {}, True),
    ({"serviceName": "color.ColorService"}, "/color.Other/GetColor", {}, False),
    ({"serviceName": "color.ColorService", "methodName": "GetColor"}, "/color.ColorService/GetColor", {}, True),
    ({"serviceName": "color.ColorService", "methodName": "GetColor"}, "/color.ColorService/SetColor", {}, False),
    ({}, "/any.Service/Any", {}, True),
    ({"metadata": [{"name": "myMetadata", "match": {"exact": "123"}, "invert": True}]}, "/s/m",
     {"myMetadata": "124"}, True),
    ({"metadata": [{"name": "myMetadata", "match": {"exact": "123"}, "invert": True}]}, "/s/m",
     {"myMetadata": "123"}, False),
])
def test_grpc_route_match(match, path, metadata, matches):
    assert grpc_match(match, make_request("POST", path, headers=metadata)) is matches


@pytest.mark.parametrize("spec, host, matches", [
    ({"exact": "www.example.com"}, "www.example.com", True),
    ({"exact": "www.example.com"}, "WWW.Example.com", True),
    ({"exact": "www.example.com"}, "api.example.com", False),
    ({"suffix": "example.com"}, "api.example.com", True),
    ({"suffix": ".example.com"}, "example.com", False),
    ({"suffix": "example.com"}, "example.org", False),
    (None, "anything", True),
])
def test_gateway_hostname_match(spec, host, matches):
    assert hostname_match(spec, host) is matches


@pytest.mark.parametrize("path, query, raw", [
    ("/a?x=1&y=", None, "x=1&y="), ("/a", "b=&c", "b=&c"), ("/a", {"k": ["1", "2"]}, "k=1&k=2"), ("/a", None, "")])
def test_the_query_string_is_kept_as_received(path, query, raw):
    request = make_request("GET", path, query=query)
    assert request.raw_query == raw and request.path == "/a"
