"""Lab 01 - From App Runner to ECS: the migrated course API must match the App Runner service.

The expected values are computed from the shipped App Runner description
(`mylearning.migrate.load_sample()`), not typed in here, so the grader and the
lab's story can never disagree. The checks read the learner's account only.

AWS rules the hints refer to:
- App Runner InstanceConfiguration (Cpu "1 vCPU", Memory "2 GB"):
  https://docs.aws.amazon.com/apprunner/latest/api/API_InstanceConfiguration.html
- Fargate task size (cpu in CPU units, memory in MiB, valid pairs):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
- Secrets are passed with `secrets`/`valueFrom` and read by the task execution role:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
- In awsvpc mode hostPort must be left out or equal containerPort:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
- Container health checks (interval, timeout, retries):
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
- App Runner health check (UnhealthyThreshold = failures before unhealthy):
  https://docs.aws.amazon.com/apprunner/latest/api/API_HealthCheckConfiguration.html
- The task role is assumed by ecs-tasks.amazonaws.com:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
- ECS service auto scaling (scalable target on ecs:service:DesiredCount):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html
"""
from __future__ import annotations

import json
import re
from typing import Any

from mylearning.course.lab01_apprunner_to_ecs import ABOUT, CONTAINER, EXECUTION_ROLE, SERVICE, TASK_ROLE
from mylearning.steps import Context, Lab, Outcome, fail, ok
from mylearning import lookup, migrate
from mylearning import roles as policies
from mylearning.facts.ecs import DESIRED_COUNT, ECS_TASKS_PRINCIPAL, EXECUTION_POLICY_ARN

LAB = Lab.declared(ABOUT)


#: The limitation -> ECS feature answer (lab 01 step "Why MyLearning left App Runner").
LIMITATION_ANSWERS = {"sidecars": "C", "custom networking": "E", "service mesh": "A",
                      "spot capacity": "D", "advanced deployments": "B"}


def expected() -> dict[str, Any]:
    """What the App Runner service says the ECS version must have."""
    service = migrate.load_sample()
    autoscaling = migrate.load_sample(migrate.SAMPLE_AUTOSCALING)
    size = migrate.fargate_size(service)
    environment, secrets = migrate.environment_and_secrets(service)
    health = migrate._health_config(service)  # App Runner's values with its defaults filled in
    target = migrate.scalable_target(autoscaling, "cluster", "service")
    return {
        "cpu": size.cpu, "memory": size.memory,
        "image": service["Service"]["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"],
        "port": migrate.container_port(service),
        "environment": {e["name"]: e["value"] for e in environment},
        "secrets": {s["name"]: s["valueFrom"] for s in secrets},
        "health": health,
        "min": target["MinCapacity"], "max": target["MaxCapacity"],
        "instance_role": service["Service"]["InstanceConfiguration"].get("InstanceRoleArn"),
    }


def _expected(ctx: Context) -> dict[str, Any]:
    return ctx.remember("expected", expected)


def _task_definition(ctx: Context) -> dict | None:
    def find() -> dict | None:
        ecs = ctx.client("ecs")
        try:
            found = ecs.describe_task_definition(taskDefinition=ctx.name(SERVICE))["taskDefinition"]
        except ecs.exceptions.ClientException:
            return None
        return found if found.get("status") == "ACTIVE" else None
    return ctx.remember("td", find)


def _container(td: dict) -> dict | None:
    containers = td.get("containerDefinitions", [])
    named = [c for c in containers if c.get("name") == CONTAINER]
    if named:
        return named[0]
    essential = [c for c in containers if c.get("essential", True)]
    return (essential or containers or [None])[0]


def _no_td(ctx: Context) -> Outcome:
    return fail(f"No task definition family {ctx.name(SERVICE)} is registered.",
                f"Fill in the mapping cells of steps 1.2-1.5, then run the 'Register the task definition' "
                f"cell (family=session.name('{SERVICE}')).")


