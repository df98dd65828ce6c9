"""A small ECS world on a real emulator + data plane, for the data plane's integration tests.

Everything goes through boto3, as a learner's notebook would; each test gets a fresh
account (the emulator is reset) so tasks of one test never meet another's.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any, Callable

import boto3

COURSES = "public.ecr.aws/mylearning/courses-api:1.1.0"
REGION = "us-east-1"


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 20.0, every: float = 0.05) -> Any:
    """Poll `probe` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


class World:
    def __init__(self, url: str) -> None:
        self.url = url
        session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)
        from botocore.config import Config
        # No host prefix (DiscoverInstances would go to "data-127.0.0.1"), as mylearning's clients.
        config = Config(inject_host_prefix=False)
        self.client = lambda name: session.client(name, endpoint_url=url, config=config)
        self.ecs, self.ec2, self.iam = self.client("ecs"), self.client("ec2"), self.client("iam")
        self.logs, self.sm = self.client("logs"), self.client("secretsmanager")
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.subnets = [self.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24",
                                               AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
                        for n, z in ((1, "a"), (2, "b"))]
        self.vpc = vpc
        self.ecs.create_cluster(clusterName="c")
        # Open to the internet (the test process) on every TCP port: tests of what runs reach
        # tasks directly; tests of security groups make their own.
        self.open_sg = self.ec2.create_security_group(GroupName="open", Description="all TCP", VpcId=vpc)["GroupId"]
        self.ec2.authorize_security_group_ingress(GroupId=self.open_sg, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        self.network = {"awsvpcConfiguration": {"subnets": self.subnets, "securityGroups": [self.open_sg]}}
        self.logs.create_log_group(logGroupName="/ecs/app")
        self.secret = self.sm.create_secret(
            Name="db", SecretString=json.dumps({"username": "app", "password": "s3cret"}))["ARN"]
        self.role = self._role("exec", secrets=True)
        self.role_without_secrets = self._role("exec-nosecrets", secrets=False)

    def _role(self, name: str, secrets: bool) -> str:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        self.iam.attach_role_policy(RoleName=name, PolicyArn=(
            "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"))
        if secrets:
            self.iam.put_role_policy(RoleName=name, PolicyName="secrets", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                                                         "Resource": self.secret}]}))
        return arn

    def container(self, name: str = "app", image: str = COURSES, *, env: dict | None = None,
                  secrets: bool = True, **extra: Any) -> dict:
        spec: dict[str, Any] = {
            "name": name, "image": image, "essential": True,
            "portMappings": [{"containerPort": 8080}] if image.split("/")[-1].startswith(("courses", "enroll", "web")) else [],
            "environment": [{"name": k, "value": str(v)} for k, v in (env or {}).items()],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/app", "awslogs-region": REGION, "awslogs-stream-prefix": "svc"}},
        }
        if secrets:
            spec["secrets"] = [{"name": "DB_USER", "valueFrom": f"{self.secret}:username::"},
                               {"name": "DB_PASSWORD", "valueFrom": f"{self.secret}:password::"}]
        spec.update(extra)
        return spec

    def register(self, *containers: dict, family: str = "f", role: str | None = "default",
                 memory: str = "512", **extra: Any) -> str:
        td = self.ecs.register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
            memory=memory, executionRoleArn=self.role if role == "default" else role,
            containerDefinitions=list(containers) or [self.container()], **extra)["taskDefinition"]
        return td["taskDefinitionArn"]

    def run(self, taskdef: str) -> dict:
        return self.ecs.run_task(cluster="c", taskDefinition=taskdef, launchType="FARGATE",
                                 networkConfiguration=self.network)["tasks"][0]

    def task(self, arn: str) -> dict:
        return self.ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"][0]

    def wait_status(self, arn: str, status: str, timeout: float = 20.0) -> dict:
        return wait_for(f"task {arn.rsplit('/', 1)[1]} {status}",
                        lambda: (lambda t: t if t["lastStatus"] == status else None)(self.task(arn)), timeout)

    def service(self, name: str = "s") -> dict:
        return self.ecs.describe_services(cluster="c", services=[name])["services"][0]

    def service_tasks(self, name: str = "s", desired: str = "RUNNING") -> list[dict]:
        arns = self.ecs.list_tasks(cluster="c", serviceName=name, desiredStatus=desired)["taskArns"]
        return self.ecs.describe_tasks(cluster="c", tasks=arns)["tasks"] if arns else []

    @property
    def proxy(self) -> str:
        with urllib.request.urlopen(self.url + "/mylearning/health") as resp:
            return json.loads(resp.read())["dataplane"]["proxy"]

    def get(self, url: str, timeout: float = 5.0) -> tuple[int, bytes]:
        """GET through the data plane's edge proxy, as any HTTP client on the internet would."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": self.proxy}))
        try:
            with opener.open(url, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def post(self, url: str, payload: Any, timeout: float = 5.0) -> tuple[int, bytes]:
        """POST JSON through the data plane's edge proxy."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": self.proxy}))
        request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with opener.open(request, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()


def private_ip(task: dict) -> str:
    from mylearning.facts.ecs import task_private_ip
    found = task_private_ip(task)
    assert found, f"task has no private IP: {task.get('attachments')}"
    return found
