"""AWS App Mesh: AWS's checks and error codes, and the virtual services moto lacks.

App Mesh ended on 2026-09-30, so the labs' mesh steps run only here; what a
learner learns about it must therefore match the API reference
(https://docs.aws.amazon.com/app-mesh/latest/APIReference/Welcome.html).

Four parts, each small enough to be offered upstream to moto on its own:

* **Model constraints** (`model_constraints`): enum values and maximums stated in
  the API reference (botocore validates only minimums on the client side).
* **Rules** (``@rule``): references to resources that do not exist, route weights,
  and deletes of resources still in use, answered with AWS's error codes.
* **Virtual services** (``@handler``): the whole CRUD API, missing from moto 5.2.
* **moto fixes** (`_fix_metadata`, `_fix_error_codes`): per-resource uids and timestamps, epoch
  timestamps, mesh ARN and owner, AWS error codes, awsCloudMap without
  attributes. Applied on the first App Mesh call in the emulator process only,
  and each checks first whether moto still needs it.

moto is imported lazily: importing this module (e.g. for the fidelity table)
leaves moto untouched.
"""
from __future__ import annotations

import io
import json
import threading
import time
import uuid
from typing import Any, Iterator

from mylearning.emulator.fidelity.core import (MODELS, AwsError, AwsRequest, handler, moto_fixes,
                                               on_reset, rule)

SERVICE = "appmesh"
API = "https://docs.aws.amazon.com/app-mesh/latest/APIReference"
ROUTE_KINDS = ("httpRoute", "http2Route", "grpcRoute", "tcpRoute")
GATEWAY_ROUTE_KINDS = ("httpRoute", "http2Route", "grpcRoute")


def bad_request(message: str) -> AwsError:
    return AwsError("BadRequestException", message, 400)


def not_found(message: str) -> AwsError:
    return AwsError("NotFoundException", message, 404)


def conflict(message: str) -> AwsError:
    return AwsError("ConflictException", message, 409)


def in_use(message: str) -> AwsError:
    return AwsError("ResourceInUseException", message, 409)


# ---------------------------------------------------------------- moto access

def _account() -> str:
    from moto.core import DEFAULT_ACCOUNT_ID
    return DEFAULT_ACCOUNT_ID


def _backend(region: str):
    from moto.appmesh.models import appmesh_backends
    return appmesh_backends[_account()][region]


def _mesh(req: AwsRequest):
    return _backend(req.region).meshes.get(req.params.get("meshName", ""))


def _mesh_or_404(req: AwsRequest):
    mesh = _mesh(req)
    if mesh is None:
        raise not_found(f"Mesh {req.params.get('meshName')} is not present for account {_account()}.")
    return mesh


# ---------------------------------------------------------------- moto fixes

_MOTO_TIME_FORMAT = "%d/%m/%Y, %H:%M:%S"

#: moto's App Mesh error codes -> (AWS code, HTTP status), per the API reference's
#: Errors sections (e.g. API_DescribeVirtualNode.html: NotFoundException 404).
_AWS_CODES = {
    "MeshNotFound": ("NotFoundException", 404),
    "ResourceNotFound": ("NotFoundException", 404),
    "VirtualRouterNotFound": ("NotFoundException", 404),
    "RouteNotFound": ("NotFoundException", 404),
    "VirtualNodeNotFound": ("NotFoundException", 404),
    "VirtualGatewayNotFound": ("NotFoundException", 404),
    "GatewayRouteNotFound": ("NotFoundException", 404),
    "MeshOwnerDoesNotMatch": ("NotFoundException", 404),
    "VirtualRouterNameAlreadyTaken": ("ConflictException", 409),
    "RouteNameAlreadyTaken": ("ConflictException", 409),
    "VirtualNodeNameAlreadyTaken": ("ConflictException", 409),
    "VirtualGatewayNameAlreadyTaken": ("ConflictException", 409),
    "GatewayRouteNameAlreadyTaken": ("ConflictException", 409),
    "MissingRequiredField": ("BadRequestException", 400),
}


