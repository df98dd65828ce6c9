"""Which target group a forward action sends a request to, and which target inside it.

``ForwardChooser`` weighs the action's target groups and honours target group stickiness
(cookie ``AWSALBTG``); ``TargetPicker`` runs the group's routing algorithm and honours target
stickiness (``AWSALB`` for duration-based, ``AWSALBAPP-n`` for application-based cookies).
Both are pure: the time comes from an injected clock, chance from an injected
``random.Random``, and their only state is the round-robin position per group.

The load balancer's cookies are opaque to clients: "The content of load balancer generated
cookies are encrypted using a rotating key. You cannot decrypt or modify load balancer
generated cookies" (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/sticky-sessions.html).
Ours are base64url JSON (what they name, and until when the stickiness lasts) sealed with an
HMAC-SHA256 under a key drawn at random per process, so a client can read but not forge or
alter them; a cookie that does not verify, has expired or names something else is ignored.
The token alphabet (``A-Za-z0-9-_.``) needs no URL encoding, which ALB does not support in
cookie values (same page, considerations).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import re
import secrets
import time
from email.utils import formatdate
from typing import Any, Callable, Optional

from mylearning.dataplane.alb.request import NoHealthyTarget, NoRoute, Request
from mylearning.facts.elbv2 import (APP_COOKIE_PREFIX, APP_COOKIE_SHARDS, CORS_SUFFIX,
                                    DEFAULT_STICKINESS_SECONDS, LB_COOKIE,
                                    LB_COOKIE_LIFETIME_SECONDS, TARGET_GROUP_COOKIE)

#: The SameSite attributes of the CORS twin of each cookie ("AWSALBCORS ... plus the SameSite
#: attribute", sticky-sessions.html; AWSALBTGCORS in rule-action-types.html, forward actions).
CORS_ATTRIBUTES = "; SameSite=None; Secure"
_PROCESS_KEY = secrets.token_bytes(32)
_CHROMIUM = re.compile(r"Chrom(?:e|ium)/(\d+)")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Seal:
    """Opaque, tamper-evident cookie values. ``kind`` is part of what is signed, so a token
    issued as one cookie is not accepted as another."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, kind: str, body: str) -> str:
        digest = hmac.new(self._key, f"{kind}\0{body}".encode("ascii"), hashlib.sha256).digest()
        return _b64(digest[:18])

    def seal(self, kind: str, payload: dict[str, Any]) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return f"{body}.{self._mac(kind, body)}"

    def open(self, kind: str, token: Optional[str]) -> Optional[dict[str, Any]]:
        """The payload, or None for anything this process did not seal as ``kind``."""
        if not token or "." not in token:
            return None
        body, _, mac = token.rpartition(".")
        try:
            if not hmac.compare_digest(mac, self._mac(kind, body)):
                return None
            payload = json.loads(_unb64(body))
        except (ValueError, UnicodeError, binascii.Error):
            return None
        return payload if isinstance(payload, dict) else None


def _set_cookie(name: str, value: str, now: float, cors: bool) -> str:
    """A Set-Cookie value as ALB writes it: ``Expires``, not ``Max-Age`` ("Application Load
    Balancers use the Expires attribute in the cookie header instead of the Max-Age
    attribute", sticky-sessions.html), and ``Path=/``."""
    text = f"{name}={value}; Expires={formatdate(now + LB_COOKIE_LIFETIME_SECONDS, usegmt=True)}; Path=/"
    return text + CORS_ATTRIBUTES if cors else text


def _is_true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _seconds(value: Any, default: int) -> int:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default


def _fresh(payload: Optional[dict[str, Any]], now: float) -> bool:
    try:
        return payload is not None and float(payload["e"]) > now
    except (KeyError, TypeError, ValueError):
        return False


