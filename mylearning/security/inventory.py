"""What the scan reads from the account, and how: read-only, every page, denials written down.

Every call here is a Describe, List or Get (tests/test_security.py records the operations a scan
makes and holds it to that), so the same scan can run with a read-only role on a real account.
Every list is read to its last page (boto3's paginators where the API has one, the nextToken
loop where it has none), and some describe calls take a bounded number of names
(DescribeServices takes at most 10, DescribeClusters 100):
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeClusters.html
A call the credentials may not make (AccessDenied on a real account) becomes a note in the report
and the scan goes on with what it could read.

Scope "course" reads only what the course made for this learner: clusters and task-definition
families named under the learner's prefix (the course names everything it creates so, and the list
calls can filter on it), a cluster's or capacity provider's course and learner tags as well (as
`mylearning.lookup` finds them), and the services, task sets, roles and security groups those use;
scope "account" reads everything in the region.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from botocore.exceptions import ClientError

from mylearning import lookup

#: Error codes AWS answers a call the caller's policies do not allow with (IAM and most JSON
#: services: AccessDenied / AccessDeniedException; EC2: UnauthorizedOperation).
#: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
#: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                    "UnauthorizedAccess", "AuthorizationError"})

SCOPES = ("course", "account")
DESCRIBE_SERVICES_MAX = 10
DESCRIBE_CLUSTERS_MAX = 100
#: Task sets exist only under these deployment controllers.
#: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskSet.html
TASK_SET_CONTROLLERS = ("EXTERNAL", "CODE_DEPLOY")


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Reader:
    """Makes the scan's calls: paginated, and a denied call noted instead of raised."""

    def __init__(self, session: Any):
        self.session = session
        self.notes: list[str] = []

    def _denied(self, service: str, operation: str, err: ClientError) -> bool:
        error = err.response.get("Error", {})
        if error.get("Code") not in DENIED:
            return False
        action = f"{service}:{''.join(p.title() for p in operation.split('_'))}"
        note = f"{action} was denied ({error.get('Code')}): {error.get('Message', '')}".strip()
        if note not in self.notes:
            self.notes.append(note)
        return True

    def call(self, service: str, operation: str, /, *, gone: tuple[str, ...] = (), **params: Any) -> dict | None:
        """One call's answer, or None when the caller may not make it (or, for an error code in
        `gone`, when the resource went away between the list and the describe)."""
        client = self.session.client(service)
        try:
            return getattr(client, operation)(**params)
        except ClientError as err:
            if self._denied(service, operation, err) or err.response.get("Error", {}).get("Code") in gone:
                return None
            raise

    def pages(self, service: str, operation: str, /, **params: Any) -> Iterator[dict]:
        """Every page of a list call (nothing more once a page is denied)."""
        client = self.session.client(service)
        try:
            if client.can_paginate(operation):
                yield from client.get_paginator(operation).paginate(**params)
                return
            token_key = "nextToken"
            while True:
                page = getattr(client, operation)(**params)
                yield page
                if not page.get(token_key):
                    return
                params = dict(params, **{token_key: page[token_key]})
        except ClientError as err:
            if not self._denied(service, operation, err):
                raise


@dataclass
class Inventory:
    """The resources one scan evaluates, as their Describe calls answer."""

    scope: str
    clusters: list[dict] = field(default_factory=list)
    services: list[dict] = field(default_factory=list)
    task_sets: list[dict] = field(default_factory=list)
    #: The latest ACTIVE revision of each family, with its tags under "tags".
    task_definitions: list[dict] = field(default_factory=list)
    #: The revisions the services and task sets run, by ARN (for their ports and OS family).
    running_definitions: dict[str, dict] = field(default_factory=dict)
    capacity_providers: list[dict] = field(default_factory=list)
    #: Role ARN -> {"Arn", "RoleName", "documents": [(label, document)], "attached": [...]}
    roles: dict[str, dict] = field(default_factory=dict)
    security_groups: dict[str, dict] = field(default_factory=dict)
    #: Target group ARN -> the security groups of the load balancers it belongs to.
    target_group_sources: dict[str, list[str]] = field(default_factory=dict)
    region: str = ""


def _ours(session: Any, resource: dict, name: str) -> bool:
    return name.startswith(session.prefix + "-") or lookup.is_course_tagged(resource, session)


