"""ALB listener rules, actions, weighted forwarding and stickiness (mylearning.dataplane.alb.rules).

Rules are written as ``describe_rules`` returns them (string priorities, *Config members and
the legacy top-level Values), so these tests read like what the listener will be handed.
"""
from __future__ import annotations

import random
from collections import Counter

import pytest

from mylearning.dataplane.alb.rules import (ForwardChooser, NoHealthyTarget, NoRoute, Request,
                                            TargetPicker, fixed_response, matches, redirect,
                                            routing_action, select)

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
BLUE = f"{ARN}:targetgroup/blue/73e2d6bc24d8a067"
GREEN = f"{ARN}:targetgroup/green/09966783158cda59"
CANARY = f"{ARN}:targetgroup/canary/1a2b3c4d5e6f7a8b"


def req(target: str = "/", *, method: str = "GET", host: str | None = "app.example.com",
        headers: tuple = (), source_ip: str = "203.0.113.9", protocol: str = "HTTP",
        port: int = 80, cookies: dict | None = None) -> Request:
    sent = ([("Host", host)] if host is not None else []) + list(headers)
    if cookies:
        sent.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items())))
    return Request.parse(method, target, sent, source_ip, protocol, port)


def host(*values: str) -> dict:
    """A host-header condition as describe_rules returns it: legacy Values and the Config."""
    return {"Field": "host-header", "Values": list(values), "HostHeaderConfig": {"Values": list(values)}}


def path(*values: str) -> dict:
    return {"Field": "path-pattern", "Values": list(values), "PathPatternConfig": {"Values": list(values)}}


def header(name: str, *values: str) -> dict:
    return {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": name, "Values": list(values)}}


def method(*values: str) -> dict:
    return {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": list(values)}}


def query(*pairs: dict) -> dict:
    return {"Field": "query-string", "QueryStringConfig": {"Values": list(pairs)}}


def source(*blocks: str) -> dict:
    return {"Field": "source-ip", "SourceIpConfig": {"Values": list(blocks)}}


def answer(body: str) -> list[dict]:
    return [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200",
                                                               "ContentType": "text/plain",
                                                               "MessageBody": body}}]


def rule(priority: int, name: str, *conditions: dict) -> dict:
    return {"RuleArn": f"{ARN}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/{name}",
            "Priority": str(priority), "Conditions": list(conditions), "Actions": answer(name),
            "IsDefault": False}


DEFAULT = {"RuleArn": f"{ARN}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/default",
           "Priority": "default", "Conditions": [], "Actions": answer("default"), "IsDefault": True}


def name_of(chosen: dict) -> str:
    return chosen["Actions"][0]["FixedResponseConfig"]["MessageBody"]


def cookie(set_cookies: list[str], name: str) -> str:
    """The value a browser would send back for cookie ``name``."""
    for text in set_cookies:
        key, _, rest = text.partition("=")
        if key == name:
            return rest.split(";", 1)[0]
    raise AssertionError(f"no {name} in {set_cookies}")


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- the request --------------------------------------------------------------------------

def test_request_parse_splits_path_query_and_fragment():
    r = req("/api/courses?a=1&b&c=%41+x&&d=#frag")
    assert r.path == "/api/courses"
    assert r.query == (("a", "1"), ("b", ""), ("c", "A+x"), ("d", ""))
    assert r.raw_query == "a=1&b&c=%41+x&&d="
    assert req("/plain").raw_query is None and req("/plain").query == ()


def test_request_host_headers_and_cookies():
    r = req(host="API.Example.COM:8443", headers=(("X-Team", "a"), ("x-team", "b"),
                                                   ("Cookie", 'one=1; two="2"'), ("Cookie", "one=9")))
    assert r.host == "api.example.com"
    assert r.header("X-TEAM") == "a" and r.header_values("x-team") == ["a", "b"]
    assert r.cookies() == {"one": "1", "two": "2"}
    assert req(host="[2001:DB8::1]:80").host == "[2001:db8::1]"
    assert req(host=None).host == ""


# --- rule priority ------------------------------------------------------------------------

def test_lowest_priority_number_wins_whatever_the_list_order():
    rules = [rule(10, "ten", path("/api/*")), DEFAULT, rule(9, "nine", path("/api/*")),
             rule(200, "two-hundred", path("/api/*"))]
    assert name_of(select(rules, req("/api/courses"))) == "nine"  # numeric: "10" < "9" as text
    assert name_of(select(list(reversed(rules)), req("/api/courses"))) == "nine"


