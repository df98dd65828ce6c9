"""ECS fidelity cases: deployment controllers and configurations, deployment strategies,
scheduling strategy, placement, and Service Connect, on CreateService and UpdateService.

Each rejected request has an accepted neighbour that differs in the one thing the rule checks.
"""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, Case, Env
from mylearning.emulator.fidelity.cases.ecs import (API, GUIDE, _lb, _service_call, awsvpc, cluster,
                                                    container, fargate_td, service)

BAD = "InvalidParameterException"
DOC_CONFIG = API + "API_DeploymentConfiguration.html"
DOC_CREATE = API + "API_CreateService.html"
DOC_CANARY = API + "API_CanaryConfiguration.html"
DOC_LINEAR = API + "API_LinearConfiguration.html"
DOC_HOOK = API + "API_DeploymentLifecycleHook.html"
DOC_PAUSE = GUIDE + "pause-lifecycle-hooks.html"
DOC_STOP = API + "API_StopServiceDeployment.html"
DOC_CONTINUE = API + "API_ContinueServiceDeployment.html"
DOC_LIST = API + "API_ListServiceDeployments.html"
DOC_DESCRIBE = API + "API_DescribeServiceDeployments.html"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:check"
HOOK_ROLE = "arn:aws:iam::123456789012:role/ecs-hooks"
DOC_PLACEMENT = GUIDE + "task-placement.html"
DOC_SC = API + "API_ServiceConnectService.html"
DOC_SC_CONCEPTS = GUIDE + "service-connect-concepts.html"
BREAKER = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
SPREAD = {"type": "spread", "field": "attribute:ecs.availability-zone"}


def _ec2_td(env: Env) -> str:
    """An awsvpc task definition for EC2 (and only EC2)."""
    return env.client("ecs").register_task_definition(
        family=env.name("ec2"), networkMode="awsvpc", requiresCompatibilities=["EC2"],
        containerDefinitions=[container(memory=256)])["taskDefinition"]["taskDefinitionArn"]


def _bridge_td(env: Env) -> str:
    return env.client("ecs").register_task_definition(
        family=env.name("daemon"), containerDefinitions=[container(memory=128)],
    )["taskDefinition"]["taskDefinitionArn"]


def _ec2_call(**overrides: Any) -> Callable[[Env], Any]:
    return _service_call(launchType="EC2", taskDefinition=_ec2_td, **overrides)


def _deploy(**config: Any) -> dict:
    return {"deploymentConfiguration": config}


def _external(**config: Any) -> Callable[[Env], Any]:
    """An EXTERNAL-controller service: name and count only (task sets carry the rest)."""
    def call(env: Env) -> Any:
        args: dict[str, Any] = {"cluster": cluster(env), "serviceName": env.name("svc"),
                                "desiredCount": 1, "deploymentController": {"type": "EXTERNAL"}}
        args.update(config)
        return env.client("ecs").create_service(**{k: v for k, v in args.items() if v is not None})
    return call


