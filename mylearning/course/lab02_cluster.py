"""Lab 02, network and cluster: its declaration, its end state and its teardown.

`build` reproduces the solution notebook's end state (tests hold it to the lab's
grader), finding before creating, so it is safe on an account where the learner
already did the lab. `teardown` removes exactly what the lab created, in an order
AWS accepts.
"""
from __future__ import annotations

import base64
from typing import Any

from mylearning import lookup, microservices
from mylearning.course import LabInfo
from mylearning.facts.ecs import ECS_OPTIMIZED_AMI_PARAMETER
from mylearning.removals import Action, Plan

ABOUT = LabInfo(
    "02", "Network and cluster",
    services=("autoscaling", "ec2", "ecs", "ssm"),
    concepts=("lookup", "capacity", "teardown"))

VPC_CIDR = "10.0.0.0/16"
SUBNET_PLAN = (("public", 0, "10.0.0.0/24"), ("public", 1, "10.0.1.0/24"),
               ("private", 0, "10.0.10.0/24"), ("private", 1, "10.0.11.0/24"))
DEFAULT_STRATEGY = [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                    {"capacityProvider": "FARGATE_SPOT", "weight": 3}]


def _ensure_vpc(session: Any, lab: str) -> dict:
    ec2 = session.client("ec2")
    vpc = lookup.vpc(session, session.name("vpc"))
    if vpc is None:
        vpc = ec2.create_vpc(CidrBlock=VPC_CIDR,
                             TagSpecifications=session.tag_spec("vpc", lab, session.name("vpc")))["Vpc"]
    ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsHostnames={"Value": True})
    return vpc


def _ensure_subnets(session: Any, vpc: dict, lab: str) -> None:
    ec2 = session.client("ec2")
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones(
        Filters=[{"Name": "state", "Values": ["available"]}])["AvailabilityZones"]][:2]
    existing = {s["CidrBlock"] for s in lookup.subnets(session, vpc["VpcId"])}
    for tier, zone_index, cidr in SUBNET_PLAN:
        if cidr not in existing:
            zone = zones[zone_index]
            ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr, AvailabilityZone=zone,
                              TagSpecifications=session.tag_spec(
                                  "subnet", lab, session.name(tier, zone[-1]), tier=tier))


def _ensure_internet(session: Any, vpc: dict, lab: str) -> None:
    ec2 = session.client("ec2")
    igw = lookup.internet_gateway(session, vpc["VpcId"])
    if igw is None:
        igw = ec2.create_internet_gateway(TagSpecifications=session.tag_spec(
            "internet-gateway", lab, session.name("igw")))["InternetGateway"]
        ec2.attach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc["VpcId"])
    tables = [t for t in lookup.route_tables(session, vpc["VpcId"])
              if lookup.tag_value(t, "Name") == session.name("public-rt")]
    table = tables[0] if tables else ec2.create_route_table(
        VpcId=vpc["VpcId"],
        TagSpecifications=session.tag_spec("route-table", lab, session.name("public-rt")))["RouteTable"]
    if not any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in table.get("Routes", [])):
        ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0",
                         GatewayId=igw["InternetGatewayId"])
    associated = {a.get("SubnetId") for a in table.get("Associations", [])}
    for subnet in lookup.subnets(session, vpc["VpcId"], "public"):
        if subnet["SubnetId"] not in associated:
            ec2.associate_route_table(RouteTableId=table["RouteTableId"], SubnetId=subnet["SubnetId"])


def _ensure_group(session: Any, vpc: dict, name: str, description: str, lab: str) -> dict:
    ec2 = session.client("ec2")
    group = lookup.security_group(session, vpc["VpcId"], name)
    if group is None:
        ec2.create_security_group(GroupName=name, Description=description, VpcId=vpc["VpcId"],
                                  TagSpecifications=session.tag_spec("security-group", lab, name))
        group = lookup.security_group(session, vpc["VpcId"], name)
    return group


