"""The AWS Security Hub CSPM controls for Amazon ECS, and the course's own IAM and network checks.

One row per control: its id, title and severity as Security Hub states them, the resource type
it evaluates, the AWS Config rule behind it, and, in the course's words, why it matters and how to
fix it. `mylearning.security` evaluates them; lab 10's grader reads the same rows.

Source for every ECS.x row: "Security Hub CSPM controls for Amazon ECS",
https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html (each control at
``#ecs-N``), and the AWS Config managed rule each one names,
https://docs.aws.amazon.com/config/latest/developerguide/<rule>.html.

Which controls are here: every ECS.x control the page lists (ECS.1 to ECS.5, ECS.8 to ECS.10 and
ECS.12 to ECS.21), because each evaluates a kind of resource a learner can create in this course
(task definitions, services, task sets, clusters, capacity providers); none is left out. Two
notes: ECS.1 was retired by Security Hub in March 2026 (ECS.4, ECS.17, ECS.20 and ECS.21 replace
it); the course still evaluates it, marked retired, because the labs teach its host-mode rule.
ECS.21 (Windows) applies to a task definition that names no operating system family as well, so
it can apply to the course's resources even though the course runs only Linux containers.

The MYL.* rows are the course's own checks (Security Hub has no control for them); their
severities are the course's, on Security Hub's scale.
"""
from __future__ import annotations

from dataclasses import dataclass

CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL = "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"
#: Security Hub's severity labels, most severe first.
#: https://docs.aws.amazon.com/securityhub/latest/userguide/asff-severity.html
SEVERITIES = (CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL)

#: A control finding's compliance status: FAILED or PASSED (Security Hub also has WARNING and
#: NOT_AVAILABLE, which a scan that reads the resource itself never needs).
#: https://docs.aws.amazon.com/securityhub/latest/userguide/controls-overall-status.html
FAILED, PASSED = "FAILED", "PASSED"

PAGE = "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html"
CONFIG_RULES = "https://docs.aws.amazon.com/config/latest/developerguide/"

# ------------------------------------------------------------------ the controls' parameters
#: ECS.8's secretKeys parameter (not customizable): an environment variable with exactly one of
#: these names fails the control.
SECRET_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA")
#: ECS.10's parameters (not customizable): the latest Fargate platform versions.
LATEST_FARGATE_LINUX, LATEST_FARGATE_WINDOWS = "1.4.0", "1.0.0"
#: ECS.20: the default root users of LINUX containers.
LINUX_ROOT_USERS = ("root", "0")
#: ECS.21: the default administrator of WINDOWS_SERVER containers.
WINDOWS_ADMIN_USER = "containeradministrator"
#: ECS.13-15: at most 6 requiredTagKeys; tags beginning with "aws:" are system tags and ignored.
MAX_REQUIRED_TAG_KEYS = 6
SYSTEM_TAG_PREFIX = "aws:"
#: ECS.12: the cluster setting, and the values that turn Container Insights on ("enhanced" is
#: Container Insights with enhanced observability).
#: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterSetting.html
CONTAINER_INSIGHTS = "containerInsights"
CONTAINER_INSIGHTS_ON = ("enabled", "enhanced")


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    severity: str
    resource_type: str
    #: The AWS Config rule Security Hub evaluates ("" for the course's own checks).
    config_rule: str
    page: str
    #: One sentence: what goes wrong when the control fails.
    why: str
    #: What to change, naming the API call or task-definition field.
    fix: str
    retired: str = ""

    @property
    def own(self) -> bool:
        """The course's own check rather than a Security Hub control."""
        return self.id.startswith("MYL.")


def _ecs(number: int, title: str, severity: str, resource_type: str, config_rule: str,
         why: str, fix: str, retired: str = "") -> Control:
    return Control(f"ECS.{number}", title, severity, f"AWS::ECS::{resource_type}", config_rule,
                   f"{PAGE}#ecs-{number}", why, fix, retired)


_REGISTER = ("register a new revision (RegisterTaskDefinition) with {field}, then point the "
             "service at it (UpdateService taskDefinition=...) and deregister the old revision")

