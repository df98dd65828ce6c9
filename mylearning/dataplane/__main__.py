"""`python -m mylearning.dataplane --endpoint URL --parent PID`: an emulator's data plane."""
from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mylearning.dataplane")
    parser.add_argument("--endpoint", required=True, help="the emulator's URL (http://127.0.0.1:PORT)")
    parser.add_argument("--parent", type=int, required=True, help="the emulator's pid: die with it")
    args = parser.parse_args(argv)
    from mylearning.lifetime import die_with_parent
    die_with_parent(args.parent)
    from mylearning.dataplane.plane import run
    return run(args.endpoint)


if __name__ == "__main__":
    raise SystemExit(main())
