"""The service deployment operations moto 5.2.x lacks, answered from `service_deployments`.

ListServiceDeployments (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html),
DescribeServiceDeployments (.../API_DescribeServiceDeployments.html),
DescribeServiceRevisions (.../API_DescribeServiceRevisions.html),
StopServiceDeployment (.../API_StopServiceDeployment.html) and
ContinueServiceDeployment (.../API_ContinueServiceDeployment.html), with AWS's error codes:
ServiceNotFoundException, ClusterNotFoundException, ServiceDeploymentNotFoundException, and
ConflictException for a deployment (or hook) no longer in a state that allows the call.
"""
from __future__ import annotations

import copy
import datetime
from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, handler
from mylearning.emulator.fidelity.ecs.access import SERVICE, _backend, _cluster, invalid_parameter
from mylearning.emulator.fidelity.ecs.service_deployments import (_DEPLOYMENTS, _REVISIONS, Record, _now,
                                                                  brief, describe, follow_rollout)


def _service(req: AwsRequest) -> Any:
    cluster = _cluster(req.region, req.params.get("cluster"))
    if cluster is None:
        raise AwsError("ClusterNotFoundException", "Cluster not found.", 400)
    name = (req.params.get("service") or "").split("/")[-1]
    service = _backend(req.region).services.get(f"{cluster.name}:{name}")
    if service is None:
        raise AwsError("ServiceNotFoundException", "Service not found.", 400)
    return service


def _moment(value: Any) -> datetime.datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    try:
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise invalid_parameter(f"Invalid timestamp: {value}") from None


