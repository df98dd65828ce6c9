"""ELBv2 listener rule conditions (CreateRule, ModifyRule): which fields a rule may repeat,
the per-rule quotas on values and wildcards, and what each condition's values may contain --
checks AWS makes that moto 5.2 skips (it checks only path-pattern lengths and empty values).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, rule
from mylearning.emulator.fidelity.elbv2.access import SERVICE, listed, validation_error

RULES = ("CreateRule", "ModifyRule")
#: API_RuleCondition.html: "up to one of each of the following conditions: http-request-method,
#: host-header, path-pattern, and source-ip"
ONCE = ("http-request-method", "host-header", "path-pattern", "source-ip")
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
CONDITION_VALUES_PER_RULE = 5
WILDCARDS_PER_RULE = 5
#: load-balancer-listeners.html: wildcards count in these conditions' match evaluations
WILDCARD_FIELDS = ("http-header", "host-header", "path-pattern", "query-string")
CONFIG = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig",
          "http-header": "HttpHeaderConfig", "query-string": "QueryStringConfig",
          "http-request-method": "HttpRequestMethodConfig", "source-ip": "SourceIpConfig"}
HOST = re.compile(r"^[A-Za-z0-9\-.*?]{1,128}$")
PATH = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]{1,128}$")
METHOD = re.compile(r"^[A-Z_-]{1,40}$")


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _values(condition: dict) -> list[str]:
    """The match evaluations of a condition, wherever the request put them."""
    field = condition.get("Field")
    config = condition.get(CONFIG.get(field, ""), {})
    config = config if isinstance(config, dict) else {}
    found = [v for v in _list(condition.get("Values")) + _list(condition.get("RegexValues"))]
    if field == "query-string":
        for pair in _list(config.get("Values")):
            pair = pair if isinstance(pair, dict) else {}
            found.append(f"{pair.get('Key', '')}={pair.get('Value', '')}")
    else:
        found += _list(config.get("Values")) + _list(config.get("RegexValues"))
    return [v for v in found if isinstance(v, str)]


def _conditions(req: AwsRequest) -> list[dict]:
    return [c for c in listed(req, "Conditions") if isinstance(c, dict)]


@rule(SERVICE, *RULES)
def condition_fields_and_quotas(req: AwsRequest) -> None:
    """A rule has at most one host-header, http-request-method, path-pattern and source-ip
    condition, at most 5 condition values in all and at most 5 wildcards.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html
    ("Each rule can optionally include up to one of each of the following conditions:
    http-request-method, host-header, path-pattern, and source-ip. Each rule can also
    optionally include one or more of each of the following conditions: http-header and
    query-string") and
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
    (Condition Values per Rule: 5; Condition Wildcards per Rule: 5; not adjustable). AWS's
    answer to a sixth value is "A rule can only have '5' condition values" (HTTP 400).
    """
    conditions = _conditions(req)
    fields = [c.get("Field") for c in conditions]
    for field in ONCE:
        if fields.count(field) > 1:
            raise validation_error(f"A rule can only have one '{field}' condition")
    values = sum(len(_values(c)) for c in conditions)
    if values > CONDITION_VALUES_PER_RULE:
        raise validation_error(f"A rule can only have '{CONDITION_VALUES_PER_RULE}' condition values")
    wildcards = sum(len(re.findall(r"(?<!\\)[*?]", v)) for c in conditions
                    if c.get("Field") in WILDCARD_FIELDS for v in _values(c))
    if wildcards > WILDCARDS_PER_RULE:
        raise validation_error(f"A rule can only have '{WILDCARDS_PER_RULE}' wildcards")


def _host(value: str) -> None:
    """HostHeaderConditionConfig.Values / RuleCondition.Values for host-header."""
    if not HOST.match(value):
        raise validation_error(f"The 'host-header' value '{value}' is not valid: up to 128 "
                               "characters A-Z, a-z, 0-9, '-', '.', '*' and '?'")
    if "." not in value or not value.rsplit(".", 1)[1].isalpha():
        raise validation_error(f"The 'host-header' value '{value}' must include at least one '.' "
                               "and only alphabetical characters after the final '.'")


def _header_name(name: Any) -> None:
    if not isinstance(name, str) or not name:
        raise validation_error("An HTTP header name must be specified")
    if len(name) > 40 or "*" in name or "?" in name:
        raise validation_error(f"The HTTP header name '{name}' is not valid: at most 40 "
                               "characters, without wildcards")
    if name.lower() == "host":
        raise validation_error("An 'http-header' condition can't match the host header; use a "
                               "'host-header' condition")


def _source_ip(value: str) -> None:
    try:
        network = ipaddress.ip_network(value, strict=False) if "/" in value else None
    except ValueError:
        network = None
    if network is None:
        raise validation_error(f"The 'source-ip' value '{value}' is not a CIDR block")
    if value == "255.255.255.255/32":
        raise validation_error("The 'source-ip' condition can't use the CIDR 255.255.255.255/32")


@rule(SERVICE, *RULES)
def condition_values_are_valid(req: AwsRequest) -> None:
    """What each condition's values may contain.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HostHeaderConditionConfig.html
    (up to 128 characters; "You must include at least one "." character. You can include only
    alphabetical characters after the final "." character"),
    .../API_RuleCondition.html (host and path pattern characters, 128 characters),
    .../API_HttpHeaderConditionConfig.html (header name: "The maximum length is 40
    characters"; "Wildcards are not supported"; "You can't use an HTTP header condition to
    specify the host header"),
    .../API_HttpRequestMethodConditionConfig.html ("The maximum length is 40 characters. The
    allowed characters are A-Z, hyphen (-), and underscore (_)"),
    .../API_QueryStringConditionConfig.html ("The maximum length of each string is 128
    characters"), .../API_SourceIpConditionConfig.html ("in CIDR format") and
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html
    (source IP conditions: "You cannot specify the 255.255.255.255/32 CIDR for the source IP
    rule condition").
    """
    for condition in _conditions(req):
        field = condition.get("Field")
        values = _values(condition)
        config = condition.get(CONFIG.get(field, ""), {})
        config = config if isinstance(config, dict) else {}
        plain = _list(condition.get("Values")) + _list(config.get("Values"))
        plain = [v for v in plain if isinstance(v, str)]
        if field == "host-header":
            for value in plain:
                _host(value)
        elif field == "path-pattern":
            for value in plain:
                if len(value) <= 128 and not PATH.match(value):
                    raise validation_error(f"The 'path-pattern' value '{value}' contains characters "
                                           "a path pattern can't have")
        elif field == "http-header":
            _header_name(config.get("HttpHeaderName"))
        elif field == "http-request-method":
            for value in plain:
                if not METHOD.match(value):
                    raise validation_error(f"The HTTP request method '{value}' is not valid: at most "
                                           "40 characters A-Z, '-' and '_'")
        elif field == "query-string":
            for pair in _list(config.get("Values")):
                for part in ("Key", "Value"):
                    text = (pair or {}).get(part) if isinstance(pair, dict) else None
                    if isinstance(text, str) and len(text) > 128:
                        raise validation_error(f"The 'query-string' {part.lower()} is too long; the "
                                               "limit is '128'")
        elif field == "source-ip":
            for value in values:
                _source_ip(value)