def read(session: Any, scope: str = "course") -> tuple[Inventory, list[str]]:
    """Everything the scan evaluates, and the notes of what could not be read."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}; got {scope!r}")
    reader = Reader(session)
    inv = Inventory(scope=scope, region=session.region_name)
    course = scope == "course"

    _read_clusters(session, reader, inv, course)
    _read_services(reader, inv)
    _read_task_definitions(session, reader, inv, course)
    _read_capacity_providers(session, reader, inv, course)
    _read_roles(reader, inv)
    _read_network(reader, inv)
    return inv, reader.notes


def _read_clusters(session: Any, reader: Reader, inv: Inventory, course: bool) -> None:
    arns = [a for page in reader.pages("ecs", "list_clusters") for a in page.get("clusterArns", [])]
    if course:
        arns = [a for a in arns if a.rsplit("/", 1)[-1].startswith(session.prefix + "-")]
    for batch in _chunks(arns, DESCRIBE_CLUSTERS_MAX):
        answer = reader.call("ecs", "describe_clusters", clusters=batch, include=["SETTINGS", "TAGS"])
        for cluster in (answer or {}).get("clusters", []):
            if cluster.get("status") == "ACTIVE" and (not course or _ours(session, cluster, cluster["clusterName"])):
                inv.clusters.append(cluster)


def _read_services(reader: Reader, inv: Inventory) -> None:
    for cluster in inv.clusters:
        arns = [a for page in reader.pages("ecs", "list_services", cluster=cluster["clusterArn"])
                for a in page.get("serviceArns", [])]
        for batch in _chunks(arns, DESCRIBE_SERVICES_MAX):
            answer = reader.call("ecs", "describe_services", cluster=cluster["clusterArn"],
                                 services=batch, include=["TAGS"])
            for service in (answer or {}).get("services", []):
                if service.get("status") == "ACTIVE":
                    inv.services.append(service)
    for service in inv.services:
        controller = (service.get("deploymentController") or {}).get("type", "ECS")
        if controller in TASK_SET_CONTROLLERS:
            answer = reader.call("ecs", "describe_task_sets", cluster=service["clusterArn"],
                                 service=service["serviceArn"])
            inv.task_sets += (answer or {}).get("taskSets", [])
    for arn in {s.get("taskDefinition") for s in inv.services + inv.task_sets} - {None}:
        answer = reader.call("ecs", "describe_task_definition", taskDefinition=arn)
        if answer:
            inv.running_definitions[arn] = answer["taskDefinition"]


def _read_task_definitions(session: Any, reader: Reader, inv: Inventory, course: bool) -> None:
    params: dict[str, Any] = {"status": "ACTIVE"}
    if course:
        params["familyPrefix"] = session.prefix + "-"
    families = [f for page in reader.pages("ecs", "list_task_definition_families", **params)
                for f in page.get("families", [])]
    for family in sorted(set(families)):
        # Describing a family (no revision) answers its latest ACTIVE revision, the one the
        # controls evaluate.
        # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTaskDefinition.html
        answer = reader.call("ecs", "describe_task_definition", taskDefinition=family, include=["TAGS"],
                             gone=("ClientException",))
        if not answer:
            continue
        definition = dict(answer["taskDefinition"], tags=answer.get("tags") or [])
        if not course or _ours(session, definition, family):
            inv.task_definitions.append(definition)


def _read_capacity_providers(session: Any, reader: Reader, inv: Inventory, course: bool) -> None:
    for page in reader.pages("ecs", "describe_capacity_providers", include=["TAGS"]):
        for provider in page.get("capacityProviders", []):
            if provider.get("status") != "ACTIVE" or "autoScalingGroupProvider" not in provider:
                continue  # FARGATE and FARGATE_SPOT have no Auto Scaling group to protect
            if not course or _ours(session, provider, provider["name"]):
                inv.capacity_providers.append(provider)


def _role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _read_roles(reader: Reader, inv: Inventory) -> None:
    from mylearning.facts.iam import document

    arns = set()
    for definition in inv.task_definitions:
        arns |= {definition.get("taskRoleArn"), definition.get("executionRoleArn")}
    for arn in sorted(arns - {None, ""}):
        name = _role_name(arn)
        role = reader.call("iam", "get_role", RoleName=name, gone=("NoSuchEntity",))
        if role is None:
            continue
        docs: list[tuple[str, dict]] = []
        for page in reader.pages("iam", "list_role_policies", RoleName=name):
            for policy_name in page.get("PolicyNames", []):
                got = reader.call("iam", "get_role_policy", RoleName=name, PolicyName=policy_name)
                if got:
                    docs.append((f"inline policy {policy_name}", document(got["PolicyDocument"])))
        attached = [p for page in reader.pages("iam", "list_attached_role_policies", RoleName=name)
                    for p in page.get("AttachedPolicies", [])]
        for item in attached:
            meta = reader.call("iam", "get_policy", PolicyArn=item["PolicyArn"])
            if not meta:
                continue
            version = reader.call("iam", "get_policy_version", PolicyArn=item["PolicyArn"],
                                  VersionId=meta["Policy"]["DefaultVersionId"])
            if version:
                docs.append((f"managed policy {item['PolicyName']}",
                             document(version["PolicyVersion"]["Document"])))
        inv.roles[arn] = {"Arn": role["Role"]["Arn"], "RoleName": name, "documents": docs,
                          "attached": [p["PolicyArn"] for p in attached]}


def _awsvpc(resource: dict) -> dict:
    return (resource.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}


def _read_network(reader: Reader, inv: Inventory) -> None:
    group_ids = sorted({g for r in inv.services + inv.task_sets for g in _awsvpc(r).get("securityGroups", [])})
    if group_ids:
        for page in reader.pages("ec2", "describe_security_groups", GroupIds=group_ids):
            for group in page.get("SecurityGroups", []):
                inv.security_groups[group["GroupId"]] = group
    target_groups = sorted({lb["targetGroupArn"] for r in inv.services + inv.task_sets
                            for lb in r.get("loadBalancers") or [] if lb.get("targetGroupArn")})
    balancers: dict[str, list[str]] = {}
    for batch in _chunks(target_groups, 20):
        for page in reader.pages("elbv2", "describe_target_groups", TargetGroupArns=batch):
            for tg in page.get("TargetGroups", []):
                inv.target_group_sources[tg["TargetGroupArn"]] = list(tg.get("LoadBalancerArns", []))
                balancers.update({arn: [] for arn in tg.get("LoadBalancerArns", [])})
    for batch in _chunks(sorted(balancers), 20):
        for page in reader.pages("elbv2", "describe_load_balancers", LoadBalancerArns=batch):
            for lb in page.get("LoadBalancers", []):
                balancers[lb["LoadBalancerArn"]] = list(lb.get("SecurityGroups", []))
    for tg, lb_arns in inv.target_group_sources.items():
        inv.target_group_sources[tg] = sorted({g for arn in lb_arns for g in balancers.get(arn, [])})
