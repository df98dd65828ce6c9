"""AWS X-Ray groups: a name for a filter expression, so a service graph shows only its traces.

moto 5.2 has no groups (CreateGroup is a 404), so GetServiceGraph's GroupName could never
name one. Here groups are kept per region, with the ``Default`` group every account has
(https://docs.aws.amazon.com/xray/latest/devguide/xray-console-groups.html: names of up to 32
letters, digits and dashes; "You can't delete the Default group"), and their filter
expressions are checked as GetTraceSummaries checks them
(API_CreateGroup.html, API_GetGroup.html, API_GetGroups.html, API_UpdateGroup.html,
API_DeleteGroup.html).
"""
from __future__ import annotations

import threading
import uuid
from typing import Any, Callable

from mylearning.emulator.fidelity.core import AwsRequest, handler, on_reset
from mylearning.emulator.fidelity.xray.access import SERVICE, account, invalid_request
from mylearning.emulator.fidelity.xray.filters import compile_filter
from mylearning.facts import xray as facts

DEFAULT = facts.DEFAULT_GROUP

_LOCK = threading.Lock()
_GROUPS: dict[str, dict[str, dict]] = {}


def _arn(region: str, name: str) -> str:
    return f"arn:aws:xray:{region}:{account()}:group/{name}/{uuid.uuid4().hex[:26].upper()}"


def _groups(region: str) -> dict[str, dict]:
    groups = _GROUPS.setdefault(region, {})
    if DEFAULT not in groups:
        groups[DEFAULT] = {"GroupName": DEFAULT, "GroupARN": f"{_arn(region, DEFAULT).rsplit('/', 1)[0]}",
                           "InsightsConfiguration": {"InsightsEnabled": False, "NotificationsEnabled": False}}
    return groups


def _find(region: str, name: Any, arn: Any) -> dict:
    if name is None and arn is None:
        raise invalid_request("A group is named by GroupName or GroupARN.")
    for group in _groups(region).values():
        if group["GroupName"] == name or group["GroupARN"] == arn:
            return group
    raise invalid_request("Group not found")


def group_filter(region: str, name: Any, arn: Any) -> Callable[[list], bool] | None:
    """The predicate of the group GetServiceGraph names, or None for all traces. (X-Ray files
    traces into groups as they arrive, so an updated expression applies "only to subsequent
    traces"; here the group's current expression is applied to every trace.)"""
    if name is None and arn is None:
        return None
    with _LOCK:
        group = _find(region, name, arn)
    text = group.get("FilterExpression")
    return compile_filter(text) if text else None


def _checked_filter(text: Any) -> str | None:
    if text is None:
        return None
    if not isinstance(text, str) or not text.strip():
        raise invalid_request("FilterExpression must be a filter expression.")
    compile_filter(text)
    return text


@handler(SERVICE, "CreateGroup")
def create_group(req: AwsRequest) -> tuple[int, Any]:
    """A new group; a name already used in the region (Default included) is refused."""
    name = req.params.get("GroupName")
    if not isinstance(name, str) or not facts.GROUP_NAME.fullmatch(name):
        raise invalid_request("A group name can have a maximum of 32 characters, and contain alphanumeric "
                              "characters and dashes.")
    text = _checked_filter(req.params.get("FilterExpression"))
    with _LOCK:
        groups = _groups(req.region)
        if name in groups:
            raise invalid_request(f"Group {name} already exists")
        group = {"GroupName": name, "GroupARN": _arn(req.region, name),
                 "InsightsConfiguration": {"InsightsEnabled": False, "NotificationsEnabled": False,
                                           **(req.params.get("InsightsConfiguration") or {})}}
        if text:
            group["FilterExpression"] = text
        groups[name] = group
        return 200, {"Group": dict(group)}


@handler(SERVICE, "GetGroup")
def get_group(req: AwsRequest) -> tuple[int, Any]:
    with _LOCK:
        return 200, {"Group": dict(_find(req.region, req.params.get("GroupName"), req.params.get("GroupARN")))}


@handler(SERVICE, "GetGroups")
def get_groups(req: AwsRequest) -> tuple[int, Any]:
    with _LOCK:
        return 200, {"Groups": [dict(g) for g in _groups(req.region).values()]}


@handler(SERVICE, "UpdateGroup")
def update_group(req: AwsRequest) -> tuple[int, Any]:
    text = _checked_filter(req.params.get("FilterExpression"))
    with _LOCK:
        group = _find(req.region, req.params.get("GroupName"), req.params.get("GroupARN"))
        if text is not None:
            group["FilterExpression"] = text
        group["InsightsConfiguration"].update(req.params.get("InsightsConfiguration") or {})
        return 200, {"Group": dict(group)}


@handler(SERVICE, "DeleteGroup")
def delete_group(req: AwsRequest) -> tuple[int, Any]:
    with _LOCK:
        group = _find(req.region, req.params.get("GroupName"), req.params.get("GroupARN"))
        if group["GroupName"] == DEFAULT:
            raise invalid_request("You can't delete the Default group.")
        del _groups(req.region)[group["GroupName"]]
    return 200, {}


@on_reset
def _forget() -> None:
    with _LOCK:
        _GROUPS.clear()
