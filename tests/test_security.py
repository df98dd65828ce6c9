"""mylearning.security.scan against the embedded AWS: every control on a compliant and a
non-compliant resource, the IAM and network checks, the report, read-only calls and pagination.

One account ("world") is built once for the module, for its own learner; each test reads the
same scan of it. Resource names say what they are for: ``good`` passes every control that
applies, ``bad`` fails them.
"""
from __future__ import annotations

import json
import uuid

import pytest

from mylearning import security
from mylearning.facts import securityhub as sh
from mylearning.security.findings import Finding, Report

FAILED, PASSED = sh.FAILED, sh.PASSED
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
    "Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
EXEC_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
MARKUP = "<b>x</b>"


class Recorder:
    """A session whose clients record every operation they send (botocore's before-call event),
    and answer AccessDenied, as a real account would, for the operations in `deny`."""

    def __init__(self, inner, deny: tuple[str, ...] = ()):
        self.inner, self.deny = inner, set(deny)
        self.calls: list[tuple[str, dict]] = []
        self._clients: dict[str, object] = {}

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def client(self, service_name: str):
        if service_name not in self._clients:
            # A client of its own (kwargs make CourseSession build a new one), so the hook never
            # lands on the shared cached client.
            client = self.inner.client(service_name, region_name=self.inner.region_name)
            client.meta.events.register("before-parameter-build", self._record)
            client.meta.events.register("before-call", self._before_call)
            self._clients[service_name] = client
        return self._clients[service_name]

    def _record(self, params, model, **_):
        self.calls.append((model.name, dict(params)))

    def _before_call(self, model, **_):
        if model.name in self.deny:
            from botocore.awsrequest import AWSResponse
            error = {"Error": {"Code": "AccessDenied", "Message": f"not authorized to perform {model.name}"},
                     "ResponseMetadata": {"HTTPStatusCode": 403}}
            return AWSResponse("https://denied", 403, {}, None), error
        return None

    def operations(self) -> set[str]:
        return {name for name, _ in self.calls}


