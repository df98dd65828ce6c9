"""Lab 03 - Task definitions: checks for each step, with hints for the usual mistakes.

Rules checked here, with the AWS pages that state them:
- Fargate task sizes (the cpu/memory table; anything else is rejected with
  "No Fargate configuration exists for given values"):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html
- Fargate needs the awsvpc network mode:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html
- Execution role (ECS pulls images, writes logs, fetches secrets) vs task role (the app's calls):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
- Secrets as `secrets` with `valueFrom`, read with the execution role:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
- awslogs driver and its log group:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
- Container health checks and dependsOn conditions:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html
- Non-root user and read-only root filesystem (ECS security best practices):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-tasks-containers.html
- ARM64 (Graviton) with runtimePlatform:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-arm64.html
"""
from __future__ import annotations

import json

from mylearning.course.lab03_task_definitions import ABOUT
from mylearning.steps import Context, Lab, Outcome, fail, ok
from mylearning import lookup, microservices, roles, taskdefs

LAB = Lab.declared(ABOUT)

SERVICES = tuple(microservices.SERVICES)
SIZE_HINT = ("Fargate accepts only the published cpu/memory pairs, e.g. 256/512, 512/1024, "
             "1024/2048, 2048/4096 (cpu in CPU units, memory in MiB, both as strings). "
             "If registration failed with 'No Fargate configuration exists for given values', "
             "pick a pair from that table.")


# ---------------------------------------------------------------- shared lookups

def _secret(ctx: Context) -> dict | None:
    def find():
        sm = ctx.client("secretsmanager")
        try:
            return sm.describe_secret(SecretId=microservices.secret_name(ctx.session))
        except sm.exceptions.ResourceNotFoundException:
            return None
    return ctx.remember("secret", find)


def _secret_values(ctx: Context) -> list[str]:
    def read():
        secret = _secret(ctx)
        if secret is None:
            return []
        try:
            text = ctx.client("secretsmanager").get_secret_value(SecretId=secret["ARN"])["SecretString"]
        except Exception:
            return []
        try:
            data = json.loads(text)
        except ValueError:
            return [text]
        return [str(v) for v in data.values()] if isinstance(data, dict) else [text]
    return ctx.remember("secret-values", read)


def _role(ctx: Context, name: str) -> dict | None:
    return ctx.remember(f"role:{name}", lambda: lookup.role(ctx.client("iam"), name))


def _td(ctx: Context, service: str) -> dict | None:
    family = microservices.family(ctx.session, service)
    return ctx.remember(f"td:{service}", lambda: taskdefs.latest(ctx.client("ecs"), family))


def _no_td(ctx: Context, service: str, step: str) -> Outcome:
    family = microservices.family(ctx.session, service)
    return fail(f"No active task definition in family {family}.",
                f"Run step {step}'s cells to register it. {SIZE_HINT}")


def _app_containers(td: dict) -> list[dict]:
    return [c for c in td["containerDefinitions"] if c.get("essential", True)]


# ---------------------------------------------------------------- the parts of a review

def _size_and_network(td: dict) -> Outcome | None:
    name = f"{td['family']}:{td['revision']}"
    if "FARGATE" not in (td.get("requiresCompatibilities") or []):
        return fail(f"{name} is not marked for Fargate (requiresCompatibilities).",
                    "Add requiresCompatibilities=['FARGATE'] so ECS validates it for Fargate.")
    if td.get("networkMode") != "awsvpc":
        return fail(f"{name} uses network mode {td.get('networkMode')!r}.",
                    "Fargate tasks need networkMode='awsvpc': each task gets its own network interface.")
    try:
        taskdefs.check_size(td.get("cpu"), td.get("memory"))
    except ValueError as exc:
        return fail(f"{name}: {exc}", SIZE_HINT)
    return None


