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
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

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

    def __post_init__(self) -> None:
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))

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


def _courses(tag: str, what: str) -> Image:
    return Image(f"{NAMESPACE}/courses-api", tag, f"mylearning.dataplane.images.courses_api:v{tag.replace('.', '_')}",
                 f"MyLearning courses API {tag}: {what}. Needs secrets DB_USER, DB_PASSWORD; {_SERVICE_KNOBS}",
                 (8080,), _HTTP_ENV)


def _enrollment(tag: str, what: str) -> Image:
    return Image(f"{NAMESPACE}/enrollment", tag, f"mylearning.dataplane.images.enrollment:v{tag.replace('.', '_')}",
                 f"MyLearning enrollment API {tag}: {what}; calls COURSES_API_URL through the task's proxy. "
                 f"Needs secrets DB_USER, DB_PASSWORD; {_SERVICE_KNOBS}",
                 (8080,), {**_HTTP_ENV, "COURSES_API_URL": "http://courses-api.mylearning.local:8080"})


IMAGES: tuple[Image, ...] = (
    _courses("1.0.0", "GET /api/courses, /api/courses/{id}"),
    _courses("1.1.0", "adds ?level= filtering and duration in the list"),
    _courses("1.2.0", "adds each course's rating"),
    _courses("2.0.0", "adds instructors; FLAWED: errors and latency rise steeply above ~4 requests in flight"),
    _enrollment("1.0.0", "POST /api/enroll, GET /api/enrollments"),
    _enrollment("1.1.0", "adds enrolled_at, course titles, 409 on a duplicate enrollment"),
    Image(f"{NAMESPACE}/video-worker", "1.0.0", "mylearning.dataplane.images.video_worker:v1_0_0",
          "MyLearning video worker 1.0.0: no port; takes a job every JOB_INTERVAL_SECONDS and writes it to "
          "SCRATCH_DIR (needs a writable mount there on a read-only root); MAX_JOBS>0 makes it a batch job; "
          "knobs: LOG_LEVEL, MEMORY_GROWTH_MB_PER_S, CRASH_AFTER_SECONDS+EXIT_CODE, IGNORE_SIGTERM",
          (), {"LOG_LEVEL": "INFO", "SCRATCH_DIR": "/scratch", "JOB_INTERVAL_SECONDS": "1"}),
    Image(f"{NAMESPACE}/web", "1.0.0", "mylearning.dataplane.images.web:v1_0_0",
          f"MyLearning web front end 1.0.0: GET / renders the catalogue from COURSES_API_URL and the "
          f"enrollment count from ENROLLMENT_URL; {_SERVICE_KNOBS}",
          (8080,), {**_HTTP_ENV, "COURSES_API_URL": "http://courses-api.mylearning.local:8080",
                    "ENROLLMENT_URL": "http://enrollment.mylearning.local:8080"}),
    Image("docker/library/busybox", "1.36", "mylearning.dataplane.images.busybox:main",
          "BusyBox 1.36 shell: sh, wget, echo, sleep... for healthChecks, sidecars and one-off commands",
          (), {}, command=("sh",)),
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
