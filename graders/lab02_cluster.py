"""Lab 02 - Network and cluster: checks for each step, with hints for the usual mistakes.

Rules checked here mirror AWS guidance:
- Two or more Availability Zones for high availability:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/networking-outbound.html
  https://docs.aws.amazon.com/whitepapers/latest/real-time-communication-on-aws/high-availability-and-scalability-on-aws.html
- Container Insights cluster setting:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-container-insights.html
- Fargate capacity providers and strategies (base, weight):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
- Managed termination protection needs scale-in protection on the Auto Scaling group:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-termination-protection.html
"""
from __future__ import annotations

from mylearning.course.lab02_cluster import ABOUT
from mylearning.steps import Context, Lab, Outcome, fail, ok
from mylearning import lookup
from mylearning.microservices import APP_PORT

LAB = Lab.declared(ABOUT)



def _vpc(ctx: Context) -> dict | None:
    return ctx.remember("vpc", lambda: lookup.vpc(ctx.session, ctx.name("vpc")))


NO_VPC = ("Run step 2.1 first: create the VPC named with your prefix (session.name('vpc')) "
          "and the course tags.")


@LAB.step("2.1", "A VPC with DNS support and hostnames", points=1)
def vpc(ctx: Context) -> Outcome:
    found = _vpc(ctx)
    if found is None:
        return fail(f"No VPC named {ctx.name('vpc')} with the course tags.", NO_VPC)
    ec2 = ctx.client("ec2")
    vpc_id = found["VpcId"]
    hostnames = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    support = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")
    if not support["EnableDnsSupport"]["Value"]:
        return fail(f"{vpc_id} has DNS resolution turned off.",
                    "Turn it on with modify_vpc_attribute(EnableDnsSupport={'Value': True}).")
    if not hostnames["EnableDnsHostnames"]["Value"]:
        return fail(f"{vpc_id} has DNS hostnames turned off; tasks and Cloud Map names need them.",
                    "Call modify_vpc_attribute(VpcId=..., EnableDnsHostnames={'Value': True}).")
    prefix_len = int(found["CidrBlock"].split("/")[1])
    if prefix_len > 20:
        return fail(f"{found['CidrBlock']} leaves too little room for four subnets and growth.",
                    "Use a /16 such as 10.0.0.0/16.")
    return ok(f"{vpc_id} ({found['CidrBlock']}) with DNS support and hostnames.")


def _tier_check(ctx: Context, tier: str, subnets: list[dict]) -> str | None:
    """A problem with one tier's subnets, or None when they are fine."""
    if len(subnets) < 2:
        return f"{len(subnets)} {tier} subnet(s) found; two are needed, one per Availability Zone."
    zones = {s["AvailabilityZone"] for s in subnets}
    if len(zones) < 2:
        return (f"All {tier} subnets are in {zones.pop()}: one zone failing would take the "
                "whole service down.")
    return None


@LAB.step("2.2", "Public and private subnets in two Availability Zones", points=2)
def subnets(ctx: Context) -> Outcome:
    found = _vpc(ctx)
    if found is None:
        return fail("No course VPC yet, so no subnets.", NO_VPC)
    private = lookup.subnets(ctx.session, found["VpcId"], "private")
    public = lookup.subnets(ctx.session, found["VpcId"], "public")
    for tier, group in (("private", private), ("public", public)):
        problem = _tier_check(ctx, tier, group)
        if problem:
            return fail(problem, f"Create {tier} subnets in two different AvailabilityZone values "
                                 f"and tag them tier={tier}.")
    leaky = [s["SubnetId"] for s in private if s.get("MapPublicIpOnLaunch")]
    if leaky:
        return fail(f"Private subnet(s) {', '.join(leaky)} give public IPs to whatever starts there.",
                    "Leave MapPublicIpOnLaunch off for private subnets; tasks there sit behind the load balancer.")
    zones = sorted({s["AvailabilityZone"] for s in private})
    return ok(f"{len(private)} private and {len(public)} public subnets across {', '.join(zones)}.")


