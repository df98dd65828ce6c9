"""Canaries: how long a bad release keeps traffic before it is rolled back, against what its
settings promise.

Prints, in one run, against a fresh `mylearning emulator` (with its data plane) prepared as lab 08
starts (labs 02 to 06 built, the gateway publishing App Mesh's metrics to CloudWatch):

* for `--runs` analyses of the flawed courses-api 2.0.0 (lab 08's `ANALYSIS`, traffic at its
  `TRAFFIC_RATE`): the seconds from the first canary step to the rollback, the failed checks,
  the highest weight it reached, and the requests it answered;
* the figures its settings give for comparison, in the same run: ``interval x threshold`` (the
  bake time of the failed steps, issue #13's bound) and ``(interval + settle) x threshold`` (each
  check also waits for the metrics to reach CloudWatch, `mylearning.canary.SETTLE_SECONDS`), the
  least a rollback can take when every check fails;
* ECS's own CANARY strategy on the same release (lab 08's step 8.7): the seconds from
  UpdateService to ROLLBACK_SUCCESSFUL, and the requests 2.0.0 answered, against the canary bake
  the strategy configures (scaled by the embedded clock).

Figures are printed, never asserted.

Run: PYTHONPATH=. .venv/bin/python benchmarks/canary_bench.py [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_emulator(home: Path) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, MYLEARNING_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "mylearning", "emulator", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def main(argv: list[str] | None = None) -> int:
    import tempfile
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="canary-bench-"))
    proc, url = start_emulator(home)
    os.environ.update(MYLEARNING_ENDPOINT=url, MYLEARNING_LEARNER="bench")
    runs, native = [], None
    try:
        import mylearning
        from mylearning import canary, prepare
        from mylearning.course import lab08_canary as lab08
        from mylearning.facts import clock
        session = mylearning.connect(quiet=True)
        began = time.monotonic()
        prepare.up_to(session, "08", quiet=True)
        lab08.publish_gateway_metrics(session)
        lab08.deploy_canary(session, "08", lab08.BAD)
        print(f"set-up: {time.monotonic() - began:.0f} s", flush=True)
        for n in range(args.runs):
            lab08.set_route(session, "08", {lab08.PRIMARY: 100, lab08.CANARY: 0})
            report = lab08.run_analysis(session, lab08.BAD, show=False)
            first = next(e.at for e in report.events if e.message.startswith("Advance"))
            rolled = next((e.at for e in report.events if e.message.startswith("Rolling back")), None)
            served = sum(r.requests for _, r in report.readings)
            runs.append((report.phase, (rolled - first) if rolled else None, report.failed_checks,
                         report.max_weight_reached, served))
            print(f"run {n + 1}: {report.phase}", flush=True)
        lab08.ensure_native_service(session)
        native = lab08.native_release(session, "08", lab08.BAD)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    analysis = lab08.ANALYSIS
    print(f"\nmylearning.canary on courses-api 2.0.0: interval {analysis.interval} s, steps "
          f"{analysis.weights()}, threshold {analysis.threshold}, {lab08.TRAFFIC_RATE} requests/s")
    print(f"{'run':>4} {'phase':>8} {'to rollback s':>14} {'failed checks':>14} {'max weight':>11} {'canary requests':>16}")
    for n, (phase, seconds, failed, weight, served) in enumerate(runs, 1):
        shown = f"{seconds:.1f}" if seconds is not None else "-"
        print(f"{n:>4} {phase:>8} {shown:>14} {failed:>14} {weight:>10}% {served:>16.0f}")
    times = [s for _, s, *_ in runs if s is not None]
    bound = analysis.rollback_bound()
    least = (analysis.interval + canary.SETTLE_SECONDS) * analysis.threshold
    if times:
        print(f"median to rollback: {statistics.median(times):.1f} s; interval x threshold = {bound} s; "
              f"(interval + settle) x threshold = {least} s")
    if native:
        bake = lab08.NATIVE_STRATEGY["canaryConfiguration"]["canaryBakeTimeInMinutes"] * 60
        print(f"\nECS CANARY ({lab08.NATIVE_STRATEGY['canaryConfiguration']['canaryPercent']:g}%, bake "
              f"{bake / 60:g} min = {clock.wait(bake):.0f} s at the embedded clock's scale): {native['status']} after "
              f"{native['seconds']} s, {native['by_version'].get(lab08.BAD, 0)} requests answered by 2.0.0 "
              f"(alarm: {', '.join(native['alarms']) or 'none'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
