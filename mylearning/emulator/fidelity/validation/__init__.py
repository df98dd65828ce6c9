"""Model-driven validation: every request checked against AWS's service model before moto sees it.

AWS validates each request against the operation's input shape server-side, and
answers a violation with the service's validation error before doing anything.
moto validates little of it, so a wrong enum, a too-long name or a missing member
would be accepted here and rejected on AWS. This runs the same check for every
operation of every service the fidelity layer covers (discovered, as the labs
declare them), in three parts:

* `wire`: the request read back into the model's structure, whatever the protocol;
* `walk`: the structure checked against the shape (required, enums, lengths,
  ranges, patterns), with `overrides`, the documented corrections, one table per service;
* `errors`: the code and status each service answers a violation with.

Hand-written rules (the service modules) run after it, for what no model states.
"""
from __future__ import annotations

import time
from typing import Any

from mylearning.emulator.fidelity import core
from mylearning.emulator.fidelity.validation import walk, wire
from mylearning.emulator.fidelity.validation.errors import answer_for

#: AWS lists at most this many problems in one answer.
MAX_LISTED = 10

_SCOPE: set[str] | None = None
STATS = {"checked": 0, "rejected": 0, "seconds": 0.0}


def _in_scope(service: str) -> bool:
    global _SCOPE
    if _SCOPE is None:
        from mylearning.emulator import fidelity
        _SCOPE = set(fidelity.services())
    return service in _SCOPE


def summary() -> dict:
    """Requests checked and refused since start, and the mean time a check took (ms)."""
    checked = STATS["checked"]
    return {"checked": checked, "rejected": STATS["rejected"],
            "mean_ms": round(1000 * STATS["seconds"] / checked, 4) if checked else 0.0}


def _input_shape(service: str, operation: str | None) -> Any:
    model = core.MODELS.get(service)
    if model is None or operation not in model.operation_names:
        return None
    return model.operation_model(operation).input_shape


def structured(req: core.AwsRequest) -> dict:
    """The request's parameters as the model nests and types them (lists, maps, structures),
    whatever the protocol carried them as; read once per request and kept on it, so a
    rule never re-parses a query protocol's flat ``Name.member.N.Key`` form itself."""
    if req.structured is None:
        shape = _input_shape(req.service, req.operation)
        req.structured = wire.structured(req, shape) if shape is not None else dict(req.params)
    return req.structured


def problems(service: str, operation: str, params: dict) -> list[walk.Problem]:
    """What AWS would refuse in `params` (the input structure, as boto3 takes it)."""
    shape = _input_shape(service, operation)
    return [] if shape is None else list(walk.check(service, shape, params))


def check(req: core.AwsRequest) -> None:
    """Raise the service's validation error when the request breaks its model."""
    if not _in_scope(req.service):
        return
    start = time.perf_counter()
    try:
        shape = _input_shape(req.service, req.operation)
        if shape is None:
            return
        found = list(walk.check(req.service, shape, structured(req)))
    finally:
        STATS["checked"] += 1
        STATS["seconds"] += time.perf_counter() - start
    if found:
        STATS["rejected"] += 1
        raise refusal(req, found)


def refusal(req: core.AwsRequest, found: list[walk.Problem]) -> core.AwsError:
    """The answer AWS gives: "N validation error(s) detected: ..." in the service's error code."""
    answer = answer_for(req.service, req.protocol)
    if answer.missing and found[0].missing:
        return core.AwsError(answer.missing, f"The request must contain the parameter {found[0].path}",
                             answer.status, origin="model")
    listed = "; ".join(p.message() for p in found[:MAX_LISTED])
    count = len(found)
    return core.AwsError(answer.code_for(req.operation),
                         f"{count} validation error{'s' if count > 1 else ''} detected: {listed}",
                         answer.status, origin="model")


core.before_every(check)
