"""Service deployments and service revisions, as ECS records them (moto 5.2.x has neither).

Every deployment a service starts (CreateService, an UpdateService that deploys, a circuit
breaker's rollback) gets a service deployment and its target a service revision:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html and
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-revision.html. A rolling
deployment's status follows its ``rolloutState``; a blue/green, linear or canary deployment's
is set by `blue_green`, which runs it.

`describe` and `brief` give them AWS's shapes
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html,
.../API_ServiceDeploymentBrief.html); `deployment_operations` serves the operations.
"""
from __future__ import annotations

import copy
import datetime
import secrets
from dataclasses import dataclass, field
from typing import Any

from mylearning.emulator.fidelity.core import on_reset
from mylearning.emulator.fidelity.ecs.access import _backend
from mylearning.facts import ecs_deployments as facts

#: ServiceDeploymentBrief / DescribeServiceDeployments are told apart by these ARNs' prefix.
DEPLOYMENT = "service-deployment"
REVISION = "service-revision"


@dataclass
class Record:
    """One service deployment, with what the scheduler needs to run it (``plan`` etc.)."""

    arn: str
    deployment_id: str          # the ecs-svc/... ID of the Deployment in DescribeServices
    service_key: str            # moto's "cluster:service" key
    service_arn: str
    cluster_arn: str
    region: str
    target: str                 # service revision ARN
    sources: list[str]          # service revision ARNs
    config: dict
    created_at: datetime.datetime
    strategy: str = "ROLLING"
    status: str = "PENDING"
    status_reason: str | None = None
    stage: str | None = None
    started_at: datetime.datetime | None = None
    finished_at: datetime.datetime | None = None
    stopped_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    rollback: dict | None = None
    hooks: list[dict] = field(default_factory=list)
    triggered_alarms: list[str] = field(default_factory=list)
    #: Percent of production and test traffic the target revision has been given.
    production: float = 0.0
    test: float = 0.0
    #: Tasks of this deployment that failed (the circuit breaker's failureCount).
    failed_tasks: int = 0
    #: `blue_green`'s own: the steps still to run and the state of the current one.
    plan: list[dict] = field(default_factory=list)
    step: dict = field(default_factory=dict)
    #: {configured target group: (group serving the sources, group of the target)}
    groups: dict[str, tuple[str, str]] = field(default_factory=dict)


_DEPLOYMENTS: dict[str, Record] = {}
_REVISIONS: dict[str, dict] = {}


@on_reset
def _reset() -> None:
    _DEPLOYMENTS.clear()
    _REVISIONS.clear()


def _now() -> datetime.datetime:
    from moto.core.utils import utcnow
    return utcnow()


def _arn(kind: str, service: Any, suffix: str) -> str:
    prefix = service.arn.split(":service/")[0]
    return f"{prefix}:{kind}/{service.cluster_name}/{service.name}/{suffix}"


def revision(service: Any, deployment: dict) -> str:
    """The service revision of a deployment, made the first time it is asked for."""
    found = getattr(service, "_ml_revisions", None)
    if found is None:
        found = service._ml_revisions = {}
    if deployment["id"] in found:
        return found[deployment["id"]]
    arn = _arn(REVISION, service, deployment["id"].split("/")[-1])
    td = deployment.get("taskDefinition") or service.task_definition
    images = []
    try:
        for container in service._backend.describe_task_definition(td).container_definitions:
            images.append({"containerName": container.get("name"), "image": container.get("image")})
    except Exception:
        pass
    body = {"serviceRevisionArn": arn, "serviceArn": service.arn,
            "clusterArn": service.arn.replace(":service/", ":cluster/").rsplit("/", 1)[0],
            "taskDefinition": td, "loadBalancers": copy.deepcopy(service.load_balancers or []),
            "serviceRegistries": copy.deepcopy(getattr(service, "service_registries", None) or []),
            "containerImages": images, "createdAt": deployment.get("createdAt") or _now()}
    for key in ("launchType", "capacityProviderStrategy", "platformVersion", "platformFamily",
                "networkConfiguration", "serviceConnectConfiguration"):
        if deployment.get(key) is not None:
            body[key] = copy.deepcopy(deployment[key])
    _REVISIONS[arn] = body
    found[deployment["id"]] = arn
    return arn