def forward_groups(action: dict) -> list[tuple[str, int]]:
    """(target group ARN, weight) of a forward action: ``ForwardConfig.TargetGroups`` (a
    missing Weight counts 1), else the plain ``TargetGroupArn``, one group of weight 1
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ForwardActionConfig.html,
    API_TargetGroupTuple.html: "The weight. The range is 0 to 999")."""
    config = action.get("ForwardConfig")
    groups: list[tuple[str, int]] = []
    if isinstance(config, dict):
        for group in config.get("TargetGroups") or []:
            if isinstance(group, dict) and isinstance(group.get("TargetGroupArn"), str):
                weight = group.get("Weight")
                groups.append((group["TargetGroupArn"], 1 if weight is None else int(weight)))
    if not groups and isinstance(action.get("TargetGroupArn"), str):
        groups.append((action["TargetGroupArn"], 1))
    return groups


class ForwardChooser:
    """Picks the target group of a forward action.

    Weights: "Requests that match a listener rule with weighted target groups are distributed
    to these target groups based on their weights"; each weight is 0 to 999 (forward actions,
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-action-types.html).
    A group of weight 0 is never chosen by weight; when every weight is 0, ``choose`` raises
    ``NoRoute`` (the listener answers 503).

    Target group stickiness (``ForwardConfig.TargetGroupStickinessConfig`` Enabled and
    DurationSeconds, API_TargetGroupStickinessConfig.html): the first request is routed by
    weight and answered with cookie ``AWSALBTG`` naming the group, plus ``AWSALBTGCORS``, the
    same with ``SameSite=None; Secure``; "When the load balancer receives a request that
    matches a rule with target group stickiness enabled and contains the cookie, the request
    is routed to the target group specified in the cookie" (same page). The cookie wins over
    the weights -- also over a weight since lowered to 0, as blue/green users see on AWS --
    as long as the action still lists its group and its duration has not run out. Every
    answer renews the cookie, as ALB "resets the expiry of the cookies it generates after
    every request" (sticky-sessions.html; the page says it of target stickiness, and we read
    target group stickiness the same way).

    Deterministic given ``rng``; ``clock`` gives seconds since the epoch.
    """

    def __init__(self, rng: Optional[random.Random] = None,
                 clock: Callable[[], float] = time.time, key: Optional[bytes] = None) -> None:
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock
        self._seal = _Seal(key or _PROCESS_KEY)

    def choose(self, action: dict, request: Request) -> tuple[str, list[str]]:
        """(target group ARN, Set-Cookie values to add to the response, maybe none)."""
        groups = forward_groups(action)
        if not groups:
            raise NoRoute("the forward action names no target group")
        config = action.get("ForwardConfig") if isinstance(action.get("ForwardConfig"), dict) else {}
        sticky = config.get("TargetGroupStickinessConfig") or {}
        enabled = isinstance(sticky, dict) and _is_true(sticky.get("Enabled"))
        now = self._clock()
        chosen = self._from_cookie(request, {arn for arn, _ in groups}, now) if enabled else None
        if chosen is None:
            chosen = self._by_weight(groups)
        if not enabled:
            return chosen, []
        # DurationSeconds is required when stickiness is enabled; without one we use a day.
        duration = _seconds(sticky.get("DurationSeconds"), DEFAULT_STICKINESS_SECONDS)
        token = self._seal.seal("tg", {"g": chosen, "e": round(now + duration, 3)})
        return chosen, [_set_cookie(TARGET_GROUP_COOKIE, token, now, cors=False),
                        _set_cookie(TARGET_GROUP_COOKIE + CORS_SUFFIX, token, now, cors=True)]

    def _from_cookie(self, request: Request, listed: set[str], now: float) -> Optional[str]:
        cookies = request.cookies()
        for name in (TARGET_GROUP_COOKIE, TARGET_GROUP_COOKIE + CORS_SUFFIX):
            payload = self._seal.open("tg", cookies.get(name))
            if _fresh(payload, now) and payload.get("g") in listed:
                return payload["g"]
        return None

    def _by_weight(self, groups: list[tuple[str, int]]) -> str:
        weighted = [(arn, weight) for arn, weight in groups if weight > 0]
        total = sum(weight for _, weight in weighted)
        if total <= 0:
            raise NoRoute("every target group of the forward action has weight 0")
        point = self._rng.random() * total
        for arn, weight in weighted:
            point -= weight
            if point < 0:
                return arn
        return weighted[-1][0]