def _role(ctx: Context, arn: str | None) -> dict | None:
    if not arn or ":role/" not in arn:
        return None
    iam = ctx.client("iam")
    try:
        return iam.get_role(RoleName=arn.rsplit("/", 1)[1])["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None


@LAB.step("1.1", "A task execution role and a task role, both trusted by ECS tasks", points=1)
def roles(ctx: Context) -> Outcome:
    iam = ctx.client("iam")
    found = {}
    for key, name in (("execution", ctx.name(EXECUTION_ROLE)), ("task", ctx.name(TASK_ROLE))):
        try:
            found[key] = iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            return fail(f"No IAM role named {name}.",
                        "In the step 1.1 cell, create both roles (iam.create_role) with a trust policy "
                        f"allowing Principal {{'Service': '{ECS_TASKS_PRINCIPAL}'}} to sts:AssumeRole, then attach "
                        "AmazonECSTaskExecutionRolePolicy to the execution role.")
    for key, role in found.items():
        trusted = policies.trusted_services(role)
        if ECS_TASKS_PRINCIPAL not in trusted:
            wrong = ", ".join(sorted(trusted)) or "nobody"
            return fail(f"The {key} role {role['RoleName']} trusts {wrong}, not {ECS_TASKS_PRINCIPAL}.",
                        "App Runner's roles trust tasks.apprunner.amazonaws.com (instance role) or "
                        f"build.apprunner.amazonaws.com (access role); ECS needs Principal "
                        f"{{'Service': '{ECS_TASKS_PRINCIPAL}'}} with Action sts:AssumeRole.")
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(
        RoleName=found["execution"]["RoleName"])["AttachedPolicies"]}
    if EXECUTION_POLICY_ARN not in attached:
        return fail(f"{found['execution']['RoleName']} lacks AmazonECSTaskExecutionRolePolicy, so ECS "
                    "could not pull the image from ECR or write logs.",
                    f"iam.attach_role_policy(RoleName=..., PolicyArn='{EXECUTION_POLICY_ARN}').")
    return ok(f"{found['execution']['RoleName']} (execution) and {found['task']['RoleName']} (task) "
              f"are assumed by {ECS_TASKS_PRINCIPAL}.")


@LAB.step("1.2", "Task size: App Runner's instance configuration on Fargate", points=2)
def task_size(ctx: Context) -> Outcome:
    td = _task_definition(ctx)
    if td is None:
        return _no_td(ctx)
    want = _expected(ctx)
    if "FARGATE" not in td.get("requiresCompatibilities", []):
        return fail(f"Revision {td['revision']} is not marked for Fargate.",
                    "Pass requiresCompatibilities=['FARGATE'] (App Runner ran on Fargate too, out of sight).")
    if td.get("networkMode") != "awsvpc":
        return fail(f"networkMode is {td.get('networkMode')!r}; Fargate tasks use 'awsvpc'.",
                    "Pass networkMode='awsvpc'.")
    cpu, memory = int(td.get("cpu") or 0), int(td.get("memory") or 0)
    if (cpu, memory) != (want["cpu"], want["memory"]):
        hint = (f"App Runner's '1 vCPU' is {want['cpu']} CPU units and '2 GB' is {want['memory']} MiB: "
                f"cpu='{want['cpu']}', memory='{want['memory']}'.")
        if cpu in (1, 2, 4) or memory in (1, 2, 4):
            hint = "ECS counts CPU in units (1 vCPU = 1024) and memory in MiB (1 GB = 1024). " + hint
        return fail(f"The task has cpu={cpu}, memory={memory}; the App Runner instance had "
                    f"{want['cpu']} CPU units and {want['memory']} MiB.", hint)
    return ok(f"{td['family']}:{td['revision']} runs on Fargate with {cpu} CPU units and {memory} MiB, "
              "as App Runner's instance did.")


