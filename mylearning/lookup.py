"""Find the course's resources by name and tags.

Notebook cells use these to stay safe to run twice (find before create), and
graders use them to read what the learner built. Every lookup filters on the
course's tags as well as the name, so nothing the course did not create is
ever picked up on a shared or real account.
"""
from __future__ import annotations

from typing import Any

from mylearning import identity


def _course_filters(session: Any, name: str | None = None) -> list[dict]:
    filters = [{"Name": f"tag:{identity.TAG_COURSE}", "Values": [identity.COURSE]},
               {"Name": f"tag:{identity.TAG_LEARNER}", "Values": [session.learner]}]
    if name:
        filters.append({"Name": "tag:Name", "Values": [name]})
    return filters


def account_id(session: Any) -> str:
    """The account the session works in (the embedded AWS's is 123456789012)."""
    return session.client("sts").get_caller_identity()["Account"]


def tag_value(resource: dict, key: str) -> str | None:
    for tag in resource.get("Tags") or resource.get("tags") or []:
        if tag.get("Key", tag.get("key")) == key:
            return tag.get("Value", tag.get("value"))
    return None


def vpc(session: Any, name: str) -> dict | None:
    """The course VPC with Name tag `name`, or None."""
    found = session.client("ec2").describe_vpcs(Filters=_course_filters(session, name))["Vpcs"]
    return found[0] if found else None


def subnets(session: Any, vpc_id: str, tier: str | None = None) -> list[dict]:
    """The course's subnets in a VPC, optionally of one tier ("public"/"private"), by AZ."""
    filters = _course_filters(session) + [{"Name": "vpc-id", "Values": [vpc_id]}]
    if tier:
        filters.append({"Name": "tag:tier", "Values": [tier]})
    found = session.client("ec2").describe_subnets(Filters=filters)["Subnets"]
    return sorted(found, key=lambda s: (s["AvailabilityZone"], s["CidrBlock"]))


def security_group(session: Any, vpc_id: str, group_name: str) -> dict | None:
    filters = _course_filters(session) + [{"Name": "vpc-id", "Values": [vpc_id]},
                                          {"Name": "group-name", "Values": [group_name]}]
    found = session.client("ec2").describe_security_groups(Filters=filters)["SecurityGroups"]
    return found[0] if found else None