# ------------------------------------------------------------------ the world
def _container(name: str, **fields) -> dict:
    spec = {"name": name, "image": "public.ecr.aws/mylearning/courses-api:1.1.0", "essential": True,
            "memory": 256, "user": "1000:1000", "readonlyRootFilesystem": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/x", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "x"}}}
    for key, value in fields.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return spec


class World:
    def __init__(self, session):
        self.s = session
        self.ecs, self.ec2, self.iam = (session.client(n) for n in ("ecs", "ec2", "iam"))
        self.elb = session.client("elbv2")
        self.account = session.client("sts").get_caller_identity()["Account"]
        self.arn: dict[str, str] = {}
        self._network()
        self._roles()
        self._task_definitions()
        self._clusters_and_services()
        self._capacity_providers()

    def name(self, *parts: str) -> str:
        return self.s.name(*parts)

    def tags(self, style="key"):
        return self.s.tags("10", style=style)

    # network: a VPC, two private subnets, an ALB and its group, and task groups
    def _network(self):
        ec2 = self.ec2
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                          AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
                        for i, z in ((1, "a"), (2, "b"))]

        def group(name, *rules):
            gid = ec2.create_security_group(GroupName=self.name(name), Description=name, VpcId=vpc)["GroupId"]
            if rules:
                ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=list(rules))
            return gid

        tcp = {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080}
        self.alb_sg = group("alb-sg", {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                                       "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
        self.sg = {
            "good": group("good-sg", dict(tcp, UserIdGroupPairs=[{"GroupId": self.alb_sg}])),
            "world": group("world-sg", dict(tcp, IpRanges=[{"CidrIp": "0.0.0.0/0"}])),
            "world6": group("world6-sg", {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}),
            "vpc": group("vpc-sg", dict(tcp, IpRanges=[{"CidrIp": "10.0.0.0/16"}])),
            # Open to the world, but on a port the tasks do not listen on.
            "other": group("other-sg", {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}),
        }
        lb = self.elb.create_load_balancer(Name=self.name("alb"), Subnets=self.subnets,
                                           SecurityGroups=[self.alb_sg])["LoadBalancers"][0]
        self.tg = self.elb.create_target_group(Name=self.name("tg"), Protocol="HTTP", Port=8080, VpcId=vpc,
                                               TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        self.elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                 DefaultActions=[{"Type": "forward", "TargetGroupArn": self.tg}])

    def _role(self, key: str, *statements, managed=()):
        name = self.name(key)
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        if statements:
            self.iam.put_role_policy(RoleName=name, PolicyName="app", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": list(statements)}))
        for policy in managed:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        self.arn[key] = arn

    def _roles(self):
        allow = lambda actions, resources: {"Effect": "Allow", "Action": actions, "Resource": resources}  # noqa: E731
        self._role("exec", managed=[EXEC_POLICY])
        self._role("exec-as-task", managed=[EXEC_POLICY])
        self._role("task-good", allow(["s3:GetObject"], f"arn:aws:s3:::{self.name('content')}/*"),
                   allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"))
        self._role("task-wild", allow("s3:*", f"arn:aws:s3:::{self.name('content')}/*"),
                   allow("dynamodb:GetItem", "*"))
        self._role("task-pass", allow("iam:PassRole", "*"))
        self._role("task-notres", {"Effect": "Allow", "Action": "iam:PassRole",
                                   "NotResource": f"arn:aws:iam::{self.account}:role/{MARKUP}"})
        self._role("task-pull", allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "*"))
        self._role("task-logs", allow(["logs:CreateLogStream", "logs:PutLogEvents"], "*"))
        self._role("task-firelens", allow(["logs:CreateLogStream", "logs:PutLogEvents"], "*"))

    def _register(self, key: str, containers: list[dict], *, task_role="task-good", fargate=True,
                  tags=True, **fields) -> str:
        args = dict(family=self.name(key), containerDefinitions=containers,
                    executionRoleArn=self.arn["exec"])
        if task_role:
            args["taskRoleArn"] = self.arn[task_role]
        if fargate:
            args.update(requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
                        runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"})
        if tags:
            args["tags"] = self.tags()
        args.update(fields)
        arn = self.ecs.register_task_definition(**args)["taskDefinition"]["taskDefinitionArn"]
        self.arn[key] = arn
        return arn

    def _task_definitions(self):
        efs = lambda name, transit: {"name": name, "efsVolumeConfiguration": {  # noqa: E731
            "fileSystemId": "fs-12345678", "transitEncryption": transit}}
        self._register("good", [_container("app")], volumes=[efs("data", "ENABLED")])
        self._register("bad", [
            _container("rootapp", user=None, readonlyRootFilesystem=None, logConfiguration=None,
                       environment=[{"name": "AWS_SECRET_ACCESS_KEY", "value": "x"},
                                    {"name": "AWS_SECRET_ACCESS_KEY_HINT", "value": "not a key"}]),
            _container("privileged", privileged=True, readonlyRootFilesystem=False)],
            task_role="task-wild", fargate=False, tags=False, networkMode="host", pidMode="host",
            requiresCompatibilities=["EC2"], volumes=[efs("data", "DISABLED")])
        # Host mode with every container non-root: ECS.1 passes while ECS.17 still fails.
        self._register("host-nonroot", [_container("app")], fargate=False, networkMode="host",
                       requiresCompatibilities=["EC2"], runtimePlatform={"operatingSystemFamily": "LINUX"})
        self._register("root-user", [_container("app", user="0:0")])
        self._register("win", [_container("app", user="ContainerAdministrator", readonlyRootFilesystem=None)],
                       fargate=False, requiresCompatibilities=["EC2"], cpu="1024", memory="2048",
                       runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2019_CORE",
                                        "cpuArchitecture": "X86_64"})
        self._register("win-user", [_container("app", user="appuser", readonlyRootFilesystem=None)],
                       fargate=False, requiresCompatibilities=["EC2"], cpu="1024", memory="2048",
                       runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2019_CORE",
                                        "cpuArchitecture": "X86_64"})
        # Only the latest ACTIVE revision counts: 1 privileged, 2 fine, 3 privileged but deregistered.
        self._register("rev", [_container("app", privileged=True)], task_role="task-pass")
        self.arn["rev:2"] = self._register("rev", [_container("app")], task_role="task-pass")
        third = self._register("rev", [_container("app", privileged=True)], task_role="task-pass")
        self.ecs.deregister_task_definition(taskDefinition=third)
        self.arn["rev:1"] = self.arn["rev"].rsplit(":", 1)[0] + ":1"
        self.arn["rev:3"] = third
        self._register("same-role", [_container("app")], task_role="exec-as-task",
                       executionRoleArn=self.arn["exec-as-task"])
        self._register("notres", [_container("app")], task_role="task-notres")
        self._register("pull", [_container("app")], task_role="task-pull")
        self._register("logs", [_container("app")], task_role="task-logs")
        self._register("firelens", [_container("app"), _container(
            "router", firelensConfiguration={"type": "fluentbit"}, portMappings=None)],
            task_role="task-firelens")

    def _service(self, key: str, cluster: str, *, groups=("good",), public="DISABLED", version=None,
                 balanced=True, tags=True, **fields) -> str:
        args = dict(cluster=cluster, serviceName=self.name(key), taskDefinition=self.arn["good"],
                    desiredCount=0, launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
                        "subnets": self.subnets, "securityGroups": [self.sg[g] for g in groups],
                        "assignPublicIp": public}})
        if version:
            args["platformVersion"] = version
        if balanced:
            args["loadBalancers"] = [{"targetGroupArn": self.tg, "containerName": "app", "containerPort": 8080}]
        if tags:
            args["tags"] = self.tags()
        args.update(fields)
        service = self.ecs.create_service(**{k: v for k, v in args.items() if v is not None})["service"]
        self.arn[key] = service["serviceArn"]
        return service["serviceArn"]

    def _clusters_and_services(self):
        ecs = self.ecs
        self.arn["cluster"] = ecs.create_cluster(
            clusterName=self.name("cluster"), tags=self.tags(),
            settings=[{"name": "containerInsights", "value": "enabled"}])["cluster"]["clusterArn"]
        self.arn["enhanced"] = ecs.create_cluster(
            clusterName=self.name("enhanced"), tags=self.tags(),
            settings=[{"name": "containerInsights", "value": "enhanced"}])["cluster"]["clusterArn"]
        self.arn["bare"] = ecs.create_cluster(clusterName=self.name("bare"))["cluster"]["clusterArn"]
        cluster = self.arn["cluster"]
        self._service("svc-good", cluster, version="1.4.0")
        self._service("svc-public", cluster, public="ENABLED", version="1.3.0", tags=False,
                      groups=("world", "world6"))
        self._service("svc-vpc", cluster, groups=("vpc", "other"))
        # An EXTERNAL controller's service keeps its tasks in task sets.
        external = self._service("svc-external", cluster, balanced=False, deploymentController={"type": "EXTERNAL"},
                                 launchType=None, networkConfiguration=None, taskDefinition=None, desiredCount=None)
        for key, public in (("ts-public", "ENABLED"), ("ts-private", "DISABLED")):
            self.arn[key] = ecs.create_task_set(
                cluster=cluster, service=external, taskDefinition=self.arn["good"], launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {
                    "subnets": self.subnets, "securityGroups": [self.sg["good"]], "assignPublicIp": public}},
            )["taskSet"]["taskSetArn"]

    def _capacity_providers(self):
        ec2, asg = self.ec2, self.s.client("autoscaling")
        ec2.create_launch_template(LaunchTemplateName=self.name("lt"), LaunchTemplateData={
            "ImageId": "ami-12345678", "InstanceType": "t3.medium"})
        for key, protection in (("cp-on", "ENABLED"), ("cp-off", "DISABLED")):
            asg.create_auto_scaling_group(
                AutoScalingGroupName=self.name(key), MinSize=0, MaxSize=1, DesiredCapacity=0,
                LaunchTemplate={"LaunchTemplateName": self.name("lt"), "Version": "$Latest"},
                VPCZoneIdentifier=",".join(self.subnets), NewInstancesProtectedFromScaleIn=True)
            group_arn = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[self.name(key)])[
                "AutoScalingGroups"][0]["AutoScalingGroupARN"]
            self.arn[key] = self.ecs.create_capacity_provider(
                name=self.name(key), tags=self.tags(), autoScalingGroupProvider={
                    "autoScalingGroupArn": group_arn, "managedTerminationProtection": protection,
                    "managedScaling": {"status": "ENABLED"}})["capacityProvider"]["capacityProviderArn"]


