"""Teardown: remove what a lab created, and nothing else.

Only resources that carry the course tag AND this learner's tag (and, for
ECS and Auto Scaling, this learner's name prefix) are ever listed. The plan is
shown first; nothing is deleted unless `execute=True`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from mylearning import lookup


@dataclass
class Action:
    kind: str
    ident: str
    run: Callable[[], Any] = field(repr=False)
    status: str = "planned"


@dataclass
class Plan:
    actions: list[Action]
    executed: bool = False

    def __str__(self) -> str:
        if not self.actions:
            return "Nothing to remove: no resources of this lab were found for you."
        verb = "Removed" if self.executed else "Would remove (run with execute=True)"
        lines = [f"{verb}:"]
        lines += [f"  {a.kind:22} {a.ident:45} {a.status}" for a in self.actions]
        return "\n".join(lines)

    __repr__ = __str__


def _execute(plan: Plan) -> Plan:
    for action in plan.actions:
        try:
            action.run()
            action.status = "deleted"
        except Exception as exc:  # keep going: one stuck resource must not strand the rest
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            action.status = f"failed: {code}"
    plan.executed = True
    return plan


def lab02(session: Any, execute: bool = False) -> Plan:
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
    plan = Plan(actions)
    return _execute(plan) if execute else plan


def lab04(session: Any, execute: bool = False) -> Plan:
    """Lab 04's services, load balancer, target groups, Cloud Map names and recorded answers.

    Order matters: the ECS services go first (they hold the target groups and Cloud Map
    services), then the Cloud Map services and namespace, then the ALB (its listener and
    rules go with it), then the target groups, which AWS refuses to delete while in use.
    """
    from mylearning import answers, cloudmap, deployments, loadbalancer
    from mylearning import microservices as ms

    ecs, elb = session.client("ecs"), session.client("elbv2")
    sd, ssm = session.client("servicediscovery"), session.client("ssm")
    actions: list[Action] = []
    cluster = session.name("cluster")
    for service in ms.WEB_SERVICES:
        found = deployments.find_service(session, cluster, ms.service_name(session, service))
        if found is not None and lookup.is_course_tagged(found, session):
            name = found["serviceName"]
            actions.append(Action("ECS service", name, lambda name=name: (
                ecs.update_service(cluster=cluster, service=name, desiredCount=0),
                ecs.delete_service(cluster=cluster, service=name, force=True))))
    namespace = cloudmap.find_namespace(session, cloudmap.namespace_name(session))
    if namespace is not None:
        for service in ms.WEB_SERVICES:
            registry = cloudmap.find_service(session, namespace["Id"], service)
            if registry is not None and lookup.is_course_tagged(registry, session):
                rid = registry["Id"]
                actions.append(Action("Cloud Map service", f"{service}.{namespace['Name']}",
                                      lambda rid=rid: sd.delete_service(Id=rid)))
        nid = namespace["Id"]
        actions.append(Action("Cloud Map namespace", namespace["Name"],
                              lambda: cloudmap.wait_for_operation(
                                  sd, sd.delete_namespace(Id=nid)["OperationId"])))
    alb = loadbalancer.find_load_balancer(session, ms.load_balancer_name(session))
    if alb is not None:
        arn = alb["LoadBalancerArn"]
        actions.append(Action("load balancer", alb["LoadBalancerName"],
                              lambda: elb.delete_load_balancer(LoadBalancerArn=arn)))
    for service in ms.WEB_SERVICES:
        tg = loadbalancer.find_target_group(session, ms.target_group_name(session, service))
        if tg is not None:
            tg_arn = tg["TargetGroupArn"]
            actions.append(Action("target group", tg["TargetGroupName"],
                                  lambda tg_arn=tg_arn: elb.delete_target_group(TargetGroupArn=tg_arn)))
    name = answers.parameter_name(session.learner, "04", "downtime-minutes-9999")
    if answers.read_answer(session, "04", "downtime-minutes-9999") is not None:
        actions.append(Action("recorded answer", name, lambda: ssm.delete_parameter(Name=name)))
    plan = Plan(actions)
    return _execute(plan) if execute else plan


def lab03(session: Any, execute: bool = False) -> Plan:
    """Lab 03's task definitions, roles, secret and log groups (run lab04's teardown first)."""
    from mylearning import identity, roles, taskdefs
    from mylearning import microservices as ms

    ecs, iam, logs = session.client("ecs"), session.client("iam"), session.client("logs")
    sm = session.client("secretsmanager")
    actions: list[Action] = []
    for service in ms.SERVICES:
        for arn in taskdefs.revision_arns(ecs, ms.family(session, service)):
            tags = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]).get("tags", [])
            if lookup.is_course_tagged({"tags": tags}, session):
                actions.append(Action("task definition", arn.rsplit("/", 1)[-1],
                                      lambda arn=arn: ecs.deregister_task_definition(taskDefinition=arn)))
    role_names = [ms.task_role_name(session, s) for s in ms.SERVICES] + [ms.execution_role_name(session)]
    for role_name in role_names:
        role = roles.find_role(iam, role_name)
        if role is None:
            continue
        tags = iam.list_role_tags(RoleName=role_name).get("Tags", [])
        if not lookup.is_course_tagged({"Tags": tags}, session):
            continue

        def remove_role(role_name: str = role_name) -> None:
            for item in roles.attached_policies(iam, role_name):
                iam.detach_role_policy(RoleName=role_name, PolicyArn=item["PolicyArn"])
            for policy_name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=role_name, PolicyName=policy_name)
            iam.delete_role(RoleName=role_name)
        actions.append(Action("IAM role", role_name, remove_role))
    try:
        secret = sm.describe_secret(SecretId=ms.secret_name(session))
    except sm.exceptions.ResourceNotFoundException:
        secret = None
    if secret is not None and lookup.is_course_tagged(secret, session):
        secret_arn = secret["ARN"]
        actions.append(Action("secret", secret["Name"], lambda: sm.delete_secret(
            SecretId=secret_arn, ForceDeleteWithoutRecovery=True)))
    for service in ms.SERVICES:
        group = ms.log_group(session, service)
        for found in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
            if found["logGroupName"] != group:
                continue
            arn = found.get("logGroupArn") or found["arn"].removesuffix(":*")
            tags = logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
            if tags.get(identity.TAG_COURSE) == identity.COURSE and tags.get(identity.TAG_LEARNER) == session.learner:
                actions.append(Action("log group", group,
                                      lambda group=group: logs.delete_log_group(logGroupName=group)))
    plan = Plan(actions)
    return _execute(plan) if execute else plan
