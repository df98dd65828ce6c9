"""What send() refuses before sending anything, and what it accepts."""
from __future__ import annotations

import math

import pytest

from mylearning import traffic
from mylearning.traffic.plan import MAX_IN_FLIGHT, Plan

URL = "http://10.0.1.23:8080/api/courses"


@pytest.mark.parametrize("kwargs, message", [
    ({}, "say how much to send"),
    ({"requests": 10, "rate": 5, "duration": 2}, "not both"),
    ({"requests": 10, "duration": 2}, "not both"),
    ({"rate": 5}, "needs both rate= "),
    ({"duration": 5}, "needs both rate= "),
    ({"requests": 0}, "requests must be more than 0"),
    ({"requests": -3}, "requests must be more than 0"),
    ({"requests": 2.5}, "requests must be a whole number"),
    ({"requests": True}, "requests must be a whole number"),
    ({"requests": "10"}, "requests must be a whole number"),
    ({"rate": 0, "duration": 1}, "rate must be more than 0"),
    ({"rate": -5, "duration": 1}, "rate must be more than 0"),
    ({"rate": math.inf, "duration": 1}, "rate must be a number"),
    ({"rate": 5, "duration": math.nan}, "duration must be a number"),
    ({"rate": 5, "duration": 0}, "duration must be more than 0"),
    ({"rate": 0.5, "duration": 1}, "less than one request"),
    ({"rate": 10_000, "duration": 3600}, "more than one run may send"),
    ({"requests": 10, "concurrency": 0}, "concurrency must be more than 0"),
    ({"requests": 10, "concurrency": MAX_IN_FLIGHT + 1}, "concurrency must be at most"),
    ({"requests": 10, "timeout": 0}, "timeout must be more than 0"),
    ({"requests": 10, "method": "GE T"}, "method must be an HTTP method"),
    ({"requests": 10, "headers": {"X-Ok": "a\r\nInjected: b"}}, "not a valid HTTP field"),
    ({"requests": 10, "headers": [("X-A", "b")]}, "headers must be a mapping"),
    ({"requests": 10, "body": 42}, "body must be bytes, str, or a dict/list"),
    ({"requests": 10, "proxy": "127.0.0.1:3128"}, "proxy: url needs a scheme"),
])
def test_bad_plans_raise_before_anything_is_sent(kwargs, message):
    with pytest.raises(ValueError, match=message):
        traffic.send(None, URL, **kwargs)


@pytest.mark.parametrize("url", ["10.0.1.23:8080/health", "localhost:8080", "/api/courses", "ftp://host/x",
                                 "http://", "http:///path", "", None, "http://host:99999/", 8080])
def test_urls_without_a_scheme_or_a_host_raise(url):
    with pytest.raises(ValueError, match="url"):
        traffic.send(None, url, requests=1)


def test_plans_that_are_fine():
    plan = Plan.build(URL, rate=50, duration=1)
    assert (plan.mode, plan.scheduled, plan.expected_seconds) == ("rate", 50, 1.0)
    assert Plan.build(URL, rate=3, duration=0.5).scheduled == 1  # 1.5 rounds down: the 2nd would be at 0.67 s
    assert Plan.build(URL, rate=0.2, duration=10).scheduled == 2
    plan = Plan.build("https://my-alb-1.us-east-1.elb.amazonaws.com/", requests=7, method="post",
                      body={"course": "ecs-101"})
    assert (plan.mode, plan.scheduled, plan.method, plan.expected_seconds) == ("requests", 7, "POST", None)
    assert plan.body == b'{"course": "ecs-101"}' and plan.headers == {"Content-Type": "application/json"}
    plan = Plan.build(URL, requests=1, body="ü", headers={"content-type": "text/plain"})
    assert plan.body == "ü".encode() and plan.headers == {"content-type": "text/plain"}


def test_an_emulator_without_a_data_plane_says_so(monkeypatch):
    class NoEmulator:
        is_emulator, endpoint = True, "http://127.0.0.1:9"  # nothing answers there

    with pytest.raises(traffic.Unreachable, match="does not answer"):
        traffic.send(NoEmulator(), URL, requests=1)
