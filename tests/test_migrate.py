"""mylearning.migrate: the shipped App Runner sample and its mapping onto ECS on Fargate."""
from __future__ import annotations

import copy
import json

import botocore.session
import pytest
from botocore.validate import validate_parameters

from mylearning import migrate
from mylearning.cost import TaskSize

EXECUTION_ROLE = "arn:aws:iam::123456789012:role/mylearning-ecs-task-execution"


@pytest.fixture(scope="module")
def models():
    session = botocore.session.get_session()
    return {name: session.get_service_model(name)
            for name in ("apprunner", "ecs", "application-autoscaling", "elbv2")}


@pytest.fixture
def sample():
    return migrate.load_sample()


@pytest.fixture
def autoscaling():
    return migrate.load_sample(migrate.SAMPLE_AUTOSCALING)


def _conforms(shape, data, path="$"):
    """Check member names, required members, enums and types against a botocore shape."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(data, dict), path
        unknown = set(data) - set(shape.members)
        assert not unknown, f"{path}: {unknown} not in {shape.name}"
        missing = set(shape.required_members) - set(data)
        assert not missing, f"{path}: missing {missing}"
        for key, value in data.items():
            _conforms(shape.members[key], value, f"{path}.{key}")
    elif kind == "map":
        for key, value in data.items():
            _conforms(shape.value, value, f"{path}[{key}]")
    elif kind in ("string", "timestamp"):
        assert isinstance(data, str), path
        if getattr(shape, "enum", None):
            assert data in shape.enum, path
    elif kind == "integer":
        assert isinstance(data, int) and not isinstance(data, bool), path
    elif kind == "boolean":
        assert isinstance(data, bool), path


def test_sample_has_the_describe_service_shape(sample, autoscaling, models):
    apprunner = models["apprunner"]
    _conforms(apprunner.operation_model("DescribeService").output_shape, sample)
    _conforms(apprunner.operation_model("DescribeAutoScalingConfiguration").output_shape, autoscaling)
    service = sample["Service"]
    assert service["InstanceConfiguration"]["Cpu"] == "1 vCPU"
    assert service["InstanceConfiguration"]["Memory"] == "2 GB"
    assert (service["AutoScalingConfigurationSummary"]["AutoScalingConfigurationArn"]
            == autoscaling["AutoScalingConfiguration"]["AutoScalingConfigurationArn"])


@pytest.mark.parametrize("text, units", [
    ("1 vCPU", 1024), ("0.25 vCPU", 256), ("0.5 vCPU", 512), ("2 vCPU", 2048), ("4 vCPU", 4096),
    ("1024", 1024), ("256", 256), (4096, 4096), ("  1 vcpu ", 1024), ("2vCPU", 2048), ("16 vCPUs", 16384),
])
def test_parse_cpu(text, units):
    assert migrate.parse_cpu(text) == units


@pytest.mark.parametrize("text, mib", [
    ("2 GB", 2048), ("0.5 GB", 512), ("3 GB", 3072), ("12 GB", 12288), ("2048", 2048),
    ("512", 512), (1024, 1024), ("2048 MB", 2048), ("4GB", 4096), ("1 GiB", 1024), ("1024 MiB", 1024),
])
def test_parse_memory(text, mib):
    assert migrate.parse_memory(text) == mib


@pytest.mark.parametrize("text", ["1", "2", "0.25", "", "one vCPU", "1 GHz", "0.1 vCPU", True, "-1 vCPU"])
def test_parse_cpu_refuses_ambiguous_or_malformed(text):
    with pytest.raises(ValueError):
        migrate.parse_cpu(text)


@pytest.mark.parametrize("text", ["2", "0.5", "", "2 TB", "lots", "0.3 GB", False])
def test_parse_memory_refuses_ambiguous_or_malformed(text):
    with pytest.raises(ValueError):
        migrate.parse_memory(text)


def test_fargate_size(sample):
    assert migrate.fargate_size(sample) == TaskSize(1024, 2048)
    bare = {"Service": {"ServiceName": "x"}}  # App Runner defaults: 1 vCPU / 2 GB
    assert migrate.fargate_size(bare) == TaskSize(1024, 2048)
    odd = {"InstanceConfiguration": {"Cpu": "0.25 vCPU", "Memory": "4 GB"}}
    with pytest.raises(ValueError, match="0.25 vCPU / 4 GB"):
        migrate.fargate_size(odd)


def test_task_definition_of_the_sample(sample, models):
    td = migrate.task_definition(sample, execution_role_arn=EXECUTION_ROLE)
    validate_parameters(td, models["ecs"].operation_model("RegisterTaskDefinition").input_shape)
    assert td["family"] == "mylearning-course-api"
    assert (td["cpu"], td["memory"]) == ("1024", "2048")
    assert td["networkMode"] == "awsvpc" and td["requiresCompatibilities"] == ["FARGATE"]
    assert td["runtimePlatform"] == {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}
    assert td["executionRoleArn"] == EXECUTION_ROLE
    assert td["taskRoleArn"] == "arn:aws:iam::123456789012:role/mylearning-course-api-instance-role"
    (container,) = td["containerDefinitions"]
    assert container["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/mylearning/course-api:2.14.3"
    assert container["essential"] is True
    assert container["portMappings"][0]["containerPort"] == 8080
    assert container["portMappings"][0]["protocol"] == "tcp"
    assert "hostPort" not in container["portMappings"][0]
    assert {e["name"] for e in container["environment"]} == {
        "APP_ENV", "LOG_LEVEL", "COURSE_CATALOG_TABLE", "MEDIA_BUCKET", "ENROLLMENT_API_URL", "CACHE_TTL_SECONDS"}
    assert container["secrets"] == [
        {"name": "DATABASE_URL", "valueFrom":
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:mylearning/course-api/database-url-Xq3Tz9"},
        {"name": "JWT_SIGNING_KEY", "valueFrom":
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:mylearning/course-api/jwt-signing-key-Lp8Rw2"},
        {"name": "PAYMENTS_API_TOKEN", "valueFrom":
            "arn:aws:ssm:us-east-1:123456789012:parameter/mylearning/course-api/payments-api-token"},
    ]
    assert container["healthCheck"] == {
        "command": ["CMD-SHELL", "curl -fsS -o /dev/null http://localhost:8080/healthz || exit 1"],
        "interval": 10, "timeout": 5, "retries": 5}
    assert container["logConfiguration"] == {"logDriver": "awslogs", "options": {
        "awslogs-group": "/ecs/mylearning-course-api", "awslogs-region": "us-east-1",
        "awslogs-stream-prefix": "ecs"}}
    assert "command" not in container


def test_secrets_never_reach_environment(sample):
    td = migrate.task_definition(sample, execution_role_arn=EXECUTION_ROLE)
    container = td["containerDefinitions"][0]
    secret_names = {s["name"] for s in container["secrets"]}
    secret_refs = set(sample["Service"]["SourceConfiguration"]["ImageRepository"]
                      ["ImageConfiguration"]["RuntimeEnvironmentSecrets"].values())
    assert secret_names == {"DATABASE_URL", "JWT_SIGNING_KEY", "PAYMENTS_API_TOKEN"}
    for entry in container["environment"]:
        assert entry["name"] not in secret_names
        assert entry["value"] not in secret_refs
    assert migrate.plain_secrets(td) == []


def test_a_name_both_variable_and_secret_is_refused(sample):
    config = sample["Service"]["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"]
    config["RuntimeEnvironmentVariables"]["DATABASE_URL"] = "postgres://user:pw@db/courses"
    with pytest.raises(ValueError, match="DATABASE_URL"):
        migrate.task_definition(sample, execution_role_arn=EXECUTION_ROLE)


def test_plain_secrets_finds_the_common_mistakes():
    td = {"containerDefinitions": [{"name": "api", "environment": [
        {"name": "DB_PASSWORD", "value": "hunter2"},
        {"name": "STRIPE_API_KEY", "value": "sk_live_x"},
        {"name": "DATABASE_URL", "value": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123"},
        {"name": "LOG_LEVEL", "value": "info"},
    ]}]}
    assert migrate.plain_secrets(td) == ["api: DB_PASSWORD", "api: STRIPE_API_KEY", "api: DATABASE_URL"]


def test_task_definition_options(sample, models):
    sample["Service"]["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"]["StartCommand"] = \
        "gunicorn app:create_app() --bind 0.0.0.0:8080 --workers 4"
    td = migrate.task_definition(sample, execution_role_arn=EXECUTION_ROLE, family="courses",
                                 container_name="api", arch="graviton", log_group="/mylearning/courses",
                                 log_region="eu-west-1", log_stream_prefix="courses",
                                 task_role_arn="arn:aws:iam::123456789012:role/courses-task",
                                 probe="wget", start_period=30)
    validate_parameters(td, models["ecs"].operation_model("RegisterTaskDefinition").input_shape)
    container = td["containerDefinitions"][0]
    assert td["family"] == "courses" and container["name"] == "api"
    assert td["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    assert td["taskRoleArn"].endswith("role/courses-task")
    assert container["logConfiguration"]["options"] == {
        "awslogs-group": "/mylearning/courses", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "courses"}
    assert container["healthCheck"]["command"][1].startswith("wget -q -O /dev/null http://localhost:8080/healthz")
    assert container["healthCheck"]["startPeriod"] == 30
    assert container["command"] == ["gunicorn", "app:create_app()", "--bind", "0.0.0.0:8080", "--workers", "4"]
    with pytest.raises(ValueError):
        migrate.task_definition(sample, execution_role_arn="")
    with pytest.raises(ValueError):
        migrate.task_definition(sample, execution_role_arn=EXECUTION_ROLE, probe="telnet")


def test_health_check_defaults_and_clamping():
    tcp = {"ServiceName": "w", "SourceConfiguration": {"ImageRepository": {
        "ImageIdentifier": "public.ecr.aws/x/y:1", "ImageRepositoryType": "ECR_PUBLIC"}}}
    # no HealthCheckConfiguration: App Runner's defaults (TCP, 5 s, 2 s, 1, 5) and port 8080
    assert migrate.container_health_check(tcp) == {
        "command": ["CMD-SHELL", "nc -z localhost 8080 || exit 1"], "interval": 5, "timeout": 2, "retries": 5}
    assert migrate.target_group_health_check(tcp)["HealthCheckPath"] == "/"
    assert migrate.target_group_health_check(tcp)["HealthCheckProtocol"] == "HTTP"

    extreme = copy.deepcopy(tcp)
    extreme["HealthCheckConfiguration"] = {"Protocol": "HTTP", "Path": "ready", "Interval": 1, "Timeout": 20,
                                           "HealthyThreshold": 20, "UnhealthyThreshold": 20}
    check = migrate.container_health_check(extreme)
    assert (check["interval"], check["timeout"], check["retries"]) == (5, 20, 10)
    assert check["command"][1].endswith("http://localhost:8080/ready || exit 1")
    group = migrate.target_group_health_check(extreme)
    assert group["HealthCheckIntervalSeconds"] == 5
    assert group["HealthCheckTimeoutSeconds"] == 4  # must stay below the interval
    assert group["HealthyThresholdCount"] == 10 and group["UnhealthyThresholdCount"] == 10
    notes = migrate._health_notes(extreme)
    assert any("Interval=1" in n for n in notes) and any("UnhealthyThreshold=20" in n for n in notes)


def test_target_group_health_check_of_the_sample(sample, models):
    args = migrate.target_group_health_check(sample)
    assert args == {"HealthCheckProtocol": "HTTP", "HealthCheckPath": "/healthz",
                    "HealthCheckIntervalSeconds": 10, "HealthCheckTimeoutSeconds": 5,
                    "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 5}
    request = {"Name": "courses", "Protocol": "HTTP", "Port": 8080, "VpcId": "vpc-1", "TargetType": "ip", **args}
    validate_parameters(request, models["elbv2"].operation_model("CreateTargetGroup").input_shape)


def test_source_code_services_cannot_be_mapped():
    code = {"Service": {"ServiceName": "x", "SourceConfiguration": {"CodeRepository": {
        "RepositoryUrl": "https://github.com/mylearning/api",
        "SourceCodeVersion": {"Type": "BRANCH", "Value": "main"}}}}}
    with pytest.raises(ValueError, match="source code"):
        migrate.task_definition(code, execution_role_arn=EXECUTION_ROLE)


def test_port_must_be_a_port(sample):
    sample["Service"]["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"]["Port"] = "http"
    with pytest.raises(ValueError, match="Port"):
        migrate.container_port(sample)


def test_scalable_target(autoscaling, models):
    target = migrate.scalable_target(autoscaling, "mylearning", "courses")
    assert target == {"ServiceNamespace": "ecs", "ResourceId": "service/mylearning/courses",
                      "ScalableDimension": "ecs:service:DesiredCount", "MinCapacity": 3, "MaxCapacity": 25}
    validate_parameters(target, models["application-autoscaling"].operation_model("RegisterScalableTarget").input_shape)
    assert migrate.scalable_target(autoscaling, "c", "s", min_capacity=4)["MinCapacity"] == 4
    assert migrate.scalable_target(None, "c", "s")["MaxCapacity"] == 25  # App Runner's defaults
    with pytest.raises(ValueError):
        migrate.scalable_target(autoscaling, "c", "s", min_capacity=30)
    with pytest.raises(ValueError):
        migrate.scalable_target({"MinSize": 5, "MaxSize": 2}, "c", "s")


def test_target_tracking_on_requests_per_target(autoscaling, models):
    label = "app/mylearning-alb/50dc6c495c0c9188/targetgroup/courses/6d0ecf831eec9f09"
    policy = migrate.target_tracking_policy(autoscaling, "mylearning", "courses",
                                            resource_label=label, mean_latency_s=0.25)
    validate_parameters(policy, models["application-autoscaling"].operation_model("PutScalingPolicy").input_shape)
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    # MaxConcurrency 80 / 0.25 s = 320 requests a second = 19,200 a minute; 70% of it:
    assert config["TargetValue"] == pytest.approx(80 / 0.25 * 60 * 0.7)  # 13440
    assert config["PredefinedMetricSpecification"] == {"PredefinedMetricType": "ALBRequestCountPerTarget",
                                                       "ResourceLabel": label}
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["ResourceId"] == "service/mylearning/courses"
    with pytest.raises(ValueError):
        migrate.target_tracking_policy(autoscaling, "c", "s", resource_label=label)
    with pytest.raises(ValueError):
        migrate.requests_per_target_per_minute(80, 0)


def test_target_tracking_on_cpu_without_a_load_balancer(autoscaling):
    policy = migrate.target_tracking_policy(autoscaling, "mylearning", "courses")
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert config["PredefinedMetricSpecification"] == {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}
    assert config["TargetValue"] == 70.0
    assert (config["ScaleOutCooldown"], config["ScaleInCooldown"]) == (60, 300)


def test_secrets_policy_is_least_privilege(sample):
    config = sample["Service"]["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"]
    config["RuntimeEnvironmentSecrets"]["SMTP_PASSWORD"] = (
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:mylearning/smtp-Qw12Er:password::")
    config["RuntimeEnvironmentSecrets"]["FEATURE_FLAGS_KEY"] = "/mylearning/flags-key"
    policy = migrate.secrets_policy(sample)
    statements = {s["Action"][0]: s["Resource"] for s in policy["Statement"]}
    assert statements["secretsmanager:GetSecretValue"] == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:mylearning/course-api/database-url-Xq3Tz9",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:mylearning/course-api/jwt-signing-key-Lp8Rw2",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:mylearning/smtp-Qw12Er",
    ]
    assert statements["ssm:GetParameters"] == [
        "arn:aws:ssm:us-east-1:123456789012:parameter/mylearning/course-api/payments-api-token",
        "arn:aws:ssm:us-east-1:123456789012:parameter/mylearning/flags-key",
    ]
    assert all("*" not in r for resources in statements.values() for r in resources)


def test_migrate_in_one_call(sample, autoscaling):
    result = migrate.migrate(sample, autoscaling, cluster="mylearning", execution_role_arn=EXECUTION_ROLE,
                             arch="ARM64")
    assert result.task_definition["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    assert result.scalable_target["MinCapacity"] == 3
    assert result.scaling_policy["ResourceId"] == "service/mylearning/mylearning-course-api"
    assert any("ecs-tasks.amazonaws.com" in n for n in result.notes)
    assert any("linux/arm64" in n for n in result.notes)
    assert any("VPC connector" in n for n in result.notes)
    assert "Scaling 3-25 tasks" in str(result)
    json.dumps(result.task_definition)  # plain data, ready to print or store


def test_limitations_table():
    rows = migrate.limitations_table()
    needs = [r["need"] for r in rows]
    for need in ("Sidecars", "Custom networking", "Service mesh", "Spot capacity", "Advanced deployments"):
        assert any(n.startswith(need) for n in needs), need
    for row in rows:
        assert set(row) == {"need", "App Runner", "ECS", "source"}
        assert all(part.strip().startswith("https://") for part in row["source"].split(" ; "))


def test_task_definition_registers_on_the_embedded_aws(session, sample):
    td = migrate.task_definition(sample, execution_role_arn=EXECUTION_ROLE,
                                 family=f"{session.prefix}-course-api")
    ecs = session.client("ecs")
    registered = ecs.register_task_definition(**td)["taskDefinition"]
    assert registered["cpu"] == "1024" and registered["memory"] == "2048"
    assert registered["containerDefinitions"][0]["secrets"] == td["containerDefinitions"][0]["secrets"]


# ---------------------------------------------------------------- migrate.differences
def test_defaults_aws_adds_are_not_differences():
    registered = {"cpu": "1024", "containerDefinitions": [
        {"name": "app", "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
         "mountPoints": [], "cpu": 0}]}
    wanted = {"cpu": 1024, "containerDefinitions": [
        {"name": "app", "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}]}
    assert migrate.differences(registered, wanted) == []


def test_missing_changed_and_list_length_are_reported_with_paths():
    registered = {"family": "a", "containerDefinitions": [{"environment": [{"name": "X", "value": "1"}]}]}
    wanted = {"family": "b", "runtimePlatform": {"cpuArchitecture": "ARM64"},
              "containerDefinitions": [{"environment": [{"name": "X", "value": "2"}, {"name": "Y"}]}]}
    found = migrate.differences(registered, wanted)
    assert found[0] == 'family: "a" instead of "b"'
    assert found[1].startswith("runtimePlatform: missing")
    assert found[2].startswith("containerDefinitions[0].environment: ")
    assert len(found) == 3


def test_a_hand_mapping_compared_with_migrate():
    sample = migrate.load_sample()
    td = migrate.task_definition(sample, execution_role_arn="arn:aws:iam::1:role/x")
    same = migrate.differences(td, td)
    assert same == []
    mine = dict(td)
    mine.pop("runtimePlatform")
    assert migrate.differences(mine, td) == [
        'runtimePlatform: missing (expected {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"})']


def test_long_values_are_shortened():
    found = migrate.differences({"a": "x" * 200}, {"a": "y"})
    assert len(found[0]) < 120 and found[0].endswith('instead of "y"')
