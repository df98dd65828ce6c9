"""MyLearning's three microservices as the labs deploy them: names, sizes, secrets, permissions.

The facts of the story (what each service is, its size, port and version) and the
names the course gives what it builds for them. Keeping both in one place means a
lab, its grader and its preparation agree on every name. Assembling these facts
into API requests is `service_specs`; what each service may call is `task_roles`.

The images live in the learner's own Amazon ECR registry
(``ACCOUNT.dkr.ecr.REGION.amazonaws.com/mylearning/SERVICE:VERSION``). On the
embedded AWS nothing is pulled; on a real account, push images with those names
first (the course does not build them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


APP_PORT = 8080
HEALTH_PATH = "/health"
#: Days CloudWatch Logs keeps the services' logs (a value PutRetentionPolicy accepts).
LOG_RETENTION_DAYS = 30
#: Writable scratch space for containers whose root filesystem is read-only.
TMP_VOLUME = "tmp"


@dataclass(frozen=True)
class Microservice:
    name: str
    summary: str
    cpu: int                      # CPU units (1024 = 1 vCPU)
    memory: int                   # MiB
    arch: str                     # X86_64 or ARM64, as lab 03 leaves it
    version: str                  # image tag lab 03 leaves running
    port: int | None = APP_PORT
    #: environment variable -> JSON key of the database secret
    secret_keys: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    #: environment variable -> the service it names: the URL of that service's Cloud Map
    #: name in the learner's namespace (lab 04 registers them), see `backend_environment`.
    calls: dict[str, str] = field(default_factory=dict)


SERVICES: dict[str, Microservice] = {
    "courses-api": Microservice(
        "courses-api", "Course catalogue REST API (reads course material from S3)",
        cpu=512, memory=1024, arch="ARM64", version="1.1.0",
        secret_keys={"DB_USER": "username", "DB_PASSWORD": "password"},
        environment={"PORT": str(APP_PORT), "LOG_LEVEL": "info"}),
    "enrollment": Microservice(
        "enrollment", "Enrollment service (writes enrollments to DynamoDB)",
        cpu=256, memory=512, arch="ARM64", version="1.0.0",
        secret_keys={"DB_USER": "username", "DB_PASSWORD": "password"},
        environment={"PORT": str(APP_PORT), "LOG_LEVEL": "info"},
        calls={"COURSES_API_URL": "courses-api"}),
    "video-worker": Microservice(
        "video-worker", "Video processing worker (SQS jobs, S3 in and out; x86-only encoder)",
        cpu=2048, memory=4096, arch="X86_64", version="1.0.0", port=None,
        environment={"SCRATCH_DIR": "/scratch", "LOG_LEVEL": "info"}),
}
#: The services behind the load balancer (lab 04): path pattern, listener rule priority,
#: target group name suffix (target group names allow only 32 characters).
WEB_SERVICES = {"courses-api": ("/api/courses*", 10, "courses-tg"),
                "enrollment": ("/api/enroll*", 20, "enroll-tg")}
#: Tasks per service: one per Availability Zone, so losing a zone leaves one running.
DESIRED_COUNT = 2
#: Seconds ECS ignores failing load balancer health checks after a task starts.
GRACE_PERIOD_SECONDS = 60
#: The courses API version lab 04 rolls out.
ROLLOUT_VERSION = "1.2.0"
INIT_CONTAINER = "init-scratch"
INIT_IMAGE = "public.ecr.aws/docker/library/busybox:1.36"


def image(session: Any, service: str, version: str, account: str | None = None) -> str:
    """The service's image in the learner's own ECR registry (asks STS for the account if not given)."""
    if account is None:
        from mylearning.lookup import account_id
        account = account_id(session)
    return f"{account}.dkr.ecr.{session.region_name}.amazonaws.com/mylearning/{service}:{version}"


def backend_url(session: Any, service: str) -> str:
    """How another task calls `service`: its name in the learner's Cloud Map namespace."""
    from mylearning.cloudmap import namespace_name
    return f"http://{service}.{namespace_name(session)}:{APP_PORT}"


def backend_environment(session: Any, service: str) -> dict[str, str]:
    """The service's environment, with the URLs of the services it calls."""
    spec = SERVICES[service]
    return {**spec.environment, **{var: backend_url(session, target) for var, target in spec.calls.items()}}


def started_by(session: Any, lab: str) -> str:
    """The startedBy mark of the tasks a lab runs on its own (not through a service)."""
    return f"{session.prefix}-lab{lab}"


def family(session: Any, service: str) -> str:
    return session.name(service)


def service_name(session: Any, service: str) -> str:
    """The ECS service's name (lab 04); the same as its task definition family."""
    return session.name(service)


def target_group_name(session: Any, service: str) -> str:
    return session.name(WEB_SERVICES[service][2])


def load_balancer_name(session: Any) -> str:
    return session.name("alb")


def log_group(session: Any, service: str) -> str:
    return f"/ecs/{session.prefix}/{service}"


def secret_name(session: Any) -> str:
    return session.name("db-credentials")


def execution_role_name(session: Any) -> str:
    return session.name("task-execution-role")


def task_role_name(session: Any, service: str) -> str:
    return session.name(service, "task-role")
