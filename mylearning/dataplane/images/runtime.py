"""Start one container: the first code that runs in the process forked for it.

The task agent forks a child from a forkserver that has PRELOAD imported, and runs
`main(spec.to_dict())` in it. `main` turns the fresh child into the container: it dies
with its parent, sends stdout and stderr to the container's log file (what the awslogs
driver reads), takes the container's environment as Docker composes it (image ENV, then
the task definition's `environment` and resolved `secrets`), enters the container's
root, and runs the image's program; the program's exit code is the container's.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_environment
"""
from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable

from . import catalogue
from .container import Container

#: Docker's default PATH for a Linux container, present unless the image or task sets one.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(kw_only=True)
class ContainerSpec:
    """Everything the agent decides about one container before it starts (JSON-able)."""

    name: str
    image: str
    task_arn: str = ""
    task_id: str = ""
    address: str  # the task's private IP on loopback, shared by its containers (awsvpc)
    ports: list[int] = field(default_factory=list)  # containerPort of each portMapping
    environment: dict[str, str] = field(default_factory=dict)  # environment + resolved secrets
    command: list[str] | None = None
    entry_point: list[str] | None = None
    log_path: str  # receives the container's stdout and stderr
    root: str  # host directory standing for the container's root filesystem
    mounts: dict[str, str] = field(default_factory=dict)  # container path -> host directory
    readonly_root: bool = False
    user: str | None = None
    proxy: str | None = None  # the data plane's edge proxy; None: reach everything directly
    #: The App Mesh proxy's egress for this container (interception.Interception.to_dict):
    #: its outbound requests go there instead of to `proxy`; None without interception.
    egress: dict[str, Any] | None = None
    #: The task's runtimePlatform.cpuArchitecture: a single-architecture image built for the
    #: other one starts and fails at once, as on AWS (catalogue.exec_format_error).
    architecture: str = catalogue.DEFAULT_ARCHITECTURE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ContainerSpec":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown ContainerSpec fields: {', '.join(sorted(unknown))}")
        spec = cls(**data)
        spec.ports = [int(p) for p in spec.ports]
        spec.environment = {str(k): str(v) for k, v in spec.environment.items()}
        return spec


def hostname(address: str, region: str | None) -> str:
    """The host name a task's containers see: the ENI's private DNS name, as on Fargate.

    https://docs.aws.amazon.com/vpc/latest/userguide/vpc-dns.html#vpc-dns-hostnames
    """
    label = "ip-" + address.replace(".", "-")
    if not region or region == "us-east-1":
        return f"{label}.ec2.internal"
    return f"{label}.{region}.compute.internal"


def container_environment(spec: ContainerSpec, image: catalogue.Image) -> dict[str, str]:
    """The environment the program sees, in Docker's order: defaults, image ENV, task's values.

    ECS adds AWS_EXECUTION_ENV (AWS_ECS_FARGATE on Fargate) and the region variables when
    the agent passes them; the task agent adds AWS_CONTAINER_CREDENTIALS_RELATIVE_URI for a task
    with a task role (dataplane/task_aws.py); the metadata endpoint is not emulated.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-environment-variables.html
    """
    region = spec.environment.get("AWS_REGION") or spec.environment.get("AWS_DEFAULT_REGION")
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": hostname(spec.address, region),
           "HOME": "/root" if spec.user in (None, "", "root", "0") else "/",
           "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE"}
    env.update(image.env)
    env.update(spec.environment)
    return env


def argv(spec: ContainerSpec, image: catalogue.Image) -> list[str]:
    """ENTRYPOINT + CMD after the task's overrides; an entryPoint override drops the image's CMD.

    https://docs.docker.com/reference/dockerfile/#understand-how-cmd-and-entrypoint-interact
    """
    entry = list(spec.entry_point) if spec.entry_point is not None else list(image.entry_point)
    if spec.command is not None:
        command = list(spec.command)
    else:
        command = list(image.command) if spec.entry_point is None else []
    return entry + command


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies, so no container outlives
    the data plane; exit at once if the parent is already gone (the race prctl leaves)."""
    from mylearning.lifetime import parent_death_signal

    parent = os.getppid()
    parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent or parent == 1:
        os._exit(137)


def release_parent_lifelines() -> None:
    """Close the ends of multiprocessing's lifeline pipes that a forked child inherits.

    The forkserver exits when the last write end of its "alive" pipe closes, and the
    resource tracker when the last end of its pipe does; a forkserver child gets a copy of
    both (so that it could start processes itself). A container never does, and holding
    them would keep the forkserver alive after the agent dies, so PDEATHSIG would never
    fire. Private attributes of multiprocessing, read defensively.
    """
    from multiprocessing import forkserver, resource_tracker
    for owner, attribute in ((getattr(forkserver, "_forkserver", None), "_forkserver_alive_fd"),
                             (getattr(resource_tracker, "_resource_tracker", None), "_fd")):
        fd = getattr(owner, attribute, None)
        if isinstance(fd, int):
            try:
                os.close(fd)
            except OSError:
                pass
            setattr(owner, attribute, None)


def _redirect_output(log_path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)


def load_program(program: str) -> Callable[[Container], int | None]:
    """The function `module:function` names, imported on demand (busybox may not exist yet)."""
    module_name, _, function = program.partition(":")
    return getattr(importlib.import_module(module_name), function)


def main(spec: dict[str, Any]) -> None:
    """Become the container described by `spec` and run its image; never returns."""
    die_with_parent()
    release_parent_lifelines()
    code = 1
    try:
        parsed = ContainerSpec.from_dict(spec)
        _redirect_output(parsed.log_path)
        image = catalogue.resolve(parsed.image)
        if image is None:
            print(catalogue.pull_error(parsed.image), file=sys.stderr)
            os._exit(1)
        if not catalogue.runs_on(image, parsed.architecture):
            print(catalogue.exec_format_error(image, parsed.architecture), file=sys.stderr)
            os._exit(catalogue.EXEC_FORMAT_EXIT_CODE)
        env = container_environment(parsed, image)
        os.environ.clear()
        os.environ.update(env)
        os.makedirs(parsed.root, exist_ok=True)
        os.chdir(parsed.root)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        container = Container(name=parsed.name, address=parsed.address, ports=list(parsed.ports), env=env,
                              argv=argv(parsed, image), root=parsed.root, mounts=dict(parsed.mounts),
                              readonly_root=parsed.readonly_root, user=parsed.user, proxy=parsed.proxy,
                              egress=parsed.egress,
                              task_arn=parsed.task_arn, task_id=parsed.task_id, image=parsed.image)
        try:
            program = load_program(image.program)
        except (ImportError, AttributeError) as exc:
            print(f"exec {image.program}: cannot start: {exc}", file=sys.stderr)
            os._exit(1)
        result = program(container)
        code = 0 if result is None else int(result)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