def _aware(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


@handler(SERVICE, "ListServiceDeployments")
def list_service_deployments(req: AwsRequest) -> tuple[int, Any]:
    """Newest first; filtered by status and createdAt (before/after); paged by maxResults
    (1-100, default 20) and nextToken."""
    from mylearning.emulator.fidelity.ecs.rollout import LOCK
    with LOCK:
        service = _service(req)
        follow_rollout(service)
        wanted = set(req.params.get("status") or [])
        window = req.params.get("createdAt") or {}
        before, since = _moment(window.get("before")), _moment(window.get("after"))
        found = [r for r in _DEPLOYMENTS.values() if r.service_arn == service.arn
                 and (not wanted or r.status in wanted)
                 and (before is None or _aware(r.created_at) <= _aware(before))
                 and (since is None or _aware(r.created_at) >= _aware(since))]
        found.sort(key=lambda r: r.created_at, reverse=True)
        size = req.params.get("maxResults") or 20
        if not isinstance(size, int) or not 1 <= size <= 100:
            raise invalid_parameter("maxResults must be from 1 to 100.")
        start_at = 0
        token = req.params.get("nextToken")
        if token:
            start_at = next((n for n, r in enumerate(found) if r.arn == token), None)
            if start_at is None:
                raise invalid_parameter("The nextToken is not valid.")
        page = found[start_at:start_at + size]
        body: dict[str, Any] = {"serviceDeployments": [brief(r) for r in page]}
        if start_at + size < len(found):
            body["nextToken"] = found[start_at + size].arn
    return 200, body


def _arns(req: AwsRequest, member: str) -> list[str]:
    arns = req.params.get(member) or []
    if not isinstance(arns, list) or not arns:
        raise invalid_parameter(f"{member} must name at least one ARN.")
    if len(arns) > 20:
        raise invalid_parameter(f"{member} can have at most 20 ARNs.")
    return arns


@handler(SERVICE, "DescribeServiceDeployments")
def describe_service_deployments(req: AwsRequest) -> tuple[int, Any]:
    """Unknown ARNs come back as failures with reason MISSING (up to 20 ARNs per call)."""
    from mylearning.emulator.fidelity.ecs.rollout import LOCK
    arns = _arns(req, "serviceDeploymentArns")
    with LOCK:
        for record in {r.service_key: r for r in (_DEPLOYMENTS.get(a) for a in arns) if r}.values():
            service = _backend(record.region).services.get(record.service_key)
            if service is not None:
                follow_rollout(service)
        found = [describe(_DEPLOYMENTS[a]) for a in arns if a in _DEPLOYMENTS]
    failures = [{"arn": a, "reason": "MISSING"} for a in arns if a not in _DEPLOYMENTS]
    return 200, {"serviceDeployments": found, "failures": failures}


@handler(SERVICE, "DescribeServiceRevisions")
def describe_service_revisions(req: AwsRequest) -> tuple[int, Any]:
    arns = _arns(req, "serviceRevisionArns")
    found = [copy.deepcopy(_REVISIONS[a]) for a in arns if a in _REVISIONS]
    failures = [{"arn": a, "reason": "MISSING"} for a in arns if a not in _REVISIONS]
    return 200, {"serviceRevisions": found, "failures": failures}


def _record(req: AwsRequest) -> Record:
    arn = req.params.get("serviceDeploymentArn") or ""
    record = _DEPLOYMENTS.get(arn)
    if record is None:
        raise AwsError("ServiceDeploymentNotFoundException",
                       f"The service deployment {arn} does not exist.", 400)
    return record


@handler(SERVICE, "StopServiceDeployment")
def stop_service_deployment(req: AwsRequest) -> tuple[int, Any]:
    """ROLLBACK (the only stop type the API reference calls valid) returns the service to
    its previous revision, "even if you didn't configure the service deployment for the
    rollback option"; only a deployment in progress can be stopped."""
    from mylearning.emulator.fidelity.ecs import blue_green, scheduler
    from mylearning.emulator.fidelity.ecs.rollout import LOCK
    stop_type = req.params.get("stopType") or "ROLLBACK"
    if stop_type != "ROLLBACK":
        raise invalid_parameter(f"stopType {stop_type} is not supported. The valid values are ROLLBACK.")
    with LOCK:
        record = _record(req)
        service = _backend(record.region).services.get(record.service_key)
        if service is not None:
            follow_rollout(service)
        if record.status != "IN_PROGRESS" or service is None:
            raise AwsError("ConflictException", f"The service deployment is {record.status}; only a "
                           "deployment that is IN_PROGRESS can be stopped.", 400)
        record.status = "ROLLBACK_REQUESTED"
        record.updated_at = _now()
        if record.plan:
            blue_green.roll_back(_backend(record.region), service, record,
                                 "Service deployment rolled back by StopServiceDeployment.")
        else:
            deployment = next((d for d in service.deployments if d.get("id") == record.deployment_id), None)
            if deployment is not None and any(d.get("status") == "ACTIVE" for d in service.deployments):
                reason = "Service deployment rolled back by StopServiceDeployment."
                deployment["rolloutState"] = "FAILED"
                deployment["rolloutStateReason"] = reason
                record.rollback = {"reason": reason, "startedAt": _now(),
                                   "serviceRevisionArn": (record.sources or [record.target])[0]}
                record.status, record.status_reason = "ROLLBACK_IN_PROGRESS", reason
                scheduler.begin_rollback(_backend(record.region), service, deployment)
            else:
                record.status = "ROLLBACK_FAILED"
                record.status_reason = "There is no previous service revision to roll back to."
        scheduler.settle(_backend(record.region), service)
    return 200, {"serviceDeploymentArn": record.arn}


@handler(SERVICE, "ContinueServiceDeployment")
def continue_service_deployment(req: AwsRequest) -> tuple[int, Any]:
    """CONTINUE (default) or ROLLBACK a pause hook that is AWAITING_ACTION, while the deployment
    is IN_PROGRESS (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/continue-service-deployment.html)."""
    from mylearning.emulator.fidelity.ecs import blue_green
    from mylearning.emulator.fidelity.ecs.rollout import LOCK
    action = req.params.get("action") or "CONTINUE"
    with LOCK:
        record = _record(req)
        hook = next((h for h in record.hooks if h.get("hookId") == req.params.get("hookId")), None)
        if hook is None:
            raise invalid_parameter(f"The hook {req.params.get('hookId')} is not a hook of this service "
                                    "deployment.")
        if record.status != "IN_PROGRESS" or hook.get("status") != "AWAITING_ACTION":
            raise AwsError("ConflictException", f"The hook is {hook.get('status')} and the deployment "
                           f"{record.status}; only a hook AWAITING_ACTION of a deployment IN_PROGRESS "
                           "can be continued.", 400)
        service = _backend(record.region).services.get(record.service_key)
        blue_green.answer_hook(_backend(record.region), service, record, hook, action)
    return 200, {"serviceDeploymentArn": record.arn}
