"""Task definition revisions as ECS resolves and lists them (moto 5.2.x fixes).

* A family name without a revision means the latest ACTIVE revision, not the newest one:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTaskDefinition.html
  ("The family for the latest ACTIVE revision, family and revision (family:revision) for a
  specific revision in the family, or full Amazon Resource Name (ARN)"). The same form in
  CreateService, UpdateService and RunTask resolves the same way. A family with no ACTIVE
  revision left answers ClientException.
* ListTaskDefinitions sorts by family name, then revision, and ``sort="DESC"`` reverses both:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTaskDefinitions.html
  ("By default, (ASC) task definitions are listed lexicographically by family name and in
  ascending numerical order by revision ... Setting this parameter to DESC reverses the sort
  order on family name and revision").
"""
from __future__ import annotations

from typing import Any


def _fix_family_means_latest_active() -> None:
    from moto.ecs.exceptions import TaskDefinitionNotFoundException
    from moto.ecs.models import EC2ContainerServiceBackend as B

    describe = B.describe_task_definition

    def describe_task_definition(self: Any, task_definition_str: str) -> Any:
        name = (task_definition_str or "").split("/")[-1]
        if ":" in name or name not in self.task_definitions:
            return describe(self, task_definition_str)
        active = [rev for rev, td in self.task_definitions[name].items() if td.status == "ACTIVE"]
        if not active:
            raise TaskDefinitionNotFoundException()
        return self.task_definitions[name][max(active)]

    B.describe_task_definition = describe_task_definition


def _revision_key(arn: str) -> tuple[str, int]:
    family, _, revision = arn.split("/")[-1].rpartition(":")
    return family, int(revision) if revision.isdigit() else 0


def _fix_list_task_definitions_sort() -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse as R

    list_task_definitions = R.list_task_definitions

    def listed(self: Any) -> Any:
        result = list_task_definitions(self)
        arns = _arns_of(result)
        if arns is not None:
            descending = str(self._get_param("sort") or "ASC").upper() == "DESC"
            arns.sort(key=_revision_key, reverse=descending)
        return result

    R.list_task_definitions = listed


def _arns_of(result: Any) -> list | None:
    """The ARN list inside moto's answer (an ActionResult, a dict or JSON text)."""
    for holder in (getattr(result, "result", None), result):
        if isinstance(holder, dict) and isinstance(holder.get("taskDefinitionArns"), list):
            return holder["taskDefinitionArns"]
    return None
