"""Tags on App Mesh resources: virtual services keep theirs here, other resources in moto."""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, handler
from mylearning.emulator.fidelity.appmesh.access import SERVICE, _SERVICES, _backend
from mylearning.emulator.fidelity.appmesh.errors import _moto


def _service_by_arn(arn: str) -> dict | None:
    for services in list(_SERVICES.values()):
        for record in list(services.values()):
            if record["metadata"]["arn"] == arn:
                return record
    return None


@handler(SERVICE, "ListTagsForResource")
def list_tags(req: AwsRequest) -> tuple[int, Any]:
    """API_ListTagsForResource.html; virtual services keep their tags here, other
    resources in moto."""
    arn = req.params.get("resourceArn", "")
    record = _service_by_arn(arn)
    if record is not None:
        return 200, {"tags": list(record["tags"])}
    tags, token = _moto(
        _backend(req.region).list_tags_for_resource, resource_arn=arn, limit=int(req.params.get("limit") or 100),
        next_token=req.params.get("nextToken"))
    payload: dict[str, Any] = {"tags": tags}
    if token:
        payload["nextToken"] = token
    return 200, payload


def _tags_of(req: AwsRequest, arn: str) -> list:
    """The tag list of a virtual service (kept here) or of a resource moto keeps."""
    record = _service_by_arn(arn)
    return record["tags"] if record is not None else _moto(_backend(req.region)._get_resource_with_arn, arn).tags


@handler(SERVICE, "TagResource")
def tag_resource(req: AwsRequest) -> tuple[int, Any]:
    """API_TagResource.html: a key given again takes the new value."""
    arn = req.params.get("resourceArn", "")
    new = list(req.params.get("tags") or [])
    tags = _tags_of(req, arn)
    keys = {t.get("key") for t in new}
    tags[:] = [t for t in tags if t.get("key") not in keys] + new
    return 200, {}


@handler(SERVICE, "UntagResource")
def untag_resource(req: AwsRequest) -> tuple[int, Any]:
    """API_UntagResource.html (moto 5.2 lacks it)."""
    arn = req.params.get("resourceArn", "")
    keys = set(req.params.get("tagKeys") or [])
    tags = _tags_of(req, arn)
    tags[:] = [t for t in tags if t.get("key") not in keys]
    return 200, {}
