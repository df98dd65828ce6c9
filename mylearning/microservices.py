"""MyLearning's three microservices as the labs deploy them: names, sizes, secrets, permissions.

Lab 03 writes the courses API's task definition by hand and builds the other two
with these facts; `prepare` rebuilds all three for labs 04 onwards. Keeping the
facts in one place means a later lab and its preparation agree on every name.

The images live in the learner's own Amazon ECR registry
(``ACCOUNT.dkr.ecr.REGION.amazonaws.com/mylearning/SERVICE:VERSION``). On the
embedded AWS nothing is pulled; on a real account, push images with those names
first (the course does not build them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mylearning import roles, taskdefs

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
        environment={"PORT": str(APP_PORT), "LOG_LEVEL": "info"}),
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


def account_id(session: Any) -> str:
    return session.client("sts").get_caller_identity()["Account"]


def image(session: Any, service: str, version: str, account: str | None = None) -> str:
    account = account or account_id(session)
    return f"{account}.dkr.ecr.{session.region_name}.amazonaws.com/mylearning/{service}:{version}"


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


def app_permissions(session: Any, service: str, account: str | None = None) -> dict[str, Any]:
    """What each app's own code calls, and nothing more (the task role's policy)."""
    account = account or account_id(session)
    region, prefix = session.region_name, session.prefix
    if service == "courses-api":
        return roles.policy(roles.allow("s3:GetObject",
                                        f"arn:aws:s3:::{prefix}-course-content/*", "ReadCourseMaterial"))
    if service == "enrollment":
        return roles.policy(roles.allow(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            f"arn:aws:dynamodb:{region}:{account}:table/{prefix}-enrollments", "Enrollments"))
    if service == "video-worker":
        return roles.policy(
            roles.allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{prefix}-videos/*", "Videos"),
            roles.allow(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
                        f"arn:aws:sqs:{region}:{account}:{prefix}-video-jobs", "VideoJobs"))
    raise KeyError(f"Unknown service {service!r}; MyLearning's services are {', '.join(SERVICES)}")


def execution_permissions(secret_arn: str) -> dict[str, Any]:
    """The execution role's one addition to the AWS managed policy: read this secret only."""
    return roles.policy(roles.allow("secretsmanager:GetSecretValue", secret_arn, "ReadAppSecret"))


def task_definition(session: Any, service: str, *, execution_role_arn: str, task_role_arn: str,
                    secret_arn: str | None, lab: str = "03", version: str | None = None,
                    arch: str | None = None, account: str | None = None) -> dict[str, Any]:
    """RegisterTaskDefinition arguments for one of MyLearning's services, hardened."""
    spec = SERVICES[service]
    log = taskdefs.awslogs(log_group(session, service), session.region_name, service)
    app_image = image(session, service, version or spec.version, account)
    secrets = {var: f"{secret_arn}:{key}::" for var, key in spec.secret_keys.items()} if secret_arn else None
    if spec.port:
        app = taskdefs.container(
            "app", app_image, log=log, port=spec.port, environment=spec.environment,
            secrets=secrets, health_check=taskdefs.http_health_check(spec.port, HEALTH_PATH),
            writable_paths={TMP_VOLUME: "/tmp"})
        containers, volumes = [app], [TMP_VOLUME]
    else:
        init = taskdefs.container(
            INIT_CONTAINER, INIT_IMAGE, log=log, essential=False,
            command=["sh", "-c", "mkdir -p /scratch/in /scratch/out"],
            writable_paths={"scratch": "/scratch"})
        app = taskdefs.container(
            "app", app_image, log=log, environment=spec.environment, secrets=secrets,
            health_check=taskdefs.command_health_check(
                "test -n \"$(find /scratch/heartbeat -mmin -1)\" || exit 1", start_period=60),
            writable_paths={"scratch": "/scratch", TMP_VOLUME: "/tmp"},
            depends_on={INIT_CONTAINER: "SUCCESS"})
        containers, volumes = [init, app], ["scratch", TMP_VOLUME]
    return taskdefs.fargate_task(
        family(session, service), containers, cpu=spec.cpu, memory=spec.memory,
        execution_role_arn=execution_role_arn, task_role_arn=task_role_arn,
        arch=arch or spec.arch, volumes=volumes, tags=session.tags(lab, style="key"))


# ---------------------------------------------------------------- building lab 03's end state
# `prepare` calls these; lab 03's notebook does the same steps by hand first.

def ensure_log_group(session: Any, lab: str, service: str) -> str:
    """The service's log group, created with the course tags and a retention period."""
    from mylearning import identity
    logs = session.client("logs")
    name = log_group(session, service)
    if not any(g["logGroupName"] == name
               for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]):
        logs.create_log_group(logGroupName=name, tags=identity.tags(lab, session.learner))
    logs.put_retention_policy(logGroupName=name, retentionInDays=LOG_RETENTION_DAYS)
    return name


def ensure_secret(session: Any, lab: str) -> dict:
    """The database credentials secret (a new random password only when it is first created)."""
    sm = session.client("secretsmanager")
    try:
        return sm.describe_secret(SecretId=secret_name(session))
    except sm.exceptions.ResourceNotFoundException:
        pass
    import json
    password = sm.get_random_password(PasswordLength=32, ExcludePunctuation=True)["RandomPassword"]
    sm.create_secret(Name=secret_name(session), Description="MyLearning database credentials",
                     SecretString=json.dumps({"username": "mylearning_app", "password": password}),
                     Tags=session.tags(lab))
    return sm.describe_secret(SecretId=secret_name(session))


def ensure_execution_role(session: Any, lab: str, secret_arn: str) -> dict:
    return roles.ensure_role(
        session, lab, execution_role_name(session), trust=roles.trust_policy(),
        description="ECS pulls images, writes logs and reads the app secret for MyLearning tasks",
        managed=[taskdefs.EXECUTION_POLICY_ARN],
        inline={"read-app-secret": execution_permissions(secret_arn)})


def ensure_task_role(session: Any, lab: str, service: str, account: str | None = None) -> dict:
    account = account or account_id(session)
    return roles.ensure_role(
        session, lab, task_role_name(session, service),
        trust=roles.trust_policy(account=account, region=session.region_name),
        description=f"What MyLearning's {service} code may call",
        inline={"app-permissions": app_permissions(session, service, account)})


def service_spec(session: Any, service: str, *, cluster: str, task_definition: str,
                 subnets: list[str], security_group: str, target_group_arn: str,
                 registry_arn: str, lab: str = "04") -> dict[str, Any]:
    """CreateService arguments for a web service: private subnets, ALB, Cloud Map, safe rollouts.

    No launchType and no capacityProviderStrategy: the cluster's default strategy applies
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html).
    """
    return {
        "cluster": cluster, "serviceName": service_name(session, service),
        "taskDefinition": task_definition, "desiredCount": DESIRED_COUNT,
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "minimumHealthyPercent": 100, "maximumPercent": 200},
        "healthCheckGracePeriodSeconds": GRACE_PERIOD_SECONDS,
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": list(subnets), "securityGroups": [security_group], "assignPublicIp": "DISABLED"}},
        "loadBalancers": [{"targetGroupArn": target_group_arn, "containerName": "app",
                           "containerPort": APP_PORT}],
        "serviceRegistries": [{"registryArn": registry_arn}],
        "propagateTags": "SERVICE", "enableECSManagedTags": True,
        "tags": session.tags(lab, style="key"),
    }
