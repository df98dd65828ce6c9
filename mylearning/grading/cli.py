"""The `grade` subcommand of `mylearning`: argument parsing only, the work is in `batch`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mylearning.grading.limits import Limits


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register `mylearning grade` on the main command's subparsers."""
    defaults = Limits()
    p = sub.add_parser(
        "grade", help="grade submitted notebooks (or, with --live, the current backend)",
        description="Run each notebook in a fresh kernel against a fresh embedded AWS, "
                    "then evaluate the lab's checks outside the notebook. Writes "
                    "DIR/grades.csv and, per submission, results.json (Gradescope) and "
                    "feedback.md. Exit status 0 when every submission was graded.")
    p.add_argument("submissions", nargs="*", metavar="SUBMISSION",
                   help="notebooks, or folders searched for *.ipynb; or `merge DIR...` to "
                        "join shard output folders into --out")
    p.add_argument("--lab", help="lab number, e.g. 02 (required unless merging)")
    p.add_argument("--out", metavar="DIR", help="output folder (required unless --live)")
    p.add_argument("--workers", type=int, default=None,
                   help="parallel workers (default: number of CPU cores)")
    p.add_argument("--force", action="store_true",
                   help="grade again even when an earlier run graded the same content")
    p.add_argument("--timeout", type=float, default=defaults.notebook_timeout,
                   metavar="SECONDS", help="time limit for a whole notebook "
                                           f"(default {defaults.notebook_timeout:g})")
    p.add_argument("--cell-timeout", type=float, default=defaults.cell_timeout,
                   metavar="SECONDS", help="time limit for one cell; it is interrupted and "
                                           f"the rest runs (default {defaults.cell_timeout:g})")
    p.add_argument("--max-output-mb", type=float, default=defaults.max_output_bytes / 1e6,
                   metavar="MB", help="output a notebook may print before it is stopped "
                                      f"(default {defaults.max_output_bytes / 1e6:g})")
    p.add_argument("--max-memory-mb", type=float, default=defaults.max_memory_bytes / 2 ** 20,
                   metavar="MB", help="memory a notebook's kernel may use "
                                      f"(default {defaults.max_memory_bytes / 2 ** 20:g})")
    p.add_argument("--max-processes", type=int, default=defaults.max_processes, metavar="N",
                   help="processes a submission may run at once "
                        f"(default {defaults.max_processes})")
    p.add_argument("--max-disk-mb", type=float, default=defaults.max_disk_bytes / 2 ** 20,
                   metavar="MB", help="disk a submission may fill in its scratch folder "
                                      f"(default {defaults.max_disk_bytes / 2 ** 20:g})")
    p.add_argument("--shard", metavar="I/N", type=_shard,
                   help="grade only shard I of N (a stable share by name), for CI matrices "
                        "and batch clusters; join the outputs with `grade merge`")
    sandbox = p.add_mutually_exclusive_group()
    sandbox.add_argument("--require-sandbox", action="store_true",
                         help="refuse to grade where the operating-system sandbox "
                              "(Landlock, PID namespace) cannot be applied")
    sandbox.add_argument("--no-sandbox", action="store_true",
                         help="run kernels unconfined (trusted notebooks only; says so loudly)")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    p.add_argument("--live", action="store_true",
                   help="evaluate the current backend (connect()) read-only and print the "
                        "full report; runs no notebook")
    p.set_defaults(func=run)
    return p


def _shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError("--shard is I/N, e.g. 2/4") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError("--shard I/N needs 1 <= I <= N")
    return index, count


def _merge(args: argparse.Namespace) -> int:
    from mylearning.grading.merge import MergeError, merge
    from mylearning.grading.outputs import OutputProblem

    folders = [Path(f) for f in args.submissions[1:]]
    if not args.out or not folders:
        print("mylearning grade merge: --out DIR and at least one shard folder are required.",
              file=sys.stderr)
        return 2
    try:
        text = merge(folders, Path(args.out))
    except (MergeError, OutputProblem, OSError) as exc:
        print(f"mylearning grade merge: {exc}", file=sys.stderr)
        return 2
    print(text, file=sys.stderr)
    print(f"Gradebook: {Path(args.out) / 'grades.csv'}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.submissions and args.submissions[0] == "merge" and not Path("merge").exists():
        return _merge(args)
    if not args.lab:
        print("mylearning grade: --lab NN is required.", file=sys.stderr)
        return 2
    if args.live:
        if args.submissions:
            print("--live grades the current backend; it takes no SUBMISSION.", file=sys.stderr)
            return 2
        from mylearning.grading.live import live_report
        return live_report(args.lab)
    if not args.out or not args.submissions:
        print("mylearning grade: --out DIR and at least one SUBMISSION are required "
              "(or use --live).", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    if min(args.timeout, args.cell_timeout, args.max_output_mb, args.max_memory_mb,
           args.max_processes, args.max_disk_mb) <= 0:
        print("--timeout, --cell-timeout, --max-output-mb, --max-memory-mb, --max-processes "
              "and --max-disk-mb must be positive", file=sys.stderr)
        return 2
    from mylearning.grading.batch import GradingError, GradingOptions, grade_batch

    limits = Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.timeout,
                    max_output_bytes=int(args.max_output_mb * 1e6),
                    max_memory_bytes=int(args.max_memory_mb * 2 ** 20),
                    max_processes=args.max_processes,
                    max_disk_bytes=int(args.max_disk_mb * 2 ** 20))
    options = GradingOptions(lab=args.lab, out=Path(args.out), workers=args.workers,
                             force=args.force, limits=limits, progress=not args.no_progress,
                             sandbox=not args.no_sandbox, require_sandbox=args.require_sandbox,
                             shard=args.shard)
    try:
        result = grade_batch(args.submissions, options)
    except GradingError as exc:
        print(f"mylearning grade: {exc}", file=sys.stderr)
        return 2
    print(result.summary, file=sys.stderr)
    print(f"Gradebook: {Path(args.out) / 'grades.csv'}", file=sys.stderr)
    return result.exit_code
