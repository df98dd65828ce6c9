"""ECS's list operations answer a page at a time, as ECS does (moto 5.2.x answers everything at once).

Code that reads one page and stops works against moto and misses resources on AWS; paging here
makes the embedded AWS catch that. Page sizes (maxResults, 1-100) and their defaults:
* ListServices: up to 10 results unless maxResults says otherwise.
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServices.html
* ListClusters, ListTaskDefinitionFamilies, ListTaskDefinitions: up to 100.
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListClusters.html
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTaskDefinitionFamilies.html
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTaskDefinitions.html
A page that has more after it carries a nextToken; the last page carries none.

ListTaskDefinitionFamilies also honours `status` (moto ignores it): ACTIVE lists the families
with at least one ACTIVE revision, INACTIVE those with an INACTIVE one, ALL (the default) every
family (same page).
"""
from __future__ import annotations

import base64
from typing import Any

#: Operation (moto's response method) -> (the answer's list key, default page size).
PAGED = {
    "list_services": ("serviceArns", 10),
    "list_clusters": ("clusterArns", 100),
    "list_task_definition_families": ("families", 100),
    "list_task_definitions": ("taskDefinitionArns", 100),
}
MAX_RESULTS = 100


def _payload(result: Any) -> dict | None:
    for holder in (getattr(result, "result", None), result):
        if isinstance(holder, dict):
            return holder
    return None


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"mylearning:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    from moto.ecs.exceptions import InvalidParameterException

    if not token:
        return 0
    try:
        kind, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "mylearning" and offset.isdigit():
            return int(offset)
    except ValueError:
        pass
    raise InvalidParameterException("Invalid token")


def _families_with_status(response: Any, families: list[str]) -> list[str]:
    status = str(response._get_param("status") or "ALL").upper()
    if status == "ALL":
        return families
    revisions = response.ecs_backend.task_definitions
    return [f for f in families
            if any(td.status == status for td in revisions.get(f, {}).values())]


def _paged(name: str, key: str, default: int):
    def listed(self: Any, _original=None) -> Any:
        result = _original(self)
        payload = _payload(result)
        if payload is None or not isinstance(payload.get(key), list):
            return result
        items = payload[key]
        if name == "list_task_definition_families":
            items = _families_with_status(self, items)
        size = min(int(self._get_param("maxResults") or default), MAX_RESULTS)
        start = _offset(self._get_param("nextToken"))
        payload[key] = items[start:start + size]
        payload.pop("nextToken", None)
        if start + size < len(items):
            payload["nextToken"] = _token(start + size)
        return result
    return listed


def _fix_list_pagination() -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse as R

    for name, (key, default) in PAGED.items():
        original = getattr(R, name)
        wrapped = _paged(name, key, default)

        def method(self: Any, _wrapped=wrapped, _original=original) -> Any:
            return _wrapped(self, _original)

        setattr(R, name, method)
