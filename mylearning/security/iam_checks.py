"""The course's IAM checks on the roles ECS tasks use (MYL.IAM.1-3).

Security Hub has no control for a task role's contents; these follow the ECS security best
practices and the two roles' documented jobs:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-iam-bestpractices.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
The policy text is read with the course's one IAM matcher (`mylearning.facts.iam`): actions match
without regard to case, with * and ? wildcards.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from mylearning.facts import iam_actions, securityhub as sh
from mylearning.facts.ecs import EXECUTION_POLICY_ARN
from mylearning.facts.iam import as_list, matches, statements
from mylearning.security.findings import Finding

Docs = Iterable[tuple[str, Mapping[str, Any]]]

#: A role name nobody gives a role: a Resource pattern that matches it matches every role.
_ANY_ROLE = "mylearning-scan-any-role-0"


def _allows_statements(docs: Docs):
    for label, doc in docs:
        for statement in statements(doc):
            if statement.get("Effect") == "Allow":
                yield label, statement


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        # NotAction with Allow grants everything not listed.
        return not any(matches(a, action, False) for a in as_list(statement["NotAction"]))
    return any(matches(a, action, False) for a in as_list(statement.get("Action")))


def grants(docs: Docs, action: str) -> list[str]:
    """Labels of the policies with an Allow for `action` on some resource (no Deny on "*" of it)."""
    docs = list(docs)
    denied = any(statement.get("Effect") == "Deny" and _action_matches(statement, action)
                 and "*" in as_list(statement.get("Resource"))
                 for _, doc in docs for statement in statements(doc))
    if denied:
        return []
    return sorted({label for label, s in _allows_statements(docs) if _action_matches(s, action)})


def wildcard_grants(docs: Docs) -> list[str]:
    """MYL.IAM.1: Allow statements on every action (of the account or of a service), or on every
    resource for an action that does take resource ARNs."""
    problems = []
    for label, statement in _allows_statements(docs):
        actions = as_list(statement.get("Action"))
        wide = [a for a in actions if a == "*" or a.endswith(":*")]
        if "NotAction" in statement:
            problems.append(f"{label} allows every action but {', '.join(as_list(statement['NotAction']))}")
        elif wide:
            problems.append(f"{label} allows {', '.join(wide)}")
        elif "NotResource" in statement or "*" in as_list(statement.get("Resource")):
            narrowable = [a for a in actions if a.lower() not in iam_actions.NO_RESOURCE_LEVEL]
            if narrowable:
                problems.append(f"{label} allows {', '.join(narrowable)} on every resource ('*')")
    return problems


def pass_role_everywhere(docs: Docs, account: str) -> list[str]:
    """MYL.IAM.2: Allow statements that let iam:PassRole pass any role of `account`."""
    probe = f"arn:aws:iam::{account}:role/{_ANY_ROLE}"
    problems = []
    for label, statement in _allows_statements(docs):
        if not _action_matches(statement, "iam:PassRole"):
            continue
        resources = as_list(statement.get("Resource"))
        if "NotResource" in statement or any(matches(r, probe, True) for r in resources):
            problems.append(f"{label} allows iam:PassRole on "
                            f"{', '.join(resources) or 'every resource but ' + ', '.join(as_list(statement['NotResource']))}")
    return problems


def _uses_firelens(definition: dict) -> bool:
    # FireLens' log router writes to CloudWatch Logs with the task role, so log permissions
    # there are the app's own. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-taskdef.html
    return any(c.get("firelensConfiguration") for c in definition.get("containerDefinitions") or [])


def execution_confusion(role: dict, definitions: list[dict]) -> list[str]:
    """MYL.IAM.3 on a task role: it is some task's execution role as well, or it holds what only
    the execution role needs (the managed execution policy, ECR pulls, awslogs streams)."""
    problems = []
    for d in definitions:
        if d.get("executionRoleArn") and d.get("executionRoleArn") == d.get("taskRoleArn"):
            problems.append(f"{d['family']} uses it as both task role and execution role")
    if EXECUTION_POLICY_ARN in role["attached"]:
        problems.append("it has AmazonECSTaskExecutionRolePolicy attached")
    docs = role["documents"]
    pulls = [a for a in iam_actions.EXECUTION_IMAGE_PULL if grants(docs, a)]
    if pulls:
        problems.append(f"it allows image pulls ({', '.join(pulls)}), which ECS makes with the execution role")
    if not any(_uses_firelens(d) for d in definitions):
        logs = [a for a in iam_actions.EXECUTION_LOGS if grants(docs, a)]
        if logs:
            problems.append(f"it allows {', '.join(logs)}, which the awslogs driver uses through the execution role")
    return problems


def findings(task_definitions: list[dict], roles: dict[str, dict]) -> list[Finding]:
    """MYL.IAM.1-3 for every role the scanned task definitions name."""
    def tasks_using(key: str, arn: str) -> list[dict]:
        return [d for d in task_definitions if d.get(key) == arn]

    found = []
    for arn, role in sorted(roles.items()):
        as_task = tasks_using("taskRoleArn", arn)
        resource = role["Arn"]
        used_by = ", ".join(sorted({d["family"] for d in as_task}))
        if as_task:
            found.append(_finding("MYL.IAM.1", resource, wildcard_grants(role["documents"]), used_by))
            found.append(_finding("MYL.IAM.3", resource, execution_confusion(role, as_task), used_by))
        account = resource.split(":")[4]  # arn:aws:iam::<account>:role/<name>
        found.append(_finding("MYL.IAM.2", resource, pass_role_everywhere(role["documents"], account)))
    return found


def _finding(control_id: str, resource: str, problems: list[str], used_by: str = "") -> Finding:
    status = sh.FAILED if problems else sh.PASSED
    detail = "; ".join(problems)
    if problems and used_by:
        detail += f" (task role of {used_by})"
    return Finding(sh.control(control_id), resource, status, detail)
