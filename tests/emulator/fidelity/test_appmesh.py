"""App Mesh fidelity: the table against the emulator, plus virtual services, error
classes, uids and timestamps as a learner's code sees them."""
from __future__ import annotations

import datetime

import pytest

from mylearning.emulator.fidelity.cases import OK
from mylearning.emulator.fidelity.cases.appmesh import CASES, HTTP


@pytest.fixture
def am(env):
    return env.client("appmesh")


@pytest.fixture
def mesh(env, am) -> str:
    name = env.name("mesh")
    am.create_mesh(meshName=name)
    return name


def _node(am, mesh: str, name: str) -> dict:
    return am.create_virtual_node(meshName=mesh, virtualNodeName=name, spec={
        "listeners": [HTTP], "serviceDiscovery": {"dns": {"hostname": f"{name}.local"}}})["virtualNode"]


def test_table_has_valid_forms_and_cites_the_api_reference():
    assert sum(c.expect == OK for c in CASES) >= 15
    assert all(c.doc.startswith("https://docs.aws.amazon.com/app-mesh/") for c in CASES)


def test_missing_resources_raise_not_found_exception_404(am, mesh):
    with pytest.raises(am.exceptions.NotFoundException) as info:
        am.describe_virtual_node(meshName=mesh, virtualNodeName="ghost")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(am.exceptions.NotFoundException):
        am.describe_mesh(meshName=mesh + "-ghost")
    with pytest.raises(am.exceptions.NotFoundException):
        am.describe_virtual_service(meshName=mesh, virtualServiceName="ghost.local")


def test_conflicts_and_resources_in_use_raise_their_classes(am, mesh):
    _node(am, mesh, "catalog")
    with pytest.raises(am.exceptions.ConflictException):
        _node(am, mesh, "catalog")
    with pytest.raises(am.exceptions.ResourceInUseException) as info:
        am.delete_mesh(meshName=mesh)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(am.exceptions.BadRequestException):
        am.update_mesh(meshName=mesh, spec={"egressFilter": {"type": "ALLOW"}})


def test_virtual_service_round_trip_has_the_documented_shape(am, mesh):
    _node(am, mesh, "catalog-v1")
    created = am.create_virtual_service(
        meshName=mesh, virtualServiceName="catalog.local",
        spec={"provider": {"virtualNode": {"virtualNodeName": "catalog-v1"}}},
        tags=[{"key": "course", "value": "mylearning"}])["virtualService"]
    assert set(created) == {"meshName", "metadata", "spec", "status", "virtualServiceName"}
    meta = created["metadata"]
    assert set(meta) == {"arn", "createdAt", "lastUpdatedAt", "meshOwner", "resourceOwner", "uid", "version"}
    assert meta["arn"] == f"arn:aws:appmesh:us-east-1:123456789012:mesh/{mesh}/virtualService/catalog.local"
    assert meta["meshOwner"] == meta["resourceOwner"] == "123456789012"
    assert meta["version"] == 1 and created["status"] == {"status": "ACTIVE"}
    assert isinstance(meta["createdAt"], datetime.datetime)

    ref = am.list_virtual_services(meshName=mesh)["virtualServices"][0]
    assert set(ref) == {"arn", "createdAt", "lastUpdatedAt", "meshName", "meshOwner", "resourceOwner",
                        "version", "virtualServiceName"}
    assert am.list_tags_for_resource(resourceArn=meta["arn"])["tags"] == [
        {"key": "course", "value": "mylearning"}]

    am.create_virtual_router(meshName=mesh, virtualRouterName="catalog-router", spec={"listeners": [HTTP]})
    updated = am.update_virtual_service(
        meshName=mesh, virtualServiceName="catalog.local",
        spec={"provider": {"virtualRouter": {"virtualRouterName": "catalog-router"}}})["virtualService"]
    assert updated["metadata"]["version"] == 2
    assert updated["metadata"]["uid"] == meta["uid"]
    assert updated["metadata"]["lastUpdatedAt"] >= meta["lastUpdatedAt"]
    assert updated["spec"]["provider"] == {"virtualRouter": {"virtualRouterName": "catalog-router"}}

    # the router is now in use, the node no longer is
    with pytest.raises(am.exceptions.ResourceInUseException):
        am.delete_virtual_router(meshName=mesh, virtualRouterName="catalog-router")
    am.delete_virtual_node(meshName=mesh, virtualNodeName="catalog-v1")

    deleted = am.delete_virtual_service(meshName=mesh, virtualServiceName="catalog.local")["virtualService"]
    assert deleted["status"] == {"status": "DELETED"}
    with pytest.raises(am.exceptions.NotFoundException):
        am.describe_virtual_service(meshName=mesh, virtualServiceName="catalog.local")


def test_list_virtual_services_pages(am, mesh):
    for i in range(3):
        am.create_virtual_service(meshName=mesh, virtualServiceName=f"s{i}.local", spec={})
    first = am.list_virtual_services(meshName=mesh, limit=2)
    assert len(first["virtualServices"]) == 2 and first["nextToken"]
    rest = am.list_virtual_services(meshName=mesh, limit=2, nextToken=first["nextToken"])
    assert [s["virtualServiceName"] for s in rest["virtualServices"]] == ["s2.local"]
    assert "nextToken" not in rest