@LAB.step("2.3", "Internet gateway and a public route table", points=1)
def internet(ctx: Context) -> Outcome:
    found = _vpc(ctx)
    if found is None:
        return fail("No course VPC yet.", NO_VPC)
    igw = lookup.internet_gateway(ctx.session, found["VpcId"])
    if igw is None:
        return fail("No internet gateway is attached to the VPC.",
                    "create_internet_gateway, then attach_internet_gateway to your VPC.")
    public_ids = {s["SubnetId"] for s in lookup.subnets(ctx.session, found["VpcId"], "public")}
    routed: set[str] = set()
    for table in lookup.route_tables(ctx.session, found["VpcId"]):
        default_to_igw = any(r.get("DestinationCidrBlock") == "0.0.0.0/0"
                             and r.get("GatewayId") == igw["InternetGatewayId"]
                             for r in table.get("Routes", []))
        if default_to_igw:
            routed |= {a.get("SubnetId") for a in table.get("Associations", [])}
    missing = sorted(public_ids - routed)
    if not public_ids:
        return fail("There are no public subnets to route.", "Do step 2.2 first.")
    if missing:
        return fail(f"Public subnet(s) {', '.join(missing)} have no route 0.0.0.0/0 to the internet gateway.",
                    "Create a route table with 0.0.0.0/0 -> the gateway and associate it with each public subnet.")
    return ok(f"{igw['InternetGatewayId']} routes the public subnets to the internet.")


@LAB.step("2.4", "Security groups: load balancer open, tasks only from the load balancer", points=2)
def security_groups(ctx: Context) -> Outcome:
    found = _vpc(ctx)
    if found is None:
        return fail("No course VPC yet.", NO_VPC)
    alb = lookup.security_group(ctx.session, found["VpcId"], ctx.name("alb-sg"))
    tasks = lookup.security_group(ctx.session, found["VpcId"], ctx.name("tasks-sg"))
    if alb is None or tasks is None:
        missing = [n for n, g in ((ctx.name("alb-sg"), alb), (ctx.name("tasks-sg"), tasks)) if g is None]
        return fail(f"Missing security group(s): {', '.join(missing)}.",
                    "Create both groups in your VPC with the course tags.")
    http_open = any(p.get("IpProtocol") == "tcp" and p.get("FromPort", 0) <= 80 <= p.get("ToPort", -1)
                    and any(r.get("CidrIp") == "0.0.0.0/0" for r in p.get("IpRanges", []))
                    for p in alb.get("IpPermissions", []))
    if not http_open:
        return fail("The load balancer's group does not allow HTTP (port 80) from the internet.",
                    "authorize_security_group_ingress on the ALB group: tcp 80 from 0.0.0.0/0.")
    world = [p for p in tasks.get("IpPermissions", [])
             if any(r.get("CidrIp") == "0.0.0.0/0" for r in p.get("IpRanges", []))
             or any(r.get("CidrIpv6") == "::/0" for r in p.get("Ipv6Ranges", []))]
    if world:
        return fail("The tasks' group accepts traffic from the whole internet.",
                    "Remove the 0.0.0.0/0 rule; allow the app port only from the ALB's security group.")
    from_alb = any(p.get("IpProtocol") == "tcp" and p.get("FromPort", 0) <= APP_PORT <= p.get("ToPort", -1)
                   and any(pair.get("GroupId") == alb["GroupId"] for pair in p.get("UserIdGroupPairs", []))
                   for p in tasks.get("IpPermissions", []))
    if not from_alb:
        return fail(f"The tasks' group does not allow port {APP_PORT} from the load balancer's group.",
                    f"Add an ingress rule: tcp {APP_PORT}, source = the ALB security group id "
                    "(UserIdGroupPairs), not a CIDR.")
    return ok(f"{alb['GroupId']} takes HTTP from the internet; {tasks['GroupId']} takes "
              f"port {APP_PORT} only from it.")


def _cluster(ctx: Context) -> dict | None:
    return ctx.remember("cluster", lambda: lookup.cluster(ctx.session, ctx.name("cluster")))


NO_CLUSTER = "Run step 2.5: create_cluster(clusterName=session.name('cluster'), ...)."


@LAB.step("2.5", "An ECS cluster with Container Insights and course tags", points=1)
def cluster(ctx: Context) -> Outcome:
    found = _cluster(ctx)
    if found is None:
        return fail(f"No active cluster named {ctx.name('cluster')}.", NO_CLUSTER)
    settings = {s["name"]: s["value"] for s in found.get("settings", [])}
    if settings.get("containerInsights") not in ("enabled", "enhanced"):
        return fail("Container Insights is off, so there are no per-service CPU, memory or "
                    "task-count metrics to scale on or to troubleshoot with.",
                    "Pass settings=[{'name': 'containerInsights', 'value': 'enabled'}] "
                    "(or update_cluster(cluster=..., settings=...) on the existing cluster).")
    if not lookup.is_course_tagged(found, ctx.session):
        return fail("The cluster is missing the course tags (course, lab, learner).",
                    "Pass tags=session.tags('02', style='key') (ECS tags use lower-case key/value).")
    return ok(f"{found['clusterName']} is active with Container Insights "
              f"{settings['containerInsights']}.")


