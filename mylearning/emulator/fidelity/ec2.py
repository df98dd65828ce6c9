"""Amazon EC2 (VPC networking and launch templates): checks AWS makes that moto 5.2 skips.

Lab 02 builds a VPC with public and private subnets in two zones, an internet
gateway and a public route table, two security groups, and a launch template
for the ECS capacity provider. EC2 speaks its own query protocol: ``req.params``
is the flat form, lists numbered without ``member`` (``IpPermissions.1.FromPort``,
``IpPermissions.1.IpRanges.1.Description``, ``EnableDnsSupport.Value``) and the
security group description travels as ``GroupDescription``. Errors carry EC2's
own codes (InvalidParameterValue, InvalidSubnet.Range...; the EC2 API
reference's "Error codes" page), HTTP 400.

What moto already gets right and the table pins: a VPC CIDR outside /16../28,
a subnet CIDR outside its VPC or overlapping another subnet, a duplicate
security group name or ingress rule, and a duplicate launch template name.
"""
from __future__ import annotations

from typing import Any

import ipaddress
import re

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, after, moto_backend, rule

SERVICE = "ec2"
API = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/"

#: Security group names and descriptions: "Up to 255 characters in length ... Valid characters:
#: a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*" (API_CreateSecurityGroup.html); rule
#: descriptions the same (API_IpRange.html).
SG_TEXT = re.compile(r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*")
SG_CHARS = "a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*"
#: LaunchTemplateName: "Minimum length of 3. Maximum length of 128. Pattern: [a-zA-Z0-9\(\)\.\-/_]+"
LAUNCH_TEMPLATE_NAME = re.compile(r"[a-zA-Z0-9().\-/_]{3,128}")
#: Protocols with port ranges (names or IANA numbers).
PORT_PROTOCOLS = {"tcp", "udp", "6", "17"}
VPC_ATTRIBUTES = {"EnableDnsSupport": "enableDnsSupport", "EnableDnsHostnames": "enableDnsHostnames",
                  "EnableNetworkAddressUsageMetrics": "enableNetworkAddressUsageMetrics"}


def invalid_value(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message, 400)


def _backend(region: str) -> Any:
    return moto_backend("ec2", region)


# ---------------------------------------------------------------- subnets

@rule(SERVICE, "CreateSubnet")
def subnet_size_and_zone(req: AwsRequest) -> None:
    """An IPv4 subnet is a /16 to /28, in an Availability Zone of the request's Region.

    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html ("The allowed
    size for an IPv4 subnet is between a /28 netmask (16 IP addresses) and a /16 netmask
    (65,536 IP addresses)"; AvailabilityZone: "The Availability Zone or Local Zone for the
    subnet"). moto refuses prefixes shorter than /16 but creates a /29 or /30, and creates a
    subnet in another Region's zone (us-west-2a from us-east-1). Only a zone named after a
    different Region is refused here; an unknown zone of the right Region is left to moto.
    """
    cidr = req.params.get("CidrBlock")
    if cidr:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            network = None  # moto answers InvalidParameterValue itself
        if network is not None and network.version == 4 and network.prefixlen > 28:
            raise AwsError("InvalidSubnet.Range", f"The CIDR '{cidr}' is invalid.", 400)
    zone = req.params.get("AvailabilityZone")
    if zone and re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+[a-z]", zone) and not zone.startswith(req.region):
        zones = ", ".join(z.name for z in _backend(req.region).describe_availability_zones())
        raise invalid_value(f"Value ({zone}) for parameter availabilityZone is invalid. Subnets can "
                            f"currently only be created in the following availability zones: {zones}.")


# ---------------------------------------------------------------- security groups

@rule(SERVICE, "CreateSecurityGroup")
def security_group_name_and_description(req: AwsRequest) -> None:
    """A group name and description are up to 255 of a-zA-Z0-9, spaces and ._-:/()#,@[]+=&;{}!$*;
    a name can't start with ``sg-``.

    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
    (GroupName: "Constraints: Up to 255 characters in length. Can't start with sg-. Valid
    characters: a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*"; Description: the same
    length and characters). Messages as AWS words them.
    """
    name, description = req.params.get("GroupName"), req.params.get("GroupDescription")
    if isinstance(name, str):
        if name.lower().startswith("sg-"):
            raise invalid_value(f"Value ({name}) for parameter GroupName is invalid. "
                                "Group names may not be in the format sg-*.")
        _sg_text(name, "GroupName", "security group name")
    if isinstance(description, str):
        _sg_text(description, "GroupDescription", "security group description")


def _sg_text(text: str, parameter: str, what: str) -> None:
    if not text.isascii():
        raise invalid_value(f"Value ({text}) for parameter {parameter} is invalid. "
                            "Character sets beyond ASCII are not supported.")
    if len(text) > 255 or not SG_TEXT.fullmatch(text):
        kind = "names" if "name" in what else "descriptions"
        raise invalid_value(f"Invalid {what}. Valid {kind} are strings less than 256 characters "
                            f"from the following set:  {SG_CHARS}")


def _permissions(req: AwsRequest) -> list[dict]:
    """The request's IpPermissions as the model nests them, plus the older flat top-level form."""
    from mylearning.emulator.fidelity.validation import structured

    p = structured(req)
    found = [x for x in p.get("IpPermissions") or [] if isinstance(x, dict)]
    if "IpProtocol" in p:  # AuthorizeSecurityGroupIngress's older flat parameters
        found.append({k: p[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in p})
    return found


def _port(value: int | str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@rule(SERVICE, "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress")
def tcp_udp_port_range(req: AwsRequest) -> None:
    """A TCP or UDP rule names both ports, each 0-65535, FromPort no greater than ToPort.

    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html (IpProtocol:
    "For tcp, udp, and icmp, you must specify a port range"; FromPort/ToPort: "If the protocol
    is TCP or UDP, this is the start/end of the port range") and
    API_AuthorizeSecurityGroupIngress.html ("If the protocol is TCP or UDP, you must also
    specify a port or port range"). moto stores 90-80 or 80-70000, and answers a TCP rule
    without ports with HTTP 500.
    """
    for permission in _permissions(req):
        if str(permission.get("IpProtocol", "")).lower() not in PORT_PROTOCOLS:
            continue
        low, high = _port(permission.get("FromPort")), _port(permission.get("ToPort"))
        if low is None or high is None:
            raise invalid_value("Invalid value 'Must specify both from and to ports with TCP/UDP.' "
                                "for portRange.")
        for port in (low, high):
            if not 0 <= port <= 65535:
                raise AwsError("InvalidPermission.Malformed", f"TCP/UDP port ({port}) out of range", 400)
        if low > high:
            raise invalid_value(f"Invalid TCP/UDP port range {low}-{high}: the from port must not be "
                                "greater than the to port.")


@rule(SERVICE, "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress")
def rule_descriptions_well_formed(req: AwsRequest) -> None:
    """A rule description is up to 255 of a-zA-Z0-9, spaces and ._-:/()#,@[]+=&;{}!$*.

    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html (Description:
    "Constraints: Up to 255 characters in length. Allowed characters are a-z, A-Z, 0-9,
    spaces, and ._-:/()#,@[]+=&;{}!$*"; the same on API_Ipv6Range.html,
    API_PrefixListId.html and API_UserIdGroupPair.html).
    """
    descriptions = [entry.get("Description") for permission in _permissions(req)
                    for kind in ("IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs")
                    for entry in permission.get(kind) or [] if isinstance(entry, dict)]
    for value in descriptions:
        if value is not None and (len(value) > 255 or not SG_TEXT.fullmatch(value)):
            raise invalid_value("Invalid rule description. Valid descriptions are strings less "
                                f"than 256 characters from the following set:  {SG_CHARS}")


# ---------------------------------------------------------------- VPC attributes, routes

@rule(SERVICE, "ModifyVpcAttribute")
def one_vpc_attribute_per_request(req: AwsRequest) -> None:
    """ModifyVpcAttribute changes one attribute per request.

    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyVpcAttribute.html
    (EnableDnsHostnames/EnableDnsSupport: "You cannot modify the DNS resolution and DNS
    hostnames attributes in the same request. Use separate requests for each attribute").
    AWS answers InvalidParameterCombination, "Fields for multiple attribute types specified".
    """
    given = [wire for name, wire in VPC_ATTRIBUTES.items()
             if any(k == name or k.startswith(name + ".") for k in req.params)]
    if len(given) > 1:
        raise AwsError("InvalidParameterCombination",
                       f"Fields for multiple attribute types specified: {', '.join(given)}", 400)


@rule(SERVICE, "AssociateRouteTable")
def route_table_and_subnet_in_one_vpc(req: AwsRequest) -> None:
    """A route table is associated only with a subnet of its own VPC.

    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateRouteTable.html
    ("Associates a subnet in your VPC ... with a route table in your VPC"). moto associates a
    subnet of another VPC.
    """
    table_id, subnet_id = req.params.get("RouteTableId"), req.params.get("SubnetId")
    if not table_id or not subnet_id:
        return
    ec2 = _backend(req.region)
    try:
        table, subnet = ec2.get_route_table(table_id), ec2.get_subnet(subnet_id)
    except Exception:
        return  # moto answers the unknown id itself
    if table.vpc_id != subnet.vpc_id:
        raise invalid_value(f"Route table {table_id} and subnet {subnet_id} belong to different networks.")


@rule(SERVICE, "CreateRoute", "ReplaceRoute")
def internet_gateway_attached_to_the_vpc(req: AwsRequest) -> None:
    """A route's internet gateway must be attached to the route table's VPC.

    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateRoute.html (GatewayId:
    "The ID of an internet gateway or virtual private gateway attached to your VPC"). moto
    adds a route to a detached gateway, or to one attached to another VPC.
    """
    table_id, gateway_id = req.params.get("RouteTableId"), req.params.get("GatewayId")
    if not table_id or not gateway_id or not gateway_id.startswith("igw-"):
        return
    ec2 = _backend(req.region)
    try:
        table, gateway = ec2.get_route_table(table_id), ec2.get_internet_gateway(gateway_id)
    except Exception:
        return
    attached = getattr(getattr(gateway, "vpc", None), "id", None)
    if attached != table.vpc_id:
        raise invalid_value(f"route table {table_id} and network gateway {gateway_id} belong to "
                            "different networks")


# ---------------------------------------------------------------- launch templates

@rule(SERVICE, "CreateLaunchTemplate")
def launch_template_name_well_formed(req: AwsRequest) -> None:
    """A launch template name is 3-128 of a-zA-Z0-9 ( ) . - / _.

    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html
    (LaunchTemplateName: "Length Constraints: Minimum length of 3. Maximum length of 128.
    Pattern: [a-zA-Z0-9\\(\\)\\.\\-/_]+"). botocore's EC2 model carries no constraints, so
    nothing checks this before the call.
    """
    name = req.params.get("LaunchTemplateName")
    if isinstance(name, str) and not LAUNCH_TEMPLATE_NAME.fullmatch(name):
        raise AwsError("InvalidLaunchTemplateName.MalformedException",
                       "A launch template name must be between 3 and 128 characters, and may contain "
                       "letters, numbers, and the following characters: - ( ) . / _.'", 400)


@after(SERVICE, "CreateVpc", "CreateDefaultVpc")
def default_group_admits_its_members(req: AwsRequest, status: int, body: bytes) -> None:
    """A VPC's default security group allows all inbound traffic from members of the same
    group (and all outbound traffic), https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html;
    moto creates it with the outbound rule only. Added once per group: a learner may remove it."""
    backend = _backend(req.region)
    for vpc_id in list(backend.vpcs):
        group = backend.get_security_group_from_name("default", vpc_id=vpc_id)
        if group is None or getattr(group, "_ml_members_rule", False):
            continue
        group._ml_members_rule = True
        if not group.ingress_rules:
            backend.authorize_security_group_ingress(group.id, "-1", None, None, [],
                                                     source_groups=[{"GroupId": group.id}], vpc_id=vpc_id)