def _roles(ctx: Context, td: dict, service: str) -> Outcome | None:
    name = f"{td['family']}:{td['revision']}"
    exec_role = _role(ctx, microservices.execution_role_name(ctx.session))
    task_role = _role(ctx, microservices.task_role_name(ctx.session, service))
    execution_arn, task_arn = td.get("executionRoleArn"), td.get("taskRoleArn")
    if not execution_arn:
        return fail(f"{name} has no executionRoleArn: ECS could not pull the image from ECR, "
                    "write logs or fetch the secret.",
                    f"Set executionRoleArn to the ARN of {microservices.execution_role_name(ctx.session)}.")
    if execution_arn == task_arn:
        return fail(f"{name} uses one role ({execution_arn.rsplit('/', 1)[-1]}) as both execution "
                    "role and task role, so the app's code gets everything ECS needs, "
                    "including reading the secret.",
                    "Use the execution role for executionRoleArn and the service's own task role "
                    f"({microservices.task_role_name(ctx.session, service)}) for taskRoleArn.")
    if exec_role is None or execution_arn != exec_role["Arn"]:
        return fail(f"{name}'s executionRoleArn is {execution_arn}, not the execution role of step 3.3.",
                    f"Use the ARN of {microservices.execution_role_name(ctx.session)}.")
    if not task_arn:
        return fail(f"{name} has no taskRoleArn, so the app's own AWS calls have no credentials.",
                    f"Set taskRoleArn to {microservices.task_role_name(ctx.session, service)}'s ARN.")
    if task_role is None or task_arn != task_role["Arn"]:
        return fail(f"{name}'s taskRoleArn is {task_arn}, not {service}'s own task role.",
                    f"Give each service its own task role: {microservices.task_role_name(ctx.session, service)}.")
    return None


def _tags(ctx: Context, td: dict) -> Outcome | None:
    if not lookup.is_course_tagged(td, ctx.session):
        return fail(f"{td['family']}:{td['revision']} is missing the course tags.",
                    "Pass tags=session.tags(LAB, style='key') when registering.")
    return None


def _logging(ctx: Context, td: dict, service: str) -> Outcome | None:
    group = microservices.log_group(ctx.session, service)
    for c in td["containerDefinitions"]:
        log = c.get("logConfiguration")
        if not log:
            return fail(f"Container {c['name']} has no logConfiguration: its output is lost, and "
                        "there is nothing to read when a task fails to start.",
                        f"Add logConfiguration with logDriver 'awslogs' and options awslogs-group "
                        f"{group}, awslogs-region {ctx.region}, awslogs-stream-prefix.")
        options = log.get("options") or {}
        if log.get("logDriver") != "awslogs" or options.get("awslogs-group") != group:
            return fail(f"Container {c['name']} logs with {log.get('logDriver')} to "
                        f"{options.get('awslogs-group')!r}, not to {group}.",
                        f"Use logDriver 'awslogs' with awslogs-group {group} (created in step 3.1).")
        if options.get("awslogs-region") != ctx.region or not options.get("awslogs-stream-prefix"):
            return fail(f"Container {c['name']}'s awslogs options lack the region or stream prefix.",
                        f"Set awslogs-region to {ctx.region} and an awslogs-stream-prefix (the "
                        "service name): Fargate needs the prefix to name each task's stream.")
    return None


def _secrets(ctx: Context, td: dict, needed: tuple[str, ...]) -> Outcome | None:
    secret = _secret(ctx)
    for c in td["containerDefinitions"]:
        leaked = taskdefs.plain_secrets(c, _secret_values(ctx))
        if leaked:
            return fail(f"Container {c['name']} has {', '.join(leaked)} in plain `environment`: "
                        "anyone allowed to describe the task definition can read it.",
                        "Move it to `secrets`: [{'name': ..., 'valueFrom': <secret ARN>:<json key>::}]. "
                        "ECS reads the secret with the execution role when the task starts.")
    app = _app_containers(td)
    given = {s["name"]: s.get("valueFrom", "") for c in app for s in c.get("secrets") or []}
    missing = [n for n in needed if n not in given]
    if missing:
        return fail(f"The app container has no secret named {', '.join(missing)}.",
                    "Add secrets=[{'name': 'DB_PASSWORD', 'valueFrom': f\"{secret_arn}:password::\"}, ...].")
    if secret is not None:
        refs = (secret["ARN"], secret["Name"])
        wrong = [n for n in needed if not given[n].startswith(refs)]
        if wrong:
            return fail(f"{', '.join(wrong)} do(es) not come from {secret['Name']}.",
                        "valueFrom is the secret's ARN, then ':' and the JSON key and '::', "
                        "e.g. f\"{secret_arn}:password::\".")
    return None


