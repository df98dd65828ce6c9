"""What an ALB listener does with one request: which rule applies and which action answers.

Pure functions over ``describe_rules``' answer and a ``Request``: no I/O, no asyncio, no boto3.
The control plane already checked the rules' syntax (``emulator/fidelity/elbv2/conditions.py``,
``actions.py``); this module evaluates them, as the ALB user guide describes:

* ``select``: rules are evaluated from the lowest priority value to the highest, the default
  rule last; the first whose conditions all match applies
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html,
  "Rule priority"; "Default rules").
* ``matches``: every condition of a rule must match; within a condition, any one of its
  values (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html,
  condition basics: "The condition is satisfied if one of the strings matches ... To require
  that all of the strings are a match, create one condition per match evaluation").
* ``routing_action``, ``fixed_response``, ``redirect``: the action that answers
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-action-types.html).
* ``ForwardChooser`` and ``TargetPicker`` (in ``stickiness``): which target group, and which
  target in it.

Where the documentation is silent we say what we chose, next to the code that does it.
"""
from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any, Iterable
from urllib.parse import quote, unquote

from mylearning.dataplane.alb.request import (NoHealthyTarget, NoRoute, Request, Unroutable,
                                              split_query)
from mylearning.dataplane.alb.stickiness import ForwardChooser, TargetPicker, forward_groups
from mylearning.facts.elbv2 import PRE_ROUTING_ACTIONS, REDIRECT_STATUS, ROUTING_ACTIONS

__all__ = ["Request", "Unroutable", "NoRoute", "NoHealthyTarget", "split_query", "matches",
           "select", "routing_action", "fixed_response", "redirect", "ForwardChooser",
           "TargetPicker", "forward_groups", "ROUTING_TYPES", "PRE_ROUTING_TYPES"]

#: The actions that answer a request, and those before them that we do not emulate.
ROUTING_TYPES = ROUTING_ACTIONS
PRE_ROUTING_TYPES = PRE_ROUTING_ACTIONS
#: A wildcard stands for visible characters only: "Rules are applied only to visible ASCII
#: characters; control characters (0x00 to 0x1f and 0x7f) are excluded"
#: (rule-condition-types.html, condition basics).
_VISIBLE = r"[^\x00-\x1f\x7f]"
KEYWORDS = ("protocol", "host", "port", "path", "query")


# --- conditions -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _wildcard(pattern: str, *, fold: bool, escapes: bool) -> "re.Pattern[str]":
    """A whole-string regex for a condition value: ``*`` is 0 or more characters and ``?``
    exactly 1. With ``escapes``, ``\\*`` and ``\\?`` are the literal characters (query-string
    values, API_QueryStringConditionConfig.html: "To search for a literal '*' or '?'
    character in a query string, you must escape these characters in Values using a '\\'
    character"), and the literal runs are percent-decoded, because the request's query is
    compared decoded ("Any character can be percentage encoded", same page)."""
    parts: list[str] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            text = "".join(literal)
            parts.append(re.escape(unquote(text) if escapes else text))
            literal.clear()

    i = 0
    while i < len(pattern):
        char = pattern[i]
        if escapes and char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*?\\":
            flush()
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char in "*?":
            flush()
            parts.append(f"{_VISIBLE}*" if char == "*" else _VISIBLE)
        else:
            literal.append(char)
        i += 1
    flush()
    return re.compile("".join(parts), (re.IGNORECASE if fold else 0) | re.DOTALL)


def _wild(pattern: str, text: str, *, fold: bool, escapes: bool = False) -> bool:
    return _wildcard(pattern, fold=fold, escapes=escapes).fullmatch(text) is not None


