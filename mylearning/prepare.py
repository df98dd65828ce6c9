"""Build what earlier labs would have built, so any lab can start in a fresh kernel.

Each lab's first cell calls `up_to(session, "NN")`, which runs the end state of
every earlier lab that has one, in order. Every function finds before it
creates, so calling it on an account that already has the resources changes
nothing, and a learner who did the earlier labs keeps their own work.

The functions reproduce the labs' solutions; the labs' graders accept their
result (tests/test_prepare.py checks that).
"""
from __future__ import annotations

import base64
from typing import Any, Callable

from mylearning import lookup

APP_PORT = 8080
VPC_CIDR = "10.0.0.0/16"
SUBNET_PLAN = (("public", 0, "10.0.0.0/24"), ("public", 1, "10.0.1.0/24"),
               ("private", 0, "10.0.10.0/24"), ("private", 1, "10.0.11.0/24"))
DEFAULT_STRATEGY = [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                    {"capacityProvider": "FARGATE_SPOT", "weight": 3}]
ECS_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"


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
            "IpProtocol": "tcp", "FromPort": APP_PORT, "ToPort": APP_PORT,
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
        ami = session.client("ssm").get_parameter(Name=ECS_AMI_PARAMETER)["Parameter"]["Value"]
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


def lab02(session: Any) -> None:
    """Lab 02's end state: VPC, subnets in two AZs, gateway, security groups, cluster, providers."""
    lab = "02"
    vpc = _ensure_vpc(session, lab)
    _ensure_subnets(session, vpc, lab)
    _ensure_internet(session, vpc, lab)
    _ensure_security_groups(session, vpc, lab)
    _ensure_cluster(session, lab)
    _ensure_ec2_provider(session, vpc, lab)


#: Lab number -> the function that builds its end state. Labs without AWS resources
#: that later labs need (00, 01) have none.
STEPS: dict[str, Callable[[Any], None]] = {"02": lab02}


def up_to(session: Any, lab: str, quiet: bool = False) -> list[str]:
    """Build the end state of every lab before `lab`; return the labs that were prepared."""
    from mylearning.identity import lab_id
    target = lab_id(lab)
    done = []
    for number in sorted(STEPS):
        if number < target:
            STEPS[number](session)
            done.append(number)
    if not quiet:
        print(f"Prepared what labs {', '.join(done)} build." if done
              else "Nothing to prepare: this lab needs nothing from earlier labs.")
    return done


def lab03(session: Any) -> None:
    """Lab 03's end state: log groups, the database secret, the execution role, one task role
    per service, and the three task definitions (the courses API at revision 2 on ARM64)."""
    from mylearning import microservices as ms
    from mylearning import taskdefs

    lab, ecs = "03", session.client("ecs")
    account = ms.account_id(session)
    for service in ms.SERVICES:
        ms.ensure_log_group(session, lab, service)
    secret = ms.ensure_secret(session, lab)
    execution = ms.ensure_execution_role(session, lab, secret["ARN"])
    for service in ms.SERVICES:
        task_role = ms.ensure_task_role(session, lab, service, account)

        def spec(**changes: Any) -> dict:
            return ms.task_definition(session, service, execution_role_arn=execution["Arn"],
                                      task_role_arn=task_role["Arn"], secret_arn=secret["ARN"],
                                      lab=lab, account=account, **changes)
        if service == "courses-api" and not taskdefs.revision_arns(ecs, ms.family(session, service)):
            # The lab registers the x86 version first, then a new revision on ARM64.
            taskdefs.ensure_registered(ecs, spec(version="1.0.0", arch="X86_64"))
        taskdefs.ensure_registered(ecs, spec())


STEPS["03"] = lab03


def lab04(session: Any) -> None:
    """Lab 04's end state: the ALB with its target groups and path rules, the Cloud Map
    namespace and services, both web services, the courses API rolled out to 1.2.0, and
    the recorded availability answer."""
    from mylearning import cloudmap, deployments, loadbalancer, taskdefs
    from mylearning import microservices as ms
    from mylearning.answers import record_answer

    lab, ecs, cluster = "04", session.client("ecs"), session.name("cluster")
    vpc = lookup.vpc(session, session.name("vpc"))
    public = [s["SubnetId"] for s in lookup.subnets(session, vpc["VpcId"], "public")]
    private = [s["SubnetId"] for s in lookup.subnets(session, vpc["VpcId"], "private")]
    alb_sg = lookup.security_group(session, vpc["VpcId"], session.name("alb-sg"))["GroupId"]
    tasks_sg = lookup.security_group(session, vpc["VpcId"], session.name("tasks-sg"))["GroupId"]
    alb = loadbalancer.ensure_load_balancer(session, lab, ms.load_balancer_name(session), public, [alb_sg])
    listener = loadbalancer.ensure_listener(session, lab, alb["LoadBalancerArn"])
    namespace = cloudmap.ensure_private_namespace(session, lab, cloudmap.namespace_name(session),
                                                  vpc["VpcId"])
    for service, (pattern, priority, _) in ms.WEB_SERVICES.items():
        tg = loadbalancer.ensure_target_group(session, lab, ms.target_group_name(session, service),
                                              vpc["VpcId"], ms.APP_PORT, ms.HEALTH_PATH)
        loadbalancer.ensure_path_rule(session, lab, listener["ListenerArn"], priority, [pattern],
                                      tg["TargetGroupArn"])
        registry = cloudmap.ensure_service(session, lab, namespace["Id"], service)
        if deployments.find_service(session, cluster, ms.service_name(session, service)) is None:
            ecs.create_service(**ms.service_spec(
                session, service, cluster=cluster, task_definition=ms.family(session, service),
                subnets=private, security_group=tasks_sg, target_group_arn=tg["TargetGroupArn"],
                registry_arn=registry["Arn"], lab=lab))
    courses = deployments.find_service(session, cluster, ms.service_name(session, "courses-api"))
    running = ecs.describe_task_definition(taskDefinition=courses["taskDefinition"])["taskDefinition"]
    image = ms.image(session, "courses-api", ms.ROLLOUT_VERSION)
    if not any(c["image"] == image for c in running["containerDefinitions"]):
        spec = taskdefs.with_image(taskdefs.as_spec(running, tags=session.tags(lab, style="key")),
                                   "app", image)
        new, _ = taskdefs.ensure_registered(ecs, spec)
        ecs.update_service(cluster=cluster, service=courses["serviceName"],
                           taskDefinition=new["taskDefinitionArn"])
    ecs.get_waiter("services_stable").wait(
        cluster=cluster, services=[ms.service_name(session, s) for s in ms.WEB_SERVICES],
        WaiterConfig={"Delay": 1 if session.is_emulator else 15, "MaxAttempts": 120})
    record_answer(lab, "downtime-minutes-9999", round((1 - 0.9999) * 365 * 24 * 60, 2), session=session)


STEPS["04"] = lab04
