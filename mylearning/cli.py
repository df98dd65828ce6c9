"""The `mylearning` command: a thin layer over the library's verbs."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _emulator(args: argparse.Namespace) -> int:
    from mylearning.emulator import manager
    from mylearning.emulator.state import default_state_file

    state_file = Path(args.state_file) if args.state_file else None
    if args.action == "status":
        record, up = manager.status(state_file)
        if record is None:
            print("No embedded AWS is recorded for this user. `connect()` starts one.")
            return 1
        print(f"{record.url} pid {record.pid} {'running' if up else 'NOT running (stale record)'}")
        if up:
            print(_dataplane_status((manager.health(record.url) or {}).get("dataplane")))
        return 0 if up else 1
    if args.action == "stop":
        record = manager.stop(state_file)
        print(f"Stopped the embedded AWS at {record.url} (pid {record.pid})." if record
              else "No embedded AWS was running.")
        return 0
    if args.action == "start":
        running = manager.ensure_running(state_file or default_state_file())
        print(running.record.url)
        return 0
    if not 0 <= args.port <= 65535:
        print(f"--port must be 0-65535 (0 picks a free port); got {args.port}", file=sys.stderr)
        return 2
    from mylearning.course import all_services
    from mylearning.emulator.server import serve
    try:
        # The services the labs declare are warmed with the fidelity layer's own;
        # the emulator (a lower layer) does not import the lab registry itself.
        serve(port=args.port, host=args.host, state_file=args.state_file,
              prewarm=not args.no_prewarm,
              services=() if args.no_prewarm else all_services(),
              dataplane=not args.no_dataplane)
    except OSError as exc:
        print(f"Cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def _dataplane_status(plane: dict | None) -> str:
    """One line about the data plane: its process, edge proxy and what it runs."""
    if not plane:
        return "data plane: none (started with --no-dataplane): tasks are RUNNING when placed"
    if not plane.get("alive"):
        return f"data plane: NOT running (pid {plane.get('pid')}){': ' + plane['error'] if plane.get('error') else ''}"
    agent = plane.get("agent") or {}
    return (f"data plane: pid {plane.get('pid')}, edge proxy {plane.get('proxy')}, "
            f"{agent.get('tasks', 0)} tasks / {agent.get('containers', 0)} containers running")


def _build_labs(args: argparse.Namespace) -> int:
    from mylearning import authoring

    root = Path(args.root)
    solutions, labs = root / "solutions", root / "labs"
    if args.check:
        problems = authoring.outdated(solutions, labs)
        for problem in problems:
            print(problem)
        if problems:
            print("labs/ is out of date: run `mylearning build-labs`.", file=sys.stderr)
        return 1 if problems else 0
    changed = authoring.normalise_solutions(solutions)
    for path in changed:
        print(f"stripped outputs from {path}")
    for path in authoring.build_labs(solutions, labs):
        print(f"wrote {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from mylearning.backend import BackendError, connect
    from mylearning.notebook import check, summary

    try:
        session = connect()
    except BackendError as exc:
        print(exc, file=sys.stderr)
        return 2
    result = summary(args.lab, session) if args.lab else check(args.step, session)
    print(result.to_text())
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mylearning", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    emu = sub.add_parser("emulator", help="serve or manage the embedded AWS")
    emu.add_argument("action", nargs="?", default="serve",
                     choices=["serve", "start", "status", "stop"],
                     help="serve in the foreground (default); start/status/stop the "
                          "learner's shared background emulator")
    emu.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    emu.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    emu.add_argument("--state-file", help="record where it runs in this file")
    emu.add_argument("--no-prewarm", action="store_true", help="skip warming the services")
    emu.add_argument("--no-dataplane", action="store_true",
                     help="control plane only: no task agent, tasks are RUNNING when placed")
    emu.set_defaults(func=_emulator)

    build = sub.add_parser("build-labs", help="regenerate labs/ from solutions/")
    build.add_argument("--root", default=".", help="the course repository (default: .)")
    build.add_argument("--check", action="store_true",
                       help="only report whether labs/ is up to date (exit 1 if not)")
    build.set_defaults(func=_build_labs)

    chk = sub.add_parser("check", help="run a step's check (or a whole lab's) from a shell")
    target = chk.add_mutually_exclusive_group(required=True)
    target.add_argument("step", nargs="?", help='step id, e.g. "2.3"')
    target.add_argument("--lab", help="every step of lab NN")
    chk.set_defaults(func=_check)

    from mylearning.grading.cli import add_parser as add_grade_parser
    from mylearning.grading.gradescope import add_parser as add_gradescope_parser
    add_grade_parser(sub)
    add_gradescope_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args, extra = p.parse_known_args(argv)
    # `grade merge --out DIR A B`: folders after an option are more positionals of `grade`.
    if extra and args.command == "grade" and not any(e.startswith("-") for e in extra):
        args.submissions = list(args.submissions) + extra
    elif extra:
        p.error("unrecognized arguments: " + " ".join(extra))
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
