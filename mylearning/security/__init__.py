"""Security you can check: the account against AWS Security Hub's ECS controls and the course's
IAM and network checks (lab 10).

``mylearning.security.scan(session)`` reads the account through boto3 only, read-only, so the
same scan runs against the embedded AWS and against a real account with a read-only role. It
returns a `Report`: a table in JupyterLab, text with ``print``, ``to_html(path)`` for a page to
keep, ``failed()`` / ``control("ECS.5")`` to narrow it, ``counts()`` by severity.

    report = security.scan(session)
    report.failed()
    report.to_html("posture-before.html")

Modules: `inventory` (what is read, and how), `ecs_controls` (Security Hub's ECS.x),
`iam_checks` (MYL.IAM.x), `network_checks` (MYL.NET.x), `findings` (the report). The controls'
ids, titles, severities and pages are AWS facts, in `mylearning.facts.securityhub`.

Least privilege from the record: `least_privilege` reads the CloudTrail records of a role's calls
(``recorded(session, role_arn, start, end)``: Event history and a data-event trail's log files)
and, as IAM Access Analyzer's policy generation does, proposes the policy those calls needed
(``generate(records, role_arn)``): the actions named from each record, on the resources the
record names (Access Analyzer's placeholders where it names none), calls that were denied listed
for review rather than granted, and ``unused(current_policies)`` for what the role may do but
never did. It is a template to review before attaching, as Access Analyzer's is.
"""
from __future__ import annotations

from typing import Any, Sequence

from mylearning.security import ecs_controls, iam_checks, network_checks
from mylearning.security.findings import Finding, Report
from mylearning.security.inventory import SCOPES, Inventory, read

__all__ = ["scan", "evaluate", "Finding", "Report", "SCOPES"]


def scan(session: Any, *, scope: str = "course", required_tag_keys: Sequence[str] = ()) -> Report:
    """Evaluate the account and return the findings.

    scope: "course" (default) looks only at this learner's course resources (names under the
    learner's prefix, or the course tags); "account" at everything in the session's region.
    required_tag_keys: the requiredTagKeys parameter of ECS.13-15 (at most 6); without it those
    controls only ask for some tag.
    """
    keys = ecs_controls.check_required_tag_keys(required_tag_keys)
    inventory, notes = read(session, scope)
    return Report(evaluate(inventory, keys), notes, _describe_scope(session, scope))


def evaluate(inv: Inventory, required_tag_keys: Sequence[str] = ()) -> list[Finding]:
    """Every control on every resource the inventory holds (no I/O)."""
    found: list[Finding] = []
    for definition in inv.task_definitions:
        found += ecs_controls.task_definition(definition, required_tag_keys)
    for svc in inv.services:
        found += ecs_controls.service(svc, inv.running_definitions.get(svc.get("taskDefinition", "")),
                                      required_tag_keys)
    for ts in inv.task_sets:
        found += ecs_controls.task_set(ts)
    for cluster in inv.clusters:
        found += ecs_controls.cluster(cluster, required_tag_keys)
    for provider in inv.capacity_providers:
        found += ecs_controls.capacity_provider(provider)
    found += iam_checks.findings(inv.task_definitions, inv.roles)
    users = [(r.get("serviceName") or r.get("id") or r.get("taskSetArn", ""), r,
              inv.running_definitions.get(r.get("taskDefinition", "")))
             for r in inv.services + inv.task_sets]
    found += network_checks.findings(users, inv.security_groups, inv.target_group_sources, inv.region)
    return found


def _describe_scope(session: Any, scope: str) -> str:
    if scope == "course":
        return f"the course's resources of learner {session.learner} ({session.prefix}-*) in {session.region_name}"
    return f"every resource in {session.region_name}"