ECS_CONTROLS: tuple[Control, ...] = (
    _ecs(1, "Amazon ECS task definitions should have secure networking modes and user definitions",
         HIGH, "TaskDefinition", "ecs-task-definition-user-for-host-mode-check",
         "A container on the host's network that runs as root without having asked for privileges "
         "is an unplanned privilege escalation onto the instance's network stack.",
         _REGISTER.format(field="networkMode 'awsvpc' (or a non-root 'user' in every container)"),
         retired="March 2026"),
    _ecs(2, "ECS services should not have public IP addresses assigned to them automatically",
         HIGH, "Service", "ecs-service-assign-public-ip-disabled",
         "A task with a public IP can be reached from the internet directly, bypassing the load "
         "balancer.",
         "UpdateService networkConfiguration.awsvpcConfiguration.assignPublicIp='DISABLED', with "
         "the tasks in private subnets (a NAT gateway or VPC endpoints for image pulls)"),
    _ecs(3, "ECS task definitions should not share the host's process namespace", HIGH,
         "TaskDefinition", "ecs-task-definition-pid-mode-check",
         "With the host's PID namespace a container sees, and can signal, every process on the "
         "instance.",
         _REGISTER.format(field="pidMode removed or set to 'task'")),
    _ecs(4, "ECS containers should run as non-privileged", HIGH, "TaskDefinition",
         "ecs-containers-nonprivileged",
         "A privileged container has root-like powers on the host container instance.",
         _REGISTER.format(field="privileged false (or absent) in every container definition")),
    _ecs(5, "ECS task definitions should configure containers to be limited to read-only access "
            "to root filesystems", HIGH, "TaskDefinition", "ecs-containers-readonly-access",
         "An attacker in a container with a writable root file system can change its binaries and "
         "configuration.",
         _REGISTER.format(field="readonlyRootFilesystem true in every container definition (mount "
                                "a task volume for the paths the app writes)")),
    _ecs(8, "Secrets should not be passed as container environment variables", HIGH,
         "TaskDefinition", "ecs-no-environment-secrets",
         "Credentials in 'environment' are readable by anyone who can describe the task "
         "definition.",
         _REGISTER.format(field="the value moved to Secrets Manager or Parameter Store and named "
                                "in the container's 'secrets' (valueFrom) instead of 'environment'")),
    _ecs(9, "ECS task definitions should have a logging configuration", HIGH, "TaskDefinition",
         "ecs-task-definition-log-configuration",
         "Without a log driver a container's output is lost when its task stops, and with it the "
         "evidence of what happened.",
         _REGISTER.format(field="a logConfiguration (logDriver 'awslogs' and its group, region "
                                "and stream prefix) in every container definition")),
    _ecs(10, "ECS Fargate services should run on the latest Fargate platform version", MEDIUM,
         "Service", "ecs-fargate-latest-platform-version",
         "Older platform versions miss kernel and runtime security updates and features.",
         "UpdateService platformVersion='LATEST' (the latest is "
         f"{LATEST_FARGATE_LINUX} on Linux, {LATEST_FARGATE_WINDOWS} on Windows)"),
    _ecs(12, "ECS clusters should use Container Insights", MEDIUM, "Cluster",
         "ecs-container-insights-enabled",
         "Without Container Insights the cluster's task metrics and failures are not collected.",
         "UpdateClusterSettings settings=[{'name': 'containerInsights', 'value': 'enabled'}]"),
    _ecs(13, "ECS services should be tagged", LOW, "Service", "tagged-ecs-service",
         "Untagged services cannot be attributed to an owner or governed with tag-based access "
         "control.",
         "TagResource resourceArn=<service ARN> tags=[{'key': ..., 'value': ...}] (or tags= and "
         "propagateTags on CreateService)"),
    _ecs(14, "ECS clusters should be tagged", LOW, "Cluster", "tagged-ecs-cluster",
         "Untagged clusters cannot be attributed to an owner or governed with tag-based access "
         "control.",
         "TagResource resourceArn=<cluster ARN> tags=[{'key': ..., 'value': ...}]"),
    _ecs(15, "ECS task definitions should be tagged", LOW, "TaskDefinition",
         "tagged-ecs-taskdefinition",
         "Untagged task definitions cannot be attributed to an owner or governed with tag-based "
         "access control.",
         "TagResource resourceArn=<task definition ARN> tags=[...] (or tags= on "
         "RegisterTaskDefinition)"),
    _ecs(16, "ECS task sets should not automatically assign public IP addresses", HIGH, "TaskSet",
         "ecs-taskset-assign-public-ip-disabled",
         "A task set's tasks with public IPs can be reached from the internet directly.",
         "create a replacement task set (CreateTaskSet) with "
         "networkConfiguration.awsvpcConfiguration.assignPublicIp='DISABLED', shift traffic to "
         "it, then DeleteTaskSet the old one"),
    _ecs(17, "ECS task definitions should not use host network mode", MEDIUM, "TaskDefinition",
         "ecs-task-definition-network-mode-not-host",
         "In host mode a container can reach the host's loopback services and impersonate the "
         "host.",
         _REGISTER.format(field="networkMode 'awsvpc' (or 'bridge')")),
    _ecs(18, "ECS Task Definitions should use in-transit encryption for EFS volumes", MEDIUM,
         "TaskDefinition", "ecs-task-definition-efs-encryption-enabled",
         "Without TLS the file data travels between the task and EFS in the clear.",
         _REGISTER.format(field="efsVolumeConfiguration.transitEncryption 'ENABLED' on every EFS "
                                "volume")),
    _ecs(19, "ECS capacity providers should have managed termination protection enabled", MEDIUM,
         "CapacityProvider", "ecs-capacity-provider-termination-check",
         "Without it, scale-in can terminate an EC2 instance that still runs tasks.",
         "UpdateCapacityProvider autoScalingGroupProvider={'managedTerminationProtection': "
         "'ENABLED', 'managedScaling': {'status': 'ENABLED'}} (the group needs "
         "NewInstancesProtectedFromScaleIn)"),
    _ecs(20, "ECS Task Definitions should configure non-root users in Linux container "
             "definitions", MEDIUM, "TaskDefinition", "ecs-task-definition-linux-user-non-root",
         "A compromised root process has everything it needs to try a container escape.",
         _REGISTER.format(field="a non-root 'user' (e.g. '1000:1000') in every container "
                                "definition")),
    _ecs(21, "ECS Task Definitions should configure non-administrator users in Windows container "
             "definitions", MEDIUM, "TaskDefinition", "ecs-task-definition-windows-user-non-admin",
         "A compromised administrator process has everything it needs to try a container escape.",
         _REGISTER.format(field="a 'user' other than ContainerAdministrator in every container "
                                "definition (or runtimePlatform.operatingSystemFamily 'LINUX' "
                                "for Linux tasks)")),
)

