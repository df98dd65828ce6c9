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