@pytest.fixture(scope="module")
def world(emulator):
    from mylearning.backend import connect
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MYLEARNING_LEARNER", "sec" + uuid.uuid4().hex[:8])
        session = connect(quiet=True)
        yield World(session)


@pytest.fixture(scope="module")
def recorded(world):
    recorder = Recorder(world.s)
    return security.scan(recorder), recorder


@pytest.fixture(scope="module")
def report(recorded):
    return recorded[0]


def status(report: Report, control: str, resource: str) -> str:
    found = report.statuses(control, resource)
    assert len(found) == 1, f"{control} on {resource}: {found or 'no finding'}"
    return found.pop()


# ------------------------------------------------------------------ Security Hub's ECS controls
@pytest.mark.parametrize("control, good, bad", [
    ("ECS.1", "host-nonroot", "bad"),
    ("ECS.3", "good", "bad"),
    ("ECS.4", "good", "bad"),
    ("ECS.5", "good", "bad"),
    ("ECS.8", "good", "bad"),
    ("ECS.9", "good", "bad"),
    ("ECS.15", "good", "bad"),
    ("ECS.17", "good", "host-nonroot"),
    ("ECS.18", "good", "bad"),
    ("ECS.20", "good", "root-user"),
    ("ECS.21", "win-user", "win"),
])
def test_task_definition_controls(world, report, control, good, bad):
    assert status(report, control, world.arn[good]) == PASSED
    assert status(report, control, world.arn[bad]) == FAILED