def test_default_rule_is_evaluated_last_even_when_listed_first():
    rules = [DEFAULT, rule(5, "api", path("/api/*"))]
    assert name_of(select(rules, req("/api/x"))) == "api"
    assert name_of(select(rules, req("/other"))) == "default"


def test_no_match_and_no_default_rule_is_no_route():
    with pytest.raises(NoRoute):
        select([rule(1, "api", path("/api/*"))], req("/other"))


# --- host-header ----------------------------------------------------------------------------

def test_host_header_is_case_insensitive_and_ignores_the_port():
    assert matches([host("app.example.com")], req(host="APP.Example.COM:8080"))
    assert matches([host("APP.EXAMPLE.COM")], req(host="app.example.com"))
    assert not matches([host("app.example.com")], req(host="app.example.org"))


def test_host_header_wildcards():
    star, one = [host("*.example.com")], [host("api-?.example.com")]
    assert matches(star, req(host="test.example.com"))
    assert matches(star, req(host="a.b.example.com"))
    assert not matches(star, req(host="example.com"))  # the guide's own example
    assert matches(one, req(host="api-1.example.com"))
    assert not matches(one, req(host="api-12.example.com"))
    assert not matches(one, req(host="api-.example.com"))


def test_host_header_any_value_matches_and_absent_host_matches_nothing():
    either = [host("a.example.com", "b.example.com")]
    assert matches(either, req(host="b.example.com"))
    assert not matches(either, req(host="c.example.com"))
    assert not matches([host("*.example.com")], req(host=None))


def test_host_header_regex_values():
    condition = {"Field": "host-header", "HostHeaderConfig": {"RegexValues": [r"^api\d+\.example\.com$"]}}
    assert matches([condition], req(host="api42.example.com"))
    assert not matches([condition], req(host="api.example.com"))


# --- path-pattern ---------------------------------------------------------------------------

def test_path_pattern_is_case_sensitive():
    assert matches([path("/api/*")], req("/api/courses"))
    assert not matches([path("/API/*")], req("/api/courses"))


def test_path_pattern_sees_the_path_only_not_the_query():
    assert matches([path("/img/*")], req("/img/logo.png?size=large"))
    assert matches([path("/search")], req("/search?q=/admin"))
    assert not matches([path("*admin*")], req("/search?q=admin"))


def test_path_pattern_wildcards():
    assert matches([path("/img/*/pics")], req("/img/2024/06/pics"))  # * spans slashes
    assert matches([path("/v?/users")], req("/v2/users"))
    assert not matches([path("/v?/users")], req("/v10/users"))
    assert not matches([path("/v?/users")], req("/v/users"))
    assert not matches([path("/a*b")], req("/a\x01b"))  # control characters are excluded


def test_path_pattern_compares_the_path_as_sent():
    assert matches([path("/caf*")], req("/caf%C3%A9"))
    assert not matches([path("/a b")], req("/a%20b"))


# --- http-header ----------------------------------------------------------------------------

def test_http_header_name_and_value_are_case_insensitive_with_wildcards():
    chrome = [header("user-agent", "*Chrome*", "*Safari*")]
    assert matches(chrome, req(headers=(("User-Agent", "Mozilla/5.0 chrome/120.0"),)))
    assert matches(chrome, req(headers=(("USER-AGENT", "Mobile SAFARI"),)))
    assert not matches(chrome, req(headers=(("User-Agent", "curl/8.7.1"),)))
    assert matches([header("X-Version", "v?")], req(headers=(("x-version", "V2"),)))
    assert not matches([header("X-Version", "v?")], req(headers=(("x-version", "v22"),)))


def test_http_header_searches_every_occurrence_and_absent_header_fails():
    condition = [header("X-Team", "payments")]
    assert matches(condition, req(headers=(("X-Team", "search"), ("X-Team", "Payments"))))
    assert not matches(condition, req(headers=(("X-Other", "payments"),)))


# --- http-request-method --------------------------------------------------------------------

def test_http_request_method_is_exact_and_case_sensitive():
    assert matches([method("GET", "HEAD")], req(method="HEAD"))
    assert not matches([method("GET")], req(method="POST"))
    assert not matches([method("get")], req(method="GET"))
    assert not matches([method("GE*")], req(method="GET"))
    assert matches([method("CUSTOM-METHOD")], req(method="CUSTOM-METHOD"))