_COURSE_PAGE = {
    "iam": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-iam-bestpractices.html",
    "roles": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
    "passrole": "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
    "sg": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-network.html",
    "alb": "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-update-security-groups.html",
}

COURSE_CONTROLS: tuple[Control, ...] = (
    Control("MYL.IAM.1", "Task roles should not allow every action or every resource", HIGH,
            "AWS::IAM::Role", "", _COURSE_PAGE["iam"],
            "An app whose role allows '*' turns any bug in it into access to everything the "
            "account holds.",
            "PutRolePolicy (or a new managed policy version) listing only the actions the app "
            "calls, on its own resource ARNs; actions that take no resource ARN may keep '*'"),
    Control("MYL.IAM.2", "Task and execution roles should not allow iam:PassRole on every role",
            HIGH, "AWS::IAM::Role", "", _COURSE_PAGE["passrole"],
            "iam:PassRole on '*' lets the task hand any role, an administrator's too, to a "
            "service it starts.",
            "PutRolePolicy with iam:PassRole limited to the role ARNs the task must pass (and an "
            "iam:PassedToService condition)"),
    Control("MYL.IAM.3", "Task roles and execution roles should not be confused", MEDIUM,
            "AWS::IAM::Role", "", _COURSE_PAGE["roles"],
            "An app holding the execution role's permissions can pull any image and read the "
            "secrets ECS injects, which only ECS itself should.",
            "RegisterTaskDefinition with separate taskRoleArn and executionRoleArn; "
            "DetachRolePolicy / DeleteRolePolicy the ECR pull and log-stream permissions from "
            "the task role"),
    Control("MYL.NET.1", "Task security groups should not admit the internet on task ports", HIGH,
            "AWS::EC2::SecurityGroup", "", _COURSE_PAGE["sg"],
            "A rule from 0.0.0.0/0 or ::/0 on a task port lets the whole internet try the app "
            "directly.",
            "RevokeSecurityGroupIngress the 0.0.0.0/0 / ::/0 rule on the task port, and "
            "AuthorizeSecurityGroupIngress from the load balancer's security group instead"),
    Control("MYL.NET.2", "Tasks behind a load balancer should be reachable only through it", MEDIUM,
            "AWS::EC2::SecurityGroup", "", _COURSE_PAGE["alb"],
            "An address range on the task port lets clients reach the tasks around the load "
            "balancer, its rules and its health checks.",
            "RevokeSecurityGroupIngress the CIDR rule on the task port and "
            "AuthorizeSecurityGroupIngress with UserIdGroupPairs=[{'GroupId': <load balancer's "
            "group>}]"),
)

CONTROLS: dict[str, Control] = {c.id: c for c in ECS_CONTROLS + COURSE_CONTROLS}


def control(control_id: str) -> Control:
    """The control called `control_id` ("ECS.2", "MYL.NET.1"); KeyError names the known ones."""
    try:
        return CONTROLS[control_id]
    except KeyError:
        raise KeyError(f"No control {control_id!r}; the scan knows {', '.join(CONTROLS)}") from None


def severity_rank(severity: str) -> int:
    """0 for CRITICAL ... 4 for INFORMATIONAL, so findings sort most severe first."""
    return SEVERITIES.index(severity)
