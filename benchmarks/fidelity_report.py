"""Fidelity report: the same table of learner calls against plain moto and against our emulator.

Each case is a call and what real AWS answers (accepted, or an error code; see
mylearning/emulator/fidelity/cases). In one run this script starts

* plain moto: moto's own ``ThreadedMotoServer`` in this process, on a free port;
* our emulator: ``mylearning emulator --port 0`` in a subprocess (moto + fidelity layer),

runs every case set (one per AWS service) against each, on a freshly reset
account, and prints per-service and total scores and the cases where our
emulator still differs from AWS.

Plain moto stays plain: the fidelity layer patches moto only inside the
emulator process, on the first call it answers (importing the case tables here
imports the rule modules, which leave moto untouched).

Then the model fuzz test's figures, for both: requests made from botocore's models
for every operation the course calls (valid ones, and ones breaking one constraint),
how many each server refuses correctly, accepts correctly and answers with a 5xx,
and the latency model validation adds to a request (median, in-process).

Run: .venv/bin/python benchmarks/fidelity_report.py [--service appmesh ...] [--show-moto] [--no-fuzz]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mylearning.emulator.fidelity.cases import Case, CaseResult, all_cases, run  # noqa: E402


def reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"), timeout=30)


def start_plain_moto():
    import logging

    from moto.server import ThreadedMotoServer

    # One log line per request (and a traceback per crash) would bury the report.
    for name in ("werkzeug", "moto"):
        logging.getLogger(name).disabled = True
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def start_emulator() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "mylearning", "emulator", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        proc.kill()
        raise SystemExit(f"the emulator did not start: {url!r}")
    return proc, url


def run_sets(url: str, groups: dict[str, list[Case]]) -> dict[str, list[CaseResult]]:
    """Each service's cases on a freshly reset account."""
    results = {}
    for service, cases in groups.items():
        reset(url)
        results[service] = run(url, cases)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", action="append", help="only these services (botocore names)")
    parser.add_argument("--show-moto", action="store_true", help="also list what plain moto answers")
    parser.add_argument("--no-fuzz", action="store_true", help="skip the model fuzz figures")
    args = parser.parse_args(argv)

    groups: dict[str, list[Case]] = defaultdict(list)
    for case in all_cases():
        if not args.service or case.service in args.service:
            groups[case.service].append(case)
    if not groups:
        raise SystemExit("no cases selected")

    moto_server, moto_url = start_plain_moto()
    emulator, ours_url = start_emulator()
    try:
        t0 = time.perf_counter()
        moto = run_sets(moto_url, groups)
        t_moto = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours = run_sets(ours_url, groups)
        t_ours = time.perf_counter() - t0
        fuzzed = None if args.no_fuzz else fuzz_both(moto_url, ours_url)
    finally:
        emulator.terminate()
        try:
            emulator.wait(10)
        except subprocess.TimeoutExpired:
            emulator.kill()
        moto_server.stop()

    print(f"Fidelity of the embedded AWS: {sum(map(len, groups.values()))} cases, each a call a learner "
          "makes with the answer real AWS gives.\n")
    header = f"{'service':<26}{'cases':>6}{'plain moto':>14}{'ours':>10}"
    print(header)
    print("-" * len(header))
    total = moto_total = ours_total = 0
    for service in sorted(groups):
        n = len(groups[service])
        m = sum(r.passed for r in moto[service])
        o = sum(r.passed for r in ours[service])
        total, moto_total, ours_total = total + n, moto_total + m, ours_total + o
        print(f"{service:<26}{n:>6}{f'{m}/{n}':>14}{f'{o}/{n}':>10}")
    print("-" * len(header))
    print(f"{'total':<26}{total:>6}{f'{moto_total}/{total}':>14}{f'{ours_total}/{total}':>10}\n")
    print(f"plain moto: {moto_total}/{total} matches AWS; ours: {ours_total}/{total} "
          f"(run time: moto {t_moto:.1f} s, ours {t_ours:.1f} s)\n")

    mismatches = [r for service in sorted(ours) for r in ours[service] if not r.passed]
    if mismatches:
        print("Still different from AWS in our emulator:")
        for r in mismatches:
            print(f"  {r.case.id}: AWS {r.case.expect}, ours {r.outcome}  ({r.case.doc})")
    else:
        print("Our emulator matches AWS on every case.")
    if fuzzed is not None:
        print_fuzz(*fuzzed)
    if args.show_moto:
        print("\nWhat plain moto answers where it differs from AWS:")
        for service in sorted(moto):
            for r in moto[service]:
                if not r.passed:
                    print(f"  {r.case.id}: AWS {r.case.expect}, moto {r.outcome}")
    return 0


def fuzz_both(moto_url: str, ours_url: str):
    """The model fuzz run against both servers, and the validation latency."""
    from mylearning.emulator.fidelity.validation import fuzz
    from tests.emulator.fidelity.course_operations import course_operations

    operations = course_operations()
    reset(moto_url)
    moto = fuzz.run(moto_url, operations)
    reset(ours_url)
    ours = fuzz.run(ours_url, operations)
    return moto, ours, validation_latency(operations)


def validation_latency(operations: dict[str, set[str]]) -> list[float]:
    """Seconds model validation takes per valid request of the fuzz set, in this process."""
    import botocore.session

    from mylearning.emulator.fidelity import validation
    from mylearning.emulator.fidelity.validation import fuzz

    session = botocore.session.get_session()
    samples = []
    for service, names in sorted(operations.items()):
        model = session.get_service_model(service)
        for req in fuzz.requests(service, model, sorted(n for n in names if n in model.operation_names)):
            if req.breaks is None:
                validation.problems(service, req.operation, req.params)  # warm the caches
                t0 = time.perf_counter()
                for _ in range(20):
                    validation.problems(service, req.operation, req.params)
                samples.append((time.perf_counter() - t0) / 20)
    return samples


def print_fuzz(moto, ours, latency: list[float]) -> None:
    import statistics

    print("\nModel fuzz (every operation the course calls; client-side validation off):")
    print(f"  plain moto: {moto.line()}")
    print(f"  ours:       {ours.line()}")
    if latency:
        median = statistics.median(latency) * 1000
        p95 = sorted(latency)[int(0.95 * (len(latency) - 1))] * 1000
        print(f"  model validation adds {median:.3f} ms per request at the median, {p95:.3f} ms at p95 "
              f"({len(latency)} requests; target under 0.2 ms median)")
    for line in ours.failures[:20]:
        print(f"  ours wrong: {line}")


if __name__ == "__main__":
    sys.exit(main())