@LAB.step("1.3", "Image and port", points=1)
def image_and_port(ctx: Context) -> Outcome:
    td = _task_definition(ctx)
    if td is None:
        return _no_td(ctx)
    want = _expected(ctx)
    container = _container(td)
    if container is None:
        return fail("The task definition has no container.", "Add one container definition.")
    if container.get("image") != want["image"]:
        return fail(f"The container runs {container.get('image')!r}.",
                    f"Use App Runner's ImageIdentifier exactly, tag included: {want['image']}.")
    ports = [m.get("containerPort") for m in container.get("portMappings", [])]
    if want["port"] not in ports:
        return fail(f"The container maps port(s) {ports or 'none'}; the app listens on {want['port']}.",
                    f"portMappings=[{{'containerPort': {want['port']}, 'protocol': 'tcp'}}] "
                    "(App Runner's ImageConfiguration.Port, a string there, an integer here).")
    wrong_host = [m for m in container.get("portMappings", [])
                  if m.get("containerPort") == want["port"] and m.get("hostPort") not in (None, want["port"])]
    if wrong_host:
        return fail("In awsvpc mode hostPort must equal containerPort (or be left out).",
                    "Drop hostPort from the port mapping.")
    return ok(f"{container['name']} runs {want['image']} and listens on {want['port']}.")


@LAB.step("1.4", "Environment variables, and secrets as references", points=2)
def environment_and_secrets(ctx: Context) -> Outcome:
    td = _task_definition(ctx)
    if td is None:
        return _no_td(ctx)
    want = _expected(ctx)
    container = _container(td) or {}
    env = {e["name"]: e.get("value") for e in container.get("environment", [])}
    secrets = {s["name"]: s.get("valueFrom") for s in container.get("secrets", [])}
    leaked = sorted(set(env) & set(want["secrets"]))
    if leaked:
        return fail(f"{', '.join(leaked)} sit(s) in `environment`, where anyone who can describe the "
                    "task definition reads them, and ECS would pass the ARN on as text.",
                    "Move each App Runner RuntimeEnvironmentSecrets entry to `secrets` as "
                    "{'name': ..., 'valueFrom': <the ARN>}.")
    missing = sorted(set(want["environment"]) - set(env))
    if missing:
        return fail(f"Missing environment variable(s): {', '.join(missing)}.",
                    "Copy every RuntimeEnvironmentVariables entry as {'name': ..., 'value': ...}.")
    different = sorted(k for k in want["environment"] if env[k] != want["environment"][k])
    if different:
        return fail(f"Variable(s) with a different value: {', '.join(different)}.",
                    "Copy the values exactly (strings, as App Runner had them).")
    extra = sorted(set(env) - set(want["environment"]))
    if extra:
        return fail(f"Extra environment variable(s) App Runner did not set: {', '.join(extra)}.",
                    "Keep the mapping one to one; add new settings in a later revision.")
    if set(secrets) != set(want["secrets"]):
        absent = sorted(set(want["secrets"]) - set(secrets)) or sorted(set(secrets) - set(want["secrets"]))
        return fail(f"The secrets differ from App Runner's: {', '.join(absent)}.",
                    "Map each RuntimeEnvironmentSecrets entry to {'name': ..., 'valueFrom': <ARN>}.")
    wrong = sorted(k for k in secrets if secrets[k] != want["secrets"][k])
    if wrong:
        return fail(f"Secret(s) {', '.join(wrong)} point at a different secret.",
                    "valueFrom is the full ARN App Runner held (Secrets Manager or SSM parameter).")
    role = _role(ctx, td.get("executionRoleArn"))
    if role is None:
        return fail("The task definition has no execution role (or it does not exist), so ECS "
                    "could not fetch the secrets when a task starts.",
                    f"Set executionRoleArn to your {ctx.name(EXECUTION_ROLE)} role's ARN.")
    inline = policies.documents(ctx.client("iam"), role["RoleName"], managed=False)
    unreadable = []
    for name, arn in want["secrets"].items():
        kind, resource = migrate._secret_resource(arn, None, None)
        action = "secretsmanager:GetSecretValue" if kind == "secretsmanager" else "ssm:GetParameters"
        if not policies.allows(inline, action, resource):
            unreadable.append(name)
    if unreadable:
        return fail(f"The execution role may not read {', '.join(unreadable)}: tasks would stop with "
                    "ResourceInitializationError.",
                    "Put an inline policy on the execution role allowing secretsmanager:GetSecretValue "
                    "and ssm:GetParameters on exactly those ARNs (migrate.secrets_policy builds it).")
    return ok(f"{len(env)} variables in `environment`, {len(secrets)} secrets by reference, readable "
              "by the execution role.")