@LAB.step("2.6", "Fargate and Fargate Spot with a default strategy", points=2)
def strategy(ctx: Context) -> Outcome:
    found = _cluster(ctx)
    if found is None:
        return fail("No cluster yet.", NO_CLUSTER)
    providers = set(found.get("capacityProviders", []))
    missing = {"FARGATE", "FARGATE_SPOT"} - providers
    if missing:
        return fail(f"The cluster lacks capacity provider(s) {', '.join(sorted(missing))}.",
                    "put_cluster_capacity_providers with FARGATE and FARGATE_SPOT (keep any others).")
    items = {i["capacityProvider"]: i for i in found.get("defaultCapacityProviderStrategy", [])}
    if not items:
        return fail("The cluster has no default capacity provider strategy.",
                    "Set defaultCapacityProviderStrategy in put_cluster_capacity_providers.")
    on_demand, spot = items.get("FARGATE"), items.get("FARGATE_SPOT")
    if on_demand is None or on_demand.get("base", 0) < 1:
        return fail("No base of on-demand FARGATE tasks: if Spot capacity is reclaimed, "
                    "every task could stop at once.",
                    "Give FARGATE a base of at least 1 (those tasks always run on-demand).")
    if spot is None or spot.get("weight", 0) <= on_demand.get("weight", 0):
        return fail("The strategy is not weighted toward FARGATE_SPOT, so it misses the Spot saving.",
                    "Give FARGATE_SPOT a larger weight than FARGATE, e.g. FARGATE weight 1, "
                    "FARGATE_SPOT weight 3.")
    return ok(f"FARGATE base {on_demand.get('base', 0)} weight {on_demand.get('weight', 0)}, "
              f"FARGATE_SPOT weight {spot.get('weight', 0)}.")


@LAB.step("2.7", "An EC2 Auto Scaling group capacity provider", points=2)
def asg_provider(ctx: Context) -> Outcome:
    found = _cluster(ctx)
    if found is None:
        return fail("No cluster yet.", NO_CLUSTER)
    name = ctx.name("ec2-cp")
    provider = lookup.capacity_provider(ctx.session, name)
    if provider is None:
        return fail(f"No capacity provider named {name}.",
                    "create_capacity_provider with autoScalingGroupProvider pointing at your "
                    "Auto Scaling group's ARN.")
    settings = provider.get("autoScalingGroupProvider", {})
    if settings.get("managedScaling", {}).get("status") != "ENABLED":
        return fail("Managed scaling is off: ECS will not grow or shrink the group for you.",
                    "managedScaling={'status': 'ENABLED', 'targetCapacity': 90} or similar.")
    if settings.get("managedTerminationProtection") != "ENABLED":
        return fail("Managed termination protection is off: scale-in could stop instances "
                    "that still run tasks.",
                    "managedTerminationProtection='ENABLED' (it needs scale-in protection on the group).")
    group_name = settings.get("autoScalingGroupArn", "").rpartition("autoScalingGroupName/")[2]
    group = lookup.auto_scaling_group(ctx.session, group_name) if group_name else None
    if group is None:
        return fail("The capacity provider points at an Auto Scaling group that does not exist.",
                    "Create the group first and pass its AutoScalingGroupARN.")
    if not group.get("NewInstancesProtectedFromScaleIn"):
        return fail(f"Group {group_name} does not protect new instances from scale-in, which "
                    "managed termination protection requires.",
                    "Create (or update) the group with NewInstancesProtectedFromScaleIn=True.")
    zones = set(group.get("AvailabilityZones", []))
    if len(zones) < 2:
        return fail(f"Group {group_name} spans {len(zones)} Availability Zone(s).",
                    "Give VPCZoneIdentifier both private subnets, comma-separated.")
    if name not in found.get("capacityProviders", []):
        return fail(f"{name} exists but is not attached to the cluster.",
                    "Add it to the cluster's list in put_cluster_capacity_providers "
                    "(the list replaces the old one, so keep FARGATE and FARGATE_SPOT).")
    return ok(f"{name} manages {group_name} across {len(zones)} zones, with managed scaling "
              "and termination protection.")
