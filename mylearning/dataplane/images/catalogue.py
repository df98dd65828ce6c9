"""Which container images exist: the course's published images and how ECS names them.

An image outside this table fails to pull, as on AWS, so a typo in a task definition's
`image` teaches what it teaches there: the task stops with `CannotPullContainerError`.
Pure data and string parsing, no I/O and no import of the programs themselves (they are
resolved by name when a container starts), so the embedded AWS and the task agent can
both import it cheaply, and a program module that is missing (busybox is written
elsewhere) cannot break this one.

Reference grammar, as Docker and ECS read an `image` field:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_image
("repository-url/image:tag" or "repository-url/image@digest"; no tag means `latest`).
Private ECR image URIs are `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>`:
https://docs.aws.amazon.com/AmazonECR/latest/userguide/docker-pull-ecr-image.html

Each image also says which CPU architectures it was built for, named as a task
definition's `runtimePlatform.cpuArchitecture` names them (X86_64 | ARM64, X86_64 when
the task definition says nothing):
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html
A multi-arch image is a manifest list: the pull picks the variant for the task's
architecture. A single-arch image pulls fine anywhere, and only fails when its program
is executed (see `exec_format_error`).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from mylearning.facts import xray as _xray

#: runtimePlatform.cpuArchitecture's values, and the one a task gets when it names none.
X86_64 = "X86_64"
ARM64 = "ARM64"
ARCHITECTURES: tuple[str, ...] = (X86_64, ARM64)
DEFAULT_ARCHITECTURE = X86_64
#: Built for both (a manifest list with a linux/amd64 and a linux/arm64 variant).
MULTI_ARCH: tuple[str, ...] = (X86_64, ARM64)
#: The exit code of a container whose program the kernel cannot execute (see exec_format_error).
EXEC_FORMAT_EXIT_CODE = 1

#: The course's namespace on ECR Public and in the learner's private ECR.
NAMESPACE = "mylearning"
PUBLIC_REGISTRY = "public.ecr.aws"
DOCKER_HUB = "docker.io"

_PRIVATE_REGISTRY = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$"
)
# Docker's reference grammar, reduced to what ECS accepts: lowercase path components,
# a tag of up to 128 word characters, dots and dashes, a sha256 digest.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"^(?P<name>{_COMPONENT}(?:\.{_COMPONENT})*(?::\d+(?=/))?(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


def _digest(repository: str, tag: str) -> str:
    """A stable content digest: the same image always has the same digest, as in a registry."""
    return "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()


@dataclass(frozen=True)
class Image:
    """One published image: where it lives, which program it runs, what it listens on.

    `env` is the image's own ENV (Docker merges it under the task definition's
    `environment`); `entry_point` and `command` are its ENTRYPOINT and CMD.
    `architectures` are the CPU architectures it was built for; `executable` is the file
    its program stands for, the one the kernel is asked to execute when it starts.
    """

    repository: str
    tag: str
    program: str
    summary: str
    ports: tuple[int, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, hash=False)
    entry_point: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    registry: str = PUBLIC_REGISTRY
    architectures: tuple[str, ...] = (X86_64,)  # what `docker build` gives on an x86 machine
    executable: str = "/usr/local/bin/app"

    def __post_init__(self) -> None:
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))
        unknown = [a for a in self.architectures if a not in ARCHITECTURES]
        if unknown or not self.architectures:
            raise ValueError(f"architectures must be some of {ARCHITECTURES}, not {self.architectures}")

    @property
    def digest(self) -> str:
        return _digest(self.repository, self.tag)

    @property
    def reference(self) -> str:
        """The image's public reference, the one the course's task definitions use."""
        return f"{self.registry}/{self.repository}:{self.tag}"


_SERVICE_KNOBS = ("knobs: PORT, LOG_LEVEL, ERROR_RATE, LATENCY_MS, MEMORY_GROWTH_MB_PER_S, "
                  "CRASH_AFTER_SECONDS+EXIT_CODE, HEALTH=fail, UNHEALTHY_AFTER_SECONDS, "
                  "IGNORE_SIGTERM, RANDOM_SEED; live: POST /_mylearning/knobs")
_HTTP_ENV = {"PORT": "8080", "LOG_LEVEL": "INFO"}


def _courses(tag: str, what: str, architectures: tuple[str, ...] = MULTI_ARCH) -> Image:
    return Image(f"{NAMESPACE}/courses-api", tag, f"mylearning.dataplane.images.courses_api:v{tag.replace('.', '_')}",
                 f"MyLearning courses API {tag}: {what}. Needs secrets DB_USER, DB_PASSWORD; {_SERVICE_KNOBS}",
                 (8080,), _HTTP_ENV, architectures=architectures, executable="/usr/local/bin/courses-api")


def _enrollment(tag: str, what: str) -> Image:
    return Image(f"{NAMESPACE}/enrollment", tag, f"mylearning.dataplane.images.enrollment:v{tag.replace('.', '_')}",
                 f"MyLearning enrollment API {tag}: {what}; calls COURSES_API_URL through the task's proxy. "
                 f"Needs secrets DB_USER, DB_PASSWORD; {_SERVICE_KNOBS}",
                 (8080,), {**_HTTP_ENV, "COURSES_API_URL": "http://courses-api.mylearning.local:8080"},
                 architectures=MULTI_ARCH, executable="/usr/local/bin/enrollment")


IMAGES: tuple[Image, ...] = (
    # courses-api 1.0.0 was published for x86_64 only; later releases are multi-arch.
    _courses("1.0.0", "GET /api/courses, /api/courses/{id}", (X86_64,)),
    _courses("1.1.0", "adds ?level= filtering and duration in the list"),
    _courses("1.2.0", "adds each course's rating"),
    _courses("2.0.0", "adds instructors; FLAWED: errors and latency rise steeply above ~4 requests in flight"),
    _courses("2.0.1", "2.0.0 (instructors) with its connection pool fixed"),
    _enrollment("1.0.0", "POST /api/enroll, GET /api/enrollments"),
    _enrollment("1.1.0", "adds enrolled_at, course titles, 409 on a duplicate enrollment"),
    Image(f"{NAMESPACE}/video-worker", "1.0.0", "mylearning.dataplane.images.video_worker:v1_0_0",
          "MyLearning video worker 1.0.0: no port; takes a job every JOB_INTERVAL_SECONDS and writes it to "
          "SCRATCH_DIR (needs a writable mount there on a read-only root); touches SCRATCH_DIR/heartbeat at "
          "start, after each job and every HEARTBEAT_SECONDS; MAX_JOBS>0 makes it a batch job; x86_64 only "
          "(its encoder); knobs: LOG_LEVEL, MEMORY_GROWTH_MB_PER_S, CRASH_AFTER_SECONDS+EXIT_CODE, IGNORE_SIGTERM",
          (), {"LOG_LEVEL": "INFO", "SCRATCH_DIR": "/scratch", "JOB_INTERVAL_SECONDS": "1"},
          architectures=(X86_64,), executable="/usr/local/bin/video-worker"),
    Image(f"{NAMESPACE}/web", "1.0.0", "mylearning.dataplane.images.web:v1_0_0",
          f"MyLearning web front end 1.0.0: GET / renders the catalogue from COURSES_API_URL and the "
          f"enrollment count from ENROLLMENT_URL; {_SERVICE_KNOBS}",
          (8080,), {**_HTTP_ENV, "COURSES_API_URL": "http://courses-api.mylearning.local:8080",
                    "ENROLLMENT_URL": "http://enrollment.mylearning.local:8080"},
          architectures=MULTI_ARCH, executable="/usr/local/bin/web"),
    # App Mesh's Envoy image (https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy.html):
    # the proxy for a virtual node or gateway; runs as the task definition's user (1337, the
    # proxyConfiguration's IgnoredUID, in AWS's examples). Admin port 9901.
    *(Image("appmesh/aws-appmesh-envoy", tag, "mylearning.dataplane.images.envoy:main",
            f"App Mesh Envoy {tag}: the sidecar proxy of a virtual node or virtual gateway named by "
            "APPMESH_RESOURCE_ARN; ingress 15000, egress 15001, admin ENVOY_ADMIN_ACCESS_PORT (9901); "
            "needs appmesh:StreamAggregatedResources in the task role",
            (9901, 15000, 15001), {"ENVOY_LOG_LEVEL": "info", "ENVOY_ADMIN_ACCESS_PORT": "9901"},
            architectures=MULTI_ARCH, executable="/usr/bin/envoy")
      for tag in ("v1.29.6.0-prod", "v1.27.3.0-prod")),
    # The CloudWatch agent (mylearning.facts.cloudwatch_agent): StatsD in (UDP 8125), metrics
    # out through PutMetricData; configured by CW_CONFIG_CONTENT.
    Image("cloudwatch-agent/cloudwatch-agent", "latest", "mylearning.dataplane.images.cloudwatch_agent:main",
          "CloudWatch agent: a StatsD listener (CW_CONFIG_CONTENT's metrics_collected.statsd, UDP 8125) whose "
          "metrics it publishes to CloudWatch; needs cloudwatch:PutMetricData in the task role",
          (), {}, architectures=MULTI_ARCH, executable="/opt/aws/amazon-cloudwatch-agent/bin/start-amazon-cloudwatch-agent"),
    # The X-Ray daemon (mylearning.facts.xray; https://docs.aws.amazon.com/xray/latest/devguide/xray-daemon-ecs.html):
    # segments in on UDP 2000, PutTraceSegments out with the task role.
    *(Image(_xray.DAEMON_REPOSITORY, tag, "mylearning.dataplane.images.xray_daemon:main",
            f"AWS X-Ray daemon {tag}: listens for segment documents on UDP 2000 (-b/--bind, AWS_XRAY_DAEMON_ADDRESS) "
            "and uploads them with PutTraceSegments; needs xray:PutTraceSegments in the task role",
            (), {}, architectures=MULTI_ARCH, executable="/xray")
      for tag in _xray.DAEMON_TAGS),
    Image("docker/library/busybox", "1.36", "mylearning.dataplane.images.busybox:main",
          "BusyBox 1.36 shell: sh, wget, echo, sleep... for healthChecks, sidecars and one-off commands",
          (), {}, command=("sh",), architectures=MULTI_ARCH, executable="/bin/sh"),
)

#: Which tag `latest` (and a reference without a tag) means for each repository.
#: courses-api's `latest` stays on the last good release: the course never moves it to the
#: flawed 2.0.0, so a learner who forgets a tag is not surprised by the flaw.
LATEST: Mapping[str, str] = MappingProxyType({
    f"{NAMESPACE}/courses-api": "1.2.0",
    f"{NAMESPACE}/enrollment": "1.1.0",
    f"{NAMESPACE}/video-worker": "1.0.0",
    f"{NAMESPACE}/web": "1.0.0",
    "docker/library/busybox": "1.36",
    "appmesh/aws-appmesh-envoy": "v1.29.6.0-prod",
    "cloudwatch-agent/cloudwatch-agent": "latest",
    _xray.DAEMON_REPOSITORY: _xray.DAEMON_TAGS[0],
})

#: Modules the forkserver imports before forking, so a container starts in milliseconds:
#: aiohttp and every program. A missing one (busybox, until it lands) is skipped by the
#: forkserver, which ignores ImportError in its preload list.
PRELOAD: list[str] = [
    "aiohttp", "aiohttp.web",
    "mylearning.dataplane.images.runtime",
    "mylearning.dataplane.images.service",
    "mylearning.dataplane.images.courses_api",
    "mylearning.dataplane.images.enrollment",
    "mylearning.dataplane.images.video_worker",
    "mylearning.dataplane.images.web",
    "mylearning.dataplane.images.busybox",
    "mylearning.dataplane.images.envoy",
    "mylearning.dataplane.images.cloudwatch_agent",
    "mylearning.dataplane.images.xray_daemon",
    "mylearning.dataplane.mesh",
]

_BY_TAG: Mapping[tuple[str, str], Image] = MappingProxyType({(i.repository, i.tag): i for i in IMAGES})
_BY_DIGEST: Mapping[tuple[str, str], Image] = MappingProxyType({(i.repository, i.digest): i for i in IMAGES})


@dataclass(frozen=True)
class Reference:
    """An image reference split as a registry client splits it."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        """The canonical form the pull error names (tag made explicit, as a pull does)."""
        name = f"{self.registry}/{self.repository}"
        if self.digest:
            return f"{name}@{self.digest}"
        return f"{name}:{self.tag or 'latest'}"


def parse(reference: str) -> Reference | None:
    """Split `reference` into registry, repository, tag and digest; None if it is malformed.

    A first component with a dot or a port is a registry host (Docker's rule); without
    one the registry is Docker Hub, and a one-component name is in its `library/`.
    """
    match = _REFERENCE.match(reference.strip()) if reference else None
    if not match:
        return None
    name = match["name"]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, name if rest else f"library/{name}"
    return Reference(registry, repository, match["tag"], match["digest"])


def _catalogue_repository(ref: Reference) -> str | None:
    """The catalogue repository a reference's registry and path stand for, if any.

    ECR Public and the learner's private ECR hold the course's images under the same
    repository names (the course has learners push them there); BusyBox is also on
    Docker Hub, where ECR Public's docker/library mirror comes from.
    """
    if _PRIVATE_REGISTRY.match(ref.registry) and ref.repository == "aws-appmesh-envoy":
        # App Mesh's regional copies (840364872350.dkr.ecr.<region>.amazonaws.com/aws-appmesh-envoy),
        # https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy.html
        return "appmesh/aws-appmesh-envoy"
    if ref.registry == PUBLIC_REGISTRY or _PRIVATE_REGISTRY.match(ref.registry):
        return ref.repository
    if ref.registry == DOCKER_HUB and ref.repository.startswith("library/"):
        return f"docker/{ref.repository}"
    return None


def resolve(reference: str) -> Image | None:
    """The image `reference` names, or None when no registry the course knows has it.

    A digest wins over a tag when both are given, as in Docker; `latest` and a missing
    tag follow LATEST.
    """
    ref = parse(reference)
    if ref is None:
        return None
    repository = _catalogue_repository(ref)
    if repository is None:
        return None
    if ref.digest:
        return _BY_DIGEST.get((repository, ref.digest))
    tag = ref.tag or "latest"
    if tag == "latest":
        tag = LATEST.get(repository, "latest")
    return _BY_TAG.get((repository, tag))


def pull_error(reference: str) -> str:
    """The stopped reason ECS gives when `reference` cannot be pulled because it does not exist.

    Wording of the Fargate (containerd) pull failure for a missing image or tag, from
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html
    ("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to
    resolve ref ...: not found"). A malformed reference fails before any registry is asked.
    """
    ref = parse(reference)
    if ref is None:
        return f'CannotPullContainerError: failed to parse image reference "{reference}": invalid reference format'
    canonical = str(ref)
    return (f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
            f"failed to resolve ref {canonical}: {canonical}: not found")


def references() -> list[str]:
    """Every reference the course publishes on ECR Public: each tag, and each `latest`."""
    published = [image.reference for image in IMAGES]
    published += [f"{_BY_TAG[(repo, tag)].registry}/{repo}:latest" for repo, tag in LATEST.items()]
    return published


def private_reference(image: Image, account: str, region: str) -> str:
    """Where the course tells a learner to push `image` in their own ECR."""
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{image.repository}:{image.tag}"


def _architecture(architecture: str) -> str:
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown cpuArchitecture {architecture!r}: expected one of {', '.join(ARCHITECTURES)}")
    return architecture


def runs_on(image: Image, architecture: str) -> bool:
    """Whether a container of `image` can run on a task whose cpuArchitecture is `architecture`.

    `architecture` is runtimePlatform.cpuArchitecture as ECS spells it (pass
    DEFAULT_ARCHITECTURE when the task definition has no runtimePlatform); another
    spelling is a ValueError, since ECS would have refused the task definition.
    """
    return _architecture(architecture) in image.architectures


def exec_format_error(image: Image, architecture: str) -> str:
    """The log line of a container of single-arch `image` started on the other architecture.

    The pull succeeds (the registry has the image; nothing checks its architecture), the
    container starts, and the kernel refuses to execute its program. The container then
    exits at once with exit code 1 (EXEC_FORMAT_EXIT_CODE), and the task stops with
    "Essential container in task exited":
    https://repost.aws/knowledge-center/ecs-task-exec-format-error
    ("The task has a stopped reason of "Essential container in task exited" and an exit
    code 1"). What the container logs is the runtime's
    ``exec <path>: exec format error``, e.g. on Fargate
    "exec /usr/local/bin/streamlit: exec format error" followed by exit 1:
    https://github.com/aws-samples/amazon-bedrock-serverless-prompt-chaining/issues/213
    (older runc versions said "standard_init_linux.go:228: exec user process caused:
    exec format error"). The path is the image's `executable`; a task definition that
    overrides entryPoint would have its own first word named instead, which the course's
    labs never do for these images.

    Raises ValueError when the image does run on `architecture` (there is no error).
    """
    if runs_on(image, architecture):
        raise ValueError(f"{image.reference} is built for {architecture}: it starts normally")
    return f"exec {image.executable}: exec format error"