def _ensure_security_groups(session: Any, vpc: dict, lab: str) -> None:
    ec2 = session.client("ec2")
    alb = _ensure_group(session, vpc, session.name("alb-sg"),
                        "MyLearning load balancer: HTTP from the internet", lab)
    tasks = _ensure_group(session, vpc, session.name("tasks-sg"),
                          "MyLearning tasks: app port from the load balancer", lab)
    if not alb["IpPermissions"]:
        ec2.authorize_security_group_ingress(GroupId=alb["GroupId"], IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
            "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTP from anywhere"}]}])
    if not tasks["IpPermissions"]:
        ec2.authorize_security_group_ingress(GroupId=tasks["GroupId"], IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": microservices.APP_PORT, "ToPort": microservices.APP_PORT,
            "UserIdGroupPairs": [{"GroupId": alb["GroupId"], "Description": "from the load balancer"}]}])


def _ensure_cluster(session: Any, lab: str) -> None:
    ecs = session.client("ecs")
    insights = [{"name": "containerInsights", "value": "enabled"}]
    cluster = lookup.cluster(session, session.name("cluster"))
    if cluster is None:
        ecs.create_cluster(clusterName=session.name("cluster"), settings=insights,
                           tags=session.tags(lab, style="key"))
        cluster = lookup.cluster(session, session.name("cluster"))
    providers = set(cluster.get("capacityProviders", []))
    if not {"FARGATE", "FARGATE_SPOT"} <= providers or not cluster.get("defaultCapacityProviderStrategy"):
        ecs.put_cluster_capacity_providers(
            cluster=session.name("cluster"),
            capacityProviders=sorted(providers | {"FARGATE", "FARGATE_SPOT"}),
            defaultCapacityProviderStrategy=DEFAULT_STRATEGY)


def _ensure_ec2_provider(session: Any, vpc: dict, lab: str) -> None:
    ec2, ecs = session.client("ec2"), session.client("ecs")
    autoscaling = session.client("autoscaling")
    private = [s["SubnetId"] for s in lookup.subnets(session, vpc["VpcId"], "private")]
    if not ec2.describe_launch_templates(Filters=[{
            "Name": "launch-template-name", "Values": [session.name("ecs-lt")]}])["LaunchTemplates"]:
        ami = session.client("ssm").get_parameter(Name=ECS_OPTIMIZED_AMI_PARAMETER)["Parameter"]["Value"]
        user_data = base64.b64encode(
            f"#!/bin/bash\necho ECS_CLUSTER={session.name('cluster')} >> /etc/ecs/ecs.config\n".encode())
        ec2.create_launch_template(
            LaunchTemplateName=session.name("ecs-lt"),
            LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.medium",
                                "UserData": user_data.decode()},
            TagSpecifications=session.tag_spec("launch-template", lab, session.name("ecs-lt")))
    group = lookup.auto_scaling_group(session, session.name("ecs-asg"))
    if group is None:
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=session.name("ecs-asg"),
            LaunchTemplate={"LaunchTemplateName": session.name("ecs-lt"), "Version": "$Latest"},
            MinSize=0, MaxSize=4, DesiredCapacity=0, VPCZoneIdentifier=",".join(private),
            NewInstancesProtectedFromScaleIn=True,
            Tags=[{**t, "PropagateAtLaunch": True} for t in session.tags(lab)]
            + [{"Key": "AmazonECSManaged", "Value": "", "PropagateAtLaunch": True}])
        group = lookup.auto_scaling_group(session, session.name("ecs-asg"))
    if lookup.capacity_provider(session, session.name("ec2-cp")) is None:
        ecs.create_capacity_provider(
            name=session.name("ec2-cp"),
            autoScalingGroupProvider={
                "autoScalingGroupArn": group["AutoScalingGroupARN"],
                "managedScaling": {"status": "ENABLED", "targetCapacity": 90},
                "managedTerminationProtection": "ENABLED"},
            tags=session.tags(lab, style="key"))
    cluster = lookup.cluster(session, session.name("cluster"))
    if session.name("ec2-cp") not in cluster.get("capacityProviders", []):
        ecs.put_cluster_capacity_providers(
            cluster=session.name("cluster"),
            capacityProviders=cluster.get("capacityProviders", []) + [session.name("ec2-cp")],
            defaultCapacityProviderStrategy=cluster.get("defaultCapacityProviderStrategy", []))


def build(session: Any) -> None:
    """Lab 02's end state: VPC, subnets in two AZs, gateway, security groups, cluster, providers."""
    lab = ABOUT.number
    vpc = _ensure_vpc(session, lab)
    _ensure_subnets(session, vpc, lab)
    _ensure_internet(session, vpc, lab)
    _ensure_security_groups(session, vpc, lab)
    _ensure_cluster(session, lab)
    _ensure_ec2_provider(session, vpc, lab)



