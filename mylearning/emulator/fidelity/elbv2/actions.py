"""ELBv2 rule and listener actions (CreateRule, ModifyRule, CreateListener, ModifyListener):
one routing action and last, forward, fixed-response and redirect settings -- checks AWS
makes that moto 5.2 skips (it checks target groups exist, fixed-response status codes and
content types).

The docs don't name the error code for each of these; action settings answer
InvalidLoadBalancerAction ("The requested action is not valid"), the code moto and AWS give
a bad fixed-response content type, and shape and quota errors answer ValidationError.
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, rule
from mylearning.emulator.fidelity.elbv2.access import (SERVICE, invalid_action, listener_protocol,
                                                       listed, rule_of, validation_error)

ROUTING = ("forward", "redirect", "fixed-response")
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
TARGET_GROUPS_PER_ACTION = 5
REDIRECT_CODES = ("HTTP_301", "HTTP_302")
#: a redirect component left as is: absent, or the keyword that keeps it
KEEPS = {"Protocol": "#{protocol}", "Host": "#{host}", "Port": "#{port}", "Path": "/#{path}"}


def _actions(req: AwsRequest) -> tuple[str, list[dict]]:
    """(the parameter's name, its actions) for the operation."""
    name = "DefaultActions" if req.operation in ("CreateListener", "ModifyListener") else "Actions"
    return name, [a for a in listed(req, name) if isinstance(a, dict)]


def _order(action: dict) -> int | None:
    try:
        return int(action["Order"])
    except (KeyError, TypeError, ValueError):
        return None


@rule(SERVICE, "CreateRule", "ModifyRule", "CreateListener", "ModifyListener")
def one_routing_action_last(req: AwsRequest) -> None:
    """A rule has exactly one forward, redirect or fixed-response action, and it is performed
    last; with several actions each has an Order.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html ("Each
    rule must include exactly one of the following routing actions: forward, fixed-response, or
    redirect, and it must be the last action to be performed"; Order: "This value is required
    for rules with multiple actions").
    """
    name, actions = _actions(req)
    if not actions:
        return
    if len(actions) > 1 and any(_order(a) is None for a in actions):
        raise validation_error(f"An Order must be specified for each action when {name} has "
                               "more than one action")
    routing = [a for a in actions if a.get("Type") in ROUTING]
    if len(routing) != 1:
        raise invalid_action(f"{name} must include exactly one forward, redirect or "
                             f"fixed-response action; got {len(routing)}")
    if len(actions) > 1 and _order(routing[0]) != max(_order(a) for a in actions):
        raise invalid_action(f"The {routing[0].get('Type')} action must be the last action to "
                             "be performed (the highest Order)")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@rule(SERVICE, "CreateRule", "ModifyRule", "CreateListener", "ModifyListener")
def forward_settings(req: AwsRequest) -> None:
    """A forward action sends to at most 5 target groups; TargetGroupArn beside ForwardConfig
    names the same, single, target group; stickiness that is enabled has a duration of
    1-604800 seconds.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
    (Target Groups per Action per Application Load Balancer: 5),
    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html
    (ForwardConfig: "If you specify both ForwardConfig and TargetGroupArn, you can specify only
    one target group using ForwardConfig and it must be the same target group specified in
    TargetGroupArn") and
    .../API_TargetGroupStickinessConfig.html (DurationSeconds: "The range is 1-604800 seconds
    (7 days). You must specify this value when enabling target group stickiness").
    """
    _, actions = _actions(req)
    for action in actions:
        if action.get("Type") != "forward" or not isinstance(action.get("ForwardConfig"), dict):
            continue
        config = action["ForwardConfig"]
        groups = [g for g in config.get("TargetGroups") or [] if isinstance(g, dict)]
        if len(groups) > TARGET_GROUPS_PER_ACTION:
            raise validation_error(f"A forward action can have at most {TARGET_GROUPS_PER_ACTION} "
                                   f"target groups; got {len(groups)}")
        arn = action.get("TargetGroupArn")
        if arn and groups and (len(groups) > 1 or groups[0].get("TargetGroupArn") != arn):
            raise invalid_action("With both TargetGroupArn and ForwardConfig, ForwardConfig must "
                                 "name exactly one target group, the one in TargetGroupArn")
        sticky = config.get("TargetGroupStickinessConfig")
        if isinstance(sticky, dict) and str(sticky.get("Enabled")).lower() == "true":
            duration = _int(sticky.get("DurationSeconds"))
            if duration is None:
                raise validation_error("DurationSeconds must be specified when target group "
                                       "stickiness is enabled")
            if not 1 <= duration <= 604800:
                raise validation_error(f"Target group stickiness duration '{duration}' must be "
                                       "between 1 and 604800 seconds")


def _protocol_of_listener(req: AwsRequest) -> str | None:
    if req.operation == "CreateListener":
        return req.params.get("Protocol")
    if req.operation == "ModifyListener":
        return req.params.get("Protocol") or listener_protocol(req.region, req.params.get("ListenerArn"))
    if req.operation == "CreateRule":
        return listener_protocol(req.region, req.params.get("ListenerArn"))
    found = rule_of(req.region, req.params.get("RuleArn"))
    return listener_protocol(req.region, getattr(found, "listener_arn", None))


@rule(SERVICE, "CreateRule", "ModifyRule", "CreateListener", "ModifyListener")
def redirect_settings(req: AwsRequest) -> None:
    """A redirect is HTTP_301 or HTTP_302, changes the protocol, host, port or path (no
    redirect loop), never goes from HTTPS to HTTP, and has a port of 1-65535 or #{port} and a
    path starting with '/'.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RedirectActionConfig.html
    ("You must modify at least one of the following components to avoid a redirect loop:
    protocol, hostname, port, or path"; Protocol: "You can't redirect HTTPS to HTTP"; Port:
    "You can specify a value from 1 to 65535 or #{port}"; Path: "The absolute path, starting
    with the leading "/""; StatusCode: Valid Values HTTP_301 | HTTP_302).
    """
    name, actions = _actions(req)
    for i, action in enumerate(actions, 1):
        config = action.get("RedirectConfig")
        if action.get("Type") != "redirect" or not isinstance(config, dict):
            continue
        code = config.get("StatusCode")
        if code not in REDIRECT_CODES:
            raise validation_error(f"1 validation error detected: Value '{code}' at "
                                   f"'{name[0].lower() + name[1:]}.{i}.member.redirectConfig.statusCode' "
                                   "failed to satisfy constraint: Member must satisfy enum value "
                                   f"set: [{', '.join(REDIRECT_CODES)}]")
        port = config.get("Port")
        if port is not None and port != "#{port}" and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise invalid_action(f"The redirect port '{port}' must be from 1 to 65535 or #{{port}}")
        path = config.get("Path")
        if path is not None and not path.startswith("/"):
            raise invalid_action(f"The redirect path '{path}' must start with '/'")
        if all(config.get(part) in (None, keep) for part, keep in KEEPS.items()):
            raise invalid_action("The redirect configuration is not valid: change at least one "
                                 "of protocol, host, port or path to avoid a redirect loop")
        if config.get("Protocol") == "HTTP" and _protocol_of_listener(req) == "HTTPS":
            raise invalid_action("You can't redirect HTTPS to HTTP")

