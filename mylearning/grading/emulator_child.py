"""Entry point of a grading emulator: the embedded AWS, tied to the grader's life.

`mylearning emulator` is meant to outlive whoever started it (a learner's
kernels come and go). A grading emulator must do the opposite: if the grader
is killed, even with SIGKILL, its emulators go too. The child asks the kernel
for a parent-death signal before it serves.

Grading sends thousands of API calls through one emulator, so the child also
memoises two pure lookups moto repeats on every request (which backend serves
a host, and which action methods a response class has: together about half of
moto's per-request time). Answers are unchanged; only the lookups are cached.
The same two caches would speed up learners' check cells if the emulator
server adopted them.
"""
from __future__ import annotations

import argparse
from typing import Any, Callable


def memoize_moto_dispatch() -> None:
    """Cache moto's per-request host-to-backend and action-name lookups."""
    from moto.core import responses, utils
    from moto.moto_server import werkzeug_app

    dispatcher = werkzeug_app.DomainDispatcherApplication
    by_host: dict[Any, Any] = {}
    find_backend: Callable = dispatcher.get_backend_for_host

    def get_backend_for_host(self: Any, host: Any) -> Any:
        try:
            return by_host[host]
        except KeyError:
            found = by_host[host] = find_backend(self, host)
            return found

    by_class: dict[Any, list[str]] = {}
    list_methods: Callable = utils.method_names_from_class

    def method_names_from_class(clazz: Any) -> list[str]:
        try:
            return by_class[clazz]
        except KeyError:
            names = by_class[clazz] = list_methods(clazz)
            return names

    dispatcher.get_backend_for_host = get_backend_for_host
    responses.method_names_from_class = method_names_from_class


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
    memoize_moto_dispatch()
    from mylearning.emulator.server import serve
    serve(port=args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