class TargetPicker:
    """Picks a target inside a target group.

    Routing algorithm, attribute ``load_balancing.algorithm.type``
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html,
    "Routing algorithm"): ``round_robin`` (the default), ``least_outstanding_requests`` (the
    target with the fewest requests in flight, ties broken in round-robin order), or
    ``weighted_random`` (every target equally likely; anomaly mitigation, which would lower
    the weight of failing targets, is not emulated). Round robin goes through the targets in
    sorted order, continuing after the last one it chose, so the order the caller lists them
    in and targets joining or leaving do not skew it.

    Target stickiness, attributes ``stickiness.enabled`` and ``stickiness.type``
    (sticky-sessions.html): "If you enable sticky sessions, the routing algorithm of the
    target group is overridden after the initial target selection" (routing algorithm,
    considerations).

    * ``lb_cookie``: every answer carries cookie ``AWSALB`` naming the group and the target
      and valid for ``stickiness.lb_cookie.duration_seconds``, plus ``AWSALBCORS`` with
      ``SameSite=None; Secure``. "If the cookie is present but cannot be decoded, or if it
      refers to a target that was deregistered or is unhealthy, the load balancer selects a
      new target and updates the cookie". ``AWSALB`` "is the only name used across all target
      groups", so a cookie naming another group is ignored and replaced.
    * ``app_cookie``: the target sets the application's own cookie
      (``stickiness.app_cookie.cookie_name``); seeing it in the response, the load balancer
      adds ``AWSALBAPP-0`` recording the target, for ``stickiness.app_cookie.duration_seconds``
      and for each such group. Clients "have to send back both cookies to maintain
      stickiness". The response side is ``after_response``, which the listener calls with the
      target's Set-Cookie headers. ``SameSite=None; Secure`` is added "only if the user-agent
      version is Chromium80 or above".

    ``targets`` are the healthy targets. When a group has registered targets but none is
    healthy, ALB "routes requests to all those targets, regardless of their health status"
    (fail open, target-group-health-checks.html): the listener passes all registered targets
    then. Slow start mode is not emulated.
    """

    def __init__(self, rng: Optional[random.Random] = None,
                 clock: Callable[[], float] = time.time, key: Optional[bytes] = None) -> None:
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock
        self._seal = _Seal(key or _PROCESS_KEY)
        self._last: dict[str, str] = {}

    def pick(self, group_arn: str, targets: list[str], attributes: dict[str, str],
             request: Request, outstanding: Optional[dict[str, int]] = None
             ) -> tuple[str, list[str]]:
        """(target key, Set-Cookie values to add to the response, maybe none). Raises
        ``NoHealthyTarget`` when ``targets`` is empty."""
        healthy = sorted(set(targets))
        if not healthy:
            raise NoHealthyTarget(f"target group {group_arn} has no target to route to")
        kind = self._kind(attributes)
        now = self._clock()
        target = None
        if kind == "lb_cookie":
            target = self._lb_target(group_arn, healthy, request, now)
        elif kind == "app_cookie":
            target = self._app_target(group_arn, healthy, attributes, request, now)
        if target is None:
            target = self._by_algorithm(group_arn, healthy, attributes, outstanding or {})
        if kind != "lb_cookie":
            return target, []
        duration = _seconds(attributes.get("stickiness.lb_cookie.duration_seconds"),
                            DEFAULT_STICKINESS_SECONDS)
        token = self._seal.seal("lb", {"g": group_arn, "t": target,
                                       "e": round(now + duration, 3)})
        return target, [_set_cookie(LB_COOKIE, token, now, cors=False),
                        _set_cookie(LB_COOKIE + CORS_SUFFIX, token, now, cors=True)]

    def after_response(self, group_arn: str, target: str, attributes: dict[str, str],
                       request: Request, set_cookies: list[str]) -> list[str]:
        """Set-Cookie values to add once ``target`` answered (application-based stickiness
        only; otherwise none). ``set_cookies`` are the target's Set-Cookie header values.

        ``AWSALBAPP-0`` is issued when the response sets the application cookie, and renewed
        while the client keeps both cookies ("In subsequent responses, the expiry of the load
        balancer generated application cookie and the duration of stickiness configured on
        the load balancer are reset"); after a failover it names the new target ("The load
        balancer treats the session as now being "stuck" to the new healthy target")."""
        if self._kind(attributes) != "app_cookie":
            return []
        name = attributes.get("stickiness.app_cookie.cookie_name") or ""
        now = self._clock()
        sets = any(cookie.split("=", 1)[0].strip() == name for cookie in set_cookies)
        entries = self._app_entries(request, now)
        kept = name in request.cookies() and group_arn in entries
        if not name or not (sets or kept):
            return []
        duration = _seconds(attributes.get("stickiness.app_cookie.duration_seconds"),
                            DEFAULT_STICKINESS_SECONDS)
        entries[group_arn] = {"t": target, "e": round(now + duration, 3)}
        token = self._seal.seal("app", {"m": entries})
        agent = _CHROMIUM.search(request.header("user-agent") or "")
        cors = agent is not None and int(agent.group(1)) >= 80
        return [_set_cookie(f"{APP_COOKIE_PREFIX}0", token, now, cors=cors)]

    @staticmethod
    def _kind(attributes: dict[str, str]) -> Optional[str]:
        if not _is_true(attributes.get("stickiness.enabled")):
            return None
        kind = attributes.get("stickiness.type") or "lb_cookie"
        return kind if kind in ("lb_cookie", "app_cookie") else None

    def _lb_target(self, group_arn: str, healthy: list[str], request: Request,
                   now: float) -> Optional[str]:
        cookies = request.cookies()
        for name in (LB_COOKIE, LB_COOKIE + CORS_SUFFIX):
            payload = self._seal.open("lb", cookies.get(name))
            if (_fresh(payload, now) and payload.get("g") == group_arn
                    and payload.get("t") in healthy):
                return payload["t"]
        return None

    def _app_entries(self, request: Request, now: float) -> dict[str, dict[str, Any]]:
        """The unexpired group -> target entries of the request's AWSALBAPP-n shards."""
        cookies = request.cookies()
        shards = [cookies.get(f"{APP_COOKIE_PREFIX}{n}") for n in range(APP_COOKIE_SHARDS)]
        payload = self._seal.open("app", "".join(s for s in shards if s))
        entries = payload.get("m") if payload else None
        if not isinstance(entries, dict):
            return {}
        return {group: entry for group, entry in entries.items()
                if isinstance(entry, dict) and _fresh(entry, now)}

    def _app_target(self, group_arn: str, healthy: list[str], attributes: dict[str, str],
                    request: Request, now: float) -> Optional[str]:
        name = attributes.get("stickiness.app_cookie.cookie_name")
        if not name or name not in request.cookies():
            return None
        entry = self._app_entries(request, now).get(group_arn)
        return entry["t"] if entry and entry.get("t") in healthy else None

    def _by_algorithm(self, group_arn: str, healthy: list[str], attributes: dict[str, str],
                      outstanding: dict[str, int]) -> str:
        algorithm = attributes.get("load_balancing.algorithm.type") or "round_robin"
        if algorithm == "weighted_random":
            return self._rng.choice(healthy)
        last = self._last.get(group_arn)
        start = 0
        if last is not None:
            start = next((i for i, key in enumerate(healthy) if key > last), 0)
        rotation = healthy[start:] + healthy[:start]
        if algorithm == "least_outstanding_requests":
            chosen = min(rotation, key=lambda key: outstanding.get(key, 0))
        else:
            chosen = rotation[0]
        self._last[group_arn] = chosen
        return chosen