def resolve(arn: str, groups: list[dict]) -> None:
    """Record which target group and production rule a revision serves through."""
    if arn in _REVISIONS:
        _REVISIONS[arn]["resolvedConfiguration"] = {"loadBalancers": groups}


def record_for(service: Any, deployment_id: str) -> Record | None:
    return next((r for r in _DEPLOYMENTS.values()
                 if r.deployment_id == deployment_id and r.service_arn == service.arn), None)


def open_record(service: Any) -> Record | None:
    """The service's deployment that has not finished yet (at most one), or None."""
    return next((r for r in _DEPLOYMENTS.values()
                 if r.service_arn == service.arn and r.status in facts.UNFINISHED), None)


def start(service: Any, primary: dict) -> Record:
    """Record the service's new PRIMARY deployment (once)."""
    found = record_for(service, primary["id"])
    if found is not None:
        return found
    follow_rollout(service)  # a failed deployment this one rolls back from says so first
    now = _now()
    target = revision(service, primary)
    sources = [revision(service, d) for d in service.deployments if d.get("id") != primary["id"]]
    config = copy.deepcopy(getattr(service, "deployment_configuration", None) or {})
    record = Record(arn=_arn(DEPLOYMENT, service, secrets.token_urlsafe(16)), deployment_id=primary["id"],
                    service_key=f"{service.cluster_name}:{service.name}", service_arn=service.arn,
                    cluster_arn=service.arn.replace(":service/", ":cluster/").rsplit("/", 1)[0],
                    region=service.region_name, target=target, sources=sources, config=config,
                    created_at=now, started_at=now, updated_at=now,
                    strategy=config.get("strategy") or "ROLLING", status="IN_PROGRESS")
    for other in _DEPLOYMENTS.values():  # a new deployment replaces one still running
        if other.service_arn == service.arn and other.status in ("PENDING", "IN_PROGRESS"):
            other.status, other.stopped_at, other.updated_at = "STOPPED", now, now
            other.status_reason = f"Service deployment replaced by {record.arn}."
    _DEPLOYMENTS[record.arn] = record
    return record


def task_failed(service: Any, deployment_id: str) -> None:
    """A task of the deployment stopped on its own (see `rollout.record_failure`)."""
    record = record_for(service, deployment_id)
    if record is not None:
        record.failed_tasks += 1


def follow_rollout(service: Any) -> None:
    """A rolling deployment's status follows its rolloutState: COMPLETED is SUCCESSFUL; FAILED
    with a circuit breaker (or StopServiceDeployment) rollback is ROLLBACK_IN_PROGRESS until
    the deployment that rolls back completed, then ROLLBACK_SUCCESSFUL; FAILED without one,
    or replaced, is STOPPED."""
    primary = next((d for d in service.deployments if d.get("status") == "PRIMARY"), None)
    for record in _DEPLOYMENTS.values():
        if record.service_arn != service.arn or record.status not in facts.UNFINISHED or record.plan:
            continue
        deployment = next((d for d in service.deployments if d.get("id") == record.deployment_id), None)
        state = (deployment or {}).get("rolloutState")
        now = _now()
        rolled = primary is not None and primary.get("id") != record.deployment_id and (
            state == "FAILED" or record.rollback is not None)
        if state == "COMPLETED" and deployment is primary:
            record.status, record.finished_at = "SUCCESSFUL", now
            record.status_reason = deployment.get("rolloutStateReason")
        elif rolled:
            if record.rollback is None:
                record.rollback = {"reason": (deployment or {}).get("rolloutStateReason") or "",
                                   "startedAt": now, "serviceRevisionArn": revision(service, primary)}
                record.status_reason = record.rollback["reason"]
            done = primary.get("rolloutState") == "COMPLETED"
            record.status = "ROLLBACK_SUCCESSFUL" if done else "ROLLBACK_IN_PROGRESS"
            if done:
                record.finished_at = now
        elif state == "FAILED" or deployment is None:
            record.status, record.stopped_at = "STOPPED", now
            record.status_reason = (deployment or {}).get("rolloutStateReason") or record.status_reason
        else:
            continue
        record.updated_at = now


# ---------------------------------------------------------------- shapes

