"""The Security Hub ECS.x controls, evaluated on the resources as their Describe calls answer.

Each function reads one resource and returns that resource's findings, one per control that
applies (PASSED or FAILED); a control that does not apply to the resource (ECS.5 on a Windows task
definition, ECS.18 on one without EFS volumes) gives no finding, as Security Hub gives none.
The rules are the page's, word for word where it is exact:
https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html
Task-definition controls see the latest ACTIVE revision of each family only (the inventory
describes families, not revisions), as every one of them says.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from mylearning.facts import securityhub as sh
from mylearning.security.findings import Finding


def _finding(control_id: str, resource: str, problems: Sequence[str]) -> Finding:
    status = sh.FAILED if problems else sh.PASSED
    return Finding(sh.control(control_id), resource, status, "; ".join(problems))


def _containers(definition: dict) -> list[dict]:
    return list(definition.get("containerDefinitions") or [])


def _os_family(definition: dict) -> str | None:
    return (definition.get("runtimePlatform") or {}).get("operatingSystemFamily")


def _is_windows(definition: dict) -> bool:
    # The Windows families are WINDOWS_SERVER_2019_FULL, WINDOWS_SERVER_2022_CORE, ...
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html
    return (_os_family(definition) or "").startswith("WINDOWS_SERVER")


def _user_name(user: str | None) -> str | None:
    """The user part of "user", "uid", "user:group" or "uid:gid" (ContainerDefinition.user)."""
    if user is None or user == "":
        return None
    return user.split(":", 1)[0]


def _linux_root(user: str | None) -> bool:
    """ECS.1 and ECS.20's root: absent, or one of the default root users ("root", "0")."""
    name = _user_name(user)
    return name is None or name in sh.LINUX_ROOT_USERS


# ------------------------------------------------------------------ task definitions
def task_definition(definition: dict, required_tag_keys: Sequence[str] = ()) -> list[Finding]:
    """ECS.1, 3, 4, 5, 8, 9, 15, 17, 18, 20, 21 on one (latest active) task definition."""
    arn = definition["taskDefinitionArn"]
    containers = _containers(definition)
    host = definition.get("networkMode") == "host"
    found = []

    # ECS.1 (retired March 2026): host mode, and a container neither privileged nor non-root.
    # https://docs.aws.amazon.com/config/latest/developerguide/ecs-task-definition-user-for-host-mode-check.html
    found.append(_finding("ECS.1", arn, [
        f"container {c['name']} runs on the host network as root and is not privileged"
        for c in containers if host and not c.get("privileged") and _linux_root(c.get("user"))]))
    # ECS.3: pidMode host shares the host's process namespace.
    found.append(_finding("ECS.3", arn, ["pidMode is 'host'"] if definition.get("pidMode") == "host" else []))
    # ECS.4: privileged is true in some container.
    found.append(_finding("ECS.4", arn, [f"container {c['name']} is privileged"
                                         for c in containers if c.get("privileged") is True]))
    # ECS.5: readonlyRootFilesystem false or absent; not applicable to WINDOWS_SERVER families.
    if not _is_windows(definition):
        found.append(_finding("ECS.5", arn, [
            f"container {c['name']} has a writable root file system"
            + ("" if "readonlyRootFilesystem" in c else " (readonlyRootFilesystem absent)")
            for c in containers if c.get("readonlyRootFilesystem") is not True]))
    # ECS.8: an environment variable named exactly one of the secretKeys.
    found.append(_finding("ECS.8", arn, [
        f"container {c['name']} passes {e['name']} in environment"
        for c in containers for e in c.get("environment") or [] if e.get("name") in sh.SECRET_KEYS]))
    # ECS.9: no logConfiguration, or its logDriver null, in some container.
    found.append(_finding("ECS.9", arn, [
        f"container {c['name']} has no log driver" for c in containers
        if not (c.get("logConfiguration") or {}).get("logDriver")]))
    found.append(tagged("ECS.15", arn, definition.get("tags") or [], required_tag_keys))
    # ECS.17: networkMode host.
    found.append(_finding("ECS.17", arn, ["networkMode is 'host'"] if host else []))
    # ECS.18: only task definitions with EFS volumes are evaluated; transitEncryption defaults
    # to DISABLED. https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_EFSVolumeConfiguration.html
    efs = [v for v in definition.get("volumes") or [] if v.get("efsVolumeConfiguration")]
    if efs:
        found.append(_finding("ECS.18", arn, [
            f"EFS volume {v['name']} has transit encryption disabled" for v in efs
            if v["efsVolumeConfiguration"].get("transitEncryption") != "ENABLED"]))
    family = _os_family(definition)
    # ECS.20: evaluated when the family is LINUX or not configured.
    if family in (None, "LINUX"):
        found.append(_finding("ECS.20", arn, [
            f"container {c['name']} runs as root" + ("" if c.get("user") else " (no user set)")
            for c in containers if _linux_root(c.get("user"))]))
    # ECS.21: evaluated when the family is WINDOWS_SERVER or not configured. Windows account
    # names are not case-sensitive, so ContainerAdministrator is the default administrator too.
    if family is None or _is_windows(definition):
        found.append(_finding("ECS.21", arn, [
            f"container {c['name']} runs as the administrator" + ("" if c.get("user") else " (no user set)")
            for c in containers
            if not c.get("user") or c["user"].lower() == sh.WINDOWS_ADMIN_USER]))
    return found