def test_task_definition_details_name_the_containers(world, report):
    bad = report.resource(world.arn["bad"]).failed()
    details = {f.control_id: f.detail for f in bad}
    assert "container rootapp" in details["ECS.1"] and "container privileged" not in details["ECS.1"]  # opted in
    assert details["ECS.4"] == "container privileged is privileged"
    assert "rootapp" in details["ECS.5"] and "privileged" in details["ECS.5"]
    # ECS.8 matches the key names exactly: AWS_SECRET_ACCESS_KEY_HINT is not one of them.
    assert details["ECS.8"] == "container rootapp passes AWS_SECRET_ACCESS_KEY in environment"
    assert details["ECS.9"] == "container rootapp has no log driver"
    # No operating system family: both the Linux and the Windows user controls evaluate it.
    assert {"ECS.20", "ECS.21"} <= set(details)


def test_controls_that_do_not_apply_give_no_finding(world, report):
    # ECS.5 and ECS.20 skip Windows task definitions; ECS.21 skips Linux ones; ECS.18 skips
    # task definitions without EFS volumes.
    for control in ("ECS.5", "ECS.20"):
        assert not report.statuses(control, world.arn["win"])
    assert not report.statuses("ECS.21", world.arn["good"])
    assert not report.statuses("ECS.18", world.arn["root-user"])


def test_only_the_latest_active_revision_is_evaluated(world, report):
    assert status(report, "ECS.4", world.arn["rev:2"]) == PASSED
    for older in ("rev:1", "rev:3"):  # an older revision, and a newer but deregistered one
        assert not report.resource(world.arn[older]).findings


@pytest.mark.parametrize("control, good, bad", [
    ("ECS.2", "svc-good", "svc-public"),
    ("ECS.10", "svc-good", "svc-public"),
    ("ECS.13", "svc-good", "svc-public"),
    ("ECS.12", "cluster", "bare"),
    ("ECS.14", "cluster", "bare"),
    ("ECS.16", "ts-private", "ts-public"),
    ("ECS.19", "cp-on", "cp-off"),
])
def test_service_cluster_task_set_and_provider_controls(world, report, control, good, bad):
    assert status(report, control, world.arn[good]) == PASSED
    assert status(report, control, world.arn[bad]) == FAILED