# --- query-string ---------------------------------------------------------------------------

def test_query_string_pairs_are_case_insensitive_with_wildcards():
    version = [query({"Key": "Version", "Value": "V1*"})]
    assert matches(version, req("/?version=v1.2"))
    assert matches(version, req("/?a=b&VERSION=v1"))
    assert not matches(version, req("/?version=v2"))
    assert not matches(version, req("/?release=v1"))


def test_query_string_without_key_matches_any_key_and_pairs_are_or():
    condition = [query({"Key": "version", "Value": "v1"}, {"Value": "*example*"})]
    assert matches(condition, req("/?version=v1"))
    assert matches(condition, req("/?anything=my-EXAMPLE-value"))
    assert not matches(condition, req("/?version=v2&other=none"))
    assert not matches(condition, req("/"))


def test_query_string_is_compared_percent_decoded():
    assert matches([query({"Key": "q", "Value": "hello world"})], req("/?q=hello%20world"))
    assert matches([query({"Key": "q", "Value": "hello%20world"})], req("/?q=hello%20world"))
    assert matches([query({"Key": "city name", "Value": "z*"})], req("/?city%20name=Z%C3%BCrich"))
    assert not matches([query({"Key": "q", "Value": "hello"})], req("/?q=hello%20world"))


def test_query_string_backslash_escapes_a_literal_wildcard():
    literal = [query({"Key": "q", "Value": "a\\*"})]
    assert matches(literal, req("/?q=a*"))
    assert not matches(literal, req("/?q=abc"))
    assert matches([query({"Key": "q", "Value": "a%2A"})], req("/?q=a*"))  # encoded = literal
    assert not matches([query({"Key": "q", "Value": "a%2A"})], req("/?q=ab"))


def test_query_string_key_without_value_and_bare_keys():
    assert matches([query({"Key": "debug"})], req("/?debug"))
    assert matches([query({"Key": "debug", "Value": "*"})], req("/?debug"))
    assert not matches([query({"Key": "debug", "Value": "?*"})], req("/?debug"))


# --- source-ip ------------------------------------------------------------------------------

def test_source_ip_cidr_blocks_ipv4_and_ipv6():
    condition = [source("192.0.2.0/24", "198.51.100.10/32", "2001:db8::/32")]
    assert matches(condition, req(source_ip="192.0.2.77"))
    assert matches(condition, req(source_ip="198.51.100.10"))
    assert not matches(condition, req(source_ip="198.51.100.11"))
    assert matches(condition, req(source_ip="2001:db8:1::5"))
    assert not matches(condition, req(source_ip="2001:db9::5"))
    assert matches(condition, req(source_ip="::ffff:192.0.2.1"))
    assert not matches(condition, req(source_ip="not-an-address"))


def test_source_ip_is_the_peer_not_x_forwarded_for():
    forwarded = req(source_ip="203.0.113.9", headers=(("X-Forwarded-For", "10.0.0.5"),))
    assert not matches([source("10.0.0.0/8")], forwarded)
    assert matches([source("203.0.113.0/24")], forwarded)


# --- AND across conditions, OR within ----------------------------------------------------

def test_all_conditions_must_match():
    conditions = [host("*.example.com"), path("/api/*"), method("POST")]
    assert matches(conditions, req("/api/x", method="POST"))
    assert not matches(conditions, req("/api/x", method="GET"))
    assert not matches(conditions, req("/web/x", method="POST"))
    assert not matches(conditions, req("/api/x", method="POST", host="example.org"))