def _hardening(td: dict) -> Outcome | None:
    for c in _app_containers(td):
        check = c.get("healthCheck") or {}
        command = check.get("command") or []
        if not command or command[0] not in ("CMD", "CMD-SHELL"):
            return fail(f"Container {c['name']} has no container health check, so ECS cannot "
                        "replace a task whose app hangs.",
                        "Add healthCheck={'command': ['CMD-SHELL', 'curl -fs http://localhost:8080/health "
                        "|| exit 1'], 'interval': 30, 'timeout': 5, 'retries': 3, 'startPeriod': 15}.")
        user = str(c.get("user") or "")
        if not user or user.split(":")[0] in ("0", "root"):
            return fail(f"Container {c['name']} runs as root (no `user`, or user 0).",
                        "Set user='1000:1000' (a non-root uid:gid the image can run as).")
        if not c.get("readonlyRootFilesystem"):
            return fail(f"Container {c['name']} can write to its root filesystem.",
                        "Set readonlyRootFilesystem=True and mount a task volume at the paths the "
                        "app writes to (e.g. /tmp).")
    return None


def _first(*outcomes: Outcome | None) -> Outcome | None:
    return next((o for o in outcomes if o is not None), None)


# ---------------------------------------------------------------- steps

@LAB.step("3.1", "A log group per service, with a retention period", points=1)
def log_groups(ctx: Context) -> Outcome:
    logs = ctx.client("logs")
    for service in SERVICES:
        name = microservices.log_group(ctx.session, service)
        found = [g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
                 if g["logGroupName"] == name]
        if not found:
            return fail(f"No log group {name}.",
                        "Create it with logs.create_log_group: the awslogs driver does not create "
                        "groups unless told to, and a task whose group is missing fails to start.")
        group = found[0]
        if not group.get("retentionInDays"):
            return fail(f"{name} keeps logs forever (no retention), and you pay for every GB stored.",
                        "Call put_retention_policy(logGroupName=..., retentionInDays=30).")
        arn = group.get("logGroupArn") or group["arn"].removesuffix(":*")
        tags = logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
        resource = {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        if not lookup.is_course_tagged(resource, ctx.session):
            return fail(f"{name} is missing the course tags.",
                        "Pass tags={'course': ..., 'lab': ..., 'learner': ...} to create_log_group "
                        "(or tag_resource on the existing group).")
    return ok(f"{len(SERVICES)} log groups under /ecs/{ctx.prefix}/ with a retention period.")


@LAB.step("3.2", "The database credentials in Secrets Manager", points=1)
def secret(ctx: Context) -> Outcome:
    found = _secret(ctx)
    name = microservices.secret_name(ctx.session)
    if found is None:
        return fail(f"No secret named {name}.",
                    "secretsmanager.create_secret(Name=..., SecretString=json.dumps({'username': ..., "
                    "'password': ...}), Tags=session.tags(LAB)).")
    if not lookup.is_course_tagged(found, ctx.session):
        return fail(f"{name} is missing the course tags.", "Pass Tags=session.tags(LAB).")
    text = ctx.client("secretsmanager").get_secret_value(SecretId=found["ARN"])["SecretString"]
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not {"username", "password"} <= set(data):
        return fail(f"{name} is not a JSON object with 'username' and 'password'.",
                    "Store SecretString=json.dumps({'username': ..., 'password': ...}) so a task can "
                    "pick one key with valueFrom '<arn>:password::'.")
    if len(str(data["password"])) < 16:
        return fail("The password is shorter than 16 characters.",
                    "Generate one: secretsmanager.get_random_password(PasswordLength=32, "
                    "ExcludePunctuation=True)['RandomPassword'].")
    return ok(f"{name} holds username and password ({found['ARN']}).")


@LAB.step("3.3", "The task execution role: trusted by ECS tasks, reads only the app's secret",
          points=2)
def execution_role(ctx: Context) -> Outcome:
    name = microservices.execution_role_name(ctx.session)
    role = _role(ctx, name)
    if role is None:
        return fail(f"No role named {name}.",
                    "create_role with the trust policy for ecs-tasks.amazonaws.com (step 3.3's cell).")
    trusted, others = roles.trusted_services(role), roles.other_principals(role)
    if trusted != {taskdefs.ECS_TASKS_PRINCIPAL} or others:
        return fail(f"{name} trusts {sorted(trusted) + others or 'nobody'}.",
                    "Its trust policy must let only ecs-tasks.amazonaws.com assume it "
                    "(Principal {'Service': 'ecs-tasks.amazonaws.com'}, Action sts:AssumeRole).")
    if not lookup.is_course_tagged(role, ctx.session):
        return fail(f"{name} is missing the course tags.", "Pass Tags=session.tags(LAB) to create_role.")
    attached_list = roles.attached_policies(ctx.client("iam"), name)
    attached = {p["PolicyArn"] for p in attached_list}
    if taskdefs.EXECUTION_POLICY_ARN not in attached:
        return fail(f"{name} lacks the AWS managed policy AmazonECSTaskExecutionRolePolicy, so "
                    "ECS cannot pull images from ECR or write logs.",
                    f"attach_role_policy(RoleName=..., PolicyArn='{taskdefs.EXECUTION_POLICY_ARN}').")
    secret_found = _secret(ctx)
    if secret_found is None:
        return fail("There is no secret yet, so the role cannot be checked against it.",
                    "Do step 3.2 first.")
    docs = roles.documents(ctx.client("iam"), name, attached=attached_list)
    if not roles.allows(docs, "secretsmanager:GetSecretValue", secret_found["ARN"]):
        return fail(f"{name} may not read {secret_found['Name']}: tasks would stop at start-up with "
                    "'ResourceInitializationError: unable to pull secrets'.",
                    "put_role_policy with secretsmanager:GetSecretValue on the secret's ARN. The "
                    "execution role (not the task role) fetches secrets.")
    broad = roles.broad_grants([d for d in docs if d[0].startswith("inline")])
    if broad:
        return fail(f"{name}: {broad[0]}.",
                    "Least privilege: allow secretsmanager:GetSecretValue on this one secret's ARN only.")
    return ok(f"{name}: trusted by ecs-tasks.amazonaws.com, AmazonECSTaskExecutionRolePolicy, and "
              f"GetSecretValue on {secret_found['Name']} only.")


def _needed_call(ctx: Context, service: str, account: str) -> tuple[str, str]:
    """A call each app makes, to test that its task role still allows it."""
    prefix, region = ctx.prefix, ctx.region
    return {
        "courses-api": ("s3:GetObject", f"arn:aws:s3:::{prefix}-course-content/intro/welcome.mp4"),
        "enrollment": ("dynamodb:PutItem", f"arn:aws:dynamodb:{region}:{account}:table/{prefix}-enrollments"),
        "video-worker": ("sqs:ReceiveMessage", f"arn:aws:sqs:{region}:{account}:{prefix}-video-jobs"),
    }[service]


@LAB.step("3.4", "A task role per service, with only what that app calls", points=2)
def task_roles(ctx: Context) -> Outcome:
    exec_name = microservices.execution_role_name(ctx.session)
    account = ctx.remember("account", lambda: lookup.account_id(ctx.session))
    secret_found = _secret(ctx)
    for service in SERVICES:
        name = microservices.task_role_name(ctx.session, service)
        role = _role(ctx, name)
        if role is None:
            return fail(f"No role named {name}.",
                        "Create one task role per service, each trusted by ecs-tasks.amazonaws.com, "
                        "with only that app's permissions (step 3.4's cell).")
        trusted, others = roles.trusted_services(role), roles.other_principals(role)
        if trusted != {taskdefs.ECS_TASKS_PRINCIPAL} or others:
            return fail(f"{name} trusts {sorted(trusted) + others or 'nobody'}.",
                        "A task role's trust policy names ecs-tasks.amazonaws.com only.")
        if not lookup.is_course_tagged(role, ctx.session):
            return fail(f"{name} is missing the course tags.", "Pass Tags=session.tags(LAB).")
        attached_list = roles.attached_policies(ctx.client("iam"), name)
        attached = {p["PolicyArn"] for p in attached_list}
        if taskdefs.EXECUTION_POLICY_ARN in attached:
            return fail(f"{name} has the execution role's policy: the app could pull any image "
                        "and write to any log stream.",
                        f"Detach AmazonECSTaskExecutionRolePolicy from {name}; it belongs on {exec_name}.")
        docs = roles.documents(ctx.client("iam"), name, attached=attached_list)
        broad = roles.broad_grants(docs)
        if broad:
            return fail(f"{name}: {broad[0]}.",
                        "Least privilege: name the actions and the resource ARNs this app uses.")
        if secret_found and roles.allows(docs, "secretsmanager:GetSecretValue", secret_found["ARN"]):
            return fail(f"{name} may read the database secret, which the app never needs to: ECS "
                        "injects it with the execution role.",
                        "Remove secretsmanager permissions from the task role.")
        action, resource = _needed_call(ctx, service, account)
        if not roles.allows(docs, action, resource):
            return fail(f"{name} does not allow {action} on {resource}, which {service} calls.",
                        "Give the role the app's own permissions (see the table in step 3.4).")
    return ok(f"{len(SERVICES)} task roles, each trusted by ECS tasks and scoped to its app.")


@LAB.step("3.5", "Courses API: Fargate size, awsvpc, execution role and task role", points=2)
def courses_basics(ctx: Context) -> Outcome:
    td = _td(ctx, "courses-api")
    if td is None:
        return _no_td(ctx, "courses-api", "3.5")
    problem = _first(_size_and_network(td), _roles(ctx, td, "courses-api"), _tags(ctx, td))
    if problem:
        return problem
    return ok(f"{td['family']}:{td['revision']}: Fargate {td['cpu']} CPU units / {td['memory']} MiB, "
              "awsvpc, separate execution and task roles.")


@LAB.step("3.6", "Courses API: logs to CloudWatch, secrets from Secrets Manager", points=2)
def courses_logs_secrets(ctx: Context) -> Outcome:
    td = _td(ctx, "courses-api")
    if td is None:
        return _no_td(ctx, "courses-api", "3.5")
    problem = _first(_logging(ctx, td, "courses-api"),
                     _secrets(ctx, td, tuple(microservices.SERVICES["courses-api"].secret_keys)))
    if problem:
        return problem
    return ok(f"awslogs to {microservices.log_group(ctx.session, 'courses-api')}; DB_USER and "
              "DB_PASSWORD come from Secrets Manager.")


@LAB.step("3.7", "Courses API: health check, non-root user, read-only root filesystem", points=2)
def courses_hardening(ctx: Context) -> Outcome:
    td = _td(ctx, "courses-api")
    if td is None:
        return _no_td(ctx, "courses-api", "3.5")
    problem = _hardening(td)
    if problem:
        return problem
    app = _app_containers(td)[0]
    return ok(f"Container {app['name']} runs as {app['user']} on a read-only root filesystem, "
              f"health-checked every {app['healthCheck'].get('interval', 30)} s.")


@LAB.step("3.8", "Enrollment task definition from the helper, on ARM64", points=2)
def enrollment(ctx: Context) -> Outcome:
    td = _td(ctx, "enrollment")
    if td is None:
        return _no_td(ctx, "enrollment", "3.8")
    needed = tuple(microservices.SERVICES["enrollment"].secret_keys)
    problem = _first(_size_and_network(td), _roles(ctx, td, "enrollment"), _tags(ctx, td),
                     _logging(ctx, td, "enrollment"), _secrets(ctx, td, needed), _hardening(td))
    if problem:
        return problem
    env = {e["name"]: e.get("value") for c in _app_containers(td) for e in c.get("environment", [])}
    wanted = microservices.backend_url(ctx.session, "courses-api")
    if env.get("COURSES_API_URL") != wanted:
        return fail(f"Enrollment's COURSES_API_URL is {env.get('COURSES_API_URL')!r}: it could not find the "
                    "courses API.",
                    f"Set environment COURSES_API_URL={wanted} (microservices.backend_url(session, "
                    "'courses-api')): the courses API's name in the Cloud Map namespace of lab 04.")
    arch = (td.get("runtimePlatform") or {}).get("cpuArchitecture", "X86_64")
    if arch != "ARM64":
        return fail(f"Enrollment runs on {arch}; its code has no x86-only parts, so Graviton "
                    "(ARM64) does the same work for less.",
                    "Pass arch='ARM64' (runtimePlatform cpuArchitecture ARM64, operatingSystemFamily LINUX).")
    return ok(f"{td['family']}:{td['revision']} on ARM64: hardened, logged, secrets from Secrets Manager.")


@LAB.step("3.9", "Video worker: an init container the app waits for (dependsOn)", points=2)
def video_worker(ctx: Context) -> Outcome:
    td = _td(ctx, "video-worker")
    if td is None:
        return _no_td(ctx, "video-worker", "3.9")
    problem = _first(_size_and_network(td), _roles(ctx, td, "video-worker"), _tags(ctx, td),
                     _logging(ctx, td, "video-worker"), _secrets(ctx, td, ()), _hardening(td))
    if problem:
        return problem
    containers = {c["name"]: c for c in td["containerDefinitions"]}
    init = containers.get(microservices.INIT_CONTAINER)
    if init is None:
        return fail(f"The video worker has no {microservices.INIT_CONTAINER} container.",
                    "Add the init container that prepares /scratch before the worker starts.")
    if init.get("essential", True):
        return fail(f"{microservices.INIT_CONTAINER} is essential: when it exits after its job, ECS "
                    "stops the whole task.",
                    "Mark the init container essential=False.")
    waits = [c["name"] for c in containers.values() if c.get("essential", True) and any(
        d.get("containerName") == init["name"] and d.get("condition") in ("SUCCESS", "COMPLETE")
        for d in c.get("dependsOn") or [])]
    if not waits:
        return fail("No essential container waits for the init container to finish.",
                    "Give the app container dependsOn=[{'containerName': 'init-scratch', "
                    "'condition': 'SUCCESS'}] (START would not wait for it to finish).")
    return ok(f"{', '.join(waits)} start(s) only after {init['name']} exits successfully.")


@LAB.step("3.10", "Courses API: a new revision on ARM64 (Graviton)", points=2)
def new_revision(ctx: Context) -> Outcome:
    ecs = ctx.client("ecs")
    td = _td(ctx, "courses-api")
    if td is None:
        return _no_td(ctx, "courses-api", "3.5")
    platform = td.get("runtimePlatform") or {}
    if td["revision"] < 2:
        return fail(f"{td['family']} has only revision {td['revision']}.",
                    "Register the task definition again with the change (step 3.10): ECS keeps "
                    "the old revision and adds a new one.")
    if platform.get("cpuArchitecture") != "ARM64" or platform.get("operatingSystemFamily") != "LINUX":
        return fail(f"The newest revision {td['revision']} runs on "
                    f"{platform.get('cpuArchitecture', 'X86_64')}.",
                    "Set runtimePlatform={'cpuArchitecture': 'ARM64', 'operatingSystemFamily': "
                    "'LINUX'} and use an image built for arm64 (a multi-arch tag).")
    problem = _first(_size_and_network(td), _roles(ctx, td, "courses-api"))
    if problem:
        return problem
    older = [a for a in taskdefs.revision_arns(ecs, td["family"]) if taskdefs.revision_of(a) < td["revision"]]
    return ok(f"{td['family']}:{td['revision']} runs on ARM64; {len(older)} earlier active "
              "revision(s) remain for rollback.")


@LAB.step("3.11", "Each task definition ran: a task reached RUNNING and its logs reached CloudWatch",
          points=2)
def ran_once(ctx: Context) -> Outcome:
    """Evidence that lasts: the awslogs stream `<prefix>/app/<task-id>` with the app's lines.

    A stopped task stays visible in describe_tasks only for a while on AWS
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html);
    its log stream stays as long as the group's retention.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
    """
    from mylearning.course.lab03_task_definitions import app_log_lines

    silent = [s for s in SERVICES if not app_log_lines(ctx.session, s, limit=1)]
    if silent:
        return fail(f"No log lines from the app container of {', '.join(silent)} in CloudWatch Logs.",
                    "Run one task of each task definition (step 3.11: tasks.run_once(session, CLUSTER, "
                    "family, subnets=private_subnets, security_groups=[tasks_sg], started_by=...)) and "
                    "wait until it is RUNNING; its awslogs driver then writes to "
                    "<stream prefix>/app/<task id>. A task that stopped at once shows why in "
                    "describe_tasks (stoppedReason) and in its containers' reason.")
    return ok(f"All {len(SERVICES)} apps ran and logged to CloudWatch Logs.")
