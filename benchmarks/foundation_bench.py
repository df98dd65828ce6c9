"""Foundation figures: import time, emulator start-up, check-cell latency.

Prints, in one run:
* `import mylearning` time in a fresh interpreter (median of 7), next to `import boto3`
  as the baseline it avoids;
* emulator start-up to the first answered ECS call, pre-warmed vs. not (--no-prewarm),
  and the first ECS call's own latency in each case;
* the median latency of every lab's checks, each lab's solution having run first
  (labs run in order against one learner's emulator, as a learner would).

Targets (DESIGN.md): import under 0.5 s; a check answers in under 50 ms (median).
Run: .venv/bin/python benchmarks/foundation_bench.py
"""
from __future__ import annotations

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


def import_time(module: str, runs: int = 7) -> float:
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True, cwd=ROOT).stdout) for _ in range(runs)]
    return statistics.median(times)


def start_emulator(*extra: str):
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "mylearning", "emulator", "--port", "0", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    url = proc.stdout.readline().strip()
    return proc, url, time.perf_counter() - t0


def first_ecs_call(url: str) -> float:
    import boto3
    ecs = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x",
                        region_name="us-east-1").client("ecs", endpoint_url=url)
    ec2 = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x",
                        region_name="us-east-1").client("ec2", endpoint_url=url)
    t0 = time.perf_counter()
    ecs.list_clusters()
    ec2.describe_vpcs()
    return time.perf_counter() - t0


def startup_figures() -> None:
    for label, extra in (("pre-warmed", ()), ("not pre-warmed (baseline)", ("--no-prewarm",))):
        proc, url, ready = start_emulator(*extra)
        try:
            first = first_ecs_call(url)
        finally:
            proc.terminate()
            proc.wait()
        print(f"  {label:28} URL printed after {ready:5.2f} s; first ECS+EC2 calls "
              f"{first * 1000:7.1f} ms; total to first answer {ready + first:5.2f} s")


def check_latency() -> None:
    """Each lab's checks, timed on a learner's own emulator after its solution ran."""
    import nbformat
    from nbclient import NotebookClient

    proc, url, _ = start_emulator()
    os.environ["MYLEARNING_ENDPOINT"] = url
    os.environ["MYLEARNING_HOME"] = tempfile.mkdtemp()
    learner = "b" + uuid.uuid4().hex[:8]
    os.environ["MYLEARNING_LEARNER"] = learner
    try:
        from mylearning import course
        from mylearning import backend, notebook

        all_medians = []
        for path in sorted((ROOT / "solutions").glob("*.ipynb")):
            nb = nbformat.read(str(path), as_version=4)
            NotebookClient(nb, timeout=300, kernel_name="python3").execute(env=dict(os.environ))
            lab = course.grader(path.name[:2])
            backend._current = None
            session = backend.connect(quiet=True)
            notebook.check(next(iter(lab.steps)), session)  # the first call creates the clients
            medians = []
            for step in lab.steps:
                times = []
                for _ in range(9):
                    t0 = time.perf_counter()
                    result = notebook.check(step, session)
                    times.append(time.perf_counter() - t0)
                medians.append(statistics.median(times))
                if not result.passed:
                    print(f"    (step {step} did not pass: {result.message})")
            all_medians += medians
            slowest = max(zip(medians, lab.steps))
            print(f"  lab {lab.number}: {len(medians)} checks, median {statistics.median(medians) * 1000:6.1f} ms, "
                  f"slowest {slowest[1]} {slowest[0] * 1000:6.1f} ms")
        print(f"  all labs: median over {len(all_medians)} checks "
              f"{statistics.median(all_medians) * 1000:.1f} ms (target < 50 ms); "
              f"{sum(m < 0.05 for m in all_medians)}/{len(all_medians)} checks under 50 ms")
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    print("import time (fresh interpreter, median of 7):")
    print(f"  import mylearning  {import_time('mylearning') * 1000:7.1f} ms (target < 500 ms)")
    print(f"  import boto3       {import_time('boto3') * 1000:7.1f} ms (baseline: what a naive import would cost)")
    print("emulator start-up to first answered ECS call:")
    startup_figures()
    print("check latency per lab (in-process check(), warm session, median of 9 per check):")
    check_latency()


if __name__ == "__main__":
    main()
