"""Logs Insights over many log events: a query over 100,000 events (issue 14's target: under
1 s a query), and what ingesting them costs.

Prints, in one run, against one fresh emulator of this checkout holding two log groups of the
same kind of events (JSON access logs of MyLearning's services, one in twenty a 5xx), one of
100,000 events and one of 10,000:

* the time to ingest each group with PutLogEvents, 10,000 events a call (the most AWS takes
  in one batch, API_PutLogEvents.html);
* for each representative query (filter + stats by route, stats by bin(5m), parse + filter,
  sort + limit): the median of 5 runs of StartQuery + GetQueryResults over 100,000 events, the
  same over 10,000 events, and a plain-Python loop computing the same answer over the same
  100,000 messages (the floor: reading JSON and counting, no query language, no API).

Run: PYTHONPATH=. .venv/bin/python benchmarks/logs_insights_bench.py [--events N]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BATCH = 10_000
ROUTES = ["/api/courses", "/api/courses/{id}", "/api/enrollments", "/api/users/{id}", "/health"]
SERVICES = ["courses-api", "enrollment", "users"]


def messages(count: int, now_ms: int) -> list[tuple[int, str]]:
    """(timestamp, message), oldest first, spread over the last 50 minutes."""
    out = []
    for i in range(count):
        status = 503 if i % 20 == 0 else (404 if i % 37 == 0 else 200)
        doc = {"service": SERVICES[i % 3], "route": ROUTES[i % 5], "status": status,
               "latency_ms": round(5 + (i * 7919) % 400 / 3, 1), "req": f"r-{i:06d}"}
        out.append((now_ms - 3_000_000 + i * 3_000_000 // count, json.dumps(doc, separators=(",", ":"))))
    return out


QUERIES: dict[str, str] = {
    "filter+stats by route": "filter status >= 500 | stats count(*) as errors by route",
    "stats by bin(5m)": "stats count(*) as requests, avg(latency_ms) as mean, pct(latency_ms, 99) as p99 "
                        "by bin(5m)",
    "parse+filter": "parse @message '\"route\":\"*\"' as path | filter path like /courses/ and latency_ms > 100 "
                    "| fields path, latency_ms",
    "sort+limit": "fields @timestamp, route, latency_ms | sort latency_ms desc | limit 20",
}


def plain(name: str, events: list[tuple[int, str]]) -> Callable[[], object]:
    """The same answer as QUERIES[name], computed by a loop over the messages."""
    def by_route() -> object:
        counts: Counter = Counter()
        for _, m in events:
            d = json.loads(m)
            if d["status"] >= 500:
                counts[d["route"]] += 1
        return counts

    def by_bin() -> object:
        bins: dict[int, list[float]] = defaultdict(list)
        for ts, m in events:
            bins[ts // 300_000].append(json.loads(m)["latency_ms"])
        return {k: (len(v), sum(v) / len(v), sorted(v)[int(len(v) * 0.99) - 1]) for k, v in bins.items()}

    def parse_filter() -> object:
        pattern = re.compile(r'"route":"(.*?)"')
        out = []
        for _, m in events:
            found = pattern.search(m)
            if found and "courses" in found.group(1) and json.loads(m)["latency_ms"] > 100:
                out.append(found.group(1))
        return out

    def top() -> object:
        return sorted((json.loads(m)["latency_ms"], ts) for ts, m in events)[-20:]
    return {"filter+stats by route": by_route, "stats by bin(5m)": by_bin, "parse+filter": parse_filter,
            "sort+limit": top}[name]


def start_emulator(tree: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "mylearning", "emulator", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tree,
                            env={**os.environ, "PYTHONPATH": str(tree)})
    return proc, proc.stdout.readline().strip()


def median_of(call: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ingest(logs, group: str, events: list[tuple[int, str]]) -> float:
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="web/1")
    t0 = time.perf_counter()
    for i in range(0, len(events), BATCH):
        logs.put_log_events(logGroupName=group, logStreamName="web/1",
                            logEvents=[{"timestamp": ts, "message": m} for ts, m in events[i:i + BATCH]])
    return time.perf_counter() - t0


def query(logs, group: str, text: str, now_ms: int) -> Callable[[], int]:
    def call() -> int:
        qid = logs.start_query(logGroupName=group, startTime=now_ms // 1000 - 3600,
                               endTime=now_ms // 1000 + 60, queryString=text)["queryId"]
        answer = logs.get_query_results(queryId=qid)
        assert answer["status"] == "Complete", answer["status"]
        return len(answer["results"])
    return call


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args(argv)
    from mylearning.emulator.fidelity.cases import Env

    now_ms = int(time.time() * 1000)
    big, small = messages(args.events, now_ms), messages(args.events // 10, now_ms)
    proc, url = start_emulator(ROOT)
    try:
        logs = Env(url).client("logs")
        took_big = ingest(logs, "/bench/big", big)
        took_small = ingest(logs, "/bench/small", small)
        print(f"Logs Insights over {len(big)} and {len(small)} JSON log events; seconds\n")
        print(f"PutLogEvents, {BATCH} a call: {len(big)} events {took_big:.3f} "
              f"({len(big) / took_big:,.0f}/s); {len(small)} events {took_small:.3f}\n")
        head = f"{'query (median of 5)':<24}{f'{len(big)} events':>16}{f'{len(small)} events':>16}" \
               f"{'plain loop':>14}{'rows':>7}"
        print(head)
        for name, text in QUERIES.items():
            rows = query(logs, "/bench/big", text, now_ms)()
            cells = [median_of(query(logs, "/bench/big", text, now_ms)),
                     median_of(query(logs, "/bench/small", text, now_ms)),
                     median_of(plain(name, big))]
            print(f"{name:<24}" + "".join(f"{c:>16.3f}" for c in cells[:2]) + f"{cells[2]:>14.3f}{rows:>7}")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    print("\ntarget: a Logs Insights query over 100,000 events under 1 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