def _update(**changes: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        c, name, _ = service(env, desired=1)
        return env.client("ecs").update_service(cluster=c, service=name, **changes)
    return call


# ---------------------------------------------------------------- Service Connect

def _named_td(env: Env) -> str:
    return fargate_td(env, containers=[container(portMappings=[
        {"containerPort": 80, "protocol": "tcp", "name": "http", "appProtocol": "http"}])])


def _namespace(env: Env) -> str:
    name = f"{env.name('ns')}.local"
    env.client("servicediscovery").create_http_namespace(Name=name)
    return name


def _connect(services: list[dict] | None = None, namespace: str | None = "create",
             default_namespace: bool = False) -> Callable[[Env], Any]:
    """CreateService with Service Connect on a task definition whose port 80 is named 'http'."""
    def call(env: Env) -> Any:
        ecs = env.client("ecs")
        kwargs: dict[str, Any] = {}
        if default_namespace:
            kwargs["serviceConnectDefaults"] = {"namespace": f"{env.name('default')}.local"}
        c = cluster(env, **kwargs)
        config: dict[str, Any] = {"enabled": True}
        if namespace == "create":
            config["namespace"] = _namespace(env)
        elif namespace:
            config["namespace"] = namespace
        if services is not None:
            config["services"] = services
        return ecs.create_service(cluster=c, serviceName=env.name("svc"), taskDefinition=_named_td(env),
                                  desiredCount=1, launchType="FARGATE",
                                  networkConfiguration=awsvpc(env), serviceConnectConfiguration=config)
    return call


def _connect_update(services: list[dict]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        c, name, _ = service(env, desired=1, td=_named_td(env))
        return env.client("ecs").update_service(
            cluster=c, service=name, serviceConnectConfiguration={
                "enabled": True, "namespace": _namespace(env), "services": services})
    return call


def _server(port_name: str = "http", aliases: list[dict] | None = None, **extra: Any) -> dict:
    return {"portName": port_name,
            "clientAliases": aliases if aliases is not None else [{"port": 80, "dnsName": "web"}],
            **extra}


def _hooked(*hooks: dict) -> Callable[[Env], Any]:
    return _service_call(**_deploy(strategy="BLUE_GREEN", bakeTimeInMinutes=5, lifecycleHooks=list(hooks)))


def _deployment_call(operation: str, **params: Any) -> Callable[[Env], Any]:
    """A service deployment operation on the ARN of a real deployment (or a made-up one)."""
    def call(env: Env) -> Any:
        ecs = env.client("ecs")
        c, name, _ = service(env, desired=1)
        found = ecs.list_service_deployments(cluster=c, service=name)["serviceDeployments"]
        arn = found[0]["serviceDeploymentArn"]
        args = {k: (v(arn) if callable(v) else v) for k, v in params.items()}
        return getattr(ecs, operation)(**args)
    return call


def _case(id: str, call: Callable[[Env], Any], expect: str, doc: str) -> Case:
    return Case(id, "ecs", call, expect, doc)


CASES = [
    # deployment controller and rollback checks
    _case("ecs-service-circuit-breaker-with-code-deploy",
          _service_call(deploymentController={"type": "CODE_DEPLOY"}, loadBalancers=_lb("web"),
                        deploymentConfiguration=BREAKER), BAD, DOC_CONFIG),
    _case("ecs-service-valid-code-deploy-with-load-balancer",
          _service_call(deploymentController={"type": "CODE_DEPLOY"}, loadBalancers=_lb("web")),
          OK, DOC_CREATE),
    _case("ecs-service-code-deploy-without-load-balancer",
          _service_call(deploymentController={"type": "CODE_DEPLOY"}), BAD, DOC_CREATE),
    _case("ecs-service-valid-circuit-breaker-with-ecs", _service_call(**_deploy(**BREAKER)), OK,
          DOC_CONFIG),
    _case("ecs-service-alarms-with-external",
          _external(deploymentConfiguration={"alarms": {"alarmNames": ["web-5xx"], "enable": True,
                                                        "rollback": True}}),
          BAD, API + "API_DeploymentAlarms.html"),
    _case("ecs-service-valid-alarms-with-ecs",
          _service_call(**_deploy(alarms={"alarmNames": ["web-5xx"], "enable": True, "rollback": True})),
          OK, API + "API_DeploymentAlarms.html"),
    _case("ecs-service-custom-percent-code-deploy-ec2",
          _ec2_call(deploymentController={"type": "CODE_DEPLOY"}, loadBalancers=_lb("web"),
                    **_deploy(maximumPercent=150)), BAD, DOC_CONFIG),
    _case("ecs-service-valid-custom-percent-code-deploy-fargate",
          _service_call(deploymentController={"type": "CODE_DEPLOY"}, loadBalancers=_lb("web"),
                        **_deploy(maximumPercent=150)), OK, DOC_CONFIG),
    # deployment strategies
    _case("ecs-service-blue-green-without-bake-time", _service_call(**_deploy(strategy="BLUE_GREEN")),
          BAD, DOC_CONFIG),
    _case("ecs-service-valid-blue-green",
          _service_call(**_deploy(strategy="BLUE_GREEN", bakeTimeInMinutes=5)), OK,
          GUIDE + "blue-green-deployment-implementation.html"),
    _case("ecs-service-blue-green-with-external",
          _external(deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5}),
          BAD, GUIDE + "blue-green-deployment-implementation.html"),
    _case("ecs-service-canary-configuration-with-linear",
          _service_call(**_deploy(strategy="LINEAR", canaryConfiguration={
              "canaryPercent": 5.0, "canaryBakeTimeInMinutes": 10})), BAD, DOC_CONFIG),
    _case("ecs-service-valid-linear",
          _service_call(**_deploy(strategy="LINEAR", bakeTimeInMinutes=5, linearConfiguration={
              "stepPercent": 10.0, "stepBakeTimeInMinutes": 6})), OK, DOC_LINEAR),
    _case("ecs-service-valid-canary",
          _service_call(**_deploy(strategy="CANARY", canaryConfiguration={
              "canaryPercent": 5.0, "canaryBakeTimeInMinutes": 10})), OK, DOC_CANARY),
    _case("ecs-service-canary-percent-200",
          _service_call(**_deploy(strategy="CANARY", canaryConfiguration={
              "canaryPercent": 200.0, "canaryBakeTimeInMinutes": 10})), BAD, DOC_CANARY),
    _case("ecs-service-canary-percent-hundredths",
          _service_call(**_deploy(strategy="CANARY", canaryConfiguration={
              "canaryPercent": 2.55, "canaryBakeTimeInMinutes": 10})), BAD, DOC_CANARY),
    _case("ecs-service-canary-bake-1441-minutes",
          _service_call(**_deploy(strategy="CANARY", canaryConfiguration={
              "canaryPercent": 5.0, "canaryBakeTimeInMinutes": 1441})), BAD, DOC_CANARY),
    _case("ecs-service-linear-step-2-percent",
          _service_call(**_deploy(strategy="LINEAR", linearConfiguration={
              "stepPercent": 2.0, "stepBakeTimeInMinutes": 6})), BAD, DOC_LINEAR),
    _case("ecs-update-canary-configuration-without-canary",
          _update(deploymentConfiguration={"canaryConfiguration": {
              "canaryPercent": 5.0, "canaryBakeTimeInMinutes": 10}}), BAD, DOC_CONFIG),
    # scheduling strategy
    _case("ecs-service-daemon-on-fargate",
          _service_call(schedulingStrategy="DAEMON", desiredCount=None), BAD, DOC_CREATE),
    _case("ecs-service-daemon-with-external",
          _external(schedulingStrategy="DAEMON", desiredCount=None), BAD, DOC_CREATE),
    _case("ecs-service-valid-daemon-on-ec2",
          _service_call(schedulingStrategy="DAEMON", desiredCount=None, launchType="EC2",
                        taskDefinition=_bridge_td, networkConfiguration=None), OK, DOC_CREATE),
    # placement
    _case("ecs-service-placement-strategy-on-fargate", _service_call(placementStrategy=[SPREAD]),
          BAD, DOC_PLACEMENT),
    _case("ecs-service-placement-constraint-on-fargate",
          _service_call(placementConstraints=[{"type": "distinctInstance"}]), BAD, DOC_PLACEMENT),
    _case("ecs-service-valid-placement-strategy-on-ec2",
          _ec2_call(placementStrategy=[SPREAD, {"type": "binpack", "field": "memory"}]), OK,
          DOC_PLACEMENT),
    _case("ecs-service-six-placement-strategies", _ec2_call(placementStrategy=[SPREAD] * 6), BAD,
          DOC_CREATE),
    _case("ecs-service-eleven-placement-constraints",
          _ec2_call(placementConstraints=[{"type": "memberOf",
                                           "expression": "attribute:ecs.instance-type =~ t3.*"}] * 11),
          BAD, DOC_CREATE),
    _case("ecs-update-placement-strategy-on-fargate", _update(placementStrategy=[SPREAD]), BAD,
          DOC_PLACEMENT),
    _case("ecs-update-valid-deployment-configuration",
          _update(deploymentConfiguration={"maximumPercent": 150, "minimumHealthyPercent": 50}), OK,
          API + "API_UpdateService.html"),
    # Service Connect
    _case("ecs-service-connect-without-namespace", _connect(namespace=None), BAD, DOC_SC_CONCEPTS),
    _case("ecs-service-connect-valid-cluster-default-namespace",
          _connect(namespace=None, default_namespace=True), OK, DOC_SC_CONCEPTS),
    _case("ecs-service-connect-unknown-namespace", _connect(namespace="nowhere.local"),
          "NamespaceNotFoundException", DOC_CREATE),
    _case("ecs-service-connect-valid-client", _connect(), OK, DOC_SC_CONCEPTS),
    _case("ecs-service-connect-valid-server", _connect([_server()]), OK, DOC_SC),
    _case("ecs-service-connect-unknown-port-name", _connect([_server("web")]), BAD, DOC_SC),
    _case("ecs-service-connect-two-client-aliases",
          _connect([_server(aliases=[{"port": 80}, {"port": 8080}])]), BAD, DOC_SC),
    _case("ecs-service-connect-discovery-name-uppercase", _connect([_server(discoveryName="Web")]),
          BAD, DOC_SC),
    _case("ecs-service-connect-valid-discovery-name", _connect([_server(discoveryName="web-api_v2")]),
          OK, DOC_SC),
    _case("ecs-service-connect-discovery-name-twice",
          _connect([_server(discoveryName="web"), _server(discoveryName="web")]), BAD,
          DOC_SC_CONCEPTS),
    _case("ecs-service-connect-dns-name-starts-with-hyphen",
          _connect([_server(aliases=[{"port": 80, "dnsName": "-web"}])]), BAD,
          API + "API_ServiceConnectClientAlias.html"),
    _case("ecs-service-connect-alias-port-70000", _connect([_server(aliases=[{"port": 70000}])]),
          BAD, API + "API_ServiceConnectClientAlias.html"),
    _case("ecs-update-service-connect-unknown-port-name", _connect_update([_server("grpc")]), BAD,
          DOC_SC),
    _case("ecs-update-service-connect-valid-server", _connect_update([_server()]), OK, DOC_SC),
    # lifecycle hooks
    _case("ecs-service-pause-hook-without-stages", _hooked({"targetType": "PAUSE"}), BAD, DOC_HOOK),
    _case("ecs-service-valid-pause-hook",
          _hooked({"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}), OK, DOC_PAUSE),
    _case("ecs-service-lambda-hook-without-function",
          _hooked({"targetType": "AWS_LAMBDA", "roleArn": HOOK_ROLE, "lifecycleStages": ["PRE_SCALE_UP"]}),
          BAD, DOC_HOOK),
    _case("ecs-service-lambda-hook-without-role",
          _hooked({"hookTargetArn": LAMBDA, "lifecycleStages": ["PRE_SCALE_UP"]}), BAD, DOC_HOOK),
    _case("ecs-service-valid-lambda-hook",
          _hooked({"hookTargetArn": LAMBDA, "roleArn": HOOK_ROLE, "lifecycleStages": ["PRE_SCALE_UP"]}),
          OK, DOC_HOOK),
    _case("ecs-service-hook-at-scale-up", _hooked({"targetType": "PAUSE", "lifecycleStages": ["SCALE_UP"]}),
          BAD, DOC_HOOK),
    # service deployments
    _case("ecs-describe-service-deployments", _deployment_call("describe_service_deployments",
                                                          serviceDeploymentArns=lambda arn: [arn]), OK,
          DOC_DESCRIBE),
    _case("ecs-list-service-deployments-unknown-service",
          lambda env: env.client("ecs").list_service_deployments(cluster=cluster(env), service="nowhere"),
          "ServiceNotFoundException", DOC_LIST),
    _case("ecs-stop-service-deployment-unknown",
          _deployment_call("stop_service_deployment", serviceDeploymentArn=lambda arn: arn + "x"),
          "ServiceDeploymentNotFoundException", DOC_STOP),
    _case("ecs-stop-service-deployment-abort",
          _deployment_call("stop_service_deployment", serviceDeploymentArn=lambda arn: arn, stopType="ABORT"),
          BAD, DOC_STOP),
    _case("ecs-continue-service-deployment-unknown",
          _deployment_call("continue_service_deployment", serviceDeploymentArn=lambda arn: arn + "x",
                           hookId="ecs-pause-none"),
          "ServiceDeploymentNotFoundException", DOC_CONTINUE),
]