_PATH_IN_COMMAND = re.compile(r"(?:localhost|127\.0\.0\.1)(?::(\d+))?(/[^\s'\"|]*)?")


@LAB.step("1.5", "The health check App Runner ran, as a container health check", points=2)
def health_check(ctx: Context) -> Outcome:
    td = _task_definition(ctx)
    if td is None:
        return _no_td(ctx)
    want = _expected(ctx)["health"]
    port = _expected(ctx)["port"]
    check = (_container(td) or {}).get("healthCheck")
    if not check:
        return fail("The container has no healthCheck, so ECS would never replace a hung task.",
                    f"Add healthCheck with a command that requests http://localhost:{port}{want['Path']}.")
    command = " ".join(check.get("command", []))
    match = _PATH_IN_COMMAND.search(command)
    if str(want["Protocol"]).upper() == "HTTP":
        if not match or match.group(1) != str(port) or (match.group(2) or "/") != want["Path"]:
            return fail(f"The command {command!r} does not request localhost:{port}{want['Path']}.",
                        f"App Runner probed HTTP {want['Path']} on port {port}: e.g. "
                        f"['CMD-SHELL', 'curl -f http://localhost:{port}{want['Path']} || exit 1'].")
    pairs = (("interval", "Interval"), ("timeout", "Timeout"), ("retries", "UnhealthyThreshold"))
    for ecs_key, app_key in pairs:
        if check.get(ecs_key) != want[app_key]:
            hint = f"Set {ecs_key}={want[app_key]} (App Runner's {app_key})."
            if ecs_key == "retries" and check.get(ecs_key) == want["HealthyThreshold"]:
                hint = ("retries counts failures before a task is unhealthy: that is App Runner's "
                        f"UnhealthyThreshold ({want['UnhealthyThreshold']}), not HealthyThreshold.")
            return fail(f"healthCheck {ecs_key} is {check.get(ecs_key)}; App Runner's {app_key} was "
                        f"{want[app_key]}.", hint)
    return ok(f"Probes {want['Path']} every {check['interval']} s, {check['timeout']} s timeout, "
              f"unhealthy after {check['retries']} failures, like App Runner.")


def _service(ctx: Context) -> dict | None:
    def find() -> dict | None:
        answer = ctx.client("ecs").describe_services(cluster=ctx.name("cluster"),
                                                     services=[ctx.name(SERVICE)], include=["TAGS"])
        live = [s for s in answer.get("services", []) if s.get("status") == "ACTIVE"]
        return live[0] if live else None
    return ctx.remember("service", find)


