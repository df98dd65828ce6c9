"""Turning a course image's knobs on tasks that already run: faults injected on purpose.

The course's images answer ``POST /_mylearning/knobs`` with a JSON object of knobs
(``{"ERROR_RATE": 0.3}`` makes a service answer that share of its API requests with 500,
``LATENCY_MS`` slows them; the catalogue lists every knob). A lab turns them to show what a
mesh, a load balancer or an alarm does about a failing backend.

The tasks live in private subnets behind security groups that admit only the load balancer
and each other (lab 04), so your notebook cannot reach them, on AWS or here. `post` does it
from inside: a one-off busybox task in the services' own security group sends the request to
each task, as an operator reaches private tasks from within the VPC, then exits; its exit code
says whether every task took the change. (On a real account the course's images are the ones
you pushed, and only they have knobs.) Behind STRICT TLS (lab 07) only meshed callers get
in, so `roll` sets knobs the other way, through the task definition's environment, as a release
would.
"""
from __future__ import annotations

import json
import shlex
import time
from typing import Any, Iterable

from mylearning import lookup, microservices as ms, taskdefs, tasks

PATH = "/_mylearning/knobs"


def command(addresses: Iterable[str], knobs: dict[str, Any], port: int = ms.APP_PORT) -> list[str]:
    """The busybox command that posts `knobs` to every address, failing on the first refusal."""
    body = shlex.quote(json.dumps(knobs))
    calls = [f"curl -s -f -X POST -H 'Content-Type: application/json' -d {body} http://{ip}:{port}{PATH}"
             for ip in addresses]
    return ["sh", "-c", " && ".join(calls) or "true"]


def post(session: Any, lab: str, service: str, knobs: dict[str, Any], *, timeout: float = 60.0) -> list[str]:
    """Set `knobs` on every running task of MyLearning's `service` (its ECS service, lab 04);
    the ids of the tasks changed. Raises RuntimeError when a task did not take them."""
    ecs, cluster = session.client("ecs"), session.name("cluster")
    arns = ecs.list_tasks(cluster=cluster, serviceName=ms.service_name(session, service),
                          desiredStatus="RUNNING").get("taskArns", [])
    targets = [t for t in tasks.describe(session, cluster, arns) if t.get("lastStatus") == "RUNNING"]
    if not targets:
        return []
    execution = lookup.role(session.client("iam"), ms.execution_role_name(session))
    log = taskdefs.awslogs(ms.log_group(session, service), session.region_name, "knobs")
    spec = taskdefs.fargate_task(
        session.name("knobs"), [taskdefs.container("knobs", ms.INIT_IMAGE, log=log,
                                                   command=command([tasks.private_ip(t) for t in targets], knobs))],
        cpu=256, memory=512, execution_role_arn=execution["Arn"], task_role_arn=None,
        tags=session.tags(lab, style="key"))
    # One revision per command: the addresses change as tasks are replaced.
    td, _ = taskdefs.ensure_registered(ecs, spec)
    vpc = lookup.vpc(session, session.name("vpc"))
    subnets = [s["SubnetId"] for s in lookup.subnets(session, vpc["VpcId"], "private")]
    group = lookup.security_group(session, vpc["VpcId"], session.name("tasks-sg"))["GroupId"]
    task = tasks.run_once(session, cluster, td["taskDefinitionArn"], subnets=subnets, security_groups=[group],
                          started_by=ms.started_by(session, lab), tags=session.tags(lab, style="key"))
    deadline = time.monotonic() + timeout
    while True:
        found = tasks.describe(session, cluster, [task["taskArn"]])[0]
        if found.get("lastStatus") == "STOPPED":
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"The knobs task {tasks.task_id(found)[:8]} did not finish in {timeout:g} s.")
        time.sleep(0.2)
    code = next((c.get("exitCode") for c in found.get("containers", [])), None)
    if code != 0:
        raise RuntimeError(f"Not every {service} task took {knobs}: the knobs task exited {code} "
                           f"({found.get('stoppedReason')}); its log is in {ms.log_group(session, service)}.")
    return [tasks.task_id(t) for t in targets]


def with_environment(spec: dict, image_part: str, values: dict[str, Any]) -> dict:
    """`spec` (RegisterTaskDefinition arguments) with `values` in the environment of each container
    whose image contains `image_part`; a value of None removes that variable."""
    import copy
    out = copy.deepcopy(spec)
    for container in out.get("containerDefinitions", []):
        if image_part not in container.get("image", ""):
            continue
        kept = [e for e in container.get("environment", []) if e.get("name") not in values]
        container["environment"] = kept + [{"name": k, "value": str(v)} for k, v in values.items() if v is not None]
    return out


def roll(session: Any, lab: str, ecs_service: str, image_part: str, values: dict[str, Any], *,
         wait: bool = True, timeout: float = 240) -> bool:
    """Set knobs through the task definition: roll ECS service `ecs_service` onto a revision of its
    running one whose `image_part` containers have `values` in their environment (None removes a
    knob), as a release would. Unlike `post`, it reaches tasks that only accept TLS (lab 07) and
    the new tasks keep the knobs. True when it rolled (False: already so); steady when `wait`."""
    from mylearning import deployments
    ecs, cluster = session.client("ecs"), session.name("cluster")
    service = lookup.ecs_service(session, cluster, ecs_service)
    if service is None:
        raise LookupError(f"There is no ECS service {ecs_service} in {cluster}")
    running = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    spec = with_environment(taskdefs.as_spec(running, tags=session.tags(lab, style="key")), image_part, values)
    td, _ = taskdefs.ensure_registered(ecs, spec)
    if td["taskDefinitionArn"] == service["taskDefinition"]:
        return False
    ecs.update_service(cluster=cluster, service=ecs_service, taskDefinition=td["taskDefinitionArn"])
    if wait:
        deployments.wait_steady(session, cluster, ecs_service, timeout=timeout, delay=0.5)
    return True
