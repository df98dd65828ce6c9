"""The task agent: runs what ECS placed, stops what ECS stopped, as the ECS agent does.

It learns what to run only from ECS: woken by the ACS long poll (`ControlPlane.poll`), it
lists each cluster's tasks whose desired status is RUNNING and describes them
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html). A task it
does not run yet gets a `TaskRunner`; a task it runs that ECS no longer wants running is
stopped. Every state change goes back through SubmitTaskStateChange /
SubmitContainerStateChange, health through the telemetry endpoint.
"""
from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

from mylearning.dataplane.addresses import AddressPool
from mylearning.dataplane.control import ControlPlane
from mylearning.dataplane.task import TaskRunner

#: Retry a failed report this many times (the emulator may be busy) before giving up.
#: How soon a look at ECS that failed is repeated, in seconds.
RETRY_SECONDS = 0.5
REPORT_ATTEMPTS = 3


class TaskAgent:
    def __init__(self, control: ControlPlane, addresses: AddressPool, scratch: Path,
                 proxy_url: str | None = None) -> None:
        self.control = control
        self.addresses = addresses
        self.scratch = scratch
        self.proxy_url = proxy_url
        #: The task role's credentials endpoint (`task_aws.TaskAws`), once the plane started it.
        self.task_aws: Any = None
        self.runners: dict[str, TaskRunner] = {}
        #: private IP (or our own loopback) -> loopback address of the task
        self.routes: dict[str, str] = {}
        #: loopback address of a task -> its App Mesh interception (interception.py)
        self.interceptions: dict[str, Any] = {}
        #: The regions ECS has told this agent about (its long poll names them).
        self.regions: set[str] = {"us-east-1"}
        self._role_credentials: dict[tuple[str, str, str], tuple[float, dict]] = {}
        self._health_dirty: set[str] = set()
        self._health_event = asyncio.Event()
        self.reconciles = 0
        #: On shutdown containers get 2 s after SIGTERM, not their stopTimeout.
        self.shutting_down = False

    def inbound_port(self, address: str, port: int) -> int:
        """The port that answers a connection from outside a task to ``address:port``: the
        proxy's ingress port for an app port of a task with an App Mesh proxy
        (interception.py), else `port` itself."""
        interception = self.interceptions.get(address)
        return port if interception is None else interception.inbound_port(port)

    def log(self, message: str) -> None:
        print(f"mylearning dataplane: {message}", file=sys.stderr, flush=True)

    # ------------------------------------------------------------ talking to ECS

    async def submit(self, operation: str, region: str, **params: Any) -> None:
        """A state change report; a task ECS has forgotten (account reset) is not an error."""
        for attempt in range(REPORT_ATTEMPTS):
            try:
                await self.control.call("ecs", region, operation, **params)
                return
            except Exception as exc:
                code = getattr(exc, "response", {}).get("Error", {}).get("Code")
                if code in ("InvalidParameterException", "ClusterNotFoundException"):
                    return
                if attempt == REPORT_ATTEMPTS - 1:
                    self.log(f"{operation} failed: {exc}")
                await asyncio.sleep(0.1 * (attempt + 1))

    async def role_client(self, service: str, region: str, role_arn: str | None,
                          session_name: str) -> Any:
        """A client that signs as `role_arn` (the execution role ECS uses), or as the agent.

        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
        """
        if not role_arn:
            return self.control.client(service, region)
        credentials = await asyncio.to_thread(self.role_credentials, role_arn, region, session_name)
        return self.control.client(service, region, credentials)

    def role_session(self, role_arn: str, session_name: str = "ecs-task") -> "RoleSession":
        """A boto3-like session acting as `role_arn` (blocking; for code run in a thread). ECS
        names the execution role's session after the task: AccessDenied messages show
        ``assumed-role/ROLE/TASK_ID``."""
        return RoleSession(self, role_arn, session_name)

    def role_credentials(self, role_arn: str, region: str, session_name: str = "ecs-task") -> dict:
        key = (role_arn, region, session_name[:64])
        now = time.time()
        cached = self._role_credentials.get(key)
        if cached is None or cached[0] < now:
            answer = self.control.client("sts", region).assume_role(
                RoleArn=role_arn, RoleSessionName=session_name[:64])
            cached = (now + 600, answer["Credentials"])
            for old in [k for k, v in self._role_credentials.items() if v[0] < now]:
                del self._role_credentials[old]  # sessions of tasks long gone
            self._role_credentials[key] = cached
        return cached[1]

    async def definition(self, region: str, arn: str) -> dict:
        """The task's definition, read for each task: revisions never change on AWS, but an
        emulator's account can be reset and the same ARN then names another definition."""
        answer = await self.control.call("ecs", region, "describe_task_definition", taskDefinition=arn)
        return answer["taskDefinition"]

    # ------------------------------------------------------------ reconciling

    async def wanted(self, region: str, clusters: list[str] | None = None) -> dict[str, dict]:
        """Every task whose desired status is RUNNING, described: in `clusters` (names) of the
        region, or in all its clusters."""
        found: dict[str, dict] = {}
        if clusters is None:
            clusters = (await self.control.call("ecs", region, "list_clusters")).get("clusterArns", [])
        for cluster in clusters:
            arns: list[str] = []
            token = None
            while True:
                page = await self.control.call("ecs", region, "list_tasks", cluster=cluster,
                                               desiredStatus="RUNNING",
                                               **({"nextToken": token} if token else {}))
                arns += page.get("taskArns", [])
                token = page.get("nextToken")
                if not token:
                    break
            for task in await self._describe(region, cluster, arns):
                if task.get("desiredStatus") == "RUNNING" and task.get("lastStatus") != "STOPPED":
                    found[task["taskArn"]] = task
        return found

    async def _describe(self, region: str, cluster: str, arns: list[str]) -> list[dict]:
        """DescribeTasks for any number of tasks (it takes 100 at a time)."""
        described: list[dict] = []
        for start in range(0, len(arns), 100):
            answer = await self.control.call("ecs", region, "describe_tasks", cluster=cluster,
                                             tasks=arns[start:start + 100])
            described += answer.get("tasks", [])
        return described

    async def reconcile(self, regions: set[str], clusters: list[tuple[str, str]] | None = None) -> bool:
        """Start what ECS placed and stop what it no longer wants, in the `clusters` that
        changed ((region, name) pairs) or, without them, everywhere. False when ECS could
        not be read for some of them: the caller looks again soon, or the change is lost."""
        self.reconciles += 1
        complete = True
        for region in sorted(regions):
            only = None if clusters is None else sorted({c for r, c in clusters if r == region})
            if only == []:
                continue
            try:
                wanted = await self.wanted(region, only)
            except Exception as exc:
                self.log(f"could not list tasks in {region}: {exc}")
                complete = False
                continue
            for arn, task in wanted.items():
                if arn in self.runners:
                    continue
                if task.get("lastStatus") not in ("PROVISIONING", "PENDING"):
                    continue  # placed before this agent attached: not ours to start
                try:
                    definition = await self.definition(region, task["taskDefinitionArn"])
                except Exception as exc:
                    self.log(f"cannot read {task['taskDefinitionArn']}: {exc}")
                    complete = False
                    continue
                runner = TaskRunner(self, region, task, definition)
                self.runners[arn] = runner
                asyncio.create_task(self._run(runner))
            leaving = [runner for arn, runner in list(self.runners.items())
                       if runner.region == region and arn not in wanted
                       and (only is None or runner.cluster.rsplit("/", 1)[-1] in only)]
            try:
                draining = await self._draining(region, leaving)
            except Exception as exc:
                self.log(f"could not describe the tasks leaving in {region}: {exc}")
                complete = False
                continue
            for runner in leaving:
                if runner.arn not in draining:
                    runner.request_stop(None)
        return complete

    async def _draining(self, region: str, runners: list[TaskRunner]) -> set[str]:
        """The tasks among these that ECS still drains (DEACTIVATING): their containers keep
        running until ECS moves them to STOPPING, once their load balancer targets drained."""
        by_cluster: dict[str, list[str]] = {}
        for runner in runners:
            by_cluster.setdefault(runner.cluster, []).append(runner.arn)
        found: set[str] = set()
        for cluster, arns in by_cluster.items():
            try:
                described = await self._describe(region, cluster, arns)
            except Exception as exc:
                if "ClusterNotFound" in type(exc).__name__ or "ClusterNotFound" in str(exc):
                    continue  # the cluster is gone, and with it anything to drain
                raise
            found.update(t["taskArn"] for t in described if t.get("lastStatus") == "DEACTIVATING")
        return found

    async def _run(self, runner: TaskRunner) -> None:
        try:
            await runner.run()
        finally:
            self.runners.pop(runner.arn, None)

    async def watch(self) -> None:
        """Reconcile whenever ACS says tasks changed (and every poll timeout, to be safe).

        A look that could not read ECS is repeated within `RETRY_SECONDS` (a full look):
        the news it answered is already consumed, so waiting for the next would lose it.
        """
        since, behind = -1, False
        while True:
            try:
                news = await asyncio.to_thread(self.control.poll, since,
                                               RETRY_SECONDS if behind else 20.0)
            except Exception as exc:
                self.log(f"ACS poll failed: {exc}")
                await asyncio.sleep(1.0)
                continue
            self.regions |= set(news.get("regions") or [])
            changed = None
            if news["version"] != since:
                since = news["version"]
                if not behind and news.get("clusters"):
                    changed = [tuple(c) for c in news["clusters"]]
            # else: the poll timed out with no news: a full look, to be safe
            try:
                behind = not await self.reconcile(self.regions, changed)
            except Exception as exc:  # a bug here must not stop the agent for good
                self.log(f"reconcile failed: {type(exc).__name__}: {exc}")
                behind = True

    # ------------------------------------------------------------ health

    def health_changed(self, runner: TaskRunner) -> None:
        self._health_dirty.add(runner.arn)
        self._health_event.set()

    async def send_health(self) -> None:
        """Batch health changes to the telemetry endpoint as they happen."""
        while True:
            await self._health_event.wait()
            self._health_event.clear()
            dirty, self._health_dirty = self._health_dirty, set()
            by_region: dict[str, list[dict]] = {}
            for arn in dirty:
                runner = self.runners.get(arn)
                if runner is not None:
                    by_region.setdefault(runner.region, []).append(runner.health_report())
            for region, items in by_region.items():
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self.control.telemetry, {"region": region, "health": items})

    def status(self) -> dict:
        return {"tasks": len(self.runners),
                "containers": sum(len(r.pids()) for r in self.runners.values()),
                "reconciles": self.reconciles}

    async def stop_all(self) -> None:
        self.shutting_down = True
        for runner in list(self.runners.values()):
            runner.request_stop("The data plane is shutting down")
        waits = [r.done.wait() for r in list(self.runners.values())]
        if waits:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.gather(*waits), 10)


class RoleSession:
    """What `secrets.resolve` asks for: clients that sign as the task's execution role."""

    def __init__(self, agent: TaskAgent, role_arn: str, session_name: str = "ecs-task") -> None:
        self.agent = agent
        self.role_arn = role_arn
        self.session_name = session_name

    def client(self, service: str, region_name: str = "us-east-1") -> Any:
        credentials = self.agent.role_credentials(self.role_arn, region_name, self.session_name)
        return self.agent.control.client(service, region_name, credentials)
