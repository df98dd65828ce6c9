"""ELBv2 fidelity cases for listener rules and actions: condition fields and quotas, condition
values, routing actions, forward, fixed-response and redirect settings, and rule priorities
(CreateRule, ModifyRule, CreateListener, SetRulePriorities).

Each rejected request has an accepted neighbour that differs in the one thing the rule checks.
"""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, Case, Env
from mylearning.emulator.fidelity.cases.elbv2 import API, _listener_setup, _network

GUIDE = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
DOC_CONDITION = API + "API_RuleCondition.html"
DOC_LIMITS = GUIDE + "load-balancer-limits.html"
DOC_ACTION = API + "API_Action.html"
DOC_REDIRECT = API + "API_RedirectActionConfig.html"
DOC_FIXED = API + "API_FixedResponseActionConfig.html"
BAD, ACTION = "ValidationError", "InvalidLoadBalancerAction"


def _listener(env: Env) -> tuple[str, str, str]:
    """(listener ARN, blue target group, green target group) on a fresh ALB, HTTP 80."""
    lb, blue, green = _listener_setup(env)
    listener = env.client("elbv2").create_listener(
        LoadBalancerArn=lb, Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": blue}])["Listeners"][0]["ListenerArn"]
    return listener, blue, green


def _path(*values: str) -> dict:
    return {"Field": "path-pattern", "PathPatternConfig": {"Values": list(values)}}


def _host(*values: str) -> dict:
    return {"Field": "host-header", "HostHeaderConfig": {"Values": list(values)}}


def _forward(tg: str) -> list[dict]:
    return [{"Type": "forward", "TargetGroupArn": tg}]


def _rule(conditions: list[dict] | None = None,
          actions: Callable[[str, str], list[dict]] | None = None) -> Callable[[Env], Any]:
    """CreateRule with `conditions` (a path pattern by default) and `actions(blue, green)`."""
    def call(env: Env) -> Any:
        listener, blue, green = _listener(env)
        return env.client("elbv2").create_rule(
            ListenerArn=listener, Priority=10, Conditions=conditions or [_path("/api/*")],
            Actions=actions(blue, green) if actions else _forward(blue))
    return call


def _modify(conditions: list[dict]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        listener, blue, _ = _listener(env)
        elb = env.client("elbv2")
        arn = elb.create_rule(ListenerArn=listener, Priority=10, Conditions=[_path("/api/*")],
                              Actions=_forward(blue))["Rules"][0]["RuleArn"]
        return elb.modify_rule(RuleArn=arn, Conditions=conditions)
    return call


def _default_actions(actions: Callable[[str], list[dict]], protocol: str = "HTTP") -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        lb, blue, _ = _listener_setup(env)
        extra: dict[str, Any] = {}
        if protocol == "HTTPS":
            arn = env.client("acm").request_certificate(
                DomainName="www.mylearning.example")["CertificateArn"]
            extra["Certificates"] = [{"CertificateArn": arn}]
        return env.client("elbv2").create_listener(
            LoadBalancerArn=lb, Protocol=protocol, Port=443 if protocol == "HTTPS" else 8080,
            DefaultActions=actions(blue), **extra)
    return call


def _priorities(default: bool) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        listener, blue, _ = _listener(env)
        elb = env.client("elbv2")
        elb.create_rule(ListenerArn=listener, Priority=10, Conditions=[_path("/api/*")],
                        Actions=_forward(blue))
        rules = elb.describe_rules(ListenerArn=listener)["Rules"]
        arn = next(r["RuleArn"] for r in rules if r["IsDefault"] == default)
        return elb.set_rule_priorities(RulePriorities=[{"RuleArn": arn, "Priority": 20}])
    return call


def _weighted(count: int, **stickiness: Any) -> Callable[[str, str], list[dict]]:
    def actions(blue: str, green: str) -> list[dict]:
        config: dict[str, Any] = {"TargetGroups": [
            {"TargetGroupArn": tg, "Weight": 1} for tg in ([blue, green] * count)[:count]]}
        if stickiness:
            config["TargetGroupStickinessConfig"] = stickiness
        return [{"Type": "forward", "ForwardConfig": config}]
    return actions


def _more_groups(count: int) -> Callable[[Env], Any]:
    """A forward action over `count` distinct target groups."""
    def call(env: Env) -> Any:
        listener, blue, green = _listener(env)
        elb = env.client("elbv2")
        groups = [blue, green] + [elb.create_target_group(
            Name=env.name("tg"), Protocol="HTTP", Port=80, VpcId=_network(env)["vpc"],
            TargetType="ip")["TargetGroups"][0]["TargetGroupArn"] for _ in range(count - 2)]
        return elb.create_rule(ListenerArn=listener, Priority=10, Conditions=[_path("/api/*")],
                               Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                                   {"TargetGroupArn": tg, "Weight": 1} for tg in groups]}}])
    return call