def test_two_conditions_are_and_two_values_are_or():
    both = [header("X-A", "1"), header("X-B", "1")]
    either = [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-A", "Values": ["1", "2"]}}]
    only_a = req(headers=(("X-A", "1"),))
    assert not matches(both, only_a)
    assert matches(both, req(headers=(("X-A", "1"), ("X-B", "1"))))
    assert matches(either, req(headers=(("X-A", "2"),)))


def test_select_applies_and_or_across_rules():
    rules = [DEFAULT, rule(1, "mobile-api", host("m.example.com"), path("/api/*")),
             rule(2, "api", path("/api/*", "/v2/*"))]
    assert name_of(select(rules, req("/api/x", host="m.example.com"))) == "mobile-api"
    assert name_of(select(rules, req("/v2/x", host="m.example.com"))) == "api"
    assert name_of(select(rules, req("/web", host="m.example.com"))) == "default"


def test_legacy_values_alone_are_honoured():
    assert matches([{"Field": "path-pattern", "Values": ["/legacy/*"]}], req("/legacy/page"))
    assert matches([{"Field": "host-header", "Values": ["old.example.com"]}], req(host="old.example.com"))
    assert not matches([{"Field": "path-pattern", "Values": ["/legacy/*"]}], req("/new/page"))


def test_unknown_field_never_matches_and_no_conditions_always_match():
    assert not matches([{"Field": "cookie", "Values": ["*"]}], req())
    assert matches([], req())


# --- actions --------------------------------------------------------------------------------

def test_routing_action_sorts_by_order_and_skips_authentication():
    forward = {"Type": "forward", "TargetGroupArn": BLUE, "Order": 3}
    rule_ = {"Actions": [forward, {"Type": "authenticate-oidc", "Order": 1,
                                   "AuthenticateOidcConfig": {}},
                         {"Type": "authenticate-cognito", "Order": 2}]}
    assert routing_action(rule_) is forward


def test_routing_action_without_order_comes_after_the_ordered_ones():
    unordered = {"Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_301"}}
    ordered = {"Type": "fixed-response", "Order": 50000, "FixedResponseConfig": {"StatusCode": "404"}}
    assert routing_action({"Actions": [unordered, ordered]}) is ordered
    assert routing_action({"Actions": [unordered]}) is unordered
    with pytest.raises(ValueError):
        routing_action({"Actions": [{"Type": "authenticate-oidc", "Order": 1}]})


def test_fixed_response_defaults_and_values():
    assert fixed_response({"FixedResponseConfig": {"StatusCode": "503"}}) == (503, "text/plain", b"")
    assert fixed_response({"FixedResponseConfig": {
        "StatusCode": "200", "ContentType": "application/json",
        "MessageBody": '{"ok": "já"}'}}) == (200, "application/json", '{"ok": "já"}'.encode())
    with pytest.raises(ValueError):
        fixed_response({"FixedResponseConfig": {"StatusCode": "700"}})


def redirect_to(config: dict, request: Request) -> tuple[int, str]:
    return redirect({"Type": "redirect", "RedirectConfig": config}, request)


def test_redirect_http_to_https_keeps_host_path_query():
    r = req("/courses/intro?lang=en&x=%20y", host="Shop.Example.com")
    assert redirect_to({"Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}",
                        "Query": "#{query}", "StatusCode": "HTTP_301"}, r) == \
        (301, "https://shop.example.com:443/courses/intro?lang=en&x=%20y")


def test_redirect_defaults_keep_the_original_components_including_the_port():
    r = req("/a/b?c=1", port=8080)
    assert redirect_to({"Protocol": "HTTPS", "StatusCode": "HTTP_302"}, r) == \
        (302, "https://app.example.com:8080/a/b?c=1")
    assert redirect_to({"Host": "new.example.com", "StatusCode": "HTTP_301"}, req("/")) == \
        (301, "http://new.example.com:80/")


def test_redirect_keywords_in_path_host_and_query():
    r = req("/old/page?id=7", port=8080, protocol="HTTP")
    status, location = redirect_to({"Host": "www.#{host}", "Path": "/new/#{path}/#{port}",
                                    "Query": "#{query}&from=#{protocol}", "StatusCode": "HTTP_301"}, r)
    assert location == "http://www.app.example.com:8080/new/old/page/8080?id=7&from=HTTP"


def test_redirect_never_doubles_the_question_mark_or_drops_the_slash():
    assert redirect_to({"Path": "/x", "Query": "?a=1", "StatusCode": "HTTP_301"}, req("/"))[1] == \
        "http://app.example.com:80/x?a=1"
    assert redirect_to({"Path": "/x", "StatusCode": "HTTP_301"}, req("/"))[1] == \
        "http://app.example.com:80/x"  # no query: no '?'
    assert redirect_to({"Host": "b.example.com", "Path": "#{path}", "StatusCode": "HTTP_301"},
                       req("/p/q"))[1] == "http://b.example.com:80/p/q"
    assert redirect_to({"Host": "b.example.com", "StatusCode": "HTTP_301"}, req("/"))[1] == \
        "http://b.example.com:80/"


