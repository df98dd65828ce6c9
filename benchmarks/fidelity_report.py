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

Run: .venv/bin/python benchmarks/fidelity_report.py [--service appmesh ...] [--show-moto]
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
    if args.show_moto:
        print("\nWhat plain moto answers where it differs from AWS:")
        for service in sorted(moto):
            for r in moto[service]:
                if not r.passed:
                    print(f"  {r.case.id}: AWS {r.case.expect}, moto {r.outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