def _regex(patterns: Iterable[str], text: str) -> bool:
    """RegexValues (host-header, http-header, path-pattern): the docs give no flavour or
    anchoring, so we read them as regular expressions searched in the field, anchored only
    where the expression says so (``^...$``). An expression Python cannot compile matches
    nothing."""
    for pattern in patterns:
        try:
            if re.search(pattern, text):
                return True
        except re.error:
            continue
    return False


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _config(condition: dict, name: str) -> dict:
    config = condition.get(name)
    return config if isinstance(config, dict) else {}


def _plain_and_regex(condition: dict, config_name: str) -> tuple[list[str], list[str]]:
    """A condition's values from its *Config and, for host-header and path-pattern, the legacy
    top-level ``Values`` (API_RuleCondition.html: Values "Specify only when Field is
    host-header or path-pattern"); describe_rules returns both, so they are merged."""
    config = _config(condition, config_name)
    plain = _strings(config.get("Values"))
    if condition.get("Field") in ("host-header", "path-pattern"):
        plain += [v for v in _strings(condition.get("Values")) if v not in plain]
    regex = _strings(config.get("RegexValues")) + _strings(condition.get("RegexValues"))
    return plain, regex


def _host_matches(condition: dict, request: Request) -> bool:
    """host-header: "A hostname is not case-sensitive"; ``*`` and ``?`` wildcards; the rule
    ``*.example.com`` matches ``test.example.com`` but not ``example.com``
    (rule-condition-types.html, host conditions). The Host header's port is not part of the
    host name."""
    plain, regex = _plain_and_regex(condition, "HostHeaderConfig")
    host = request.host
    return any(_wild(v, host, fold=True) for v in plain) or _regex(regex, host)


def _path_matches(condition: dict, request: Request) -> bool:
    """path-pattern: case-sensitive, ``*`` and ``?``, "applied only to the path of the URL,
    not to its query parameters" (rule-condition-types.html, path conditions). The path is
    compared as sent: the documentation describes no decoding, and a pattern cannot contain
    ``%``, so a percent-encoded octet is matched by a wildcard only (our reading)."""
    plain, regex = _plain_and_regex(condition, "PathPatternConfig")
    return any(_wild(v, request.path, fold=False) for v in plain) or _regex(regex, request.path)


def _header_matches(condition: dict, request: Request) -> bool:
    """http-header: the header name and the match evaluation are not case-sensitive,
    wildcards in the values only; "If the same header appears multiple times in the request,
    we search them in order until a match is found"
    (rule-condition-types.html, HTTP header conditions; API_HttpHeaderConditionConfig.html).
    An absent header matches nothing."""
    config = _config(condition, "HttpHeaderConfig")
    name = config.get("HttpHeaderName")
    if not isinstance(name, str) or not name:
        return False
    plain = _strings(config.get("Values"))
    regex = _strings(config.get("RegexValues")) + _strings(condition.get("RegexValues"))
    for value in request.header_values(name):
        if any(_wild(v, value, fold=True) for v in plain) or _regex(regex, value):
            return True
    return False


def _method_matches(condition: dict, request: Request) -> bool:
    """http-request-method: "The match evaluation is case-sensitive. Wildcard characters are
    not supported; therefore, the method name must be an exact match"
    (rule-condition-types.html, HTTP request method conditions)."""
    return request.method in _strings(_config(condition, "HttpRequestMethodConfig").get("Values"))


def _query_matches(condition: dict, request: Request) -> bool:
    """query-string: key/value pairs or values; "The match evaluation is not case-sensitive";
    ``*`` and ``?`` wildcards, ``\\`` escapes them; the key may be omitted, and then any
    key's value may match; "If you specify multiple key/value pairs or values, the condition
    is satisfied if one of them is found in the query string"
    (rule-condition-types.html, query string conditions; API_QueryStringConditionConfig.html;
    API_QueryStringKeyValuePair.html: Key "You can omit the key").

    Both sides are compared percent-decoded. A pair without a Value (the API marks it
    optional, the guide always gives one) matches any value of its key: our reading.
    """
    for pair in _config(condition, "QueryStringConfig").get("Values") or []:
        if not isinstance(pair, dict):
            continue
        key, value = pair.get("Key"), pair.get("Value")
        for got_key, got_value in request.query:
            if isinstance(key, str) and key and not _wild(key, got_key, fold=True, escapes=True):
                continue
            if not isinstance(value, str) or _wild(value, got_value, fold=True, escapes=True):
                return True
    return False


