"""App Mesh virtual services: the whole CRUD API, missing from moto 5.2.

Shapes: API_VirtualServiceData.html, API_VirtualServiceRef.html,
API_ResourceMetadata.html. The single-resource operations answer the
VirtualServiceData itself as the body (the output's payload member), as moto
does for the other App Mesh resources.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, handler
from mylearning.emulator.fidelity.appmesh.access import (SERVICE, _SERVICES, _SERVICES_LOCK, _account,
                                                         _mesh_or_404)
from mylearning.emulator.fidelity.appmesh.errors import bad_request, conflict, not_found


def _service_arn(req: AwsRequest, mesh_name: str, name: str) -> str:
    return f"arn:aws:appmesh:{req.region}:{_account()}:mesh/{mesh_name}/virtualService/{name}"


def _check_provider(mesh, spec: dict) -> None:
    """The provider is a virtual node or a virtual router of the mesh, not both
    (API_VirtualServiceProvider.html); it may be left out."""
    provider = spec.get("provider")
    if provider is None:
        return
    if not isinstance(provider, dict) or len([k for k in provider if provider[k] is not None]) != 1:
        raise bad_request("spec.provider must name exactly one of virtualNode or virtualRouter.")
    if "virtualNode" in provider:
        name = (provider["virtualNode"] or {}).get("virtualNodeName")
        if name not in mesh.virtual_nodes:
            raise not_found(f"VirtualNode with name {name} is not present under mesh "
                            f"{mesh.mesh_name} for account {_account()}.")
    elif "virtualRouter" in provider:
        name = (provider["virtualRouter"] or {}).get("virtualRouterName")
        if name not in mesh.virtual_routers:
            raise not_found(f"VirtualRouter with name {name} is not present under mesh "
                            f"{mesh.mesh_name} for account {_account()}.")
    else:
        raise bad_request("spec.provider must name exactly one of virtualNode or virtualRouter.")


def _service_data(record: dict) -> dict:
    return {"meshName": record["meshName"], "virtualServiceName": record["virtualServiceName"],
            "metadata": dict(record["metadata"]), "spec": record["spec"],
            "status": {"status": record["status"]}}


def _service_ref(record: dict) -> dict:
    meta = record["metadata"]
    return {"arn": meta["arn"], "createdAt": meta["createdAt"],
            "lastUpdatedAt": meta["lastUpdatedAt"], "meshName": record["meshName"],
            "meshOwner": meta["meshOwner"], "resourceOwner": meta["resourceOwner"],
            "version": meta["version"], "virtualServiceName": record["virtualServiceName"]}


def _service_or_404(req: AwsRequest) -> dict:
    mesh = _mesh_or_404(req)
    name = req.params.get("virtualServiceName")
    record = _SERVICES.get((req.region, mesh.mesh_name), {}).get(name)
    if record is None:
        raise not_found(f"VirtualService with name {name} is not present under mesh "
                        f"{mesh.mesh_name} for account {_account()}.")
    return record


@handler(SERVICE, "CreateVirtualService")
def create_virtual_service(req: AwsRequest) -> tuple[int, Any]:
    """API_CreateVirtualService.html."""
    mesh = _mesh_or_404(req)
    name = req.params.get("virtualServiceName")
    spec = req.params.get("spec") or {}
    _check_provider(mesh, spec)
    with _SERVICES_LOCK:
        services = _SERVICES.setdefault((req.region, mesh.mesh_name), {})
        if name in services:
            raise conflict(f"VirtualService with name {name} already exists under mesh "
                           f"{mesh.mesh_name}.")
        now = time.time()
        owner = str(mesh.metadata.mesh_owner)
        services[name] = {
            "meshName": mesh.mesh_name, "virtualServiceName": name, "spec": spec,
            "status": "ACTIVE", "tags": list(req.params.get("tags") or []),
            "metadata": {"arn": _service_arn(req, mesh.mesh_name, name), "createdAt": now,
                         "lastUpdatedAt": now, "meshOwner": owner, "resourceOwner": owner,
                         "uid": str(uuid.uuid4()), "version": 1},
        }
        return 200, _service_data(services[name])


@handler(SERVICE, "DescribeVirtualService")
def describe_virtual_service(req: AwsRequest) -> tuple[int, Any]:
    """API_DescribeVirtualService.html."""
    return 200, _service_data(_service_or_404(req))


@handler(SERVICE, "UpdateVirtualService")
def update_virtual_service(req: AwsRequest) -> tuple[int, Any]:
    """API_UpdateVirtualService.html: the new spec replaces the old; version goes up."""
    record = _service_or_404(req)
    spec = req.params.get("spec") or {}
    _check_provider(_mesh_or_404(req), spec)
    with _SERVICES_LOCK:
        record["spec"] = spec
        record["metadata"]["version"] += 1
        record["metadata"]["lastUpdatedAt"] = time.time()
        return 200, _service_data(record)


@handler(SERVICE, "DeleteVirtualService")
def delete_virtual_service(req: AwsRequest) -> tuple[int, Any]:
    """API_DeleteVirtualService.html: answers the deleted service, status DELETED."""
    record = _service_or_404(req)
    with _SERVICES_LOCK:
        _SERVICES[(req.region, record["meshName"])].pop(record["virtualServiceName"], None)
    record["status"] = "DELETED"
    return 200, _service_data(record)


@handler(SERVICE, "ListVirtualServices")
def list_virtual_services(req: AwsRequest) -> tuple[int, Any]:
    """API_ListVirtualServices.html: limit 1-100, nextToken to page on."""
    mesh = _mesh_or_404(req)
    records = list(_SERVICES.get((req.region, mesh.mesh_name), {}).values())
    try:
        start = int(req.params.get("nextToken") or 0)
        limit = int(req.params.get("limit") or 100)
    except ValueError:
        raise bad_request("nextToken or limit is not valid.") from None
    if not 1 <= limit <= 100:
        raise bad_request("limit must be between 1 and 100.")
    page = records[start:start + limit]
    payload: dict[str, Any] = {"virtualServices": [_service_ref(r) for r in page]}
    if start + limit < len(records):
        payload["nextToken"] = str(start + limit)
    return 200, payload
