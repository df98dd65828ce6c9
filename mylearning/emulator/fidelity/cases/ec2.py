"""EC2 fidelity cases: lab 02's network (VPC, subnets, gateway, route table, security groups)
and its launch template."""
from __future__ import annotations

import itertools
from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, Case, Env

API = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/"
INVALID = "InvalidParameterValue"
_OCTETS = itertools.count(1)


def _vpc(env: Env) -> tuple[str, str]:
    """A fresh VPC (its id and /16 prefix, e.g. '10.17'); CIDRs may repeat across VPCs."""
    prefix = f"10.{next(_OCTETS) % 250 + 1}"
    vpc = env.client("ec2").create_vpc(CidrBlock=f"{prefix}.0.0/16")["Vpc"]["VpcId"]
    return vpc, prefix


def _vpc_cidr(cidr: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("ec2").create_vpc(CidrBlock=cidr)
    return call


def _subnet(cidr: Callable[[str], str], zone: str | None = "a", first: str | None = None) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ec2 = env.client("ec2")
        vpc, prefix = _vpc(env)
        if first:
            ec2.create_subnet(VpcId=vpc, CidrBlock=first.format(p=prefix))
        args: dict[str, Any] = {"VpcId": vpc, "CidrBlock": cidr(prefix)}
        if zone:
            args["AvailabilityZone"] = zone if "-" in zone else f"{env.region}{zone}"
        return ec2.create_subnet(**args)
    return call


def _security_group(name: Callable[[Env], str] = lambda env: env.name("mylearning-alb-sg"),
                    description: str = "MyLearning load balancer: HTTP from the internet") -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        vpc, _ = _vpc(env)
        return env.client("ec2").create_security_group(GroupName=name(env), Description=description, VpcId=vpc)
    return call


def _duplicate_group(env: Env) -> Any:
    ec2, (vpc, _) = env.client("ec2"), _vpc(env)
    name = env.name("web")
    ec2.create_security_group(GroupName=name, Description="first", VpcId=vpc)
    return ec2.create_security_group(GroupName=name, Description="second", VpcId=vpc)


def _ingress(*permissions: dict[str, Any], twice: bool = False) -> Callable[[Env], Any]:
    """Authorize `permissions` on a new group; "SELF" as a GroupId names a second group."""
    def call(env: Env) -> Any:
        ec2, (vpc, _) = env.client("ec2"), _vpc(env)
        group = ec2.create_security_group(GroupName=env.name("tasks-sg"), Description="tasks",
                                          VpcId=vpc)["GroupId"]
        other = ec2.create_security_group(GroupName=env.name("alb-sg"), Description="alb",
                                          VpcId=vpc)["GroupId"]
        resolved = [{**p, "UserIdGroupPairs": [{**pair, "GroupId": other} for pair in p["UserIdGroupPairs"]]}
                    if "UserIdGroupPairs" in p else p for p in permissions]
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=resolved)
        if twice:
            ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=resolved)
    return call


def _http(**overrides: Any) -> dict[str, Any]:
    permission = {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                  "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTP from anywhere"}]}
    permission.update(overrides)
    return {k: v for k, v in permission.items() if v is not None}


def _vpc_attributes(**attributes: bool) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        vpc, _ = _vpc(env)
        return env.client("ec2").modify_vpc_attribute(
            VpcId=vpc, **{name: {"Value": value} for name, value in attributes.items()})
    return call


def _associate(same_vpc: bool) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ec2 = env.client("ec2")
        (vpc, prefix), (other, other_prefix) = _vpc(env), _vpc(env)
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        subnet_vpc, subnet_prefix = (vpc, prefix) if same_vpc else (other, other_prefix)
        subnet = ec2.create_subnet(VpcId=subnet_vpc, CidrBlock=f"{subnet_prefix}.0.0/24")["Subnet"]["SubnetId"]
        return ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    return call


def _route(attach: str | None) -> Callable[[Env], Any]:
    """A default route to an internet gateway attached to this VPC, another VPC, or none."""
    def call(env: Env) -> Any:
        ec2 = env.client("ec2")
        vpc, _ = _vpc(env)
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        if attach == "same":
            ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        elif attach == "other":
            ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=_vpc(env)[0])
        return ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    return call


def _launch_template(name: Callable[[Env], str], twice: bool = False) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ec2, template = env.client("ec2"), name(env)
        data = {"ImageId": "ami-12c6146b", "InstanceType": "t3.medium",
                "UserData": "IyEvYmluL2Jhc2gKZWNobyBFQ1NfQ0xVU1RFUj1teWxlYXJuaW5nCg=="}
        ec2.create_launch_template(LaunchTemplateName=template, LaunchTemplateData=data)
        if twice:
            ec2.create_launch_template(LaunchTemplateName=template, LaunchTemplateData=data)
    return call


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str) -> Case:
    return Case(f"ec2.{id}", "ec2", call, expect, API + page)


SUBNET, SG = "API_CreateSubnet.html", "API_CreateSecurityGroup.html"
INGRESS, PERMISSION = "API_AuthorizeSecurityGroupIngress.html", "API_IpPermission.html"
LT = "API_CreateLaunchTemplate.html"

