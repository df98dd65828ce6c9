"""IAM roles for ECS tasks: who may assume them, what they allow, and whether that is too much.

A Fargate task uses two roles for two different callers. The execution role is
used by ECS itself (pull the image, write logs, fetch secrets before the app
starts); the task role is used by the app's own AWS calls. Keeping them apart
is least privilege: the app never gets the power to read every secret the
execution role can, and ECS never gets the app's data access.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html

The policy reader is deliberately small (Allow/Deny, Action, Resource,
wildcards): enough to grade and to explain, not a replacement for IAM's
policy simulator. Its decision lives in mylearning.facts.iam, which the data
plane shares; `statements` and `allows` are re-exported here for the graders.
"""
from __future__ import annotations

import fnmatch
import json
from typing import Any, Iterable, Mapping

from mylearning import lookup
from mylearning.facts.ecs import ECS_TASKS_PRINCIPAL
# The policy decision itself is an AWS fact without I/O, shared with the data plane.
from mylearning.facts.iam import allows, statements
from mylearning.facts.iam import as_list as _as_list, covers as _covers, document as _document
from mylearning.facts.iam import matches as _matches

ECS_TASKS = ECS_TASKS_PRINCIPAL


def trust_policy(service: str = ECS_TASKS, *, account: str | None = None,
                 region: str | None = None) -> dict[str, Any]:
    """A trust policy letting `service` assume the role.

    With `account` (and `region`), the conditions AWS recommends against the
    confused-deputy problem are added: only ECS acting for this account may assume it.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html#create_task_iam_policy_and_role
    """
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service},
                                 "Action": "sts:AssumeRole"}
    if account:
        condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account}}
        if region:
            condition["ArnLike"] = {"aws:SourceArn": f"arn:aws:ecs:{region}:{account}:*"}
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def allow(actions: str | Iterable[str], resources: str | Iterable[str],
          sid: str | None = None) -> dict[str, Any]:
    """One Allow statement."""
    statement: dict[str, Any] = {"Effect": "Allow", "Action": _as_list(actions),
                                 "Resource": _as_list(resources)}
    if sid:
        statement["Sid"] = sid
    return statement


def policy(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [dict(s) for s in statements]}


# ---------------------------------------------------------------- creating

def ensure_role(session: Any, lab: str, name: str, *, trust: Mapping[str, Any], description: str,
                managed: Iterable[str] = (), inline: Mapping[str, Mapping[str, Any]] | None = None
                ) -> dict:
    """Create the role if missing, then make its trust, managed and inline policies as given.

    Safe to call again: existing policies are overwritten with the same text.
    """
    iam = session.client("iam")
    role = lookup.role(iam, name)
    if role is None:
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                               Description=description, Tags=session.tags(lab))["Role"]
    elif _document(role.get("AssumeRolePolicyDocument")) != dict(trust):
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    attached = {p["PolicyArn"] for p in attached_policies(iam, name)}
    for arn in managed:
        if arn not in attached:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    for policy_name, document in (inline or {}).items():
        iam.put_role_policy(RoleName=name, PolicyName=policy_name,
                            PolicyDocument=json.dumps(document))
    return lookup.role(iam, name)


# ---------------------------------------------------------------- reading

def delete_role(iam: Any, name: str) -> None:
    """Delete a role the way IAM allows: managed policies detached and inline ones deleted first.
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html
    """
    for item in attached_policies(iam, name):
        iam.detach_role_policy(RoleName=name, PolicyArn=item["PolicyArn"])
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy_name in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
    iam.delete_role(RoleName=name)


def attached_policies(iam: Any, role_name: str) -> list[dict]:
    found: list[dict] = []
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
        found += page["AttachedPolicies"]
    return found


def documents(iam: Any, role_name: str, *, managed: bool = True,
              attached: list[dict] | None = None) -> list[tuple[str, dict]]:
    """Every permissions policy of a role as (label, document): inline ones, then managed ones.

    `attached` (from attached_policies) saves a call when the caller has it already.
    """
    found: list[tuple[str, dict]] = []
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
        for name in page["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
            found.append((f"inline policy {name}", _document(doc)))
    if managed:
        for item in attached if attached is not None else attached_policies(iam, role_name):
            meta = iam.get_policy(PolicyArn=item["PolicyArn"])["Policy"]
            version = iam.get_policy_version(PolicyArn=item["PolicyArn"],
                                             VersionId=meta["DefaultVersionId"])["PolicyVersion"]
            found.append((f"managed policy {item['PolicyName']}", _document(version["Document"])))
    return found


def trusted_services(role: Mapping[str, Any]) -> set[str]:
    """Service principals allowed to assume the role (sts:AssumeRole, Effect Allow)."""
    services: set[str] = set()
    for statement in statements(_document(role.get("AssumeRolePolicyDocument"))):
        actions = _as_list(statement.get("Action"))
        if statement.get("Effect") != "Allow" or not any(
                fnmatch.fnmatchcase("sts:AssumeRole", a) for a in actions):
            continue
        principal = statement.get("Principal") or {}
        if isinstance(principal, Mapping):
            services |= set(_as_list(principal.get("Service")))
    return services


def other_principals(role: Mapping[str, Any]) -> list[str]:
    """Principals other than services in the trust policy (accounts, users, '*')."""
    others: list[str] = []
    for statement in statements(_document(role.get("AssumeRolePolicyDocument"))):
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow" or principal is None:
            continue
        if principal == "*":
            others.append("*")
        elif isinstance(principal, Mapping):
            for kind, value in principal.items():
                if kind != "Service":
                    others += [f"{kind}:{v}" for v in _as_list(value)]
    return others


def broad_grants(docs: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Allow statements that grant every action, every action of a service, or on every resource."""
    problems = []
    for label, document in docs:
        for statement in statements(document):
            if statement.get("Effect") != "Allow":
                continue
            actions = _as_list(statement.get("Action"))
            resources = _as_list(statement.get("Resource"))
            wide_actions = [a for a in actions if a == "*" or a.endswith(":*")]
            if wide_actions or "NotAction" in statement:
                problems.append(f"{label} allows {', '.join(wide_actions) or 'NotAction'}")
            elif "*" in resources:
                problems.append(f"{label} allows {', '.join(actions)} on every resource ('*')")
    return problems