def _summary(service: Any, arn: str, record: Record, is_target: bool) -> dict:
    tasks = [t for t in service._backend.tasks.get(service.cluster_name, {}).values()
             if t.group == f"service:{service.name}" and t.desired_status == "RUNNING"
             and (getattr(service, "_ml_revisions", {}) or {}).get(t.started_by) == arn]
    running = sum(1 for t in tasks if t.last_status == "RUNNING")
    # The target is asked for the desired count; a source for what it still runs (a blue/green
    # source keeps its full count until CLEAN_UP, a rolling one shrinks as the target grows).
    requested = service.desired_count if is_target else len(tasks)
    body = {"arn": arn, "requestedTaskCount": requested, "runningTaskCount": running,
            "pendingTaskCount": len(tasks) - running}
    if record.plan or record.strategy in facts.TRAFFIC_SHIFTING:
        body["requestedProductionTrafficWeight"] = record.production if is_target else 100.0 - record.production
        body["requestedTestTrafficWeight"] = record.test if is_target else 100.0 - record.test
    return body


def _monitors(record: Record) -> dict:
    finished = record.status not in facts.UNFINISHED
    alarms = record.config.get("alarms") or {}
    if not alarms.get("enable"):
        alarm_view = {"status": "DISABLED"}
    else:
        alarm_view = {"status": "TRIGGERED" if record.triggered_alarms else (
            "MONITORING_COMPLETE" if finished else "MONITORING"), "alarmNames": list(alarms.get("alarmNames") or [])}
        if record.triggered_alarms:
            alarm_view["triggeredAlarmNames"] = list(record.triggered_alarms)
    breaker = record.config.get("deploymentCircuitBreaker") or {}
    return {"alarms": alarm_view, "breaker": {"status": "DISABLED"} if not breaker.get("enable") else {
        "status": "MONITORING_COMPLETE" if finished else "MONITORING"}}


def describe(record: Record) -> dict:
    service = _backend(record.region).services.get(record.service_key)
    body: dict[str, Any] = {
        "serviceDeploymentArn": record.arn, "serviceArn": record.service_arn,
        "clusterArn": record.cluster_arn, "createdAt": record.created_at, "status": record.status,
        "deploymentConfiguration": copy.deepcopy(record.config)}
    for key, value in (("startedAt", record.started_at), ("finishedAt", record.finished_at),
                       ("stoppedAt", record.stopped_at), ("updatedAt", record.updated_at),
                       ("statusReason", record.status_reason), ("lifecycleStage", record.stage),
                       ("rollback", record.rollback)):
        if value is not None:
            body[key] = value
    if service is not None:
        body["targetServiceRevision"] = _summary(service, record.target, record, True)
        body["sourceServiceRevisions"] = [_summary(service, s, record, False) for s in record.sources]
    if record.hooks:
        body["lifecycleHookDetails"] = [{k: v for k, v in h.items() if not k.startswith("_")}
                                        for h in record.hooks]
    monitors = _monitors(record)
    body["alarms"] = monitors["alarms"]
    breaker = monitors["breaker"]
    if service is not None and breaker["status"] != "DISABLED":
        from mylearning.emulator.fidelity.ecs.rollout import failure_threshold
        breaker.update(failureCount=record.failed_tasks, threshold=failure_threshold(service.desired_count))
    body["deploymentCircuitBreaker"] = breaker
    return body


def brief(record: Record) -> dict:
    body = {"serviceDeploymentArn": record.arn, "serviceArn": record.service_arn,
            "clusterArn": record.cluster_arn, "createdAt": record.created_at,
            "targetServiceRevisionArn": record.target, "status": record.status}
    for key, value in (("startedAt", record.started_at), ("finishedAt", record.finished_at),
                       ("statusReason", record.status_reason)):
        if value is not None:
            body[key] = value
    return body


def record_new(service: Any) -> None:
    """Each new PRIMARY deployment gets its service deployment before the scheduler runs it
    (the scheduler calls this after CreateService and UpdateService)."""
    from mylearning.emulator.fidelity.ecs import blue_green
    primary = next((d for d in service.deployments if d.get("status") == "PRIMARY"), None)
    if primary is not None and record_for(service, primary["id"]) is None:
        blue_green.prepare(service, start(service, primary))