@LAB.step("1.6", "The ECS service: same size of fleet, private, on the latest revision", points=2)
def service(ctx: Context) -> Outcome:
    found = _service(ctx)
    if found is None:
        return fail(f"No active service {ctx.name(SERVICE)} in cluster {ctx.name('cluster')}.",
                    "In the step 1.6 cell, call ecs.create_service(cluster=CLUSTER, serviceName=FAMILY, "
                    "taskDefinition=..., desiredCount=..., launchType='FARGATE', networkConfiguration=...).")
    td = _task_definition(ctx)
    if td is None:
        return _no_td(ctx)
    want = _expected(ctx)
    if found["taskDefinition"] != td["taskDefinitionArn"]:
        return fail(f"The service runs {found['taskDefinition'].rsplit('/', 1)[-1]}, not the latest "
                    f"revision {td['family']}:{td['revision']}.",
                    "update_service(..., taskDefinition=<family>) moves it to the latest revision.")
    if found.get("desiredCount") != want["min"]:
        return fail(f"desiredCount is {found.get('desiredCount')}; App Runner kept {want['min']} "
                    "instances (MinSize) running.",
                    f"Start with desiredCount={want['min']}; auto scaling moves it within "
                    f"{want['min']}-{want['max']}.")
    strategy = found.get("capacityProviderStrategy") or []
    fargate = found.get("launchType") == "FARGATE" or (
        strategy and all(s.get("capacityProvider") in ("FARGATE", "FARGATE_SPOT") for s in strategy))
    if not fargate:
        return fail("The service does not run on Fargate.",
                    "Pass launchType='FARGATE' (like App Runner, on-demand) or a Fargate capacity "
                    "provider strategy.")
    network = (found.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    if network.get("assignPublicIp") == "ENABLED":
        return fail("Tasks get public IP addresses.",
                    "assignPublicIp='DISABLED': the tasks sit in private subnets; lab 04 puts a load "
                    "balancer in front.")
    vpc = lookup.vpc(ctx.session, ctx.name("vpc"))
    private = {s["SubnetId"]: s["AvailabilityZone"]
               for s in (lookup.subnets(ctx.session, vpc["VpcId"], "private") if vpc else [])}
    subnets = network.get("subnets", [])
    if not subnets or any(s not in private for s in subnets) or len({private[s] for s in subnets}) < 2:
        return fail("The service's subnets are not the private subnets in two Availability Zones.",
                    "subnets = the two private subnets from lab 02 (lookup.subnets(session, vpc_id, "
                    "'private')).")
    group = lookup.security_group(ctx.session, vpc["VpcId"], ctx.name("tasks-sg"))
    if group is None or network.get("securityGroups") != [group["GroupId"]]:
        return fail("The tasks do not use the tasks security group from lab 02.",
                    f"securityGroups=[<GroupId of {ctx.name('tasks-sg')}>].")
    return ok(f"{found['serviceName']}: {found['desiredCount']} Fargate tasks of "
              f"{td['family']}:{td['revision']} in {len(subnets)} private subnets.")


@LAB.step("1.7", "App Runner's auto scaling range as a scalable target", points=2)
def scalable_target(ctx: Context) -> Outcome:
    want = _expected(ctx)
    resource = f"service/{ctx.name('cluster')}/{ctx.name(SERVICE)}"
    targets = ctx.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"]
    targets = [t for t in targets if t["ScalableDimension"] == DESIRED_COUNT]
    if not targets:
        return fail(f"No scalable target for {resource}.",
                    "register_scalable_target(ServiceNamespace='ecs', ResourceId="
                    f"'{resource}', ScalableDimension='{DESIRED_COUNT}', MinCapacity=..., "
                    "MaxCapacity=...).")
    target = targets[0]
    if (target["MinCapacity"], target["MaxCapacity"]) != (want["min"], want["max"]):
        return fail(f"The target scales {target['MinCapacity']}-{target['MaxCapacity']} tasks; App Runner "
                    f"scaled {want['min']}-{want['max']} instances.",
                    "MinCapacity = the auto scaling configuration's MinSize, MaxCapacity = its MaxSize "
                    "(from describe-auto-scaling-configuration, not describe-service).")
    return ok(f"{resource} scales between {want['min']} and {want['max']} tasks.")


@LAB.step("1.8", "Why MyLearning left App Runner: each limitation and its ECS answer", points=1)
def limitations(ctx: Context) -> Outcome:
    raw = ctx.answer("limitations")
    if raw is None:
        return fail("No answer for the limitations table is stored yet.",
                    "Fill in `my_answers` (one letter per limitation) and run the cell; it calls "
                    "record_answer('01', 'limitations', my_answers).")
    try:
        given = {str(k).strip().lower(): str(v).strip().upper() for k, v in json.loads(raw).items()}
    except (ValueError, AttributeError):
        return fail(f"The stored answer is not a JSON object: {raw[:80]!r}.",
                    "Record a dict such as {'Sidecars': 'C', ...}.")
    missing = sorted(k for k in LIMITATION_ANSWERS if not given.get(k))
    if missing:
        return fail(f"No letter yet for: {', '.join(missing)}.",
                    "Give every limitation one letter from the list of ECS features.")
    wrong = sorted(k for k, v in LIMITATION_ANSWERS.items() if given[k] != v)
    if wrong:
        return fail(f"{len(wrong)} of {len(LIMITATION_ANSWERS)} answers do not fit: {', '.join(wrong)}.",
                    "Re-read the App Runner column of the table: which ECS feature removes exactly "
                    "that limit?")
    return ok(f"All {len(LIMITATION_ANSWERS)} limitations matched to the ECS feature that lifts them.")
