"""Data plane figures: placement to RUNNING, memory per task, solution notebooks' run time.

Prints, in one run, against a fresh `mylearning emulator` (with its data plane):

* placement-to-RUNNING latency of a course task (courses-api with its secrets from
  Secrets Manager and awslogs logging, the lab 03 shape): median and p95 of `startedAt -
  createdAt` (both stamped by the emulator) for one task at a time, then for 20 placed
  at once (two RunTask calls of 10); target: median under 0.5 s (DESIGN.md);
* memory per running task, with 20 running: the containers' private memory (what a
  cgroup would charge them) against the baseline of one fresh interpreter per container
  (the same image program started without the pre-loaded launcher);
* every solution notebook's run time in a fresh kernel, in order on one emulator as a
  learner would run them (target: each under 60 s).

The grading ratio against the otter-style baseline is `benchmarks/grading_bench.py`.

    .venv/bin/python benchmarks/dataplane_bench.py [--repeat 15] [--skip-notebooks]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
COURSES = "public.ecr.aws/mylearning/courses-api:1.1.0"
TARGET_RUNNING_S = 0.5
TARGET_NOTEBOOK_S = 60.0


def start_emulator() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "mylearning", "emulator", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    return proc, proc.stdout.readline().strip()


def world(url: str) -> dict:
    import boto3
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    c = {n: session.client(n, endpoint_url=url) for n in ("ecs", "ec2", "iam", "logs", "secretsmanager")}
    vpc = c["ec2"].create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [c["ec2"].create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/22", AvailabilityZone=f"us-east-1{z}")[
        "Subnet"]["SubnetId"] for n, z in ((0, "a"), (4, "b"))]
    c["ecs"].create_cluster(clusterName="bench")
    c["logs"].create_log_group(logGroupName="/bench")
    secret = c["secretsmanager"].create_secret(
        Name="db", SecretString=json.dumps({"username": "u", "password": "p"}))["ARN"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}
    role = c["iam"].create_role(RoleName="exec", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    c["iam"].put_role_policy(RoleName="exec", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret},
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}))
    c["ecs"].register_task_definition(
        family="bench", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", executionRoleArn=role, containerDefinitions=[{
            "name": "app", "image": COURSES, "essential": True, "portMappings": [{"containerPort": 8080}],
            "secrets": [{"name": "DB_USER", "valueFrom": f"{secret}:username::"},
                        {"name": "DB_PASSWORD", "valueFrom": f"{secret}:password::"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/bench", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "b"}}}])
    c["network"] = {"awsvpcConfiguration": {"subnets": subnets}}
    return c


def _wait_running(ecs, arns: list[str], timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        tasks = ecs.describe_tasks(cluster="bench", tasks=arns)["tasks"]
        if all(t["lastStatus"] in ("RUNNING", "STOPPED") for t in tasks):
            bad = [t for t in tasks if t["lastStatus"] == "STOPPED"]
            if bad:
                raise RuntimeError(f"a task stopped: {bad[0].get('stoppedReason')}")
            return tasks
        if time.monotonic() > deadline:
            raise TimeoutError("tasks did not reach RUNNING")
        time.sleep(0.02)


def _latency(task: dict) -> float:
    return (task["startedAt"] - task["createdAt"]).total_seconds()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def placement_latency(c: dict, repeat: int) -> tuple[list[float], list[float], list[dict]]:
    ecs = c["ecs"]
    single = []
    for _ in range(repeat):
        task = ecs.run_task(cluster="bench", taskDefinition="bench", launchType="FARGATE",
                            networkConfiguration=c["network"])["tasks"][0]
        single.append(_latency(_wait_running(ecs, [task["taskArn"]])[0]))
        ecs.stop_task(cluster="bench", task=task["taskArn"], reason="bench")
    time.sleep(1.0)
    arns = []
    for _ in range(2):
        arns += [t["taskArn"] for t in ecs.run_task(cluster="bench", taskDefinition="bench", count=10,
                                                    launchType="FARGATE", networkConfiguration=c["network"])["tasks"]]
    tasks = _wait_running(ecs, arns)
    return single, [_latency(t) for t in tasks], tasks


def memory_per_task(url: str, count: int) -> tuple[float, float, float]:
    """(private MiB per container, RSS MiB of the data plane, baseline MiB per fresh interpreter)."""
    import psutil

    from mylearning.dataplane.containers import private_memory

    with __import__("urllib.request").request.urlopen(url + "/mylearning/health") as resp:
        plane = json.loads(resp.read())["dataplane"]
    agent = psutil.Process(plane["pid"])
    launchers = [p for p in agent.children() if "forkserver" in " ".join(p.cmdline())]
    containers = [c for launcher in launchers for c in launcher.children()]  # forked containers
    if len(containers) < count:
        raise RuntimeError(f"expected {count} running containers, found {len(containers)}")
    private = sum(private_memory(p.pid) for p in containers) / max(1, len(containers)) / 2**20
    code = ("import sys, time; sys.path.insert(0, %r); import aiohttp, asyncio; "
            "from mylearning.dataplane.images import courses_api, runtime, service; "
            "print('ready', flush=True); time.sleep(30)") % str(ROOT)
    fresh = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    fresh.stdout.readline()
    baseline = psutil.Process(fresh.pid).memory_full_info().uss / 2**20
    fresh.kill()
    fresh.wait()
    return private, agent.memory_info().rss / 2**20, baseline


def notebook_times() -> list[tuple[str, float, str]]:
    import nbformat
    from nbclient import NotebookClient

    proc, url = start_emulator()
    results = []
    env = dict(os.environ, MYLEARNING_ENDPOINT=url, MYLEARNING_LEARNER="b" + uuid.uuid4().hex[:8],
               MYLEARNING_HOME=tempfile.mkdtemp(prefix="mylearning-bench-home-"))
    try:
        for path in sorted((ROOT / "solutions").glob("*.ipynb")):
            nb = nbformat.read(str(path), as_version=4)
            t0 = time.perf_counter()
            status = "ok"
            try:
                NotebookClient(nb, timeout=600, kernel_name="python3",
                               resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
            except Exception as exc:  # report it with the figure rather than hide the others
                status = f"FAILED: {type(exc).__name__}"
            results.append((path.name, time.perf_counter() - t0, status))
    finally:
        proc.terminate()
        proc.wait(30)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="single-task placements (default 15)")
    parser.add_argument("--skip-notebooks", action="store_true")
    args = parser.parse_args(argv)

    proc, url = start_emulator()
    try:
        c = world(url)
        single, twenty, _ = placement_latency(c, args.repeat)
        print(f"placement -> RUNNING, 1 task at a time ({len(single)} runs): median "
              f"{statistics.median(single) * 1000:.0f} ms, p95 {_p95(single) * 1000:.0f} ms "
              f"(target median < {TARGET_RUNNING_S * 1000:.0f} ms)")
        print(f"placement -> RUNNING, 20 tasks at once: median {statistics.median(twenty) * 1000:.0f} ms, "
              f"p95 {_p95(twenty) * 1000:.0f} ms, last {max(twenty) * 1000:.0f} ms")
        time.sleep(1.0)
        private, agent_rss, baseline = memory_per_task(url, 20)
        print(f"memory per running container (20 running): {private:.1f} MiB private (forked from the "
              f"pre-loaded launcher) vs {baseline:.1f} MiB for a fresh interpreter with the same image "
              f"loaded ({baseline / max(private, 0.01):.1f}x); data plane process RSS {agent_rss:.0f} MiB")
    finally:
        proc.terminate()
        proc.wait(30)
    if not args.skip_notebooks:
        print("solution notebooks, in a fresh kernel each, in order on one emulator:")
        for name, seconds, status in notebook_times():
            flag = "" if seconds < TARGET_NOTEBOOK_S and status == "ok" else "  <-- over target" if status == "ok" else ""
            print(f"  {name:32} {seconds:6.1f} s  {status}{flag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