def test_redirect_query_from_pairs_is_encoded_once():
    pairs_only = Request("GET", "/s", (("q", "a b"), ("flag", "")), (("Host", "x.example.com"),),
                         "198.51.100.1")
    assert redirect_to({"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}, pairs_only) == \
        (301, "https://x.example.com:443/s?q=a%20b&flag")


def test_redirect_rejects_an_unknown_status_code():
    with pytest.raises(ValueError):
        redirect_to({"Protocol": "HTTPS", "StatusCode": "HTTP_307"}, req())


# --- weighted forwarding ------------------------------------------------------------------

def forward(*groups: tuple[str, int], sticky: int | None = None) -> dict:
    config: dict = {"TargetGroups": [{"TargetGroupArn": arn, "Weight": w} for arn, w in groups]}
    if sticky is not None:
        config["TargetGroupStickinessConfig"] = {"Enabled": True, "DurationSeconds": sticky}
    return {"Type": "forward", "ForwardConfig": config}


def share(chooser: ForwardChooser, action: dict, n: int = 10_000) -> Counter:
    return Counter(chooser.choose(action, req())[0] for _ in range(n))


def test_weights_90_10_within_3_percent():
    counts = share(ForwardChooser(random.Random(7)), forward((BLUE, 90), (GREEN, 10)))
    assert abs(counts[BLUE] / 10_000 - 0.90) <= 0.03
    assert abs(counts[GREEN] / 10_000 - 0.10) <= 0.03


def test_weights_1_1_2_within_3_percent():
    counts = share(ForwardChooser(random.Random(11)), forward((BLUE, 1), (GREEN, 1), (CANARY, 2)))
    for arn, expected in ((BLUE, 0.25), (GREEN, 0.25), (CANARY, 0.50)):
        assert abs(counts[arn] / 10_000 - expected) <= 0.03


def test_weight_zero_is_never_chosen_and_all_zero_is_no_route():
    counts = share(ForwardChooser(random.Random(3)), forward((BLUE, 0), (GREEN, 1), (CANARY, 999)))
    assert counts[BLUE] == 0 and counts[GREEN] > 0
    with pytest.raises(NoRoute):
        ForwardChooser(random.Random(3)).choose(forward((BLUE, 0), (GREEN, 0)), req())


def test_seeded_chooser_is_deterministic():
    action = forward((BLUE, 50), (GREEN, 50))
    a, b = ForwardChooser(random.Random(5)), ForwardChooser(random.Random(5))
    picks = [a.choose(action, req())[0] for _ in range(200)]
    assert picks == [b.choose(action, req())[0] for _ in range(200)]
    assert set(picks) == {BLUE, GREEN}


def test_plain_target_group_arn_is_one_group_without_cookies():
    action = {"Type": "forward", "TargetGroupArn": BLUE}
    assert ForwardChooser(random.Random(1)).choose(action, req()) == (BLUE, [])
    both = {"Type": "forward", "TargetGroupArn": BLUE,
            "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": BLUE, "Weight": 1}],
                              "TargetGroupStickinessConfig": {"Enabled": False}}}
    assert ForwardChooser(random.Random(1)).choose(both, req()) == (BLUE, [])


# --- target group stickiness --------------------------------------------------------------

def stuck_to(chooser: ForwardChooser, action: dict, wanted: str) -> str:
    """The AWSALBTG value of a new client that the weights sent to ``wanted``."""
    for _ in range(1000):
        arn, cookies = chooser.choose(action, req())
        if arn == wanted:
            return cookie(cookies, "AWSALBTG")
    raise AssertionError(f"weights never chose {wanted}")


def test_target_group_stickiness_sets_both_cookies():
    clock = Clock()
    arn, cookies = ForwardChooser(random.Random(1), clock).choose(
        forward((BLUE, 1), (GREEN, 1), sticky=1000), req())
    assert [c.split("=", 1)[0] for c in cookies] == ["AWSALBTG", "AWSALBTGCORS"]
    assert cookie(cookies, "AWSALBTG") == cookie(cookies, "AWSALBTGCORS")
    assert cookies[0].endswith("; Path=/") and "SameSite" not in cookies[0]
    assert cookies[1].endswith("; Path=/; SameSite=None; Secure")
    assert "Expires=" in cookies[0] and "Max-Age" not in cookies[0]