def _fixed(status: str, content_type: str = "text/plain") -> Callable[[str, str], list[dict]]:
    return lambda blue, green: [{"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": status, "ContentType": content_type, "MessageBody": "maintenance"}}]


def _redirect(**config: Any) -> Callable[[str], list[dict]]:
    return lambda blue: [{"Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_301", **config}}]


OIDC = {"Issuer": "https://idp.example.com", "AuthorizationEndpoint": "https://idp.example.com/auth",
        "TokenEndpoint": "https://idp.example.com/token",
        "UserInfoEndpoint": "https://idp.example.com/userinfo", "ClientId": "web",
        "ClientSecret": "secret"}


def _case(id: str, call: Callable[[Env], Any], expect: str, doc: str) -> Case:
    return Case(f"elbv2-{id}", "elbv2", call, expect, doc)


CASES = [
    # condition fields and quotas
    _case("rule-two-path-pattern-conditions", _rule([_path("/api/*"), _path("/v2/*")]), BAD,
          DOC_CONDITION),
    _case("rule-valid-path-and-host-conditions", _rule([_path("/api/*"), _host("api.example.com")]),
          OK, DOC_CONDITION),
    _case("rule-valid-two-http-header-conditions", _rule([
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["on"]}},
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Team", "Values": ["web"]}}]),
        OK, DOC_CONDITION),
    _case("rule-six-condition-values", _rule([_path("/a", "/b", "/c"), _host("a.example.com",
                                                                               "b.example.com",
                                                                               "c.example.com")]),
          BAD, DOC_LIMITS),
    _case("rule-valid-five-condition-values", _rule([_path("/a", "/b", "/c"),
                                                     _host("a.example.com", "b.example.com")]),
          OK, DOC_LIMITS),
    _case("modify-rule-six-condition-values", _modify([_path("/a", "/b", "/c", "/d", "/e", "/f")]),
          BAD, DOC_LIMITS),
    _case("rule-six-wildcards",
          _rule([_path("/a/*", "/b/*", "/c/*?"), _host("*.example.com", "w?.example.com")]),
          BAD, DOC_LIMITS),
    # condition values
    _case("rule-host-without-dot", _rule([_host("localhost")]), BAD,
          API + "API_HostHeaderConditionConfig.html"),
    _case("rule-valid-wildcard-host", _rule([_host("*.example.com")]), OK,
          API + "API_HostHeaderConditionConfig.html"),
    _case("rule-http-header-host", _rule([{"Field": "http-header", "HttpHeaderConfig": {
        "HttpHeaderName": "Host", "Values": ["api.example.com"]}}]), BAD,
          API + "API_HttpHeaderConditionConfig.html"),
    _case("rule-http-header-name-wildcard", _rule([{"Field": "http-header", "HttpHeaderConfig": {
        "HttpHeaderName": "X-*", "Values": ["on"]}}]), BAD, API + "API_HttpHeaderConditionConfig.html"),
    _case("rule-http-method-lowercase", _rule([{"Field": "http-request-method",
                                                "HttpRequestMethodConfig": {"Values": ["get"]}}]),
          BAD, API + "API_HttpRequestMethodConditionConfig.html"),
    _case("rule-valid-http-methods", _rule([{"Field": "http-request-method",
                                             "HttpRequestMethodConfig": {"Values": ["GET", "HEAD"]}}]),
          OK, API + "API_HttpRequestMethodConditionConfig.html"),
    _case("rule-valid-query-string", _rule([{"Field": "query-string", "QueryStringConfig": {
        "Values": [{"Key": "version", "Value": "v2"}, {"Value": "beta"}]}}]), OK,
          API + "API_QueryStringConditionConfig.html"),
    _case("rule-source-ip-not-cidr", _rule([{"Field": "source-ip",
                                             "SourceIpConfig": {"Values": ["203.0.113.7"]}}]),
          BAD, API + "API_SourceIpConditionConfig.html"),
    _case("rule-source-ip-broadcast", _rule([{"Field": "source-ip",
                                              "SourceIpConfig": {"Values": ["255.255.255.255/32"]}}]),
          BAD, GUIDE + "load-balancer-listeners.html"),
    _case("rule-valid-source-ip", _rule([{"Field": "source-ip", "SourceIpConfig": {
        "Values": ["203.0.113.0/24", "2001:db8::/32"]}}]), OK, API + "API_SourceIpConditionConfig.html"),
    # routing actions
    _case("rule-two-routing-actions", _rule(actions=lambda blue, green: [
        {"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {"StatusCode": "503"}},
        {"Type": "forward", "Order": 2, "TargetGroupArn": blue}]), ACTION, DOC_ACTION),
    _case("rule-no-routing-action", _rule(actions=lambda blue, green: [
        {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": OIDC}]), ACTION, DOC_ACTION),
    _case("rule-routing-action-not-last", _rule(actions=lambda blue, green: [
        {"Type": "forward", "Order": 1, "TargetGroupArn": blue},
        {"Type": "authenticate-oidc", "Order": 2, "AuthenticateOidcConfig": OIDC}]), ACTION, DOC_ACTION),
    _case("rule-two-actions-without-order", _rule(actions=lambda blue, green: [
        {"Type": "authenticate-oidc", "AuthenticateOidcConfig": OIDC},
        {"Type": "forward", "TargetGroupArn": blue}]), BAD, DOC_ACTION),
    # forward
    _case("rule-forward-six-target-groups", _more_groups(6), BAD, DOC_LIMITS),
    _case("rule-valid-forward-five-target-groups", _more_groups(5), OK, DOC_LIMITS),
    _case("rule-forward-arn-and-other-config", _rule(actions=lambda blue, green: [
        {"Type": "forward", "TargetGroupArn": blue,
         "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": green}]}}]), ACTION, DOC_ACTION),
    _case("rule-valid-forward-arn-and-same-config", _rule(actions=lambda blue, green: [
        {"Type": "forward", "TargetGroupArn": blue,
         "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": blue}]}}]), OK, DOC_ACTION),
    _case("rule-stickiness-without-duration", _rule(actions=_weighted(2, Enabled=True)), BAD,
          API + "API_TargetGroupStickinessConfig.html"),
    _case("rule-stickiness-eight-days", _rule(actions=_weighted(2, Enabled=True, DurationSeconds=691200)),
          BAD, API + "API_TargetGroupStickinessConfig.html"),
    _case("rule-valid-stickiness-one-hour",
          _rule(actions=_weighted(2, Enabled=True, DurationSeconds=3600)), OK,
          API + "API_TargetGroupStickinessConfig.html"),
    # fixed response
    _case("rule-fixed-response-302", _rule(actions=_fixed("302")), BAD, DOC_FIXED),
    _case("rule-fixed-response-text-xml", _rule(actions=_fixed("503", "text/xml")), ACTION, DOC_FIXED),
    _case("rule-valid-fixed-response-503-json", _rule(actions=_fixed("503", "application/json")), OK,
          DOC_FIXED),
    # redirect (as listener default actions)
    _case("listener-redirect-loop", _default_actions(_redirect(Protocol="#{protocol}")), ACTION,
          DOC_REDIRECT),
    _case("listener-redirect-307", _default_actions(_redirect(StatusCode="HTTP_307", Protocol="HTTPS",
                                                              Port="443")), BAD, DOC_REDIRECT),
    _case("listener-valid-redirect-http-to-https",
          _default_actions(_redirect(Protocol="HTTPS", Port="443")), OK, DOC_REDIRECT),
    _case("listener-redirect-https-to-http",
          _default_actions(_redirect(Protocol="HTTP", Port="80"), protocol="HTTPS"), ACTION, DOC_REDIRECT),
    _case("listener-valid-redirect-https-to-new-host",
          _default_actions(_redirect(Host="www.#{host}"), protocol="HTTPS"), OK, DOC_REDIRECT),
    _case("listener-redirect-path-without-slash",
          _default_actions(_redirect(Path="new/#{path}")), ACTION, DOC_REDIRECT),
    _case("rule-redirect-port-0", _rule(actions=lambda blue, green: [
        {"Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_302", "Port": "0"}}]), ACTION,
          DOC_REDIRECT),
    # priorities
    _case("set-priority-of-default-rule", _priorities(default=True), "OperationNotPermitted",
          GUIDE + "load-balancer-listeners.html"),
    _case("valid-set-priority-of-rule", _priorities(default=False), OK, API + "API_SetRulePriorities.html"),
]
