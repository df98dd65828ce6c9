"""The task execution role as ECS uses it: assumed for one task, judged by its policies.

ECS itself (not the app) assumes the execution role to write awslogs output and to fetch
secrets before the containers start; what the role's policies do not allow, ECS cannot do.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
Calls ECS makes to the embedded AWS with the role's session (secrets, logs) are authorised by
the embedded AWS itself, which enforces IAM on role sessions
(mylearning.emulator.fidelity.iam.enforcement): the data plane passes its answer on rather than
judging twice. What the data plane serves itself (the App Mesh management and certificate
endpoints a task's Envoy calls) it judges here: it asks IAM (through its API, like any client)
for the role's policies, decides with mylearning.facts.iam, and words a refusal the way AWS
does: the caller is the assumed-role session `arn:aws:sts::ACCOUNT:assumed-role/ROLE/TASK_ID`,
and the reason says whether no policy allowed the action or one denied it explicitly.
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
Calls here block: run them in a thread from async code.
"""
from __future__ import annotations

from typing import Any

from mylearning import roles
from mylearning.dataplane.errors import TaskStartError
from mylearning.facts import iam as policy
from mylearning.facts.ecs import ECS_TASKS_PRINCIPAL


class ExecutionRole:
    def __init__(self, iam: Any, arn: str, task_id: str):
        self.iam = iam
        self.arn = arn
        self.task_id = task_id
        self.name = arn.rsplit("/", 1)[-1]
        self.account = arn.split(":")[4] if arn.count(":") >= 5 else ""
        self._docs: list[tuple[str, dict]] | None = None

    @property
    def session_arn(self) -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{self.name}/{self.task_id}"

    def unable_to_assume(self) -> TaskStartError:
        """ECS's reason when the role is missing or does not trust ecs-tasks.amazonaws.com
        (the trust relationship task_execution_IAM_role.html asks for); the wording is the
        one service events and RunTask failures show."""
        return TaskStartError(
            f"ECS was unable to assume the role '{self.arn}' that was provided for this task. "
            "Please verify that the role being passed has the proper trust relationship and "
            "permissions and that your IAM user has permissions to pass this role.")

    def documents(self) -> list[tuple[str, dict]]:
        """The role's permission policies; TaskStartError when ECS could not assume it."""
        if self._docs is None:
            try:
                role = self.iam.get_role(RoleName=self.name)["Role"]
            except self.iam.exceptions.NoSuchEntityException:
                raise self.unable_to_assume() from None
            if ECS_TASKS_PRINCIPAL not in roles.trusted_services(role):
                raise self.unable_to_assume()
            self._docs = roles.documents(self.iam, self.name)
        return self._docs

    def refusal(self, action: str, resource: str) -> str | None:
        """None when the role may do `action` on `resource`; else AWS's AccessDenied text."""
        decision = policy.decide(self.documents(), action, resource)
        if decision == policy.ALLOW:
            return None
        why = ("with an explicit deny in an identity-based policy" if decision == policy.EXPLICIT_DENY
               else f"because no identity-based policy allows the {action} action")
        return (f"AccessDeniedException: User: {self.session_arn} is not authorized to perform: "
                f"{action} on resource: {resource} {why}")


class TaskRoles:
    """The task roles of running tasks, as the AWS endpoints the data plane serves judge their calls.

    A task's containers sign their AWS calls with the task role's credentials; a task without a
    task role has none (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html).
    Each role's policies are read through IAM and trusted for `ttl` seconds, so a permission the
    learner adds is seen by the next attempt.
    """

    def __init__(self, iam_for_region: Any, ttl: float = 2.0) -> None:
        import time
        self._clock = time.monotonic
        self._iam_for_region = iam_for_region
        self._ttl = ttl
        self._roles: dict[tuple[str, str], tuple[float, ExecutionRole]] = {}

    def refusal(self, runner: Any, action: str, resource: str, caller: str) -> str | None:
        """Why `runner`'s task role may not do `action` on `resource`, or None. `caller` names
        who signs (for the no-role answer). Blocking: IAM reads."""
        role_arn = runner.definition.get("taskRoleArn")
        if not role_arn:
            return (f"Unable to get credentials for {caller}: the task has no task role (taskRoleArn), "
                    f"so it cannot sign its {action} request")
        key = (role_arn, runner.id)
        cached = self._roles.get(key)
        if cached is None or cached[0] < self._clock():
            cached = (self._clock() + self._ttl, ExecutionRole(self._iam_for_region(runner.region), role_arn, runner.id))
            self._roles[key] = cached
        try:
            return cached[1].refusal(action, resource)
        except TaskStartError as error:  # the role is missing or does not trust ECS tasks
            return str(error)

    def forget(self, task_ids: set[str]) -> None:
        """Drop the roles of tasks that no longer run."""
        for key in [k for k in self._roles if k[1] not in task_ids]:
            del self._roles[key]