def internet_gateway(session: Any, vpc_id: str) -> dict | None:
    filters = [{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
    found = session.client("ec2").describe_internet_gateways(Filters=filters)["InternetGateways"]
    return found[0] if found else None


def route_tables(session: Any, vpc_id: str) -> list[dict]:
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    return session.client("ec2").describe_route_tables(Filters=filters)["RouteTables"]


def cluster(session: Any, name: str) -> dict | None:
    """An ACTIVE ECS cluster with its settings, tags and capacity providers, or None."""
    answer = session.client("ecs").describe_clusters(
        clusters=[name], include=["SETTINGS", "TAGS", "CONFIGURATIONS"])
    for found in answer.get("clusters", []):
        if found.get("status") == "ACTIVE":
            return found
    return None


def capacity_provider(session: Any, name: str) -> dict | None:
    answer = session.client("ecs").describe_capacity_providers(
        capacityProviders=[name], include=["TAGS"])
    for found in answer.get("capacityProviders", []):
        if found.get("status") == "ACTIVE":
            return found
    return None


def auto_scaling_group(session: Any, name: str) -> dict | None:
    groups = session.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return groups[0] if groups else None


def is_course_tagged(resource: dict, session: Any, lab: str | None = None) -> bool:
    """True when the resource carries the course tag and this learner's tag (and the lab's)."""
    ok = (tag_value(resource, identity.TAG_COURSE) == identity.COURSE
          and tag_value(resource, identity.TAG_LEARNER) == session.learner)
    if ok and lab is not None:
        ok = tag_value(resource, identity.TAG_LAB) == identity.lab_id(lab)
    return ok


# ------------------------------------------------------------------ ECS services
def ecs_service(session: Any, cluster: str, name: str) -> dict | None:
    """The ACTIVE ECS service `name` in `cluster`, with its tags, or None (also when no such cluster)."""
    ecs = session.client("ecs")
    try:
        answer = ecs.describe_services(cluster=cluster, services=[name], include=["TAGS"])
    except ecs.exceptions.ClusterNotFoundException:
        return None
    for service in answer.get("services", []):
        if service.get("status") == "ACTIVE":
            return service
    return None


# ------------------------------------------------------------------ Elastic Load Balancing
def elb_tags(elb: Any, arn: str) -> list[dict]:
    found = elb.describe_tags(ResourceArns=[arn])["TagDescriptions"]
    return found[0]["Tags"] if found else []


def _elb_ours(session: Any, elb: Any, resource: dict | None, arn_key: str) -> dict | None:
    if resource is None:
        return None
    resource = dict(resource, Tags=elb_tags(elb, resource[arn_key]))
    return resource if is_course_tagged(resource, session) else None


def load_balancer(session: Any, name: str) -> dict | None:
    """The course's load balancer named `name` (with its Tags), or None."""
    elb = session.client("elbv2")
    try:
        found = elb.describe_load_balancers(Names=[name])["LoadBalancers"]
    except elb.exceptions.LoadBalancerNotFoundException:
        return None
    return _elb_ours(session, elb, found[0] if found else None, "LoadBalancerArn")


def target_group(session: Any, name: str) -> dict | None:
    elb = session.client("elbv2")
    try:
        found = elb.describe_target_groups(Names=[name])["TargetGroups"]
    except elb.exceptions.TargetGroupNotFoundException:
        return None
    return _elb_ours(session, elb, found[0] if found else None, "TargetGroupArn")


def listener(elb: Any, load_balancer_arn: str, port: int) -> dict | None:
    for listener in elb.describe_listeners(LoadBalancerArn=load_balancer_arn)["Listeners"]:
        if listener["Port"] == port:
            return listener
    return None


# ------------------------------------------------------------------ Cloud Map
def cloudmap_tags(sd: Any, arn: str) -> list[dict]:
    return sd.list_tags_for_resource(ResourceARN=arn).get("Tags", [])


def namespace(session: Any, name: str) -> dict | None:
    """The course's private DNS namespace called `name` (with its Tags), or None."""
    sd = session.client("servicediscovery")
    for page in sd.get_paginator("list_namespaces").paginate():
        for namespace in page["Namespaces"]:
            if namespace["Name"] == name and namespace.get("Type") == "DNS_PRIVATE":
                found = dict(namespace, Tags=cloudmap_tags(sd, namespace["Arn"]))
                if is_course_tagged(found, session):
                    return found
    return None


def discovery_services(session: Any, namespace_id: str, name: str | None = None) -> list[dict]:
    """The namespace's Cloud Map services (only those called `name`, if given), in full.

    Each one is confirmed by its NamespaceId (GetService) as well as by the ListServices
    filter: the summaries ListServices returns do not name their namespace, and a
    grader must never pick up another learner's service of the same name.
    """
    sd = session.client("servicediscovery")
    found: list[dict] = []
    for page in sd.get_paginator("list_services").paginate(
            Filters=[{"Name": "NAMESPACE_ID", "Values": [namespace_id], "Condition": "EQ"}]):
        for item in page["Services"]:
            if name is not None and item["Name"] != name:
                continue
            full = sd.get_service(Id=item["Id"])["Service"]
            if full.get("NamespaceId") == namespace_id:
                found.append(full)
    return found


def discovery_service(session: Any, namespace_id: str, name: str) -> dict | None:
    """The Cloud Map service `name` in the namespace, with its full settings and Tags."""
    sd = session.client("servicediscovery")
    for full in discovery_services(session, namespace_id, name):
        return dict(full, Tags=cloudmap_tags(sd, full["Arn"]))
    return None


# ------------------------------------------------------------------ CloudWatch Logs
def log_group(session: Any, name: str) -> dict | None:
    """The course's log group called exactly `name` (its tags as a dict under "tags"), or None.

    Log groups take tags as a map, not a list: ListTagsForResource answers {key: value}.
    """
    logs = session.client("logs")
    for found in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]:
        if found["logGroupName"] != name:
            continue
        arn = found.get("logGroupArn") or found["arn"].removesuffix(":*")
        tags = logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
        if (tags.get(identity.TAG_COURSE) == identity.COURSE
                and tags.get(identity.TAG_LEARNER) == session.learner):
            return dict(found, tags=tags)
    return None


# ------------------------------------------------------------------ IAM
def role(iam: Any, name: str) -> dict | None:
    try:
        return iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None


# ------------------------------------------------------------------ App Mesh
def appmesh_tags(am: Any, arn: str) -> list[dict]:
    """An App Mesh resource's tags, as ListTagsForResource gives them ({"key", "value"})."""
    tags: list[dict] = []
    kwargs = {"resourceArn": arn}
    while True:
        page = am.list_tags_for_resource(**kwargs)
        tags += page.get("tags", [])
        if not page.get("nextToken"):
            return tags
        kwargs["nextToken"] = page["nextToken"]


def appmesh_describe(am: Any, kind: str, mesh: str, name: str, parent: str | None = None) -> dict | None:
    """The App Mesh resource of `kind` ("mesh", "virtualNode", "route"...) as its Describe
    operation answers, whoever made it, or None when it does not exist. `parent` names the
    router of a route and the gateway of a gateway route."""
    from mylearning.facts.appmesh import KINDS

    noun, name_param, parent_param = KINDS[kind]
    kwargs = {"meshName": mesh}
    if kind != "mesh":
        kwargs[name_param] = name
    if parent_param:
        kwargs[parent_param] = parent
    try:
        return getattr(am, f"describe_{noun}")(**kwargs)[kind]
    except am.exceptions.NotFoundException:
        return None


def appmesh_list(am: Any, kind: str, mesh: str, parent: str | None = None) -> list[dict]:
    """The refs (name, arn, version...) a List operation gives for `kind` in `mesh`, every
    page, sorted by name; `parent` names the router of routes and the gateway of gateway routes."""
    from mylearning.facts.appmesh import KINDS, LIST_KEYS

    noun, name_param, parent_param = KINDS[kind]
    kwargs = {"meshName": mesh}
    if parent_param:
        kwargs[parent_param] = parent
    refs = [ref for page in am.get_paginator(f"list_{noun}s").paginate(**kwargs) for ref in page[LIST_KEYS[kind]]]
    return sorted(refs, key=lambda ref: ref[name_param])


def mesh_resource(session: Any, kind: str, mesh: str, name: str | None = None,
                  parent: str | None = None) -> dict | None:
    """The course's App Mesh resource (with its "tags"), or None when it is missing or not
    this learner's. ``mesh_resource(session, "mesh", name)`` finds a mesh."""
    am = session.client("appmesh")
    found = appmesh_describe(am, kind, mesh, name or mesh, parent)
    if found is None:
        return None
    found = dict(found, tags=appmesh_tags(am, found["metadata"]["arn"]))
    return found if is_course_tagged(found, session) else None
