"""X-Ray read APIs over many traces: GetServiceGraph over 10,000 traces (issue 14's target:
under 0.5 s), GetTraceSummaries with a filter expression, BatchGetTraces.

Prints, in one run, for this checkout and a baseline checkout (BASELINE, by default
/work/main: the code before this change), each against its own fresh emulator holding the
same traces (ALB → gateway → courses-api → enrollment, 4 segments each, one in ten a fault):
the time to send them (PutTraceSegments, 50 documents a call as the X-Ray daemon batches),
the first GetServiceGraph (each trace's graph is built then, once per revision) and the
median of 5 calls of each read API.

Run: .venv/bin/python benchmarks/xray_bench.py [BASELINE] [--traces N]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def documents(count: int, now: float) -> tuple[list[str], list[str]]:
    docs, ids = [], []
    for i in range(count):
        trace = f"1-{int(now):08x}-{uuid.uuid4().hex[:24]}"
        ids.append(trace)
        fault = i % 10 == 0
        status = 500 if fault else 200
        seg = [uuid.uuid4().hex[:16] for _ in range(6)]
        start = now - 30 + (i % 1000) * 0.01

        def segment(name: str, origin: str, k: int, parent: str | None, call: str | None, took: float) -> dict:
            doc = {"name": name, "id": seg[k], "trace_id": trace, "start_time": start + k * 0.001,
                   "end_time": start + took, "origin": origin, "http": {"response": {"status": status}}}
            if parent:
                doc["parent_id"] = parent
            if fault:
                doc["fault"] = True
            if call:
                doc["subsegments"] = [{"name": call, "id": seg[k + 3], "start_time": start + k * 0.001,
                                       "end_time": start + took - 0.001, "namespace": "remote"}]
            return doc

        docs += [json.dumps(d) for d in (
            segment("alb", "AWS::ElasticLoadBalancing::LoadBalancer", 0, None, None, 0.05),
            segment("gateway", "AWS::AppMesh::Proxy", 1, seg[0], "courses-api", 0.045),
            segment("courses-api", "AWS::ECS::Container", 2, seg[4], "enrollment", 0.04),
            segment("enrollment", "AWS::ECS::Container", 3, seg[5], None, 0.01))]
    return docs, ids


def start_emulator(tree: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "mylearning", "emulator", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tree,
                            env={**os.environ, "PYTHONPATH": str(tree)})
    return proc, proc.stdout.readline().strip()


def median_of(call, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def figures(tree: Path, docs: list[str], ids: list[str], now: float) -> dict[str, float]:
    from mylearning.emulator.fidelity.cases import Env

    proc, url = start_emulator(tree)
    try:
        xray = Env(url).client("xray")
        t0 = time.perf_counter()
        for i in range(0, len(docs), 50):
            xray.put_trace_segments(TraceSegmentDocuments=docs[i:i + 50])
        sent = time.perf_counter() - t0
        window = {"StartTime": datetime.datetime.fromtimestamp(now - 120, datetime.timezone.utc),
                  "EndTime": datetime.datetime.fromtimestamp(now + 60, datetime.timezone.utc)}
        t0 = time.perf_counter()
        graph = xray.get_service_graph(**window)
        first = time.perf_counter() - t0
        api = next((s for s in graph["Services"] if s["Name"] == "courses-api"), None)
        total = api["SummaryStatistics"]["TotalCount"] if api else 0
        out = {"put (all)": sent, "first get_service_graph": first,
               "get_service_graph": median_of(lambda: xray.get_service_graph(**window)),
               "graph courses-api TotalCount": total}
        try:
            out["get_trace_summaries fault"] = median_of(
                lambda: xray.get_trace_summaries(**window, FilterExpression='service("enrollment") { fault }'))
        except Exception as error:  # the baseline may not answer
            out["get_trace_summaries fault"] = f"fails: {type(error).__name__}"
        out["batch_get_traces (5)"] = median_of(lambda: xray.batch_get_traces(TraceIds=ids[:5]))
        return out
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline", nargs="?", default="/work/main")
    parser.add_argument("--traces", type=int, default=10_000)
    args = parser.parse_args(argv)
    now = time.time()
    docs, ids = documents(args.traces, now)
    rows = {"this checkout": figures(ROOT, docs, ids, now),
            f"baseline ({args.baseline})": figures(Path(args.baseline), docs, ids, now)}
    print(f"X-Ray over {args.traces} traces ({len(docs)} segment documents); seconds, medians of 5 calls\n")
    names = list(next(iter(rows.values())))
    print(f"{'':<32}" + "".join(f"{k:>30}" for k in rows))
    for name in names:
        cells = [rows[k].get(name) for k in rows]
        print(f"{name:<32}" + "".join(f"{c:>30.3f}" if isinstance(c, float) else f"{c!s:>30}" for c in cells))
    print("\ntarget: get_service_graph over 10,000 traces under 0.5 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
