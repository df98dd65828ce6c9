"""The ALB data plane: its hop, its throughput, and how fast health checks notice a failure.

Prints, in one run, against a fresh `mylearning emulator` (with its data plane) where one
courses-API task runs behind an Application Load Balancer:

* sequential keep-alive GETs of ``/health`` through the edge, straight to the task's
  private IP and to the ALB's DNS name, in alternating blocks (same machine load): median
  and p99 of each and the ALB hop's cost (target: under 1 ms at the median);
* requests per second through the ALB and straight to the task, with 32 concurrent
  keep-alive clients for a few seconds each (target: at least 2,000/s through the ALB on
  2 cores);
* the time from the task's ``/health`` starting to fail (its knob) to its target being
  ``unhealthy`` in ``DescribeTargetHealth``, against what the group's settings imply
  (UnhealthyThresholdCount x HealthCheckIntervalSeconds, divided by the time scale).

Run: PYTHONPATH=. .venv/bin/python benchmarks/alb_bench.py [--requests 2000] [--seconds 4]
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INTERVAL, UNHEALTHY = 5, 2


def start_emulator() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "mylearning", "emulator", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def wait_for(probe, timeout: float = 60.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(every)
    raise SystemExit("timed out setting up the benchmark")


def build(url: str) -> dict:
    import boto3
    from mylearning.facts.ecs import task_private_ip
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    ec2, ecs, elb = (session.client(n, endpoint_url=url) for n in ("ec2", "ecs", "elbv2"))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24",
                                 AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"] for n, z in ((1, "a"), (2, "b"))]
    lb = elb.create_load_balancer(Name="bench", Subnets=subnets)["LoadBalancers"][0]
    group = elb.create_target_group(Name="api", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip",
                                    HealthCheckPath="/health", HealthCheckIntervalSeconds=INTERVAL,
                                    UnhealthyThresholdCount=UNHEALTHY)["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    ecs.create_cluster(clusterName="bench")
    ecs.register_task_definition(family="api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                 cpu="256", memory="512", containerDefinitions=[{
                                     "name": "app", "image": "public.ecr.aws/mylearning/courses-api:1.1.0",
                                     "portMappings": [{"containerPort": 8080}],
                                     # the API refuses to start without its database login
                                     "environment": [{"name": "DB_USER", "value": "app"},
                                                     {"name": "DB_PASSWORD", "value": "bench"}]}])
    ecs.create_service(cluster="bench", serviceName="api", taskDefinition="api", desiredCount=1,
                       launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
                       loadBalancers=[{"targetGroupArn": group, "containerName": "app", "containerPort": 8080}],
                       # ECS would stop the task the moment its target is unhealthy (and the
                       # target would drain at once): a grace period keeps it in view.
                       healthCheckGracePeriodSeconds=600)

    def healthy():
        found = elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
        return found if found and found[0]["TargetHealth"]["State"] == "healthy" else None
    target = wait_for(healthy)[0]["Target"]
    arns = ecs.list_tasks(cluster="bench", serviceName="api")["taskArns"]
    task = ecs.describe_tasks(cluster="bench", tasks=arns)["tasks"][0]
    assert task_private_ip(task) == target["Id"]
    with urllib.request.urlopen(url + "/mylearning/health") as resp:
        proxy = json.loads(resp.read())["dataplane"]["proxy"]
    return {"elb": elb, "group": group, "dns": lb["DNSName"], "ip": target["Id"], "proxy": proxy}


def timed(conn: http.client.HTTPConnection, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("GET", url)
        response = conn.getresponse()
        response.read()
        out.append(time.perf_counter() - t0)
        assert response.status == 200, response.status
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def throughput(proxy: str, url: str, seconds: float, clients: int = 32) -> tuple[float, int]:
    import aiohttp
    done, errors = 0, 0
    stop = time.perf_counter() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal done, errors
        while time.perf_counter() < stop:
            async with session.get(url, proxy=proxy) as resp:
                await resp.read()
                done += 1
                errors += resp.status != 200
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        return done / (time.perf_counter() - t0), errors


def health_reaction(world: dict) -> tuple[float, float]:
    from mylearning.facts import clock
    elb = world["elb"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": world["proxy"]}))
    request = urllib.request.Request(f"http://{world['ip']}:8080/_mylearning/knobs", method="POST",
                                     data=json.dumps({"HEALTH": "fail"}).encode(),
                                     headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    opener.open(request, timeout=5).read()

    def unhealthy():
        found = elb.describe_target_health(TargetGroupArn=world["group"])["TargetHealthDescriptions"]
        return any(t["TargetHealth"]["State"] == "unhealthy" for t in found)
    wait_for(unhealthy, every=0.01)
    return time.perf_counter() - t0, clock.wait(UNHEALTHY * INTERVAL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--block", type=int, default=250)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args(argv)
    proc, url = start_emulator()
    try:
        world = build(url)
        host, port = world["proxy"].removeprefix("http://").rsplit(":", 1)
        direct_url = f"http://{world['ip']}:8080/health"
        alb_url = f"http://{world['dns']}/health"
        to_task = http.client.HTTPConnection(host, int(port))
        to_alb = http.client.HTTPConnection(host, int(port))
        timed(to_task, direct_url, 200)
        timed(to_alb, alb_url, 200)
        d: list[float] = []
        a: list[float] = []
        for _ in range(max(1, args.requests // args.block)):
            d += timed(to_task, direct_url, args.block)
            a += timed(to_alb, alb_url, args.block)
        rate_alb, errors_alb = asyncio.run(throughput(world["proxy"], alb_url, args.seconds))
        rate_task, errors_task = asyncio.run(throughput(world["proxy"], direct_url, args.seconds))
        took, expected = health_reaction(world)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    ms = 1000.0
    print(f"ALB hop, {len(d)} sequential keep-alive GETs each way through the edge (one courses-API task)")
    print(f"{'':14} {'median ms':>10} {'p99 ms':>10}")
    for name, values in (("to the task", d), ("via the ALB", a)):
        print(f"{name:14} {statistics.median(values) * ms:10.3f} {pct(values, .99) * ms:10.3f}")
    added = statistics.median(a) - statistics.median(d)
    print(f"added by the ALB: median {added * ms:.3f} ms, p99 {(pct(a, .99) - pct(d, .99)) * ms:.3f} ms "
          f"(target: median under 1 ms) -> {'OK' if added < 0.001 else 'OVER TARGET'}")
    print(f"throughput, 32 concurrent clients for {args.seconds:g} s each: via the ALB {rate_alb:,.0f} req/s "
          f"({errors_alb} not 200), to the task {rate_task:,.0f} req/s ({errors_task} not 200) "
          f"(target: 2,000 req/s via the ALB) -> {'OK' if rate_alb >= 2000 else 'UNDER TARGET'}")
    print(f"health check reaction: unhealthy {took:.2f} s after /health began failing; the settings "
          f"imply {expected:.2f} s ({UNHEALTHY} x {INTERVAL} s / time scale), plus up to one interval "
          f"of phase")
    return 0


if __name__ == "__main__":
    sys.exit(main())
