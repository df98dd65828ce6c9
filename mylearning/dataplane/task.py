"""One ECS task on the data plane: from PROVISIONING to STOPPED, reported to ECS at each step.

The order follows the task lifecycle
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html):
the task gets its address (its ENI), its log streams and secrets are prepared with the
execution role, its images are "pulled" from the course catalogue, its containers start
in dependency order, and once every essential container runs the task is RUNNING. When
an essential container exits the others are stopped and the task is STOPPED; when ECS
asks it to stop (StopTask, a scale-in, a deployment) the containers get SIGTERM, then
SIGKILL after their stopTimeout.

Where it differs from Fargate: a container is a process, not a namespace, so memory is
the process's own (unique) memory, sampled every quarter second rather than a cgroup's
hard limit; `user` is reported, not switched to.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mylearning.dataplane.containers import ContainerProcess
from mylearning.dataplane.errors import TaskStartError
from mylearning.facts.ecs import task_private_ip

if TYPE_CHECKING:
    from mylearning.dataplane.agent import TaskAgent

#: How often container memory is checked against its limits, in seconds.
MEMORY_SAMPLE_INTERVAL = 0.25
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html
OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"
ESSENTIAL_EXITED = "Essential container in task exited"


class ContainerState:
    """What the agent knows of one container: its definition, process, health and end."""

    def __init__(self, definition: dict) -> None:
        self.definition = definition
        self.name: str = definition["name"]
        self.essential: bool = definition.get("essential", True)
        self.process: ContainerProcess | None = None
        self.health = "UNKNOWN" if definition.get("healthCheck") else None
        self.started = asyncio.Event()
        self.exited = asyncio.Event()
        self.healthy = asyncio.Event()
        self.exit_code: int | None = None
        self.reason: str | None = None
        self.monitor: Any = None
        self.shipper: Any = None
        self.log_path: Path | None = None


class TaskRunner:
    def __init__(self, agent: "TaskAgent", region: str, task: dict, definition: dict) -> None:
        self.agent = agent
        self.region = region
        self.task = task
        self.arn: str = task["taskArn"]
        self.id = self.arn.rsplit("/", 1)[-1]
        self.cluster: str = task["clusterArn"]
        self.definition = definition
        self.private_ip = task_private_ip(task)
        self.address: str | None = None
        #: App Mesh traffic interception from proxyConfiguration (interception.py), if any.
        self.interception: Any = None
        self.containers = {c["name"]: ContainerState(c) for c in definition["containerDefinitions"]}
        self.stop_requested = asyncio.Event()
        self.stop_reason: str | None = None
        self.reported_running = False
        self._pull_times: dict[str, float] = {}
        self.started_wall: float | None = None
        self.done = asyncio.Event()
        self.scratch = agent.scratch / self.id
        self._tasks: list[asyncio.Task] = []
        #: One report at a time, each built when its turn comes: two in flight at once could
        #: arrive out of order, and a task report built before a sidecar started would then
        #: put that container back to PENDING after its own RUNNING report.
        self._reporting = asyncio.Lock()

    # ------------------------------------------------------------ reporting

    def _container_report(self, state: ContainerState) -> dict:
        status = ("STOPPED" if state.exited.is_set() else
                  "RUNNING" if state.started.is_set() else "PENDING")
        report: dict[str, Any] = {"containerName": state.name, "status": status}
        if state.exit_code is not None:
            report["exitCode"] = state.exit_code
        if state.reason:
            report["reason"] = state.reason[:1024]
        if state.process is not None and state.process.pid:
            report["runtimeId"] = f"{self.id}-{state.process.pid}"
        return report

    async def report(self, status: str, reason: str | None = None, **times: float) -> None:
        async with self._reporting:
            params: dict[str, Any] = {"cluster": self.cluster, "task": self.arn, "status": status,
                                      "containers": [self._container_report(c)
                                                     for c in self.containers.values()]}
            if reason:
                params["reason"] = reason[:1024]
            params.update(times)
            await self.agent.submit("submit_task_state_change", self.region, **params)

    async def report_container(self, state: ContainerState) -> None:
        async with self._reporting:
            await self.agent.submit("submit_container_state_change", self.region, cluster=self.cluster,
                                    task=self.arn, **self._container_report(state))

    def health_report(self) -> dict:
        from mylearning.dataplane.healthcheck import task_health
        checked = {n: c.health for n, c in self.containers.items() if c.health is not None}
        return {"cluster": self.cluster, "taskArn": self.arn, "containers": checked,
                "healthStatus": task_health([
                    {"name": n, "essential": c.essential, "healthStatus": c.health,
                     "healthCheck": c.definition.get("healthCheck")}
                    for n, c in self.containers.items()])}

    # ------------------------------------------------------------ the lifecycle

    async def run(self) -> None:
        reason: str | None = None
        try:
            environments = await self._provision()
            pull_started = time.time()
            await self.report("PENDING", pullStartedAt=pull_started)
            self._pull()
            self._pull_times = {"pullStartedAt": pull_started, "pullStoppedAt": time.time()}
            if self.stop_requested.is_set():
                return
            for state in self.containers.values():
                self._tasks.append(asyncio.create_task(self._container(state, environments[state.name])))
            self._tasks.append(asyncio.create_task(self._watch_memory()))
            reason = await self._supervise()
        except TaskStartError as exc:
            reason = exc.reason
        except asyncio.CancelledError:
            reason = reason or "Task stopped by the data plane"
            raise
        except Exception as exc:  # a bug of ours must still end the task cleanly
            self.agent.log(f"task {self.id} failed in the agent: {type(exc).__name__}: {exc}")
            reason = f"InternalError: the data plane failed to run the task ({type(exc).__name__})"
        finally:
            await self._stop_all()
            if not self.agent.shutting_down:  # a stopping emulator answers no more reports
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.report("STOPPED", self.stop_reason or reason,
                                                     executionStoppedAt=time.time()))
            self._release()
            self.done.set()

    def _pull(self) -> None:
        """"Pull" every image: one outside the course catalogue fails as a missing image does.

        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html
        """
        from mylearning.dataplane.images import catalogue

        for state in self.containers.values():
            image = state.definition.get("image", "")
            if catalogue.resolve(image) is None:
                state.reason = catalogue.pull_error(image)
                state.exited.set()
                raise TaskStartError(state.reason)

    async def _provision(self) -> dict[str, dict[str, str]]:
        """Address, log streams and secrets: the task's resources, prepared with the execution
        role before any image is pulled (ECS reports a failure here as a
        ResourceInitializationError, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html)."""
        from mylearning.dataplane.interception import Interception, InterceptionError
        try:
            self.interception = Interception.from_definition(self.definition)
        except InterceptionError as error:
            raise TaskStartError(f"ResourceInitializationError: failed to configure the App Mesh "
                                 f"proxy (proxyConfiguration): {error}") from None
        self.address = self.agent.addresses.take(self.arn)
        self.agent.routes[self.private_ip or self.address] = self.address
        if self.interception is not None:
            self.agent.interceptions[self.address] = self.interception
        self.scratch.mkdir(parents=True, exist_ok=True)
        execution_role = self.definition.get("executionRoleArn")
        launch_type = self.task.get("launchType") or "FARGATE"
        role = None
        if execution_role:
            from mylearning.dataplane.execution_role import ExecutionRole
            role = ExecutionRole(self.agent.control.client("iam", self.region), execution_role, self.id)
        for state in self.containers.values():
            config = state.definition.get("logConfiguration") or {}
            state.log_path = self.scratch / f"{state.name}.log"
            state.log_path.touch()
            if config.get("logDriver") == "awslogs":
                from mylearning.dataplane import awslogs
                options = awslogs.AwslogsOptions.parse(config, launch_type=launch_type)
                logs = await self.agent.role_client("logs", options.region, execution_role, self.id)
                stream = await options.prepare(logs, container_name=state.name, task_id=self.id, role=role)
                state.shipper = awslogs.LogShipper(logs, options.group, stream, state.log_path,
                                                   mode=options.mode,
                                                   max_buffer_size=options.max_buffer_size)
        environments: dict[str, dict[str, str]] = {}
        # The task role's credentials, for every container (task-iam-roles.html; task_aws.py).
        task_role = self.definition.get("taskRoleArn")
        credentials_uri = (self.agent.task_aws.register(self.id, task_role, self.region)
                           if task_role and getattr(self.agent, "task_aws", None) is not None else None)
        for state in self.containers.values():
            env = {e["name"]: e.get("value", "") for e in state.definition.get("environment") or []}
            if credentials_uri:
                from mylearning.dataplane.task_aws import RELATIVE_URI_VAR
                env.setdefault(RELATIVE_URI_VAR, credentials_uri)
            wanted = state.definition.get("secrets") or []
            if wanted:
                from mylearning.dataplane import secrets
                env.update(await asyncio.to_thread(
                    secrets.resolve, wanted,
                    session_for_role=lambda arn: self.agent.role_session(arn, self.id),
                    iam=self.agent.control.client("iam", self.region),
                    execution_role_arn=execution_role, task_id=self.id, region=self.region))
            environments[state.name] = env
        return environments

    async def _wait_dependencies(self, state: ContainerState) -> str | None:
        """Wait for the dependsOn conditions (START, COMPLETE, SUCCESS, HEALTHY); the reason
        it cannot start, or None.
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-dependency.html
        """
        for dependency in state.definition.get("dependsOn") or []:
            other = self.containers.get(dependency.get("containerName"))
            condition = dependency.get("condition", "START")
            if other is None:
                return f"CannotStartContainerError: dependency {dependency.get('containerName')} is not in the task"
            if condition == "START":
                await other.started.wait()
            elif condition in ("COMPLETE", "SUCCESS"):
                await other.exited.wait()
                if condition == "SUCCESS" and other.exit_code != 0:
                    return (f"CannotStartContainerError: dependency {other.name} exited with code "
                            f"{other.exit_code}; condition SUCCESS requires 0")
            elif condition == "HEALTHY":
                waiter = asyncio.create_task(other.healthy.wait())
                ended = asyncio.create_task(other.exited.wait())
                await asyncio.wait({waiter, ended}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                ended.cancel()
                if not other.healthy.is_set():
                    return f"CannotStartContainerError: dependency {other.name} stopped before it was HEALTHY"
        return None

    async def _container(self, state: ContainerState, env: dict[str, str]) -> None:
        try:
            await self._run_container(state, env)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the container could not start: say so, and end it
            self.agent.log(f"container {state.name} of task {self.id}: {type(exc).__name__}: {exc}")
            state.reason = state.reason or f"CannotStartContainerError: {type(exc).__name__}: {exc}"
            state.exited.set()

    async def _run_container(self, state: ContainerState, env: dict[str, str]) -> None:
        from mylearning.dataplane.images.runtime import ContainerSpec

        blocked = await self._wait_dependencies(state)
        if self.stop_requested.is_set():
            state.exited.set()
            return
        if blocked:
            state.reason = blocked
            state.exited.set()
            await self.report_container(state)
            return
        d = state.definition
        root = self.scratch / "root" / state.name
        root.mkdir(parents=True, exist_ok=True)
        mounts = {}  # a task's volumes are folders its containers share
        for point in d.get("mountPoints") or []:
            host = self.scratch / "volumes" / point.get("sourceVolume", "unnamed")
            host.mkdir(parents=True, exist_ok=True)
            mounts[point["containerPath"]] = str(host)
        spec = ContainerSpec(
            name=state.name, image=d.get("image", ""), task_arn=self.arn, task_id=self.id,
            address=self.address or "127.0.0.1",
            ports=[m["containerPort"] for m in d.get("portMappings") or [] if m.get("containerPort")],
            environment=env, command=d.get("command"), entry_point=d.get("entryPoint"),
            log_path=str(state.log_path), root=str(root), mounts=mounts,
            readonly_root=bool(d.get("readonlyRootFilesystem")), user=d.get("user"),
            proxy=self.agent.proxy_url, egress=self._egress(state),
            architecture=(self.definition.get("runtimePlatform") or {}).get("cpuArchitecture") or "X86_64")
        state.process = ContainerProcess(state.name, spec.to_dict(), d.get("stopTimeout"))
        await state.process.start()
        state.started.set()
        if state.shipper is not None:
            state.shipper.start()
        if d.get("healthCheck"):
            self._start_health(state, env, spec)
        essentials_up = all(c.started.is_set() for c in self.containers.values() if c.essential)
        if self.reported_running or not essentials_up:
            await self.report_container(state)
        if not self.reported_running and essentials_up:
            self.reported_running = True
            self.started_wall = time.time()
            await self.report("RUNNING", **self._pull_times)
        code = await state.process.wait()
        state.exit_code = code
        state.reason = state.process.killed_reason
        if state.monitor is not None:
            state.monitor.cancel()
        state.exited.set()
        if state.shipper is not None and not self.agent.shutting_down:
            await state.shipper.close()
        await self.report_container(state)

    def _egress(self, state: ContainerState) -> dict | None:
        """Where this container's outbound traffic goes instead of the edge: the App Mesh
        proxy's egress listener, unless the container is the proxy's own user
        (interception.py); None without a proxy configuration."""
        if self.interception is None or self.interception.ignores_user(state.definition.get("user")):
            return None
        return self.interception.to_dict()

    def _start_health(self, state: ContainerState, env: dict[str, str], spec: Any) -> None:
        from mylearning.dataplane import shell
        from mylearning.dataplane.healthcheck import HealthCheckConfig, HealthMonitor
        from mylearning.facts import clock

        config = HealthCheckConfig.from_definition(state.definition["healthCheck"])

        async def probe() -> int:
            # The check runs inside the container: its files, its mounts, its localhost.
            result = await shell.run(config.command, env=env, address=self.address or "127.0.0.1",
                                     timeout=config.timeout, root=Path(spec.root),
                                     readonly_root=spec.readonly_root, proxy=self.agent.proxy_url,
                                     mounts={k: Path(v) for k, v in spec.mounts.items()})
            return result.exit_code

        def changed(status: str) -> None:
            state.health = status
            if status == "HEALTHY":
                state.healthy.set()
            else:
                state.healthy.clear()
            self.agent.health_changed(self)

        monitor = HealthMonitor(config, probe, changed, time_scale=clock.time_scale())
        state.monitor = monitor.start()

    async def _supervise(self) -> str | None:
        """Until an essential container exits or ECS asks the task to stop: the stop reason."""
        essential = [c for c in self.containers.values() if c.essential]
        waits = {asyncio.create_task(c.exited.wait()): c for c in essential}
        stop = asyncio.create_task(self.stop_requested.wait())
        done, _ = await asyncio.wait({*waits, stop}, return_when=asyncio.FIRST_COMPLETED)
        for task in (*waits, stop):
            task.cancel()
        if stop in done:
            return self.stop_reason
        exited = next(waits[t] for t in done if t in waits)
        if exited.reason and exited.reason.startswith(("CannotStartContainerError", "CannotPull")):
            return exited.reason
        if exited.reason == OOM_REASON:
            return OOM_REASON
        return ESSENTIAL_EXITED

    async def _watch_memory(self) -> None:
        """Kill a container over its hard limit, or the biggest one when the task is over its
        memory, with exit code 137 as the kernel's OOM killer would
        (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/memory-management.html)."""
        from mylearning.facts.fargate import memory_mib

        task_limit = memory_mib(self.definition.get("memory") or 0) or 0
        while True:
            await asyncio.sleep(MEMORY_SAMPLE_INTERVAL)
            usage = {}
            for state in self.containers.values():
                if state.process is not None and state.process.running:
                    usage[state.name] = await asyncio.get_running_loop().run_in_executor(
                        _sampler(), state.process.rss)
            for name, used in usage.items():
                limit = self.containers[name].definition.get("memory")
                if limit and used > int(limit) * 2**20:
                    self.containers[name].process.kill(OOM_REASON)
            if task_limit and usage and sum(usage.values()) > task_limit * 2**20:
                biggest = max(usage, key=usage.get)
                self.containers[biggest].process.kill(OOM_REASON)

    async def _stop_all(self) -> None:
        """Stop containers that others depend on last (reverse dependency order)."""
        needed = {d.get("containerName") for c in self.containers.values()
                  for d in c.definition.get("dependsOn") or []}
        first = [c for c in self.containers.values() if c.name not in needed]
        last = [c for c in self.containers.values() if c.name in needed]
        timeout = 2.0 if self.agent.shutting_down else None
        for group in (first, last):
            await asyncio.gather(*(c.process.stop(timeout) for c in group
                                   if c.process is not None and c.process.running))
        for task in self._tasks:
            if not task.done():
                task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for state in self.containers.values():
            if state.monitor is not None:
                state.monitor.cancel()
            if state.shipper is not None and self.agent.shutting_down:
                # The emulator is going, and the account's logs with it: do not wait on it.
                task = getattr(state.shipper, "_task", None)
                if task is not None:
                    task.cancel()
            elif state.shipper is not None:
                with contextlib.suppress(Exception):
                    await state.shipper.close()

    def _release(self) -> None:
        """Give back the task's address, and its route unless another task holds it now: ECS
        frees a stopped task's private IP, so a replacement placed meanwhile may have it already
        (its route must stay, or the load balancer finds no way to it)."""
        if self.address:
            key = self.private_ip or self.address
            if self.agent.routes.get(key) == self.address:
                del self.agent.routes[key]
            # The loopback address is this task's until it is given back just below.
            self.agent.interceptions.pop(self.address, None)
            self.agent.addresses.give_back(self.address)
        if getattr(self.agent, "task_aws", None) is not None:
            self.agent.task_aws.forget(self.id)

    def request_stop(self, reason: str | None) -> None:
        self.stop_reason = self.stop_reason or reason
        self.stop_requested.set()

    def pids(self) -> dict[str, int]:
        return {n: c.process.pid for n, c in self.containers.items()
                if c.process is not None and c.process.running and c.process.pid}


_SAMPLER = None


def _sampler():
    """The threads that read /proc for memory samples: apart from the default executor, so
    the agent's AWS calls never queue behind them however many containers run."""
    global _SAMPLER
    if _SAMPLER is None:
        from concurrent.futures import ThreadPoolExecutor
        _SAMPLER = ThreadPoolExecutor(2, thread_name_prefix="memory")
    return _SAMPLER