def _epoch_stamp_class():
    from datetime import datetime

    class EpochStamp(datetime):
        """A time that moto's App Mesh serialiser writes as epoch seconds.

        moto formats times as "%d/%m/%Y, %H:%M:%S", which clients read
        month-first (day and month swap); AWS sends epoch seconds
        (ResourceMetadata: "createdAt": number), which is what we give.
        """

        def strftime(self, fmt: str) -> str:
            if fmt == _MOTO_TIME_FORMAT:
                return f"{self.timestamp():.3f}"
            return super().strftime(fmt)

    return EpochStamp


def _fix_metadata() -> None:
    """Every resource gets its own uid and its own creation time, a mesh ARN of
    the form ``arn:aws:appmesh:REGION:ACCOUNT:mesh/NAME`` and an account id as
    owner (API_ResourceMetadata.html).

    moto 5.2 evaluates the uid and the timestamps once, when its module is
    imported (dataclass defaults), so all resources share them.
    """
    import dataclasses
    from datetime import timezone

    from moto.appmesh.dataclasses import gateway_route, route, shared, virtual_gateway, virtual_node

    stamp = _epoch_stamp_class()
    # A plain default is evaluated once; an upstream fix would use a default_factory.
    defaults = {f.name: f.default for f in dataclasses.fields(shared.Metadata)}
    fresh_uid = defaults.get("uid", dataclasses.MISSING) is not dataclasses.MISSING
    fresh_time = defaults.get("created_at", dataclasses.MISSING) is not dataclasses.MISSING

    def now():
        return stamp.now(timezone.utc)

    def as_stamp(value):
        if isinstance(value, stamp) or not hasattr(value, "timestamp"):
            return value
        return stamp.fromtimestamp(value.timestamp(), timezone.utc)

    def wrap(cls) -> None:
        original = cls.__dict__.get("__init__")
        if original is None or getattr(original, "_mylearning", False):
            return

        def init(self, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if fresh_uid and "uid" not in kwargs:
                self.uid = str(uuid.uuid4())
            if fresh_time and "created_at" not in kwargs:
                self.created_at = self.last_updated_at = now()
            else:  # keep moto's times, but serialise them as AWS does
                self.created_at, self.last_updated_at = as_stamp(self.created_at), as_stamp(self.last_updated_at)
            parts = self.arn.split(":", 5)
            if len(parts) == 6 and "/" not in parts[5]:
                self.arn = ":".join(parts[:5] + [f"mesh/{parts[5]}"])
            account = parts[4] if len(parts) == 6 else _account()
            if not str(self.mesh_owner).isdigit():
                self.mesh_owner = account
            if not str(self.resource_owner).isdigit():
                self.resource_owner = account

        init._mylearning = True  # type: ignore[attr-defined]
        cls.__init__ = init

    for cls in (shared.Metadata, virtual_node.VirtualNodeMetadata, route.RouteMetadata,
                virtual_gateway.VirtualGatewayMetadata, gateway_route.GatewayRouteMetadata):
        wrap(cls)

    def update_timestamp(self) -> None:
        self.last_updated_at = now()

    shared.Metadata.update_timestamp = update_timestamp


def _fix_error_codes() -> None:
    """Answer with AWS's error codes (NotFoundException 404, ConflictException 409,
    BadRequestException 400), so ``client.exceptions.NotFoundException`` catches them.
    """
    from moto.appmesh import exceptions
    from moto.core.exceptions import JsonRESTError

    if getattr(exceptions.MeshError.__init__, "_mylearning", False):
        return

    def init(self, error_type: str, message: str, *args: Any, **kwargs: Any) -> None:
        code, status = _AWS_CODES.get(error_type, (error_type, None))
        JsonRESTError.__init__(self, code, message, *args, **kwargs)
        if status:
            self.code = status

    init._mylearning = True  # type: ignore[attr-defined]
    exceptions.MeshError.__init__ = init


def _all_operations() -> list[str]:
    model = MODELS.get(SERVICE)
    return list(model.operation_names) if model else []


moto_fixes(SERVICE, _fix_metadata, _fix_error_codes)


# ---------------------------------------------------------------- model constraints

def _walk(shape, value: Any, path: str) -> Iterator[str]:
    """Yield a message for each value outside the enum or above the maximum the
    API reference states for its shape (the same values botocore's model carries)."""
    if value is None:
        return
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value and member.serialization.get("location") is None:
                yield from _walk(member, value[name], f"{path}.{name}" if path else name)
    elif kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            yield f"{path} must have at most {meta['max']} items; it has {len(value)}."
        for i, item in enumerate(value):
            yield from _walk(shape.member, item, f"{path}[{i}]")
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(shape.value, item, f"{path}.{key}")
    elif kind == "string" and isinstance(value, str):
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            yield f"{path} must be one of {', '.join(enum)}; got {value!r}."
        if "max" in meta and len(value) > meta["max"]:
            yield f"{path} must be at most {meta['max']} characters long."
    elif kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        if "max" in meta and value > meta["max"]:
            yield f"{path} must be at most {meta['max']}; got {value}."


@rule(SERVICE, *_all_operations())
def model_constraints(req: AwsRequest) -> None:
    """Enums and maximums from the API reference: egressFilter.type ALLOW_ALL|DROP_ALL
    (API_EgressFilter.html), listener tls.mode STRICT|PERMISSIVE|DISABLED
    (API_ListenerTls.html, API_VirtualGatewayListenerTls.html), weight 0-100 and
    1-10 weightedTargets (API_WeightedTarget.html, API_HttpRouteAction.html),
    ports 1-65535 (API_PortMapping.html)."""
    model = MODELS.get(SERVICE)
    if model is None or req.method == "GET":
        return
    body = _body(req)
    shape = model.operation_model(req.operation).input_shape
    if shape is None:
        return
    for problem in _walk(shape, body, ""):
        raise bad_request(problem)


def _body(req: AwsRequest) -> dict:
    try:
        value = json.loads(req.body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _replace_body(req: AwsRequest, body: dict) -> None:
    raw = json.dumps(body).encode()
    req.environ["wsgi.input"] = io.BytesIO(raw)
    req.environ["CONTENT_LENGTH"] = str(len(raw))
    req.body = raw


# ---------------------------------------------------------------- names taken

@rule(SERVICE, "CreateMesh")
def mesh_name_free(req: AwsRequest) -> None:
    """A mesh name is unique in the account; moto 5.2 silently replaces the existing
    mesh and everything in it. AWS answers ConflictException (API_CreateMesh.html, Errors)."""
    if _mesh(req) is not None:
        raise conflict(f"Mesh with name {req.params.get('meshName')} already exists for account "
                       f"{_account()}.")


# ---------------------------------------------------------------- references

def _service_names(req: AwsRequest) -> set[str]:
    return set(_SERVICES.get((req.region, req.params.get("meshName", "")), {}))


def _weighted_targets(spec: dict) -> Iterator[tuple[str, list]]:
    for kind in ROUTE_KINDS:
        targets = (((spec or {}).get(kind) or {}).get("action") or {}).get("weightedTargets")
        if isinstance(targets, list):
            yield kind, targets


@rule(SERVICE, "CreateRoute", "UpdateRoute")
def route_weights(req: AwsRequest) -> None:
    """The total weight of a route's targets is at most 100 and some target must
    carry traffic (API_WeightedTarget.html: "The total weight for all targets
    combined must be less than or equal to 100")."""
    for kind, targets in _weighted_targets(req.params.get("spec") or {}):
        weights = [t.get("weight") for t in targets if isinstance(t, dict)]
        numbers = [w for w in weights if isinstance(w, int)]
        if sum(numbers) > 100:
            raise bad_request(f"The weights of {kind}.action.weightedTargets add up to "
                              f"{sum(numbers)}; the total must be at most 100.")
        if numbers and len(numbers) == len(weights) and not any(numbers):
            raise bad_request(f"Every target in {kind}.action.weightedTargets has weight 0; "
                              "at least one target needs a weight above 0.")


@rule(SERVICE, "CreateRoute", "UpdateRoute")
def route_targets_exist(req: AwsRequest) -> None:
    """A route's weighted targets name virtual nodes of the same mesh
    (API_WeightedTarget.html: "The virtual node to associate with the weighted target")."""
    mesh = _mesh(req)
    if mesh is None:
        return
    for _, targets in _weighted_targets(req.params.get("spec") or {}):
        for target in targets:
            name = (target or {}).get("virtualNode")
            if name and name not in mesh.virtual_nodes:
                raise not_found(f"VirtualNode with name {name} is not present under mesh "
                                f"{mesh.mesh_name} for account {_account()}.")


@rule(SERVICE, "CreateGatewayRoute", "UpdateGatewayRoute")
def gateway_route_targets_exist(req: AwsRequest) -> None:
    """A gateway route's target is a virtual service of the mesh
    (API_GatewayRouteVirtualService.html)."""
    if _mesh(req) is None:
        return
    spec = req.params.get("spec") or {}
    known = _service_names(req)
    for kind in GATEWAY_ROUTE_KINDS:
        target = (((spec.get(kind) or {}).get("action") or {}).get("target") or {})
        name = (target.get("virtualService") or {}).get("virtualServiceName")
        if name and name not in known:
            raise not_found(f"VirtualService with name {name} is not present under mesh "
                            f"{req.params.get('meshName')} for account {_account()}.")


@rule(SERVICE, "CreateVirtualNode", "UpdateVirtualNode")
def backends_exist(req: AwsRequest) -> None:
    """A virtual node's backends are virtual services of the mesh
    (API_VirtualServiceBackend.html: "The name of the virtual service that is acting
    as a virtual node backend")."""
    if _mesh(req) is None:
        return
    known = _service_names(req)
    for backend in (req.params.get("spec") or {}).get("backends") or []:
        name = ((backend or {}).get("virtualService") or {}).get("virtualServiceName")
        if name and name not in known:
            raise not_found(f"VirtualService with name {name} is not present under mesh "
                            f"{req.params.get('meshName')} for account {_account()}.")


@rule(SERVICE, "CreateVirtualNode", "UpdateVirtualNode")
def cloud_map_attributes_optional(req: AwsRequest) -> None:
    """Not a check: ``awsCloudMap.attributes`` is optional
    (API_AwsCloudMapServiceDiscovery.html, attributes "Required: No"), but moto 5.2
    rejects its absence. We hand moto an empty list, which it leaves out of answers."""
    body = _body(req)
    cloud_map = ((body.get("spec") or {}).get("serviceDiscovery") or {}).get("awsCloudMap")
    if isinstance(cloud_map, dict) and cloud_map.get("attributes") is None:
        cloud_map["attributes"] = []
        _replace_body(req, body)


# ---------------------------------------------------------------- deletes of resources in use

def _providers(req: AwsRequest) -> Iterator[tuple[str, dict]]:
    for name, record in list(_SERVICES.get((req.region, req.params.get("meshName", "")), {}).items()):
        yield name, (record["spec"].get("provider") or {})


@rule(SERVICE, "DeleteVirtualNode")
def node_not_in_use(req: AwsRequest) -> None:
    """A virtual node can't be deleted while a virtual service names it as provider
    (API_DeleteVirtualNode.html) or a route sends traffic to it."""
    mesh = _mesh(req)
    node = req.params.get("virtualNodeName")
    if mesh is None or node not in mesh.virtual_nodes:
        return
    for service, provider in _providers(req):
        if (provider.get("virtualNode") or {}).get("virtualNodeName") == node:
            raise in_use(f"VirtualNode {node} is the provider of VirtualService {service}; "
                         "update or delete the virtual service first.")
    for router in mesh.virtual_routers.values():
        for route in router.routes.values():
            spec = route.spec.to_dict() if hasattr(route.spec, "to_dict") else {}
            for _, targets in _weighted_targets(spec):
                if any((t or {}).get("virtualNode") == node for t in targets):
                    raise in_use(f"VirtualNode {node} is a target of route {route.route_name} "
                                 f"of VirtualRouter {router.virtual_router_name}; update or "
                                 "delete the route first.")


@rule(SERVICE, "DeleteVirtualRouter")
def router_not_in_use(req: AwsRequest) -> None:
    """A virtual router can't be deleted while it has routes or a virtual service names
    it as provider (API_DeleteVirtualRouter.html)."""
    mesh = _mesh(req)
    name = req.params.get("virtualRouterName")
    if mesh is None or name not in mesh.virtual_routers:
        return
    if mesh.virtual_routers[name].routes:
        raise in_use(f"VirtualRouter {name} still has routes; delete them first.")
    for service, provider in _providers(req):
        if (provider.get("virtualRouter") or {}).get("virtualRouterName") == name:
            raise in_use(f"VirtualRouter {name} is the provider of VirtualService {service}; "
                         "update or delete the virtual service first.")


@rule(SERVICE, "DeleteVirtualGateway")
def gateway_not_in_use(req: AwsRequest) -> None:
    """A virtual gateway can't be deleted while it has gateway routes
    (API_DeleteVirtualGateway.html)."""
    mesh = _mesh(req)
    name = req.params.get("virtualGatewayName")
    if mesh is not None and name in mesh.virtual_gateways and mesh.virtual_gateways[name].gateway_routes:
        raise in_use(f"VirtualGateway {name} still has gateway routes; delete them first.")


@rule(SERVICE, "DeleteMesh")
def mesh_empty(req: AwsRequest) -> None:
    """A mesh can't be deleted while it holds resources: "You must delete all
    resources (virtual services, routes, virtual routers, and virtual nodes) in the
    service mesh before you can delete the mesh itself" (API_DeleteMesh.html)."""
    mesh = _mesh(req)
    if mesh is None:
        return
    kinds = [("virtual services", _service_names(req)), ("virtual nodes", mesh.virtual_nodes),
             ("virtual routers", mesh.virtual_routers), ("virtual gateways", mesh.virtual_gateways)]
    held = [f"{len(items)} {kind}" for kind, items in kinds if items]
    if held:
        raise in_use(f"Mesh {mesh.mesh_name} still has {', '.join(held)}; delete them first.")


# ---------------------------------------------------------------- virtual services
# Missing from moto 5.2. Shapes: API_VirtualServiceData.html, API_VirtualServiceRef.html,
# API_ResourceMetadata.html. The single-resource operations answer the
# VirtualServiceData itself as the body (the output's payload member), as moto
# does for the other App Mesh resources.

_SERVICES: dict[tuple[str, str], dict[str, dict]] = {}
_SERVICES_LOCK = threading.Lock()


@on_reset
def _forget_services() -> None:
    with _SERVICES_LOCK:
        _SERVICES.clear()


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


# ---------------------------------------------------------------- tags on virtual services

def _moto(fn, *args: Any, **kwargs: Any) -> Any:
    """Call moto from a handler; its App Mesh errors become AWS's."""
    from moto.core.exceptions import JsonRESTError
    try:
        return fn(*args, **kwargs)
    except JsonRESTError as exc:
        code, status = _AWS_CODES.get(exc.error_type, (exc.error_type, exc.code))
        raise AwsError(code, exc.message, status) from None


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


@handler(SERVICE, "TagResource")
def tag_resource(req: AwsRequest) -> tuple[int, Any]:
    """API_TagResource.html: a key given again takes the new value."""
    arn = req.params.get("resourceArn", "")
    new = list(req.params.get("tags") or [])
    record = _service_by_arn(arn)
    tags = record["tags"] if record is not None else _moto(_backend(req.region)._get_resource_with_arn, arn).tags
    keys = {t.get("key") for t in new}
    tags[:] = [t for t in tags if t.get("key") not in keys] + new
    return 200, {}


@handler(SERVICE, "UntagResource")
def untag_resource(req: AwsRequest) -> tuple[int, Any]:
    """API_UntagResource.html (moto 5.2 lacks it)."""
    arn = req.params.get("resourceArn", "")
    keys = set(req.params.get("tagKeys") or [])
    record = _service_by_arn(arn)
    tags = record["tags"] if record is not None else _moto(_backend(req.region)._get_resource_with_arn, arn).tags
    tags[:] = [t for t in tags if t.get("key") not in keys]
    return 200, {}