def _source_matches(condition: dict, request: Request) -> bool:
    """source-ip: CIDR blocks, IPv4 and IPv6, against the address of the peer that connected
    to the load balancer; "This condition is not satisfied by the addresses in the
    X-Forwarded-For header" (rule-condition-types.html, source IP address conditions). An
    IPv4-mapped IPv6 peer (``::ffff:10.0.0.5``) is compared as its IPv4 address."""
    try:
        address = ipaddress.ip_address(request.source_ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for block in _strings(_config(condition, "SourceIpConfig").get("Values")):
        try:
            if address in ipaddress.ip_network(block, strict=False):
                return True
        except (ValueError, TypeError):
            continue
    return False


_FIELDS = {"host-header": _host_matches, "path-pattern": _path_matches,
           "http-header": _header_matches, "http-request-method": _method_matches,
           "query-string": _query_matches, "source-ip": _source_matches}


def matches(conditions: list[dict], request: Request) -> bool:
    """Whether ``request`` satisfies every one of ``conditions`` (AND across conditions, OR
    across one condition's values). A condition of a field we do not know matches nothing, so
    its rule never applies; no conditions at all match every request."""
    for condition in conditions or []:
        check = _FIELDS.get(condition.get("Field")) if isinstance(condition, dict) else None
        if check is None or not check(condition, request):
            return False
    return True


# --- rules and actions ----------------------------------------------------------------------

def _is_default(rule: dict) -> bool:
    return bool(rule.get("IsDefault")) or str(rule.get("Priority")).lower() == "default"


def select(rules: list[dict], request: Request) -> dict:
    """The rule that applies: the lowest numeric ``Priority`` whose conditions all match,
    whatever the list's order, else the default rule ("Rules are evaluated in priority order,
    from the lowest value to the highest value. The default rule is evaluated last",
    listener-rules.html). ``rules`` is ``describe_rules(...)["Rules"]``, whose priorities are
    strings. Raises ``NoRoute`` when nothing applies and there is no default rule (a listener
    always has one on AWS)."""
    ordered = []
    default = None
    for rule in rules:
        if _is_default(rule):
            default = default or rule
            continue
        try:
            ordered.append((int(rule.get("Priority")), rule))
        except (TypeError, ValueError):
            continue
    for _, rule in sorted(ordered, key=lambda pair: pair[0]):
        if matches(rule.get("Conditions") or [], request):
            return rule
    if default is None:
        raise NoRoute("no rule applies and the listener has no default rule")
    return default


def routing_action(rule: dict) -> dict:
    """The action that answers the request under ``rule``.

    Actions run from the lowest ``Order`` ("The action with the lowest value for order is
    performed first"); an action without an Order comes after those with one, in list order.
    "Each rule must include exactly one of the following actions: forward, redirect, or
    fixed-response, and it must be the last action to be performed" (rule-action-types.html).
    The actions before it -- authenticate-cognito, authenticate-oidc (HTTPS listeners, Amazon
    Cognito or an OpenID Connect provider) and jwt-validation -- are skipped: the data plane
    does not emulate Cognito, OIDC providers or JWKS endpoints, so every request passes them
    as if already authenticated. Raises ``ValueError`` for a rule with no routing action
    (the control plane refuses to create one).
    """
    actions = [a for a in rule.get("Actions") or [] if isinstance(a, dict)]

    def order(item: tuple[int, dict]) -> tuple[int, int, int]:
        index, action = item
        try:
            return (0, int(action["Order"]), index)
        except (KeyError, TypeError, ValueError):
            return (1, 0, index)

    for _, action in sorted(enumerate(actions), key=order):
        kind = action.get("Type")
        if kind in PRE_ROUTING_TYPES:
            continue
        if kind in ROUTING_TYPES:
            return action
    raise ValueError(f"rule {rule.get('RuleArn', '?')} has no forward, redirect or "
                     "fixed-response action")


def fixed_response(action: dict) -> tuple[int, str, bytes]:
    """(status, content type, body) of a fixed-response action. StatusCode is a string of
    2XX, 4XX or 5XX; ContentType, when absent, is text/plain; MessageBody may be empty or
    absent (rule-action-types.html, fixed-response actions; API_FixedResponseActionConfig.html:
    ContentType "Valid Values: text/plain | text/css | text/html | application/javascript |
    application/json"). The page gives no default for an absent ContentType; text/plain,
    the type of the guide's own example, is our choice."""
    config = action.get("FixedResponseConfig") or {}
    status = int(str(config.get("StatusCode", "")).strip())
    if not 200 <= status <= 599:
        raise ValueError(f"fixed-response status code {status} is not 2XX, 4XX or 5XX")
    content_type = config.get("ContentType") or "text/plain"
    body = config.get("MessageBody") or ""
    return status, content_type, body.encode("utf-8")


def _raw_query(request: Request) -> str:
    """The query as sent, or re-encoded from its pairs when the caller kept only those."""
    if request.raw_query is not None:
        return request.raw_query
    safe = "!$'()*+,;:@/?-._~"
    return "&".join(f"{quote(k, safe=safe)}={quote(v, safe=safe)}" if v else quote(k, safe=safe)
                    for k, v in request.query)


def redirect(action: dict, request: Request) -> tuple[int, str]:
    """(status, Location) of a redirect action.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RedirectActionConfig.html
    and rule-action-types.html (redirect actions): the URI is
    ``protocol://hostname:port/path?query``; "Any components that you do not modify retain
    their original values"; the keywords ``#{protocol}``, ``#{host}``, ``#{port}``,
    ``#{path}`` ("the leading "/" is removed") and ``#{query}`` reuse the request's
    components; Host and Path are "not percent-encoded"; the Query is given without the
    leading "?", "as it is automatically added"; StatusCode HTTP_301 or HTTP_302.

    So a protocol change alone keeps the request's port: HTTP on port 80 redirected to
    ``Protocol: HTTPS`` goes to ``https://host:80/...``, and the redirect must name port 443
    to reach the usual HTTPS port, as the guide's example does. The Location always carries
    the port. No ``?`` is added for an empty query, a query that starts with ``?`` loses it
    (no ``??``), and a path gets its leading ``/`` if a keyword left it without one.
    """
    config = action.get("RedirectConfig") or {}
    try:
        status = REDIRECT_STATUS[config.get("StatusCode")]
    except KeyError:
        raise ValueError(f"redirect status code {config.get('StatusCode')!r} is not HTTP_301 "
                         "or HTTP_302") from None
    values = {"protocol": request.protocol.upper(), "host": request.host,
              "port": str(request.port), "path": request.path.lstrip("/"),
              "query": _raw_query(request)}

    def fill(part: str, keep: str) -> str:
        text = config.get(part)
        text = keep if text is None else str(text)
        for name in KEYWORDS:
            text = text.replace("#{" + name + "}", values[name])
        return text

    protocol = fill("Protocol", "#{protocol}").lower()
    host = fill("Host", "#{host}")
    port = fill("Port", "#{port}")
    path = fill("Path", "/#{path}")
    query = fill("Query", "#{query}").lstrip("?")
    if not path.startswith("/"):
        path = "/" + path
    if not port.isdigit():
        raise ValueError(f"redirect port {port!r} is not a number")
    location = f"{protocol}://{host}:{port}{path}"
    return status, location + (f"?{query}" if query else "")