# ------------------------------------------------------------------ services and task sets
def _assign_public_ip(resource: dict) -> str:
    config = (resource.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    return config.get("assignPublicIp") or "DISABLED"  # the API's default


def _on_fargate(service: dict) -> bool:
    if service.get("launchType") == "FARGATE":
        return True
    strategy = service.get("capacityProviderStrategy") or []
    return bool(strategy) and all(s.get("capacityProvider") in ("FARGATE", "FARGATE_SPOT") for s in strategy)


def service(svc: dict, definition: dict | None, required_tag_keys: Sequence[str] = ()) -> list[Finding]:
    """ECS.2, ECS.10 and ECS.13 on one ACTIVE service (`definition`: the revision it runs)."""
    arn = svc["serviceArn"]
    found = [_finding("ECS.2", arn, ["assignPublicIp is ENABLED"] if _assign_public_ip(svc) == "ENABLED" else [])]
    if _on_fargate(svc):
        # No platformVersion means LATEST.
        # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
        version = svc.get("platformVersion") or "LATEST"
        latest = sh.LATEST_FARGATE_WINDOWS if definition and _is_windows(definition) else sh.LATEST_FARGATE_LINUX
        found.append(_finding("ECS.10", arn, [] if version in ("LATEST", latest) else
                              [f"platformVersion is {version}, the latest is {latest}"]))
    found.append(tagged("ECS.13", arn, svc.get("tags") or [], required_tag_keys))
    return found


def task_set(ts: dict) -> list[Finding]:
    """ECS.16 on one task set."""
    enabled = _assign_public_ip(ts) == "ENABLED"
    return [_finding("ECS.16", ts["taskSetArn"], ["assignPublicIp is ENABLED"] if enabled else [])]


# ------------------------------------------------------------------ clusters, capacity providers
def cluster(c: dict, required_tag_keys: Sequence[str] = ()) -> list[Finding]:
    """ECS.12 and ECS.14 on one ACTIVE cluster."""
    settings = {s.get("name"): s.get("value") for s in c.get("settings") or []}
    value = settings.get(sh.CONTAINER_INSIGHTS)
    insights = [] if value in sh.CONTAINER_INSIGHTS_ON else [f"containerInsights is {value or 'not set'}"]
    return [_finding("ECS.12", c["clusterArn"], insights),
            tagged("ECS.14", c["clusterArn"], c.get("tags") or [], required_tag_keys)]


def capacity_provider(provider: dict) -> list[Finding]:
    """ECS.19 on one capacity provider with an Auto Scaling group."""
    asg = provider.get("autoScalingGroupProvider") or {}
    protection = asg.get("managedTerminationProtection") or "DISABLED"
    return [_finding("ECS.19", provider["capacityProviderArn"],
                     [] if protection == "ENABLED" else [f"managedTerminationProtection is {protection}"])]


# ------------------------------------------------------------------ tags (ECS.13-15)
def tagged(control_id: str, arn: str, tags: Iterable[dict], required_tag_keys: Sequence[str]) -> Finding:
    """Fails with no tag at all, or without every required key; "aws:" system tags do not count."""
    keys = {t.get("key", t.get("Key")) for t in tags} - {None}
    keys = {k for k in keys if not k.startswith(sh.SYSTEM_TAG_PREFIX)}
    problems = []
    if not keys:
        problems.append("it has no tags")
    missing = [k for k in required_tag_keys if k not in keys]
    if keys and missing:
        problems.append(f"it lacks the tag keys {', '.join(missing)}")
    return _finding(control_id, arn, problems)


def check_required_tag_keys(keys: Sequence[str]) -> tuple[str, ...]:
    """ECS.13-15's requiredTagKeys: 1-6 keys, none a system ("aws:") key."""
    keys = tuple(keys)
    if len(keys) > sh.MAX_REQUIRED_TAG_KEYS:
        raise ValueError(f"required_tag_keys takes at most {sh.MAX_REQUIRED_TAG_KEYS} keys; got {len(keys)}")
    bad = [k for k in keys if not isinstance(k, str) or not k or k.startswith(sh.SYSTEM_TAG_PREFIX)]
    if bad:
        raise ValueError(f"required_tag_keys must be non-system tag keys; got {bad!r}")
    return keys