def test_cookie_keeps_a_client_on_its_group_until_expiry():
    clock = Clock()
    chooser = ForwardChooser(random.Random(2), clock)
    action = forward((BLUE, 90), (GREEN, 10), sticky=1000)
    token = stuck_to(chooser, action, GREEN)
    for _ in range(300):
        assert chooser.choose(action, req(cookies={"AWSALBTG": token}))[0] == GREEN
    # weights moved entirely to blue: the cookie still wins while it lasts
    moved = forward((BLUE, 1), (GREEN, 0), sticky=1000)
    clock.now += 999
    assert chooser.choose(moved, req(cookies={"AWSALBTG": token}))[0] == GREEN
    clock.now += 2
    arn, cookies = chooser.choose(moved, req(cookies={"AWSALBTG": token}))
    assert arn == BLUE and chooser.choose(moved, req(cookies={"AWSALBTG": cookie(cookies, "AWSALBTG")}))[0] == BLUE


def test_every_answer_renews_the_target_group_cookie():
    clock = Clock()
    chooser = ForwardChooser(random.Random(4), clock)
    action = forward((BLUE, 1), (GREEN, 0), sticky=100)
    token = stuck_to(chooser, forward((BLUE, 0), (GREEN, 1), sticky=100), GREEN)
    for _ in range(5):  # a request every 60 s keeps the session alive past 100 s
        clock.now += 60
        arn, cookies = chooser.choose(action, req(cookies={"AWSALBTG": token}))
        assert arn == GREEN
        token = cookie(cookies, "AWSALBTG")


def test_forged_foreign_or_unlisted_group_cookies_are_ignored():
    clock = Clock()
    chooser = ForwardChooser(random.Random(6), clock)
    blue_only = forward((BLUE, 1), (GREEN, 0), sticky=1000)
    token = stuck_to(chooser, forward((BLUE, 0), (GREEN, 1), sticky=1000), GREEN)
    body, mac = token.split(".")
    tampered = body[:-1] + ("A" if body[-1] != "A" else "B") + "." + mac
    other_key = stuck_to(ForwardChooser(random.Random(6), clock, key=b"another process"),
                         forward((BLUE, 0), (GREEN, 1), sticky=1000), GREEN)
    for forged in (tampered, other_key, "garbage", token + "x"):
        assert chooser.choose(blue_only, req(cookies={"AWSALBTG": forged}))[0] == BLUE
    assert chooser.choose(blue_only, req(cookies={"AWSALBTGCORS": token}))[0] == GREEN
    canary_only = forward((BLUE, 0), (CANARY, 1), sticky=1000)  # green is no longer listed
    assert chooser.choose(canary_only, req(cookies={"AWSALBTG": token}))[0] == CANARY


def test_without_stickiness_the_cookie_is_not_honoured():
    clock = Clock()
    chooser = ForwardChooser(random.Random(8), clock)
    token = stuck_to(chooser, forward((BLUE, 0), (GREEN, 1), sticky=1000), GREEN)
    assert chooser.choose(forward((BLUE, 1), (GREEN, 0)), req(cookies={"AWSALBTG": token})) == (BLUE, [])


# --- routing algorithms -------------------------------------------------------------------

TARGETS = ["10.0.1.10:8080", "10.0.1.11:8080", "10.0.1.12:8080"]


def test_round_robin_cycles_evenly_whatever_the_list_order():
    picker = TargetPicker()
    order = [picker.pick(BLUE, [TARGETS[2], TARGETS[0], TARGETS[1]], {}, req())[0]
             for _ in range(6)]
    assert order == TARGETS + TARGETS
    counts = Counter(picker.pick(BLUE, TARGETS, {}, req())[0] for _ in range(3000))
    assert set(counts.values()) == {1000}


def test_round_robin_is_per_group_and_survives_a_target_leaving():
    picker = TargetPicker()
    assert picker.pick(BLUE, TARGETS, {}, req())[0] == TARGETS[0]
    assert picker.pick(GREEN, TARGETS, {}, req())[0] == TARGETS[0]
    assert picker.pick(BLUE, TARGETS, {}, req())[0] == TARGETS[1]
    assert picker.pick(BLUE, [TARGETS[0], TARGETS[2]], {}, req())[0] == TARGETS[2]
    assert picker.pick(BLUE, [TARGETS[0], TARGETS[2]], {}, req())[0] == TARGETS[0]