def test_every_resource_has_its_own_uid_and_creation_time(am, mesh):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)
    nodes = [_node(am, mesh, f"n{i}") for i in range(3)]
    after = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
    uids = {n["metadata"]["uid"] for n in nodes}
    uids.add(am.describe_mesh(meshName=mesh)["mesh"]["metadata"]["uid"])
    assert len(uids) == 4
    for node in nodes:
        created = node["metadata"]["createdAt"]
        assert before <= created <= after  # not frozen at import, day and month not swapped
    listed = am.list_virtual_nodes(meshName=mesh)["virtualNodes"]
    assert all(before <= n["createdAt"] <= after for n in listed)


def test_gateway_route_to_a_virtual_service_end_to_end(am, mesh):
    _node(am, mesh, "web")
    am.create_virtual_service(meshName=mesh, virtualServiceName="web.local",
                              spec={"provider": {"virtualNode": {"virtualNodeName": "web"}}})
    am.create_virtual_gateway(meshName=mesh, virtualGatewayName="ingress", spec={"listeners": [HTTP]})
    route = am.create_gateway_route(
        meshName=mesh, virtualGatewayName="ingress", gatewayRouteName="to-web",
        spec={"httpRoute": {"match": {"prefix": "/"},
                            "action": {"target": {"virtualService": {"virtualServiceName": "web.local"}}}}},
    )["gatewayRoute"]
    assert route["status"] == {"status": "ACTIVE"}
    described = am.describe_gateway_route(meshName=mesh, virtualGatewayName="ingress",
                                          gatewayRouteName="to-web")["gatewayRoute"]
    assert described["spec"]["httpRoute"]["action"]["target"]["virtualService"]["virtualServiceName"] == "web.local"
    with pytest.raises(am.exceptions.NotFoundException):
        am.update_gateway_route(
            meshName=mesh, virtualGatewayName="ingress", gatewayRouteName="to-web",
            spec={"httpRoute": {"match": {"prefix": "/"},
                                "action": {"target": {"virtualService": {"virtualServiceName": "nope.local"}}}}})
    am.delete_gateway_route(meshName=mesh, virtualGatewayName="ingress", gatewayRouteName="to-web")
    am.delete_virtual_gateway(meshName=mesh, virtualGatewayName="ingress")
    am.delete_virtual_service(meshName=mesh, virtualServiceName="web.local")
    am.delete_virtual_node(meshName=mesh, virtualNodeName="web")
    assert am.delete_mesh(meshName=mesh)["mesh"]["status"] == {"status": "DELETED"}


def test_cloud_map_node_without_attributes_round_trips(am, mesh):
    node = am.create_virtual_node(meshName=mesh, virtualNodeName="catalog", spec={
        "listeners": [HTTP],
        "serviceDiscovery": {"awsCloudMap": {"namespaceName": "mylearning.local", "serviceName": "catalog"}},
    })["virtualNode"]
    assert node["spec"]["serviceDiscovery"] == {
        "awsCloudMap": {"namespaceName": "mylearning.local", "serviceName": "catalog"}}


def test_reset_forgets_virtual_services():
    from mylearning.emulator import fidelity
    from mylearning.emulator.fidelity.appmesh import access

    access._SERVICES[("us-east-1", "m")] = {"s.local": {}}
    fidelity.reset()
    assert access._SERVICES == {}


def test_cross_field_rules_answer_bad_request_400(am, mesh):
    am.create_virtual_router(meshName=mesh, virtualRouterName="web-router", spec={"listeners": [HTTP]})
    _node(am, mesh, "web")
    route = {"match": {"prefix": "/"}, "action": {"weightedTargets": [{"virtualNode": "web", "weight": 1}]},
             "retryPolicy": {"maxRetries": 2, "perRetryTimeout": {"unit": "ms", "value": 500}}}
    with pytest.raises(am.exceptions.BadRequestException) as info:
        am.create_route(meshName=mesh, virtualRouterName="web-router", routeName="web",
                        spec={"httpRoute": route})
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "httpRetryEvents" in info.value.response["Error"]["Message"]
    route["retryPolicy"]["httpRetryEvents"] = ["gateway-error"]
    made = am.create_route(meshName=mesh, virtualRouterName="web-router", routeName="web",
                           spec={"httpRoute": route})["route"]
    assert made["spec"]["httpRoute"]["retryPolicy"]["httpRetryEvents"] == ["gateway-error"]


def test_one_of_rule_finds_two_members_anywhere_in_a_spec():
    from mylearning.emulator.fidelity.appmesh.one_of import problems
    from mylearning.emulator.fidelity.core import MODELS

    shape = MODELS.get("appmesh").operation_model("CreateRoute").input_shape
    spec = {"httpRoute": {"match": {"headers": [{"name": "x", "match": {"exact": "a", "suffix": "b"}}]},
                          "action": {"weightedTargets": []}}}
    assert [p.split(";")[0] for p in problems(shape, {"spec": spec})] == [
        "spec.httpRoute.match.headers[0].match must specify exactly one of exact, prefix, range, "
        "regex, suffix"]
    assert list(problems(shape, {"spec": {"tcpRoute": {"action": {}}}})) == []
