"""GetMetricWidgetImage figures, and what it costs the emulator's start.

Prints, in one run:
* the import time of CloudWatch's rules (`mylearning.emulator.fidelity.cloudwatch`) and the
  emulator's start (URL printed), for this checkout and for a baseline checkout (BASELINE, by
  default /work/main: the code before this change), medians of fresh processes;
* what importing matplotlib's Agg canvas costs (what an eager import would add to the start);
* the first GetMetricWidgetImage (matplotlib loads then) and the median of the next 20, for a
  three-series time series over three hours of one-minute datapoints.

Run: .venv/bin/python benchmarks/widget_image_bench.py [BASELINE]
"""
from __future__ import annotations

import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree)}


def import_time(module: str, tree: Path, runs: int = 7) -> float:
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    return statistics.median(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                  check=True, cwd=tree, env=_env(tree)).stdout)
                             for _ in range(runs))


def start_emulator(tree: Path) -> tuple[subprocess.Popen, str, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "mylearning", "emulator", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tree,
                            env=_env(tree))
    url = proc.stdout.readline().strip()
    return proc, url, time.perf_counter() - t0


def start_time(tree: Path, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        proc, _, took = start_emulator(tree)
        proc.terminate()
        proc.wait()
        times.append(took)
    return statistics.median(times)


def image_figures() -> None:
    from mylearning.emulator.fidelity.cases import Env

    proc, url, _ = start_emulator(ROOT)
    try:
        cw = Env(url).client("cloudwatch")
        now = datetime.datetime.now(datetime.timezone.utc)
        for service in ("catalog", "enrollment", "video"):
            data = [{"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": service}],
                     "Value": float(50 + i % 30), "Timestamp": now - datetime.timedelta(minutes=i)}
                    for i in range(180)]
            cw.put_metric_data(Namespace="Bench/Widget", MetricData=data)
        widget = json.dumps({"title": "Latency p99", "stat": "p99", "period": 60, "start": "-PT3H",
                             "metrics": [["Bench/Widget", "Latency", "Service", "catalog"],
                                         ["...", "enrollment"], ["...", "video"]],
                             "annotations": {"horizontal": [{"value": 75, "label": "SLO"}]}})
        t0 = time.perf_counter()
        cw.get_metric_widget_image(MetricWidget=widget)
        first = time.perf_counter() - t0
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            cw.get_metric_widget_image(MetricWidget=widget)
            times.append(time.perf_counter() - t0)
        print(f"  first image {first * 1000:7.1f} ms (matplotlib loads); next 20: median "
              f"{statistics.median(times) * 1000:6.1f} ms")
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    baseline = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/main")
    module = "mylearning.emulator.fidelity.cloudwatch"
    print(f"import {module} (fresh interpreter, median of 7):")
    print(f"  this checkout {import_time(module, ROOT) * 1000:7.1f} ms; baseline {baseline}: "
          f"{import_time(module, baseline) * 1000:7.1f} ms")
    agg = "matplotlib.figure, matplotlib.backends.backend_agg"
    print(f"  import {agg}: {import_time(agg, ROOT) * 1000:7.1f} ms (what an eager import would add)")
    print("emulator start, URL printed (median of 3):")
    print(f"  this checkout {start_time(ROOT):5.2f} s; baseline {start_time(baseline):5.2f} s")
    print("GetMetricWidgetImage, 3 series x 180 datapoints, 600 x 400:")
    image_figures()


if __name__ == "__main__":
    main()
