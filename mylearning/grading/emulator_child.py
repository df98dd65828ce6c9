"""Entry point of a grading emulator: the embedded AWS, tied to the grader's life.

`mylearning emulator` is meant to outlive whoever started it (a learner's
kernels come and go). A grading emulator must do the opposite: if the grader
is killed, even with SIGKILL, its emulators go too. The child asks the kernel
for a parent-death signal before it serves.

The server's own speed-ups (`mylearning.emulator.speed`: moto's per-request
lookups computed once, keep-alive connections) serve grading and check cells alike.
"""
from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mylearning.grading.emulator_child")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    from mylearning.grading.sandbox import die_with_parent
    die_with_parent(args.parent)
    import os
    # moto reads these at import time (as `mylearning emulator` sets them).
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "mylearning")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "mylearning")
    from mylearning.course import all_services
    from mylearning.emulator.server import serve
    serve(port=args.port, services=all_services())  # the labs' services, warmed before the URL
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