def test_container_insights_enhanced_counts_and_latest_passes(world, report):
    assert status(report, "ECS.12", world.arn["enhanced"]) == PASSED
    # platformVersion LATEST (the default) is the latest.
    assert status(report, "ECS.10", world.arn["svc-vpc"]) == PASSED


def test_required_tag_keys(world):
    scoped = security.scan(world.s, required_tag_keys=["course", "owner"]).control("ECS.14")
    finding = next(f for f in scoped if f.resource == world.arn["cluster"])
    assert finding.status == FAILED and "owner" in finding.detail and "course" not in finding.detail
    with pytest.raises(ValueError, match="at most 6"):
        security.scan(world.s, required_tag_keys=[f"k{i}" for i in range(7)])
    with pytest.raises(ValueError, match="system"):
        security.scan(world.s, required_tag_keys=["aws:cloudformation:stack-name"])


# ------------------------------------------------------------------ the course's IAM checks
def test_task_role_wildcards(world, report):
    assert status(report, "MYL.IAM.1", world.arn["task-good"]) == PASSED  # X-Ray takes no ARN
    wild = report.resource(world.arn["task-wild"]).control("MYL.IAM.1").findings[0]
    assert wild.status == FAILED and "s3:*" in wild.detail and "dynamodb:GetItem on every resource" in wild.detail
    # The execution role is judged for its own job, not for the managed policy's "*".
    assert not report.statuses("MYL.IAM.1", world.arn["exec"])


def test_pass_role_on_every_role(world, report):
    assert status(report, "MYL.IAM.2", world.arn["task-pass"]) == FAILED
    assert status(report, "MYL.IAM.2", world.arn["task-notres"]) == FAILED  # NotResource: all but one
    assert status(report, "MYL.IAM.2", world.arn["task-good"]) == PASSED
    assert status(report, "MYL.IAM.2", world.arn["exec"]) == PASSED


def test_execution_and_task_role_confusion(world, report):
    assert status(report, "MYL.IAM.3", world.arn["task-good"]) == PASSED
    same = report.resource(world.arn["exec-as-task"]).control("MYL.IAM.3").findings[0]
    assert same.status == FAILED and "both task role and execution role" in same.detail
    assert "AmazonECSTaskExecutionRolePolicy attached" in same.detail
    # Used as a task role, the managed policy's ECR and logs actions on "*" are too wide.
    assert status(report, "MYL.IAM.1", world.arn["exec-as-task"]) == FAILED
    assert status(report, "MYL.IAM.3", world.arn["task-pull"]) == FAILED
    assert status(report, "MYL.IAM.3", world.arn["task-logs"]) == FAILED
    # A FireLens log router writes to CloudWatch Logs with the task role: not confusion.
    assert status(report, "MYL.IAM.3", world.arn["task-firelens"]) == PASSED


# ------------------------------------------------------------------ the course's network checks
def _sg_arn(world, key):
    return f"arn:aws:ec2:{world.s.region_name}:{world.account}:security-group/{world.sg[key]}"


def test_task_groups_open_to_the_internet(world, report):
    assert status(report, "MYL.NET.1", _sg_arn(world, "good")) == PASSED
    assert status(report, "MYL.NET.1", _sg_arn(world, "world")) == FAILED
    assert status(report, "MYL.NET.1", _sg_arn(world, "world6")) == FAILED  # ::/0 on every port
    assert status(report, "MYL.NET.1", _sg_arn(world, "vpc")) == PASSED
    assert status(report, "MYL.NET.1", _sg_arn(world, "other")) == PASSED  # 22 is no task port
    # The load balancer's group, open to the world on 80, is not a task group.
    assert not [f for f in report if world.alb_sg in f.resource]


def test_tasks_reachable_around_the_load_balancer(world, report):
    assert status(report, "MYL.NET.2", _sg_arn(world, "good")) == PASSED
    direct = report.resource(_sg_arn(world, "vpc")).control("MYL.NET.2").findings[0]
    assert direct.status == FAILED and "10.0.0.0/16" in direct.detail and world.alb_sg in direct.detail


