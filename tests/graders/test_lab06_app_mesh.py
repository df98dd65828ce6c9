"""Lab 06's checks name the usual App Mesh mistakes and say how to fix them; on a real account
they say plainly why the lab cannot run there."""
from __future__ import annotations

import json

import boto3
import pytest

from mylearning import answers, course, lookup, mesh, microservices, prepare, taskdefs
from mylearning.backend import CourseSession
from mylearning.course import lab06_app_mesh as lab
from mylearning.mesh import sidecar

LAB = "06"


def _step(session, step_id):
    return course.lab_of_step(step_id).evaluate(session, [step_id]).results[0]


def test_on_a_real_account_every_check_says_why_and_nothing_calls_app_mesh(capsys):
    real = CourseSession(boto3.Session(region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE",
                                       aws_secret_access_key="not-used"), "aws", None, "t")
    assert lab.unavailable_reason(real) and "2026-09-30" in lab.unavailable_reason(real)
    report = course.grader(LAB).evaluate(real)
    assert report.total == 0 and len(report.results) == 10
    for result in report.results:
        assert "end of support on 2026-09-30" in result.message and "embedded AWS" in result.hint
    assert lab.build(real) is None and "end of support" in capsys.readouterr().out
    assert lab.teardown(real).actions == []


def test_lab06_mistakes_get_named(session):
    prepare.up_to(session, "04", quiet=True)  # the network, the cluster and the task definitions
    name = mesh.mesh_name(session)
    am, iam, ec2 = session.client("appmesh"), session.client("iam"), session.client("ec2")
    assert "no mesh" in _step(session, "6.1").message

    mesh.ensure_mesh(session, LAB, name, "ALLOW_ALL")
    result = _step(session, "6.1")
    assert not result.passed and "ALLOW_ALL" in result.message and "set_egress_filter" in result.hint
    mesh.set_egress_filter(session, name, "DROP_ALL")
    assert _step(session, "6.1").passed

    namespace = f"{session.prefix}.internal"
    mesh.ensure_virtual_node(session, LAB, name, "courses-api-v1", discovery=f"courses-api.{namespace}",
                             health_check="/health")
    result = _step(session, "6.2")
    assert not result.passed and "through DNS" in result.message and "cloud_map" in result.hint
    mesh.ensure_virtual_node(session, LAB, name, "courses-api-v1", discovery=(namespace, "courses-api"), update=True)
    result = _step(session, "6.2")
    assert not result.passed and "no health check" in result.message
    lab.ensure_mesh_resources(session, LAB, enrollment_backends=False)
    mesh.ensure_virtual_node(session, LAB, name, "courses-api-v1", discovery=(namespace, "courses-api"),
                             health_check="/health", update=True)
    assert _step(session, "6.2").passed and _step(session, "6.3").passed and _step(session, "6.4").passed

    mesh.ensure_route(session, LAB, name, lab.ROUTER, lab.ROUTE, {"courses-api-v1": 100}, prefix="/api", update=True)
    result = _step(session, "6.3")
    assert not result.passed and "not every path" in result.message
    mesh.ensure_route(session, LAB, name, lab.ROUTER, lab.ROUTE, {"courses-api-v1": 100}, update=True)
    courses = lab.virtual_service(session, "courses-api")
    mesh.ensure_virtual_service(session, LAB, name, courses, provider_node="courses-api-v1", update=True)
    result = _step(session, "6.4")
    assert not result.passed and "virtualRouter" in result.message
    mesh.ensure_virtual_service(session, LAB, name, courses, provider_router=lab.ROUTER, update=True)

    # 6.5: the sidecar without the proxy configuration, then without the role's permission, then too wide.
    ecs = session.client("ecs")
    result = _step(session, "6.5")
    assert not result.passed and "no envoy container" in result.message
    node_arns = {s: lab.node_arn(session, s) for s in lab.NODES}
    for service, arn in node_arns.items():
        running = taskdefs.latest(ecs, microservices.family(session, service))
        spec = sidecar.with_envoy(taskdefs.as_spec(running, tags=session.tags(LAB, style="key")), arn)
        if service == "courses-api":
            spec.pop("proxyConfiguration")
        taskdefs.ensure_registered(ecs, spec)
    result = _step(session, "6.5")
    assert not result.passed and "proxyConfiguration" in result.message and "with_envoy" in result.hint
    for service, arn in node_arns.items():
        running = taskdefs.latest(ecs, microservices.family(session, service))
        taskdefs.ensure_registered(ecs, sidecar.with_envoy(taskdefs.as_spec(
            running, tags=session.tags(LAB, style="key")), arn))
    result = _step(session, "6.5")
    assert not result.passed and "does not allow appmesh:StreamAggregatedResources" in result.message
    role = microservices.task_role_name(session, "courses-api")
    iam.put_role_policy(RoleName=role, PolicyName=lab.MESH_POLICY,
                        PolicyDocument=json.dumps(sidecar.stream_permission(["*"])))
    lab.allow_envoy(session, microservices.task_role_name(session, "enrollment"), node_arns["enrollment"])
    result = _step(session, "6.5")
    assert not result.passed and "every mesh resource" in result.message and "'*'" in result.hint
    lab.allow_envoy(session, role, node_arns["courses-api"])
    assert _step(session, "6.5").passed

    # 6.7: a gateway route that rewrites the prefix to '/'.
    mesh.ensure_virtual_gateway(session, LAB, name, lab.GATEWAY)
    mesh.ensure_gateway_route(session, LAB, name, lab.GATEWAY, "courses", courses, prefix="/api/courses")
    result = _step(session, "6.7")
    assert not result.passed and "rewrites /api/courses to '/'" in result.message and "keep_prefix" in result.hint

    # 6.8: the admin port open to the world.
    vpc = lookup.vpc(session, session.name("vpc"))
    tasks_sg = lookup.security_group(session, vpc["VpcId"], session.name("tasks-sg"))["GroupId"]
    assert "from no address" in _step(session, "6.8").message
    ec2.authorize_security_group_ingress(GroupId=tasks_sg, IpPermissions=[lab.admin_rule(
        {"IpRanges": [{"CidrIp": "0.0.0.0/0"}]})])
    result = _step(session, "6.8")
    assert not result.passed and "0.0.0.0/0" in result.message and "/32" in result.hint

    # 6.9: no backend declared, and no refusal seen.
    result = _step(session, "6.9")
    assert not result.passed and "no running task" in result.message  # lab 04's services are not built here
    # 6.10: the route's retries and timeout, then the recorded rates.
    result = _step(session, "6.10")
    assert not result.passed and "App Mesh default" in result.message and "server-error" in result.hint
    lab.set_route(session, LAB, retries=True)
    http = lookup.mesh_resource(session, "route", name, lab.ROUTE, lab.ROUTER)["spec"]["httpRoute"]
    am.update_route(meshName=name, virtualRouterName=lab.ROUTER, routeName=lab.ROUTE, spec={"httpRoute": {
        key: value for key, value in http.items() if key != "timeout"}})
    result = _step(session, "6.10")
    assert not result.passed and "no per-request timeout" in result.message
    lab.set_route(session, LAB, retries=True)
    assert "not both recorded" in _step(session, "6.10").message
    answers.record_answer(LAB, lab.RATE_WITHOUT, 0.97, session=session)
    answers.record_answer(LAB, lab.RATE_WITH, 0.99, session=session)
    result = _step(session, "6.10")
    assert not result.passed and "not flaky" in result.message and "set_error_rate" in result.hint
    answers.record_answer(LAB, lab.RATE_WITHOUT, 70, session=session)
    assert "between 0 and 1" in _step(session, "6.10").message
    answers.record_answer(LAB, lab.RATE_WITHOUT, 0.7, session=session)
    answers.record_answer(LAB, lab.RATE_WITH, 0.8, session=session)
    assert "only 80.0%" in _step(session, "6.10").message


@pytest.mark.parametrize("step", [s for s in course.grader(LAB).steps])
def test_every_check_fails_with_a_hint_on_an_empty_account(session, step):
    """Without anything of the lab, every check fails with a hint, and raises nothing."""
    result = _step(session, step)
    assert not result.passed and result.hint, result.to_text()