def test_least_outstanding_requests_and_ties_by_round_robin():
    picker = TargetPicker()
    lor = {"load_balancing.algorithm.type": "least_outstanding_requests"}
    busy = {TARGETS[0]: 5, TARGETS[1]: 1, TARGETS[2]: 3}
    assert [picker.pick(BLUE, TARGETS, lor, req(), busy)[0] for _ in range(3)] == [TARGETS[1]] * 3
    tie = {TARGETS[0]: 0, TARGETS[2]: 7}  # a missing target has none outstanding
    assert [picker.pick(GREEN, TARGETS, lor, req(), tie)[0] for _ in range(4)] == \
        [TARGETS[0], TARGETS[1], TARGETS[0], TARGETS[1]]


def test_weighted_random_is_seeded_and_spreads():
    attributes = {"load_balancing.algorithm.type": "weighted_random"}
    a, b = TargetPicker(random.Random(9)), TargetPicker(random.Random(9))
    first = [a.pick(BLUE, TARGETS, attributes, req())[0] for _ in range(3000)]
    assert first == [b.pick(BLUE, TARGETS, attributes, req())[0] for _ in range(3000)]
    assert all(abs(n / 3000 - 1 / 3) <= 0.03 for n in Counter(first).values())


def test_no_target_is_no_healthy_target():
    with pytest.raises(NoHealthyTarget) as raised:
        TargetPicker().pick(BLUE, [], {}, req())
    assert raised.value.status == 503


# --- lb_cookie stickiness ------------------------------------------------------------------

LB = {"stickiness.enabled": "true", "stickiness.type": "lb_cookie",
      "stickiness.lb_cookie.duration_seconds": "600"}


def test_lb_cookie_keeps_the_client_on_its_target_until_expiry():
    clock = Clock()
    picker = TargetPicker(clock=clock)
    target, cookies = picker.pick(BLUE, TARGETS, LB, req())
    assert target == TARGETS[0]
    assert [c.split("=", 1)[0] for c in cookies] == ["AWSALB", "AWSALBCORS"]
    assert cookies[1].endswith("; SameSite=None; Secure")
    sticky = req(cookies={"AWSALB": cookie(cookies, "AWSALB")})
    assert {picker.pick(BLUE, TARGETS, LB, sticky)[0] for _ in range(50)} == {TARGETS[0]}
    clock.now += 601  # the cookie in hand has run out: round robin resumes after TARGETS[0]
    target, renewed = picker.pick(BLUE, TARGETS, LB, sticky)
    assert target == TARGETS[1]
    assert picker.pick(BLUE, TARGETS, LB, req(cookies={"AWSALB": cookie(renewed, "AWSALB")}))[0] == TARGETS[1]


def test_lb_cookie_forged_or_for_another_group_is_ignored():
    picker = TargetPicker()
    _, cookies = picker.pick(BLUE, TARGETS, LB, req())  # TARGETS[0]
    token = cookie(cookies, "AWSALB")
    forged = TargetPicker(key=b"not ours").pick(BLUE, TARGETS, LB, req())[1]
    assert picker.pick(BLUE, TARGETS, LB, req(cookies={"AWSALB": cookie(forged, "AWSALB")}))[0] == TARGETS[1]
    assert picker.pick(GREEN, TARGETS, LB, req(cookies={"AWSALB": token}))[0] == TARGETS[0]
    assert picker.pick(GREEN, TARGETS, LB, req(cookies={"AWSALB": token}))[0] == TARGETS[1]
    assert picker.pick(BLUE, TARGETS, LB, req(cookies={"AWSALBCORS": token}))[0] == TARGETS[0]


def test_lb_cookie_naming_a_target_that_disappeared_is_replaced():
    picker = TargetPicker()
    _, cookies = picker.pick(BLUE, TARGETS, LB, req())
    old = req(cookies={"AWSALB": cookie(cookies, "AWSALB")})
    target, replaced = picker.pick(BLUE, TARGETS[1:], LB, old)
    assert target in TARGETS[1:]
    again = req(cookies={"AWSALB": cookie(replaced, "AWSALB")})
    assert {picker.pick(BLUE, TARGETS, LB, again)[0] for _ in range(10)} == {target}


def test_stickiness_disabled_sets_no_cookie():
    assert TargetPicker().pick(BLUE, TARGETS, {**LB, "stickiness.enabled": "false"}, req())[1] == []


# --- app_cookie stickiness -----------------------------------------------------------------

APP = {"stickiness.enabled": "true", "stickiness.type": "app_cookie",
       "stickiness.app_cookie.cookie_name": "SESSION",
       "stickiness.app_cookie.duration_seconds": "300"}