CASES = [
    _case("vpc.slash-15", _vpc_cidr("10.200.0.0/15"), "InvalidVpc.Range", "API_CreateVpc.html"),
    _case("vpc.valid-slash-16", _vpc_cidr("10.0.0.0/16"), OK, "API_CreateVpc.html"),
    _case("subnet.slash-29", _subnet(lambda p: f"{p}.200.0/29"), "InvalidSubnet.Range", SUBNET),
    _case("subnet.slash-30", _subnet(lambda p: f"{p}.200.0/30"), "InvalidSubnet.Range", SUBNET),
    _case("subnet.valid-slash-28", _subnet(lambda p: f"{p}.200.0/28"), OK, SUBNET),
    _case("subnet.valid-slash-24-lab-plan", _subnet(lambda p: f"{p}.10.0/24", zone="b"), OK, SUBNET),
    _case("subnet.valid-whole-vpc", _subnet(lambda p: f"{p}.0.0/16"), OK, SUBNET),
    _case("subnet.outside-the-vpc", _subnet(lambda p: "192.168.1.0/24"), "InvalidSubnet.Range", SUBNET),
    _case("subnet.overlapping", _subnet(lambda p: f"{p}.1.0/25", first="{p}.1.0/24"), "InvalidSubnet.Conflict",
          SUBNET),
    _case("subnet.zone-of-another-region", _subnet(lambda p: f"{p}.3.0/24", zone="us-west-2a"), INVALID, SUBNET),
    _case("subnet.valid-no-zone", _subnet(lambda p: f"{p}.4.0/24", zone=None), OK, SUBNET),
    _case("security-group.valid-lab-groups", _security_group(), OK, SG),
    _case("security-group.name-starts-with-sg", _security_group(lambda env: env.name("sg-web")), INVALID, SG),
    _case("security-group.name-256-characters", _security_group(lambda env: env.name("g") + "a" * 246), INVALID, SG),
    _case("security-group.description-not-ascii", _security_group(description="Load balancer → tasks"),
          INVALID, SG),
    _case("security-group.description-with-apostrophe", _security_group(description="The ALB's group"),
          INVALID, SG),
    _case("security-group.description-256-characters", _security_group(description="d" * 256), INVALID, SG),
    _case("security-group.valid-description-symbols",
          _security_group(description="tasks: app port (8080) from [alb] #1, @team & {ops}!"), OK, SG),
    _case("security-group.duplicate-name", _duplicate_group, "InvalidGroup.Duplicate", SG),
    _case("ingress.valid-http-from-anywhere", _ingress(_http()), OK, INGRESS),
    _case("ingress.valid-app-port-from-group", _ingress({
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
        "UserIdGroupPairs": [{"Description": "from the load balancer"}]}), OK, INGRESS),
    _case("ingress.valid-all-traffic", _ingress({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}),
          OK, INGRESS),
    _case("ingress.valid-icmp-all-types", _ingress(_http(IpProtocol="icmp", FromPort=-1, ToPort=-1)), OK, INGRESS),
    _case("ingress.tcp-without-ports", _ingress(_http(FromPort=None, ToPort=None)), INVALID, PERMISSION),
    _case("ingress.tcp-without-from-port", _ingress(_http(FromPort=None)), INVALID, PERMISSION),
    _case("ingress.from-port-above-to-port", _ingress(_http(FromPort=90, ToPort=80)), INVALID, PERMISSION),
    _case("ingress.port-70000", _ingress(_http(ToPort=70000)), "InvalidPermission.Malformed", PERMISSION),
    _case("ingress.tcp-port-minus-one", _ingress(_http(FromPort=-1, ToPort=-1)), "InvalidPermission.Malformed",
          PERMISSION),
    _case("ingress.rule-description-not-ascii", _ingress(_http(
        IpRanges=[{"CidrIp": "0.0.0.0/0", "Description": "HTTP für alle"}])), INVALID, "API_IpRange.html"),
    _case("ingress.duplicate-rule", _ingress(_http(), twice=True), "InvalidPermission.Duplicate", INGRESS),
    _case("vpc-attribute.dns-support-and-hostnames-together",
          _vpc_attributes(EnableDnsSupport=True, EnableDnsHostnames=True), "InvalidParameterCombination",
          "API_ModifyVpcAttribute.html"),
    _case("vpc-attribute.valid-dns-hostnames-alone", _vpc_attributes(EnableDnsHostnames=True), OK,
          "API_ModifyVpcAttribute.html"),
    _case("vpc-attribute.valid-dns-support-alone", _vpc_attributes(EnableDnsSupport=True), OK,
          "API_ModifyVpcAttribute.html"),
    _case("route-table.associate-subnet-of-another-vpc", _associate(same_vpc=False), INVALID,
          "API_AssociateRouteTable.html"),
    _case("route-table.valid-associate-own-subnet", _associate(same_vpc=True), OK, "API_AssociateRouteTable.html"),
    _case("route.gateway-not-attached", _route(None), INVALID, "API_CreateRoute.html"),
    _case("route.gateway-of-another-vpc", _route("other"), INVALID, "API_CreateRoute.html"),
    _case("route.valid-gateway-attached", _route("same"), OK, "API_CreateRoute.html"),
    _case("launch-template.valid-lab-template", _launch_template(lambda env: env.name("mylearning-ecs-lt")), OK, LT),
    _case("launch-template.valid-symbols", _launch_template(lambda env: f"ml/{env.name('ecs')}_(v1).x"), OK, LT),
    _case("launch-template.name-with-space", _launch_template(lambda env: env.name("ecs lt")),
          "InvalidLaunchTemplateName.MalformedException", LT),
    _case("launch-template.name-with-colon", _launch_template(lambda env: env.name("ecs:lt")),
          "InvalidLaunchTemplateName.MalformedException", LT),
    _case("launch-template.name-2-characters", _launch_template(lambda env: "lt"),
          "InvalidLaunchTemplateName.MalformedException", LT),
    _case("launch-template.name-129-characters", _launch_template(lambda env: env.name("lt") + "a" * 118),
          "InvalidLaunchTemplateName.MalformedException", LT),
    _case("launch-template.duplicate-name", _launch_template(lambda env: env.name("ecs-lt"), twice=True),
          "InvalidLaunchTemplateName.AlreadyExistsException", LT),
]
