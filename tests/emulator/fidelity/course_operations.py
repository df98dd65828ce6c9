"""Which boto3 operations the course's code calls, read from the code itself (a helper, no tests).

`course_operations()` maps each boto3 client the labs declare (`course.all_services()`) to
the API names of the operations the course calls on it, found by scanning

* the library, ``mylearning/`` (without ``mylearning/emulator/``, the embedded AWS itself),
* the checks, ``graders/``,
* the code cells of the master notebooks, ``solutions/*.ipynb``,

for method calls ``.<snake_name>(``, paginators ``get_paginator("<snake_name>")`` and waiters
``get_waiter("<waiter_name>")`` (a waiter polls one operation, read from botocore's waiter
model). A name counts when it is a method of a declared client
(``client.meta.method_to_api_mapping``) and is given to *every* declared client that has it.

This over-approximates, on purpose: the scan cannot tell which client an expression holds, so
``.list_services(`` counts for ECS and Cloud Map alike, and ``.delete_secret(`` for Secrets
Manager whether or not the call goes to boto3 at all. An operation too many is harmless (the
embedded AWS implements it or we learn it lacks it); one too few would hide a gap. What the
scan misses: names built at run time (``getattr(client, name)``), which the course does not use.
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

_CALL = re.compile(r"\.([a-z][a-z0-9_]*)\s*\(")
_PAGINATOR = re.compile(r"get_paginator\(\s*[\"']([a-z][a-z0-9_]*)[\"']")
_WAITER = re.compile(r"get_waiter\(\s*[\"']([a-z][a-z0-9_]*)[\"']")


def course_sources(root: Path = ROOT) -> dict[str, str]:
    """Path (relative to the repository) -> the Python text the scan reads."""
    sources: dict[str, str] = {}
    emulator = root / "mylearning" / "emulator"
    for folder in (root / "mylearning", root / "graders"):
        for path in sorted(folder.rglob("*.py")):
            if emulator in path.parents:
                continue
            sources[str(path.relative_to(root))] = path.read_text(encoding="utf-8")
    for path in sorted((root / "solutions").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        code = ["".join(c.get("source", "")) if isinstance(c.get("source"), list) else c.get("source", "")
                for c in cells if c.get("cell_type") == "code"]
        sources[str(path.relative_to(root))] = "\n".join(code)
    return sources


@functools.lru_cache(maxsize=None)
def _client_methods(service: str) -> dict[str, str]:
    """snake_case method -> API operation name of one boto3 client (no call is made)."""
    import botocore.session

    session = botocore.session.get_session()
    client = session.create_client(service, region_name="us-east-1", aws_access_key_id="x",
                                   aws_secret_access_key="x")
    return dict(client.meta.method_to_api_mapping)


@functools.lru_cache(maxsize=None)
def _waiter_operations(service: str) -> dict[str, str]:
    """snake_case waiter name -> the API operation it polls, for one boto3 client."""
    import botocore.session
    from botocore import xform_name
    from botocore.exceptions import DataNotFoundError

    session = botocore.session.get_session()
    try:
        config = session.get_waiter_model(service)
    except DataNotFoundError:
        return {}
    return {xform_name(name): config.get_waiter(name).operation for name in config.waiter_names}


def scan(sources: dict[str, str], services: tuple[str, ...]) -> dict[str, set[str]]:
    """The operations of `services` that `sources` call (see the module's docstring)."""
    names: set[str] = set()
    waiters: set[str] = set()
    for text in sources.values():
        names.update(_CALL.findall(text))
        names.update(_PAGINATOR.findall(text))
        waiters.update(_WAITER.findall(text))
    found: dict[str, set[str]] = {}
    for service in services:
        methods = _client_methods(service)
        operations = {methods[n] for n in names if n in methods}
        polled = _waiter_operations(service)
        operations.update(polled[w] for w in waiters if w in polled)
        if operations:
            found[service] = operations
    return found


def course_operations() -> dict[str, set[str]]:
    """boto3 client name -> API names of the operations the course's code calls on it."""
    from mylearning import course

    return scan(course_sources(), tuple(course.all_services()))