def teardown(session: Any, execute: bool = False) -> Plan:
    """The network, cluster and capacity providers from lab 02, in a safe deletion order."""
    ec2, ecs, autoscaling = session.client("ec2"), session.client("ecs"), session.client("autoscaling")
    actions: list[Action] = []
    cluster_name, cp_name = session.name("cluster"), session.name("ec2-cp")
    cluster = lookup.cluster(session, cluster_name)
    if cluster is not None and not lookup.is_course_tagged(cluster, session):
        cluster = None  # same name, not ours: leave it alone
    provider = lookup.capacity_provider(session, cp_name)
    if provider is not None and lookup.is_course_tagged(provider, session):
        if cluster is not None and cp_name in cluster.get("capacityProviders", []):
            keep = [p for p in cluster["capacityProviders"] if p != cp_name]
            strategy = [s for s in cluster.get("defaultCapacityProviderStrategy", [])
                        if s["capacityProvider"] != cp_name]
            actions.append(Action("detach provider", cp_name, lambda: ecs.put_cluster_capacity_providers(
                cluster=cluster_name, capacityProviders=keep, defaultCapacityProviderStrategy=strategy)))
        actions.append(Action("capacity provider", cp_name,
                              lambda: ecs.delete_capacity_provider(capacityProvider=cp_name)))
    group = lookup.auto_scaling_group(session, session.name("ecs-asg"))
    if group is not None and lookup.is_course_tagged(group, session):
        actions.append(Action("auto scaling group", group["AutoScalingGroupName"],
                              lambda: autoscaling.delete_auto_scaling_group(
                                  AutoScalingGroupName=group["AutoScalingGroupName"], ForceDelete=True)))
    for template in ec2.describe_launch_templates(
            Filters=[{"Name": "launch-template-name", "Values": [session.name("ecs-lt")]}]
    )["LaunchTemplates"]:
        if lookup.is_course_tagged(template, session):
            tid = template["LaunchTemplateId"]
            actions.append(Action("launch template", tid,
                                  lambda tid=tid: ec2.delete_launch_template(LaunchTemplateId=tid)))
    if cluster is not None:
        actions.append(Action("ECS cluster", cluster_name,
                              lambda: ecs.delete_cluster(cluster=cluster_name)))
    vpc = lookup.vpc(session, session.name("vpc"))
    if vpc is not None:
        vpc_id = vpc["VpcId"]
        for name in ("tasks-sg", "alb-sg"):  # tasks-sg refers to alb-sg: delete it first
            group_ = lookup.security_group(session, vpc_id, session.name(name))
            if group_ is not None:
                gid = group_["GroupId"]
                actions.append(Action("security group", gid,
                                      lambda gid=gid: ec2.delete_security_group(GroupId=gid)))
        for table in lookup.route_tables(session, vpc_id):
            if lookup.is_course_tagged(table, session):
                rid = table["RouteTableId"]
                for assoc in table.get("Associations", []):
                    if not assoc.get("Main"):
                        aid = assoc["RouteTableAssociationId"]
                        actions.append(Action("route association", aid,
                                              lambda aid=aid: ec2.disassociate_route_table(AssociationId=aid)))
                actions.append(Action("route table", rid,
                                      lambda rid=rid: ec2.delete_route_table(RouteTableId=rid)))
        igw = lookup.internet_gateway(session, vpc_id)
        if igw is not None and lookup.is_course_tagged(igw, session):
            iid = igw["InternetGatewayId"]
            actions.append(Action("internet gateway", iid, lambda: (
                ec2.detach_internet_gateway(InternetGatewayId=iid, VpcId=vpc_id),
                ec2.delete_internet_gateway(InternetGatewayId=iid))))
        for subnet in lookup.subnets(session, vpc_id):
            sid = subnet["SubnetId"]
            actions.append(Action("subnet", sid, lambda sid=sid: ec2.delete_subnet(SubnetId=sid)))
        actions.append(Action("VPC", vpc_id, lambda: ec2.delete_vpc(VpcId=vpc_id)))
    return Plan(actions).run(execute)
