"""ECS services: how deploymentController, deploymentConfiguration, schedulingStrategy,
launch type and placement relate to each other -- rules CreateService/UpdateService apply
that moto 5.2 skips.

Each rule reads the request and, on UpdateService, falls back to what the service already
has (its deployment controller, its launch type) for what the request leaves out.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, rule
from mylearning.emulator.fidelity.ecs.access import SERVICE, _task_definition, invalid_parameter
from mylearning.emulator.fidelity.ecs.rules import _existing_service

SERVICES = ("CreateService", "UpdateService")


def _current(req: AwsRequest) -> Any:
    return _existing_service(req, "service") if req.operation == "UpdateService" else None


def _controller(req: AwsRequest) -> str:
    controller = (req.params.get("deploymentController") or {}).get("type")
    if controller:
        return controller
    current = _current(req)
    return ((getattr(current, "deployment_controller", None) or {}).get("type") or "ECS")


def _launch_type(req: AwsRequest) -> str | None:
    if req.params.get("launchType"):
        return req.params["launchType"]
    if req.params.get("capacityProviderStrategy"):
        return None
    return getattr(_current(req), "launch_type", None)


def _deployment(req: AwsRequest) -> dict:
    value = req.params.get("deploymentConfiguration")
    return value if isinstance(value, dict) else {}


@rule(SERVICE, *SERVICES)
def rollback_checks_need_ecs_controller(req: AwsRequest) -> None:
    """The deployment circuit breaker and CloudWatch alarms are for the ECS (rolling update)
    deployment controller only.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html
    ("The deployment circuit breaker can only be used for services using the rolling update
    (ECS) deployment type") and
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentAlarms.html ("You
    can only use the DeploymentAlarms method to detect failures when the DeploymentController
    is set to ECS").
    """
    config = _deployment(req)
    controller = _controller(req)
    if controller == "ECS":
        return
    if (config.get("deploymentCircuitBreaker") or {}).get("enable"):
        raise invalid_parameter(f"The deployment circuit breaker can only be used with the ECS "
                                f"deployment controller, not {controller}.")
    if (config.get("alarms") or {}).get("enable"):
        raise invalid_parameter(f"Deployment alarms can only be used with the ECS deployment "
                                f"controller, not {controller}.")


@rule(SERVICE, *SERVICES)
def strategy_fits_its_configuration(req: AwsRequest) -> None:
    """BLUE_GREEN, LINEAR and CANARY need the ECS deployment controller; BLUE_GREEN needs a bake
    time; canaryConfiguration goes with CANARY only and linearConfiguration with LINEAR only.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html
    (bakeTimeInMinutes: "You must provide this parameter when you use the BLUE_GREEN deployment
    strategy"; canaryConfiguration: "Only valid when the deployment strategy is CANARY";
    linearConfiguration: "Only valid when the deployment strategy is LINEAR"),
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html and
    .../API_LinearConfiguration.html ("only valid when you run CreateService or UpdateService
    with deploymentController set to ECS"), and
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-implementation.html
    ("Set the service deployment controller to ECS").
    """
    config = _deployment(req)
    strategy = config.get("strategy")
    if strategy in ("BLUE_GREEN", "LINEAR", "CANARY") and _controller(req) != "ECS":
        raise invalid_parameter(f"The {strategy} deployment strategy needs the ECS deployment "
                                f"controller, not {_controller(req)}.")
    if strategy == "BLUE_GREEN" and config.get("bakeTimeInMinutes") is None:
        raise invalid_parameter("bakeTimeInMinutes must be provided for the BLUE_GREEN "
                                "deployment strategy.")
    if config.get("canaryConfiguration") is not None and strategy != "CANARY":
        raise invalid_parameter("canaryConfiguration is only valid with the CANARY deployment "
                                f"strategy, not {strategy or 'ROLLING'}.")
    if config.get("linearConfiguration") is not None and strategy != "LINEAR":
        raise invalid_parameter("linearConfiguration is only valid with the LINEAR deployment "
                                f"strategy, not {strategy or 'ROLLING'}.")


def _tenths(value: Any, low: str, high: str) -> bool:
    """A multiple of 0.1 from `low` to `high` (as the API reference words the percentages)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True  # the wrong type is botocore's to refuse
    number = Decimal(str(value))
    return Decimal(low) <= number <= Decimal(high) and (number * 10) % 1 == 0


def _minutes(value: Any) -> bool:
    return not isinstance(value, int) or isinstance(value, bool) or 0 <= value <= 1440


@rule(SERVICE, *SERVICES)
def canary_and_linear_steps_in_range(req: AwsRequest) -> None:
    """Canary and linear steps: percentages in tenths within their range, bake times 0-1440.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html
    (canaryPercent: "Valid values are multiples of 0.1 from 0.1 to 100.0";
    canaryBakeTimeInMinutes: "Valid values are 0 to 1440 minutes") and
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html
    (stepPercent: "Valid values are multiples of 0.1 from 3.0 to 100.0";
    stepBakeTimeInMinutes: "Valid values are 0 to 1440 minutes").
    """
    config = _deployment(req)
    canary = config.get("canaryConfiguration") or {}
    linear = config.get("linearConfiguration") or {}
    if "canaryPercent" in canary and not _tenths(canary["canaryPercent"], "0.1", "100"):
        raise invalid_parameter(f"canaryPercent {canary['canaryPercent']} must be a multiple of "
                                "0.1 from 0.1 to 100.0.")
    if "stepPercent" in linear and not _tenths(linear["stepPercent"], "3.0", "100"):
        raise invalid_parameter(f"stepPercent {linear['stepPercent']} must be a multiple of 0.1 "
                                "from 3.0 to 100.0.")
    for name, value in (("canaryBakeTimeInMinutes", canary.get("canaryBakeTimeInMinutes")),
                        ("stepBakeTimeInMinutes", linear.get("stepBakeTimeInMinutes"))):
        if not _minutes(value):
            raise invalid_parameter(f"{name} {value} must be from 0 to 1440 minutes.")


@rule(SERVICE, *SERVICES)
def no_custom_percents_for_external_ec2(req: AwsRequest) -> None:
    """With the CODE_DEPLOY or EXTERNAL controller and the EC2 launch type, minimumHealthyPercent
    and maximumPercent keep their defaults (100 and 200).

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html
    ("You can't specify a custom maximumPercent value for a service that uses either the
    blue/green (CODE_DEPLOY) or EXTERNAL deployment types and has tasks that use the EC2 launch
    type", and the same for minimumHealthyPercent).
    """
    controller = _controller(req)
    if controller not in ("CODE_DEPLOY", "EXTERNAL") or _launch_type(req) != "EC2":
        return
    config = _deployment(req)
    for name, default in (("maximumPercent", 200), ("minimumHealthyPercent", 100)):
        if config.get(name) is not None and config[name] != default:
            raise invalid_parameter(f"A custom {name} can't be set for a service with the "
                                    f"{controller} deployment controller on the EC2 launch type.")


@rule(SERVICE, "CreateService")
def scheduling_strategy_fits(req: AwsRequest) -> None:
    """DAEMON services run on EC2 with the ECS controller: Fargate, CODE_DEPLOY and EXTERNAL
    services are REPLICA services.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
    (schedulingStrategy: "Tasks using the Fargate launch type or the CODE_DEPLOY or EXTERNAL
    deployment controller types don't support the DAEMON scheduling strategy").
    """
    if req.params.get("schedulingStrategy") != "DAEMON":
        return
    if req.params.get("launchType") == "FARGATE":
        raise invalid_parameter("The DAEMON scheduling strategy isn't supported for tasks using "
                                "the Fargate launch type.")
    controller = _controller(req)
    if controller in ("CODE_DEPLOY", "EXTERNAL"):
        raise invalid_parameter(f"The DAEMON scheduling strategy isn't supported with the "
                                f"{controller} deployment controller; use REPLICA.")


@rule(SERVICE, "CreateService")
def code_deploy_needs_a_load_balancer(req: AwsRequest) -> None:
    """A CODE_DEPLOY (blue/green) service uses an Application or Network Load Balancer.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
    (loadBalancers: "If the service uses the CODE_DEPLOY deployment controller, the service is
    required to use either an Application Load Balancer or Network Load Balancer").
    """
    if _controller(req) == "CODE_DEPLOY" and not req.params.get("loadBalancers"):
        raise invalid_parameter("A service with the CODE_DEPLOY deployment controller requires "
                                "an Application Load Balancer or Network Load Balancer "
                                "(loadBalancers).")


@rule(SERVICE, *SERVICES)
def placement_fits_the_launch_type(req: AwsRequest) -> None:
    """No placement strategies or constraints on Fargate; at most 5 strategy rules, and at
    most 10 constraints counting the task definition's own.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement.html ("Task
    placement strategies and constraints aren't supported for tasks using the Fargate launch
    type") and
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
    (placementStrategy: "You can specify a maximum of 5 strategy rules for each service";
    placementConstraints: "a maximum of 10 constraints for each task. This limit includes
    constraints in the task definition and those specified at runtime").
    """
    strategy = req.params.get("placementStrategy") or []
    constraints = req.params.get("placementConstraints") or []
    if (strategy or constraints) and _launch_type(req) == "FARGATE":
        what = "strategies" if strategy else "constraints"
        raise invalid_parameter(f"Placement {what} are not supported with the FARGATE launch type.")
    if len(strategy) > 5:
        raise invalid_parameter(f"A service can have at most 5 placement strategy rules; got "
                                f"{len(strategy)}.")
    if constraints:
        ref = req.params.get("taskDefinition") or getattr(_current(req), "task_definition", None)
        td = _task_definition(req.region, ref)
        own = len(getattr(td, "placement_constraints", None) or []) if td is not None else 0
        if len(constraints) + own > 10:
            raise invalid_parameter(f"A task can have at most 10 placement constraints, counting "
                                    f"the task definition's {own}; got {len(constraints) + own}.")


@rule(SERVICE, *SERVICES)
def lifecycle_hooks_complete(req: AwsRequest) -> None:
    """Every lifecycle hook names its stages; a Lambda hook (AWS_LAMBDA, the type of a hook
    that names none) also names its function and the role ECS invokes it with. A PAUSE hook
    has no target.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html
    (hookTargetArn, roleArn, lifecycleStages: "You must provide this parameter when configuring
    a deployment lifecycle hook") and
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html
    (a pause hook waits for ContinueServiceDeployment; "For PAUSE hooks, this field is not set",
    API_DeploymentLifecycleHookDetail.html).
    """
    for hook in _deployment(req).get("lifecycleHooks") or []:
        if not isinstance(hook, dict):
            continue
        if not hook.get("lifecycleStages"):
            raise invalid_parameter("lifecycleStages must be provided for a deployment lifecycle hook.")
        if (hook.get("targetType") or "AWS_LAMBDA") != "AWS_LAMBDA":
            continue
        for name in ("hookTargetArn", "roleArn"):
            if not hook.get(name):
                raise invalid_parameter(f"{name} must be provided for an AWS_LAMBDA deployment "
                                        "lifecycle hook.")