# ------------------------------------------------------------------ the report
def test_report_counts_filters_and_renders(world, report):
    counts = report.counts()
    assert list(counts) == list(sh.SEVERITIES)
    assert sum(counts.values()) == len(report.failed()) > 0
    assert counts["HIGH"] == len([f for f in report.failed() if f.severity == "HIGH"])
    assert {f.status for f in report.failed()} == {FAILED}
    assert {f.control_id for f in report.control("MYL.IAM")} == {"MYL.IAM.1", "MYL.IAM.2", "MYL.IAM.3"}
    assert report.findings[0].failed and report.findings[0].severity == "HIGH"  # most severe first
    text, page = str(report), report._repr_html_()
    assert "ECS.2" in text and "fix: UpdateService" in text and world.arn["svc-public"] in text
    assert "<table" in page and world.arn["svc-public"] in page


def test_html_report_escapes_every_value(world, report, tmp_path):
    path = report.to_html(tmp_path / "scan.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert MARKUP not in page and "&lt;b&gt;x&lt;/b&gt;" in page  # the NotResource of task-notres
    hostile = Finding(sh.control("ECS.2"), '"><script>alert(1)</script>', FAILED, "<img src=x onerror=alert(1)>")
    page = Report([hostile], notes=["<i>note</i>"]).to_html(tmp_path / "hostile.html").read_text()
    assert "<script>" not in page and "<img" not in page and "<i>note" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x" in page


def test_course_scope_leaves_other_learners_alone(world, report, session):
    theirs = session.client("ecs").create_cluster(clusterName=session.name("cluster"))["cluster"]["clusterArn"]
    assert not report.resource(theirs).findings
    assert status(security.scan(world.s, scope="account"), "ECS.14", theirs) == FAILED
    with pytest.raises(ValueError, match="scope"):
        security.scan(world.s, scope="everything")


# ------------------------------------------------------------------ read-only, denials, pages
READ_ONLY = ("Describe", "List", "Get")


def test_the_scan_makes_no_mutating_call(recorded):
    _, recorder = recorded
    operations = recorder.operations()
    assert {"ListClusters", "DescribeServices", "DescribeTaskSets", "ListTaskDefinitionFamilies",
            "GetRolePolicy", "DescribeSecurityGroups"} <= operations
    assert all(op.startswith(READ_ONLY) for op in operations), sorted(operations)


def test_a_denied_call_becomes_a_note(world):
    recorder = Recorder(world.s, deny=("GetRole", "DescribeSecurityGroups"))
    report = security.scan(recorder)
    assert any("iam:GetRole was denied" in n for n in report.notes)
    assert any("ec2:DescribeSecurityGroups was denied" in n for n in report.notes)
    assert not report.control("MYL.IAM", "MYL.NET").findings
    assert status(report, "ECS.4", world.arn["bad"]) == FAILED  # the rest was read
    assert "denied" in str(report) and "denied" in report._repr_html_()


def test_every_page_is_read(session):
    """ListServices answers 10 services a page unless asked for more; 12 need two pages, and
    DescribeServices takes at most 10 names a call."""
    ecs = session.client("ecs")
    cluster = ecs.create_cluster(clusterName=session.name("many"))["cluster"]["clusterArn"]
    family = ecs.register_task_definition(family=session.name("tiny"), containerDefinitions=[
        {"name": "app", "image": "public.ecr.aws/mylearning/courses-api:1.1.0", "memory": 64}],
        requiresCompatibilities=["EC2"])["taskDefinition"]["taskDefinitionArn"]
    arns = {ecs.create_service(cluster=cluster, serviceName=session.name(f"s{i:02d}"), taskDefinition=family,
                               desiredCount=0, launchType="EC2")["service"]["serviceArn"] for i in range(12)}
    recorder = Recorder(session)
    report = security.scan(recorder)
    assert {f.resource for f in report.control("ECS.13")} == arns
    pages = [params for op, params in recorder.calls if op == "ListServices"]
    assert len(pages) == 2 and "nextToken" in pages[1]
    described = [params["services"] for op, params in recorder.calls if op == "DescribeServices"]
    assert sorted(len(batch) for batch in described) == [2, 10]
