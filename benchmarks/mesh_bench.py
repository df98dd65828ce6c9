"""App Mesh data plane: what the sidecars and a virtual gateway add, with and without mutual TLS,
and how soon ``update_route`` is in effect.

Prints, in one run, against a fresh `mylearning emulator` (with its data plane) running a small
mesh in ECS (mesh ``shop``: the router ``courses-router`` behind the virtual service
``courses.shop.internal``, weighted targets courses-v1 and courses-v2; ``enrollment``, whose
node's backend is that service; a virtual gateway ``front`` whose routes keep the path), and
the same two services off the mesh (``courses-plain``, ``enrollment-plain``):

* median and p99 of sequential keep-alive requests, in alternating blocks so that every path
  sees the same machine load, and requests per second with 32 concurrent keep-alive clients:

  - ``direct``: this process stands for enrollment's app (it connects from enrollment's task
    address) and calls courses-plain through the task network (the data plane's edge);
  - ``two sidecars``: the same call as a meshed app makes it, to its proxy's egress listener
    (the task's address, port 15001, as ``proxyConfiguration`` redirects it), then through the
    task network to courses-v1's proxy's ingress and its app: client -> sidecar egress ->
    sidecar ingress -> app;
  - ``chain direct``: POST /api/enroll from the internet to enrollment-plain, which calls
    courses-plain (two apps, two network hops);
  - ``gateway + two sidecars``: the same POST to the virtual gateway, then enrollment's sidecar
    (ingress), its app, its sidecar again (egress) and courses-v1's sidecar (ingress): four
    proxy traversals and one more network hop (the gateway is a task of its own);
  - both meshed paths again with mutual TLS between the proxies (file certificates from
    ``mylearning.pki`` written by an init container, as the App Mesh mutual-TLS walkthrough
    does; the listeners STRICT with a validation, the client policies with a certificate);

* one network hop through the edge (enrollment's admin /ready, straight to the task's address
  and through the edge), which the gateway path has once more than its baseline;
* issue #12's targets: each proxy hop adds under 1 ms at the median; at least 1,000 requests/s
  through the gateway and two sidecars on 2 cores;
* the time from an ``update_route`` call (all weight moved from one target to the other) to the
  first answer from the new target, at enrollment's sidecar and at the gateway (DESIGN.md: a mesh
  configuration change reaches every proxy within 1 s).

Figures are printed, never asserted.

Run: PYTHONPATH=. .venv/bin/python benchmarks/mesh_bench.py [--requests 1000] [--seconds 3]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGION = "us-east-1"
MESH, NAMESPACE = "shop", "shop.internal"
COURSES = f"courses.{NAMESPACE}"
ENVOY = "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0-prod"
BUSYBOX = "public.ecr.aws/docker/library/busybox:1.36"
IMAGES = {"courses-plain": "courses-api:1.1.0", "courses-v1": "courses-api:1.1.0", "courses-v2": "courses-api:1.2.0",
          "enrollment-plain": "enrollment:1.0.0", "enrollment": "enrollment:1.0.0"}
MESHED = ("courses-v1", "courses-v2", "enrollment")
COURSE_PATH = "/api/courses/ecs-101"
ENROLL = json.dumps({"learner": "bench", "course": "ecs-101"}).encode()  # 1.0.0 keeps no duplicate check
PROXY_PROPERTIES = {"IgnoredUID": "1337", "ProxyIngressPort": "15000", "ProxyEgressPort": "15001",
                    "AppPorts": "8080", "EgressIgnoredIPs": "169.254.170.2,169.254.169.254"}
KEYS = "/keys"
CLIENTS = 32


# ----------------------------------------------------------------------------- set-up

def start_emulator() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "mylearning", "emulator", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 90.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(every)
    raise SystemExit(f"timed out setting up the benchmark: {what}")


class Bench:
    """The AWS side of the benchmark, built through boto3 as a learner would."""

    def __init__(self, url: str) -> None:
        import boto3
        from botocore.config import Config
        session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)
        config = Config(inject_host_prefix=False)
        self.client = lambda name: session.client(name, endpoint_url=url, config=config)
        self.ecs, self.ec2, self.iam = self.client("ecs"), self.client("ec2"), self.client("iam")
        self.appmesh, self.logs = self.client("appmesh"), self.client("logs")
        with urllib.request.urlopen(url + "/mylearning/health") as resp:
            self.edge = json.loads(resp.read())["dataplane"]["proxy"]
        self.ips: dict[str, str] = {}
        self.addresses: dict[str, str] = {}  # the meshed tasks' own (loopback) addresses

    # --- network, roles, certificates -------------------------------------------------

    def network(self) -> None:
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.vpc = vpc
        subnets = [self.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"]["SubnetId"] for n, z in ((1, "a"), (2, "b"))]
        group = self.ec2.create_security_group(GroupName="open", Description="all TCP", VpcId=vpc)["GroupId"]
        self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        self.awsvpc = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}}
        self.ecs.create_cluster(clusterName="bench")
        self.logs.create_log_group(logGroupName="/bench/envoy")

    def role(self, name: str, actions: list[str], resources: list[str] | str = "*", execution: bool = False) -> str:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        if execution:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=(
                "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"))
        self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]}))
        return arn

    def certificates(self) -> None:
        """A CA and one certificate per proxy (SAN: its Cloud Map name, which a client policy
        without a SAN list expects, tls.html), the keys in Secrets Manager."""
        from mylearning import pki
        ca = pki.create_ca("shop CA")
        sm = self.client("secretsmanager")
        self.pems: dict[str, tuple[str, str, str]] = {}  # proxy -> (chain, CA, key secret ARN)
        for proxy in (*MESHED, "front"):
            issued = ca.issue(f"{proxy}.{NAMESPACE}")
            key = sm.create_secret(Name=f"{proxy}-key", SecretString=issued.private_key_pem())["ARN"]
            self.pems[proxy] = (issued.chain_pem, ca.certificate_pem, key)
        self.execution = self.role("exec", ["secretsmanager:GetSecretValue"],
                                   [key for _, _, key in self.pems.values()], execution=True)
        self.task_role = self.role("meshed", ["appmesh:StreamAggregatedResources"])

    # --- the mesh ------------------------------------------------------------------------

    def mesh(self) -> None:
        api = self.appmesh
        api.create_mesh(meshName=MESH)
        listener = {"portMapping": {"port": 8080, "protocol": "http"}}
        self.arns: dict[str, str] = {}
        for name in MESHED:
            node = api.create_virtual_node(meshName=MESH, virtualNodeName=name, spec=self.node_spec(name, tls=False))
            self.arns[name] = node["virtualNode"]["metadata"]["arn"]
        api.create_virtual_router(meshName=MESH, virtualRouterName="courses-router", spec={"listeners": [listener]})
        api.create_route(meshName=MESH, virtualRouterName="courses-router", routeName="all",
                         spec=self.route_spec(1, 0))
        api.create_virtual_service(meshName=MESH, virtualServiceName=COURSES, spec={
            "provider": {"virtualRouter": {"virtualRouterName": "courses-router"}}})
        api.create_virtual_service(meshName=MESH, virtualServiceName=f"enrollment.{NAMESPACE}", spec={
            "provider": {"virtualNode": {"virtualNodeName": "enrollment"}}})
        self.arns["front"] = api.create_virtual_gateway(meshName=MESH, virtualGatewayName="front",
                                                        spec=self.gateway_spec(tls=False))[
            "virtualGateway"]["metadata"]["arn"]
        for name, prefix, service in (("enroll", "/api/enroll", f"enrollment.{NAMESPACE}"),
                                      ("courses", "/api/courses", COURSES)):
            api.create_gateway_route(meshName=MESH, virtualGatewayName="front", gatewayRouteName=name, spec={
                "httpRoute": {"match": {"prefix": prefix}, "action": {
                    "target": {"virtualService": {"virtualServiceName": service}},
                    "rewrite": {"prefix": {"defaultPrefix": "DISABLED"}}}}})

    @staticmethod
    def route_spec(v1: int, v2: int) -> dict:
        return {"httpRoute": {"match": {"prefix": "/"}, "action": {"weightedTargets": [
            {"virtualNode": "courses-v1", "weight": v1}, {"virtualNode": "courses-v2", "weight": v2}]}}}

    @staticmethod
    def _client_tls() -> dict:
        return {"tls": {"validation": {"trust": {"file": {"certificateChain": f"{KEYS}/ca.pem"}}},
                        "certificate": {"file": {"certificateChain": f"{KEYS}/cert.pem",
                                                 "privateKey": f"{KEYS}/key.pem"}}}}

    def node_spec(self, name: str, tls: bool) -> dict:
        """With `tls`, mutual TLS: a STRICT listener that validates its clients' certificates, and
        a client policy that trusts the CA and presents the node's own (mutual-tls.html)."""
        listener: dict = {"portMapping": {"port": 8080, "protocol": "http"}}
        if tls and name != "courses-v2":
            listener["tls"] = {"mode": "STRICT",
                               "certificate": {"file": {"certificateChain": f"{KEYS}/cert.pem",
                                                        "privateKey": f"{KEYS}/key.pem"}},
                               "validation": {"trust": {"file": {"certificateChain": f"{KEYS}/ca.pem"}}}}
        spec: dict = {"listeners": [listener],
                      "serviceDiscovery": {"awsCloudMap": {"namespaceName": NAMESPACE, "serviceName": name}}}
        if name == "enrollment":
            backend: dict = {"virtualServiceName": COURSES}
            if tls:
                backend["clientPolicy"] = self._client_tls()
            spec["backends"] = [{"virtualService": backend}]
        return spec

    def gateway_spec(self, tls: bool) -> dict:
        spec: dict = {"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]}
        if tls:
            spec["backendDefaults"] = {"clientPolicy": self._client_tls()}
        return spec

    # --- ECS -----------------------------------------------------------------------------

    def _envoy(self, proxy: str, ports: tuple[int, ...]) -> list[dict]:
        """The proxy container and the init container that writes its certificate files."""
        chain, ca, key = self.pems[proxy]
        script = (f'mkdir -p {KEYS} && printf "%s\\n" "$CHAIN" > {KEYS}/cert.pem && '
                  f'printf "%s\\n" "$CA" > {KEYS}/ca.pem && printf "%s\\n" "$KEY" > {KEYS}/key.pem')
        init = {"name": "certs", "image": BUSYBOX, "essential": False, "command": ["sh", "-c", script],
                "environment": [{"name": "CHAIN", "value": chain}, {"name": "CA", "value": ca}],
                "secrets": [{"name": "KEY", "valueFrom": key}],
                "mountPoints": [{"sourceVolume": "keys", "containerPath": KEYS}]}
        envoy = {"name": "envoy", "image": ENVOY, "essential": True, "user": "1337",
                 "environment": [{"name": "APPMESH_RESOURCE_ARN", "value": self.arns[proxy]}],
                 "portMappings": [{"containerPort": p} for p in ports],
                 "dependsOn": [{"containerName": "certs", "condition": "SUCCESS"}],
                 "mountPoints": [{"sourceVolume": "keys", "containerPath": KEYS, "readOnly": True}],
                 # Its start-up line names the task's own address ("admin address: ..."), where
                 # the meshed app reaches its proxy's egress listener.
                 "logConfiguration": {"logDriver": "awslogs", "options": {
                     "awslogs-group": "/bench/envoy", "awslogs-region": REGION, "awslogs-stream-prefix": proxy}},
                 "healthCheck": {"command": ["CMD-SHELL", "curl -s http://localhost:9901/server_info | "
                                                          "grep state | grep -q LIVE"],
                                 "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 10}}
        return [init, envoy]

    def services(self) -> None:
        sd = self.client("servicediscovery")
        operation = sd.create_private_dns_namespace(Name=NAMESPACE, Vpc=self.vpc)["OperationId"]
        namespace = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
        for name, image in IMAGES.items():
            upstream = (f"http://{COURSES}:8080" if name == "enrollment" else
                        f"http://courses-plain.{NAMESPACE}:8080")
            env = {"DB_USER": "app", "DB_PASSWORD": "bench", "COURSES_API_URL": upstream}
            app = {"name": "app", "image": f"public.ecr.aws/mylearning/{image}", "essential": True,
                   "portMappings": [{"containerPort": 8080}],
                   "environment": [{"name": k, "value": v} for k, v in env.items()]}
            extra: dict = {}
            containers = [app]
            if name in MESHED:
                app["dependsOn"] = [{"containerName": "envoy", "condition": "HEALTHY"}]
                containers += self._envoy(name, (9901,))
                extra = {"proxyConfiguration": {"type": "APPMESH", "containerName": "envoy", "properties": [
                    {"name": k, "value": v} for k, v in PROXY_PROPERTIES.items()]}, "taskRoleArn": self.task_role,
                    "volumes": [{"name": "keys"}]}
            self.ecs.register_task_definition(family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                              cpu="256", memory="1024", executionRoleArn=self.execution,
                                              containerDefinitions=containers, **extra)
            registry = sd.create_service(Name=name, NamespaceId=namespace,
                                         DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]},
                                         HealthCheckCustomConfig={"FailureThreshold": 1})["Service"]["Arn"]
            self.ecs.create_service(cluster="bench", serviceName=name, taskDefinition=name, desiredCount=1,
                                    launchType="FARGATE", networkConfiguration=self.awsvpc,
                                    serviceRegistries=[{"registryArn": registry}])
        # The gateway: Envoy alone, listening on the gateway's port (virtual_gateways.html).
        self.ecs.register_task_definition(family="front", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                          cpu="256", memory="512", executionRoleArn=self.execution,
                                          taskRoleArn=self.task_role, volumes=[{"name": "keys"}],
                                          containerDefinitions=self._envoy("front", (8080, 9901)))
        self.ecs.create_service(cluster="bench", serviceName="front", taskDefinition="front", desiredCount=1,
                                launchType="FARGATE", networkConfiguration=self.awsvpc)

    def wait_running(self) -> None:
        from mylearning.facts.ecs import task_private_ip
        for name in (*IMAGES, "front"):
            def running() -> dict | None:
                arns = self.ecs.list_tasks(cluster="bench", serviceName=name)["taskArns"]
                tasks = self.ecs.describe_tasks(cluster="bench", tasks=arns)["tasks"] if arns else []
                return next((t for t in tasks if t["lastStatus"] == "RUNNING" and all(
                    c["lastStatus"] == "RUNNING" for c in t["containers"] if c["name"] != "certs")), None)
            task = wait_for(f"a running task of {name}", running)
            self.ips[name] = task_private_ip(task)
            if name in (*MESHED, "front"):
                self.addresses[name] = wait_for(f"{name}'s proxy's address", lambda: self._address(name))

    def _address(self, proxy: str) -> str | None:
        kind = "virtualGateway" if proxy == "front" else "virtualNode"
        events = self.logs.filter_log_events(logGroupName="/bench/envoy", filterPattern="admin address")["events"]
        found = [re.search(r"admin address: ([\d.]+):", e["message"]) for e in events
                 if f"/{kind}/{proxy};" in e["message"]]
        return found[-1].group(1) if found and found[-1] else None

    # --- reading proxies -----------------------------------------------------------------

    def stats(self, proxy: str) -> dict[str, int]:
        with urllib.request.urlopen(f"http://{self.addresses[proxy]}:9901/stats") as resp:
            return {k: int(v) for k, v in (line.split(": ", 1) for line in resp.read().decode().splitlines())
                    if v.lstrip("-").isdigit()}

    def config(self, proxy: str) -> dict:
        with urllib.request.urlopen(f"http://{self.addresses[proxy]}:9901/config_dump") as resp:
            return json.loads(resp.read())["configs"][0]


# ----------------------------------------------------------------------------- where the CPU goes

class CpuMeter:
    """CPU time by role, from /proc (Linux): the emulator (control plane), the data plane's process
    (the edge that is the task network, plus the agent, the management service...), each proxy,
    the apps (every other container process), this process (the client), and the rest of the
    machine (other people's work on a shared box). Roles of container processes are told by the
    sockets they listen on: a proxy's egress port on its task's address, the gateway's port."""

    def __init__(self, emulator_pid: int, addresses: dict[str, str]) -> None:
        import os
        self.tick = os.sysconf("SC_CLK_TCK")
        children = self._children()
        mine = self._descendants(emulator_pid, children)
        listening = self._listening()
        self.roles: dict[int, str] = {emulator_pid: "control", os.getpid(): "client"}
        for pid in mine:
            if " -m mylearning.dataplane " in self._cmdline(pid):
                self.roles[pid] = "data plane"
                continue
            sockets = self._sockets(pid)
            role = "apps"
            for proxy, address in addresses.items():
                port = 8080 if proxy == "front" else 15001
                if listening.get((address, port)) in sockets:
                    role = "gateway" if proxy == "front" else f"sc {proxy}"
            self.roles[pid] = role
        self.roles = {pid: role for pid, role in self.roles.items() if role != "apps" or not self._children_of(
            pid, children)}  # a forkserver parent is no app

    @staticmethod
    def _children() -> dict[int, list[int]]:
        import os
        out: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    ppid = int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                out.setdefault(ppid, []).append(int(entry))
        return out

    @staticmethod
    def _children_of(pid: int, children: dict[int, list[int]]) -> list[int]:
        return children.get(pid, [])

    def _descendants(self, pid: int, children: dict[int, list[int]]) -> list[int]:
        out, todo = [], list(children.get(pid, []))
        while todo:
            child = todo.pop()
            out.append(child)
            todo += children.get(child, [])
        return out

    @staticmethod
    def _cmdline(pid: int) -> str:
        try:
            return open(f"/proc/{pid}/cmdline").read().replace("\0", " ")
        except OSError:
            return ""

    @staticmethod
    def _listening() -> dict[tuple[str, int], str]:
        """(address, port) -> socket inode, for the machine's listening IPv4 TCP sockets."""
        import socket
        import struct
        out = {}
        with open("/proc/net/tcp") as table:
            for line in list(table)[1:]:
                fields = line.split()
                if fields[3] != "0A":  # LISTEN
                    continue
                address, port = fields[1].split(":")
                ip = socket.inet_ntoa(struct.pack("<I", int(address, 16)))
                out[(ip, int(port, 16))] = fields[9]
        return out

    @staticmethod
    def _sockets(pid: int) -> set[str]:
        import os
        found = set()
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        found.add(target[8:-1])
        except OSError:
            pass
        return found

    def snapshot(self) -> dict[str, float]:
        """Seconds of CPU used so far by each role, and by the whole machine ("machine")."""
        out: dict[str, float] = {}
        for pid, role in self.roles.items():
            try:
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[role] = out.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / self.tick
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        out["machine"] = (sum(values) - values[3] - values[4]) / self.tick  # all but idle and iowait
        return out


def cpu_per_request(meter: CpuMeter | None, run: Callable[[], tuple[float, int]], seconds: float
                    ) -> tuple[tuple[float, int], dict[str, float]]:
    """Run a throughput measurement; also the CPU milliseconds per request of each role."""
    if meter is None:
        return run(), {}
    before = meter.snapshot()
    rate, errors = run()
    after = meter.snapshot()
    requests = max(1.0, rate * seconds)
    used = {role: (after.get(role, 0.0) - before.get(role, 0.0)) * 1000 / requests for role in after}
    used["others"] = used.pop("machine") - sum(used.values())
    return (rate, errors), used


# ----------------------------------------------------------------------------- measuring

class Target:
    """One way to reach an answer: where to connect, what to send, from which source address."""

    def __init__(self, name: str, proxy: str, url: str, method: str = "GET", body: bytes | None = None,
                 source: str | None = None) -> None:
        self.name, self.url, self.method, self.body, self.source = name, url, method, body, source
        host, port = proxy.removeprefix("http://").rsplit(":", 1)
        self.proxy_url, self.proxy = proxy, (host, int(port))
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(*self.proxy, timeout=10,
                                                   source_address=(self.source, 0) if self.source else None)
        return self.conn

    def once(self) -> tuple[int, bytes]:
        conn = self._connection()
        headers = {"Content-Type": "application/json"} if self.body else {}
        try:
            conn.request(self.method, self.url, body=self.body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            self.conn = None
            raise

    def timed(self, n: int) -> list[float]:
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            try:
                status, body = self.once()
            except (http.client.HTTPException, OSError) as error:
                raise SystemExit(f"{self.name}: {error!r}") from None
            out.append(time.perf_counter() - t0)
            if status not in (200, 201):
                raise SystemExit(f"{self.name}: {status} {body[:300]!r}")
        return out

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


async def _throughput(path: Target, seconds: float, clients: int) -> tuple[float, int]:
    import aiohttp
    done = errors = 0
    stop = time.perf_counter() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal done, errors
        while time.perf_counter() < stop:
            try:
                async with session.request(path.method, path.url, data=path.body, proxy=path.proxy_url,
                                           headers={"Content-Type": "application/json"} if path.body else None) as r:
                    await r.read()
                    errors += r.status not in (200, 201)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                errors += 1
            done += 1
    connector = aiohttp.TCPConnector(limit=clients, local_addr=(path.source, 0) if path.source else None)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        return done / (time.perf_counter() - t0), errors


def throughput(path: Target, seconds: float, clients: int = CLIENTS) -> tuple[float, int]:
    return asyncio.run(_throughput(path, seconds, clients))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latencies(paths: list[Target], requests: int, block: int) -> dict[str, list[float]]:
    """Sequential keep-alive requests on each path, in alternating blocks (same machine load)."""
    for path in paths:
        path.timed(100)  # warm-up: connections, pools, TLS sessions
    out: dict[str, list[float]] = {p.name: [] for p in paths}
    for _ in range(max(1, requests // block)):
        for path in paths:
            out[path.name] += path.timed(block)
    return out


def version_flip(bench: Bench, probes: dict[str, Target], to_v2: bool) -> dict[str, float]:
    """Seconds from the update_route call to each probe's first answer from the new target."""
    wanted = "1.2.0" if to_v2 else "1.1.0"
    seen: dict[str, float] = {}
    started = threading.Event()
    t0 = [0.0]

    def probe(name: str, path: Target) -> None:
        started.wait()
        deadline = time.perf_counter() + 20
        while time.perf_counter() < deadline:
            status, body = path.once()
            if status == 200 and json.loads(body).get("version") == wanted:
                seen[name] = time.perf_counter() - t0[0]
                return
    threads = [threading.Thread(target=probe, args=item) for item in probes.items()]
    for thread in threads:
        thread.start()
    t0[0] = time.perf_counter()
    started.set()
    bench.appmesh.update_route(meshName=MESH, virtualRouterName="courses-router", routeName="all",
                               spec=Bench.route_spec(0, 1) if to_v2 else Bench.route_spec(1, 0))
    for thread in threads:
        thread.join()
    return {name: seen.get(name, float("nan")) for name in probes}


def enable_mtls(bench: Bench, probes: list[Target]) -> None:
    """Mutual TLS on courses-v1's and enrollment's listeners and in enrollment's and the gateway's
    client policies; returns once both meshed paths really handshake."""
    for name in ("courses-v1", "enrollment"):
        bench.appmesh.update_virtual_node(meshName=MESH, virtualNodeName=name, spec=bench.node_spec(name, tls=True))
    bench.appmesh.update_virtual_gateway(meshName=MESH, virtualGatewayName="front", spec=bench.gateway_spec(tls=True))

    def handshaking() -> bool:
        for path in probes:
            try:
                status, _ = path.once()
            except (http.client.HTTPException, OSError):
                return False
            if status not in (200, 201):
                return False
        listener = "listener.0.0.0.0_15000.ssl"
        courses, enrollment = bench.stats("courses-v1"), bench.stats("enrollment")
        return (courses.get(f"{listener}.handshake", 0) >= 1 and enrollment.get(f"{listener}.handshake", 0) >= 1
                and courses.get(f"{listener}.no_certificate", 0) == 0)
    wait_for("mutual TLS between the proxies", handshaking, timeout=30, every=0.2)


# ----------------------------------------------------------------------------- the run

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--flips", type=int, default=4)
    args = parser.parse_args(argv)
    t_start = time.perf_counter()
    load = os.getloadavg()[0]
    proc, url = start_emulator()
    try:
        bench = Bench(url)
        bench.network()
        bench.certificates()
        bench.mesh()
        bench.services()
        bench.wait_running()
        setup = time.perf_counter() - t_start
        client = bench.addresses["enrollment"]  # this process stands for enrollment's app
        egress = f"http://{client}:15001"
        paths = {
            "direct": Target("direct", bench.edge, f"http://{bench.ips['courses-plain']}:8080{COURSE_PATH}",
                            source=client),
            "two sidecars": Target("two sidecars", egress, f"http://{COURSES}:8080{COURSE_PATH}", source=client),
            "chain direct": Target("chain direct", bench.edge, f"http://{bench.ips['enrollment-plain']}:8080/api/enroll",
                                  "POST", ENROLL),
            "gateway + two sidecars": Target("gateway + two sidecars", bench.edge,
                                            f"http://{bench.ips['front']}:8080/api/enroll", "POST", ENROLL),
        }
        hop = {"on loopback": Target("on loopback", f"http://{client}:9901", f"http://{client}:9901/ready"),
               "through the edge": Target("through the edge", bench.edge, f"http://{bench.ips['enrollment']}:9901/ready")}
        plain = latencies(list(paths.values()), args.requests, args.block)
        network = latencies(list(hop.values()), args.requests, args.block)
        try:
            meter: CpuMeter | None = CpuMeter(proc.pid, bench.addresses)
        except OSError:  # no /proc: not Linux
            meter = None
        rates, cpu = {}, {}
        for name, path in paths.items():
            rates[name], cpu[name] = cpu_per_request(meter, lambda: throughput(path, args.seconds), args.seconds)
        # update_route -> new target answering, at enrollment's sidecar and at the gateway.
        probes = {"enrollment's sidecar": Target("flip-egress", egress, f"http://{COURSES}:8080{COURSE_PATH}",
                                                source=client),
                  "the gateway": Target("flip-gateway", bench.edge, f"http://{bench.ips['front']}:8080{COURSE_PATH}")}
        flips = [version_flip(bench, probes, to_v2=n % 2 == 0) for n in range(args.flips)]
        if args.flips % 2:
            version_flip(bench, probes, to_v2=False)  # back on courses-v1, the only one with TLS
        for path in (*paths.values(), *hop.values(), *probes.values()):
            path.close()
        enable_mtls(bench, [paths["two sidecars"], paths["gateway + two sidecars"]])
        tls_paths = {f"{name}, mTLS": Target(f"{name}, mTLS", p.proxy_url, p.url, p.method, p.body, p.source)
                     for name, p in paths.items() if name in ("two sidecars", "gateway + two sidecars")}
        mtls = latencies([paths["direct"], *tls_paths.values(), paths["chain direct"]], args.requests, args.block)
        for name, path in tls_paths.items():
            rates[name], cpu[name] = cpu_per_request(meter, lambda: throughput(path, args.seconds), args.seconds)
        handshakes = bench.stats("courses-v1").get("listener.0.0.0.0_15000.ssl.handshake", 0)
        for path in (*paths.values(), *tls_paths.values()):
            path.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    report(args, setup, plain, network, mtls, rates, cpu, flips, handshakes, load, time.perf_counter() - t_start)
    return 0


def report(args: Any, setup: float, plain: dict, network: dict, mtls: dict, rates: dict, cpu: dict, flips: list,
           handshakes: int, load: float, took: float) -> None:
    ms = 1000.0
    med = {name: statistics.median(v) for name, v in {**plain, **network, **mtls}.items()}
    print(f"App Mesh data plane, {len(plain['direct'])} sequential keep-alive requests per path (alternating "
          f"blocks of {args.block}), {CLIENTS} concurrent clients for {args.seconds:g} s each")
    print(f"{'':32} {'median ms':>10} {'p99 ms':>10} {'req/s':>10}")
    rows = [("direct", plain), ("two sidecars", plain), ("two sidecars, mTLS", mtls), ("chain direct", plain),
            ("gateway + two sidecars", plain), ("gateway + two sidecars, mTLS", mtls)]
    for name, table in rows:
        rate, errors = rates.get(name, (float("nan"), 0))
        note = f"  ({errors} failed)" if errors else ""
        print(f"{name:32} {statistics.median(table[name]) * ms:10.3f} {pct(table[name], .99) * ms:10.3f} "
              f"{rate:10,.0f}{note}")
    edge_hop = med["through the edge"] - med["on loopback"]
    print(f"{'(network hop: edge, /ready)':32} {edge_hop * ms:10.3f}")
    print()
    print("added per proxy hop at the median (target: under 1 ms):")
    verdict = lambda added: "OK" if added < 0.001 else "OVER TARGET"  # noqa: E731
    for label, meshed, base, table in (("two sidecars", "two sidecars", "direct", plain),
                                       ("two sidecars, mTLS", "two sidecars, mTLS", "direct", mtls)):
        added = (statistics.median(table[meshed]) - statistics.median(table[base])) / 2
        print(f"  {label:30} ({meshed} - {base}) / 2 = {added * ms:.3f} ms -> {verdict(added)}")
    for label, table in (("gateway + two sidecars", plain), ("gateway + two sidecars, mTLS", mtls)):
        added = (statistics.median(table[label]) - statistics.median(table["chain direct"]) - edge_hop) / 4
        print(f"  {label:30} ({label} - chain direct - network hop) / 4 = {added * ms:.3f} ms -> {verdict(added)}")
    rate = rates["gateway + two sidecars"][0]
    print(f"throughput through the gateway and two sidecars: {rate:,.0f} req/s plaintext, "
          f"{rates['gateway + two sidecars, mTLS'][0]:,.0f} req/s with mTLS (target: 1,000 req/s on 2 cores) -> "
          f"{'OK' if rate >= 1000 else 'UNDER TARGET'}")
    if any(cpu.values()):
        roles = sorted({r for used in cpu.values() for r in used}, key=lambda r: (r == "others", r))
        print()
        print(f"CPU ms per request during the throughput runs, by process ({os.cpu_count()} cores; "
              f"load average {load:.1f} before the run):")
        print("  (control: the emulator; data plane: its process, whose edge is the task network; sc: a sidecar; "
              "client: this process; others: the rest of the machine)")
        print(f"{'':32} " + " ".join(f"{r:>13}" for r in roles) + f" {'others, cores':>14}")
        for name in rates:
            print(f"{name:32} " + " ".join(f"{cpu[name].get(r, 0.0):13.2f}" for r in roles) +
                  f" {cpu[name].get('others', 0.0) * rates[name][0] / 1000:14.2f}")
    print(f"mTLS handshakes at courses-v1's listener during the mTLS runs: {handshakes} (connections kept alive)")
    print()
    print("update_route (all weight to the other target) -> first answer from the new target (target: under 1 s):")
    for where in flips[0]:
        values = [f[where] for f in flips]
        print(f"  at {where:22} " + "  ".join(f"{v:.2f} s" for v in values) +
              f"   median {statistics.median(values):.2f} s, max {max(values):.2f} s -> "
              f"{'OK' if max(values) < 1 else 'OVER TARGET'}")
    print(f"(set-up {setup:.0f} s, whole run {took:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())
