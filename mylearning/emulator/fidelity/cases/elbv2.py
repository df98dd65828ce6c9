"""Elastic Load Balancing v2 fidelity cases: ALB subnets, forward weights, ports, priorities."""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, Case, Env

API = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/"


def _network(env: Env) -> dict[str, Any]:
    """A VPC with subnets in zones a, b and a second one in a, made once per Env."""
    if not hasattr(env, "_elbv2_network"):
        ec2 = env.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.50.{i}.0/24",
                                     AvailabilityZone=f"{env.region}{zone}")["Subnet"]["SubnetId"]
                   for i, zone in enumerate("aba")]
        env._elbv2_network = {"vpc": vpc, "a": subnets[0], "b": subnets[1], "a2": subnets[2]}
    return env._elbv2_network


def _create_lb(subnets: Callable[[dict], list[str]], mappings: bool = False,
               kind: str | None = None) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ids = subnets(_network(env))
        args: dict[str, Any] = {"Name": env.name("alb")}
        if mappings:
            args["SubnetMappings"] = [{"SubnetId": s} for s in ids]
        else:
            args["Subnets"] = ids
        if kind:
            args["Type"] = kind
        return env.client("elbv2").create_load_balancer(**args)
    return call


def _listener_setup(env: Env) -> tuple[str, str, str]:
    net = _network(env)
    elb = env.client("elbv2")
    lb = elb.create_load_balancer(Name=env.name("alb"), Subnets=[net["a"], net["b"]],
                                  )["LoadBalancers"][0]["LoadBalancerArn"]
    groups = [elb.create_target_group(Name=env.name("tg"), Protocol="HTTP", Port=80,
                                      VpcId=net["vpc"], TargetType="ip",
                                      )["TargetGroups"][0]["TargetGroupArn"] for _ in range(2)]
    return lb, groups[0], groups[1]


def _forward(weights: tuple[int, int], port: int = 80) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        lb, blue, green = _listener_setup(env)
        return env.client("elbv2").create_listener(
            LoadBalancerArn=lb, Protocol="HTTP", Port=port,
            DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": blue, "Weight": weights[0]},
                {"TargetGroupArn": green, "Weight": weights[1]}]}}])
    return call


def _modify_weights(weights: tuple[int, int]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        lb, blue, green = _listener_setup(env)
        elb = env.client("elbv2")
        listener = elb.create_listener(
            LoadBalancerArn=lb, Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": blue}])["Listeners"][0]
        return elb.modify_listener(
            ListenerArn=listener["ListenerArn"],
            DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": blue, "Weight": weights[0]},
                {"TargetGroupArn": green, "Weight": weights[1]}]}}])
    return call


def _rule(priority: int) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        lb, blue, _ = _listener_setup(env)
        elb = env.client("elbv2")
        listener = elb.create_listener(
            LoadBalancerArn=lb, Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": blue}])["Listeners"][0]
        return elb.create_rule(
            ListenerArn=listener["ListenerArn"], Priority=priority,
            Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
            Actions=[{"Type": "forward", "TargetGroupArn": blue}])
    return call


def _set_subnets(keep: Callable[[dict], list[str]]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        net = _network(env)
        elb = env.client("elbv2")
        lb = elb.create_load_balancer(Name=env.name("alb"), Subnets=[net["a"], net["b"]],
                                      )["LoadBalancers"][0]["LoadBalancerArn"]
        return elb.set_subnets(LoadBalancerArn=lb, Subnets=keep(net))
    return call


def _listener(protocol: str, certificate: bool) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        lb, blue, _ = _listener_setup(env)
        args: dict[str, Any] = {}
        if certificate:
            arn = env.client("acm").request_certificate(
                DomainName="www.mylearning.example")["CertificateArn"]
            args["Certificates"] = [{"CertificateArn": arn}]
        return env.client("elbv2").create_listener(
            LoadBalancerArn=lb, Protocol=protocol, Port=443 if protocol == "HTTPS" else 80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": blue}], **args)
    return call


DOC_LB = API + "API_CreateLoadBalancer.html"
DOC_WEIGHT = API + "API_TargetGroupTuple.html"

CASES = [
    Case("elbv2-alb-one-subnet", "elbv2", _create_lb(lambda n: [n["a"]]), "ValidationError", DOC_LB),
    Case("elbv2-alb-one-subnet-mapping", "elbv2", _create_lb(lambda n: [n["a"]], mappings=True),
         "ValidationError", DOC_LB),
    Case("elbv2-alb-two-subnets-one-zone", "elbv2", _create_lb(lambda n: [n["a"], n["a2"]]),
         "ValidationError", DOC_LB),
    Case("elbv2-alb-valid-two-zones", "elbv2", _create_lb(lambda n: [n["a"], n["b"]]), OK, DOC_LB),
    Case("elbv2-alb-valid-subnet-mappings", "elbv2",
         _create_lb(lambda n: [n["a"], n["b"]], mappings=True), OK, DOC_LB),
    Case("elbv2-nlb-valid-one-subnet", "elbv2", _create_lb(lambda n: [n["a"]], kind="network"), OK,
         DOC_LB),
    Case("elbv2-set-subnets-down-to-one", "elbv2", _set_subnets(lambda n: [n["b"]]),
         "ValidationError", API + "API_SetSubnets.html"),
    Case("elbv2-set-subnets-valid", "elbv2", _set_subnets(lambda n: [n["a2"], n["b"]]), OK,
         API + "API_SetSubnets.html"),
    Case("elbv2-forward-weight-1000", "elbv2", _forward((1000, 0)), "ValidationError", DOC_WEIGHT),
    Case("elbv2-forward-valid-weights-999-0", "elbv2", _forward((999, 0)), OK, DOC_WEIGHT),
    Case("elbv2-forward-valid-weights-90-10", "elbv2", _forward((90, 10)), OK, DOC_WEIGHT),
    Case("elbv2-modify-listener-weight-1000", "elbv2", _modify_weights((1000, 1)), "ValidationError",
         DOC_WEIGHT),
    Case("elbv2-modify-listener-valid-canary", "elbv2", _modify_weights((95, 5)), OK, DOC_WEIGHT),
    Case("elbv2-listener-port-70000", "elbv2", _forward((1, 1), port=70000), "ValidationError",
         API + "API_CreateListener.html"),
    Case("elbv2-https-listener-without-certificate", "elbv2", _listener("HTTPS", False),
         "ValidationError", API + "API_CreateListener.html"),
    Case("elbv2-http-listener-with-certificate", "elbv2", _listener("HTTP", True),
         "ValidationError", API + "API_CreateListener.html"),
    Case("elbv2-https-listener-valid", "elbv2", _listener("HTTPS", True), OK,
         API + "API_CreateListener.html"),
    Case("elbv2-rule-priority-50001", "elbv2", _rule(50001), "ValidationError",
         API + "API_CreateRule.html"),
    Case("elbv2-rule-valid-priority", "elbv2", _rule(10), OK, API + "API_CreateRule.html"),
]