def app_session(picker: TargetPicker, targets: list[str], group: str = BLUE,
                ua: str = "curl/8.7.1") -> tuple[str, dict]:
    """A first request, answered by a target that starts a SESSION: (target, client cookies)."""
    first = req(headers=(("User-Agent", ua),))
    target, cookies = picker.pick(group, targets, APP, first)
    assert cookies == []  # nothing until the target sets its own cookie
    added = picker.after_response(group, target, APP, first, ["SESSION=abc123; Path=/; HttpOnly"])
    assert [c.split("=", 1)[0] for c in added] == ["AWSALBAPP-0"]
    return target, {"SESSION": "abc123", "AWSALBAPP-0": cookie(added, "AWSALBAPP-0")}


def test_app_cookie_sticks_while_the_client_sends_both_cookies():
    clock = Clock()
    picker = TargetPicker(clock=clock)
    target, jar = app_session(picker, TARGETS)
    both = req(cookies=jar)
    assert {picker.pick(BLUE, TARGETS, APP, both)[0] for _ in range(20)} == {target}
    without_app_cookie = req(cookies={"AWSALBAPP-0": jar["AWSALBAPP-0"]})
    assert picker.pick(BLUE, TARGETS, APP, without_app_cookie)[0] != target
    assert picker.after_response(BLUE, target, APP, without_app_cookie, []) == []  # not renewed
    assert picker.after_response(BLUE, target, APP, req(), ["OTHER=1"]) == []


def test_app_cookie_expires_unless_renewed_by_responses():
    clock = Clock()
    picker = TargetPicker(clock=clock)
    target, jar = app_session(picker, TARGETS)
    clock.now += 200
    renewed = picker.after_response(BLUE, target, APP, req(cookies=jar), [])
    assert renewed, "a sticky response renews AWSALBAPP-0 without a new SESSION cookie"
    clock.now += 200  # 400 s after the first answer, 200 s after the renewal
    assert picker.pick(BLUE, TARGETS, APP, req(cookies=jar))[0] != target
    fresh = {**jar, "AWSALBAPP-0": cookie(renewed, "AWSALBAPP-0")}
    assert picker.pick(BLUE, TARGETS, APP, req(cookies=fresh))[0] == target


def test_app_cookie_failover_sticks_to_the_new_target():
    picker = TargetPicker()
    target, jar = app_session(picker, TARGETS)
    survivors = [t for t in TARGETS if t != target]
    moved, _ = picker.pick(BLUE, survivors, APP, req(cookies=jar))
    assert moved in survivors
    added = picker.after_response(BLUE, moved, APP, req(cookies=jar), [])
    jar["AWSALBAPP-0"] = cookie(added, "AWSALBAPP-0")
    assert {picker.pick(BLUE, TARGETS, APP, req(cookies=jar))[0] for _ in range(10)} == {moved}


def test_app_cookie_holds_one_entry_per_target_group_and_rejects_forgeries():
    picker = TargetPicker()
    blue_target, jar = app_session(picker, TARGETS, BLUE)
    green_target = picker.pick(GREEN, TARGETS, APP, req(cookies=jar))[0]
    added = picker.after_response(GREEN, green_target, APP, req(cookies=jar), ["SESSION=abc123"])
    jar["AWSALBAPP-0"] = cookie(added, "AWSALBAPP-0")
    assert {picker.pick(BLUE, TARGETS, APP, req(cookies=jar))[0] for _ in range(5)} == {blue_target}
    assert {picker.pick(GREEN, TARGETS, APP, req(cookies=jar))[0] for _ in range(5)} == {green_target}
    _, foreign = app_session(TargetPicker(key=b"elsewhere"), TARGETS)
    picks = {picker.pick(BLUE, TARGETS, APP, req(cookies=foreign))[0] for _ in range(3)}
    assert len(picks) == 3  # round robin, not stuck


def test_app_cookie_samesite_only_for_chromium_80_and_later():
    picker = TargetPicker()
    for agent, cors in (("Mozilla/5.0 Chrome/120.0.0.0 Safari/537.36", True),
                        ("Mozilla/5.0 Chrome/79.0.3945.0 Safari/537.36", False),
                        ("Mozilla/5.0 Firefox/128.0", False)):
        first = req(headers=(("User-Agent", agent),))
        added = picker.after_response(BLUE, TARGETS[0], APP, first, ["SESSION=1"])
        assert added[0].endswith("; SameSite=None; Secure") is cors, agent
