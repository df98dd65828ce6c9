"""Requests made from the service models: valid ones, and ones that break exactly one constraint.

Used by the model fuzz test and the fidelity report to hold the embedded AWS to its
models from the outside, as a learner's wrong call or a client with validation off
would reach it: an invalid request must be refused with a 4xx that names the
parameter, a valid one must not be refused for validation, and nothing may answer
5xx. Generation is seeded, so a failure can be replayed.
"""
from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from typing import Any, Iterator

from mylearning.emulator.fidelity.validation import walk
from mylearning.emulator.fidelity.validation.overrides import constraints_of

#: Strings tried, in order, for a pattern the generator cannot read: the first that fits wins.
_CANDIDATES = ("fuzz", "a", "fuzz-1", "Fuzz1", "1", "f", "fuzz_1", "/fuzz", "/fuzz/a", "fuzz.a",
               "arn:aws:iam::123456789012:role/fuzz", "123456789012", "10.0.0.0/16",
               "sg-12345678", "vpc-12345678", "subnet-12345678", "us-east-1a", "fuzz@example.com",
               "2012-10-17", "*", "0")
#: Strings tried to break a pattern (checked against it: one that still matches is not used).
_BREAKERS = ("!!bad value!!", " ", "\u00e9\u00e9", "-", "a" * 3 + "$%", "UPPER lower")
_DEPTH = 4


@dataclass(frozen=True)
class Request:
    """One generated call: what it breaks (None for a valid call) and its parameters."""

    service: str
    operation: str
    params: dict
    breaks: str | None = None   # the member path the request breaks


def _fits(service: str, shape: Any, value: Any, owner: str | None, member: str | None) -> bool:
    return not list(walk.check(service, shape, value, "x", owner, member))


def valid_value(service: str, shape: Any, rng: random.Random, owner: str | None = None,
                member: str | None = None, depth: int = 0, rich: bool = False) -> Any:
    """A value of `shape` that satisfies its constraints; raises LookupError when none is found.

    `rich` fills every member it can (to depth 3), so lists, maps and nested structures
    cross the wire; otherwise a few optional scalars are picked at random.
    """
    kind = shape.type_name
    rules = constraints_of(service, shape, owner, member)
    if kind == "structure":
        required = set(rules.get("required", ()))
        out = {}
        for name, child in shape.members.items():
            wanted = rich and depth < 3 and child.serialization.get("location") not in ("header", "headers")
            if name in required or wanted or (depth < 2 and rng.random() < 0.3 and _simple(child)):
                try:
                    out[name] = valid_value(service, child, rng, shape.name, name, depth + 1, rich)
                except LookupError:
                    if name in required:
                        raise
        if not out and depth > 0:
            # An empty structure never reaches a query or EC2 wire (it sends no key at all),
            # so it would read back as absent: give it one member.
            for name, child in shape.members.items():
                if _simple(child):
                    try:
                        out[name] = valid_value(service, child, rng, shape.name, name, depth + 1)
                        break
                    except LookupError:
                        continue
        return out
    if depth > _DEPTH:
        raise LookupError("too deep")
    if kind == "list":
        count = max(1, rules.get("min") or 0)
        return [valid_value(service, shape.member, rng, depth=depth + 1, rich=rich) for _ in range(count)]
    if kind == "map":
        return {"fuzzkey": valid_value(service, shape.value, rng, depth=depth + 1, rich=rich)}
    if kind == "string":
        if rules.get("enum"):
            return rng.choice(list(rules["enum"]))
        for text in _CANDIDATES:
            low, high = rules.get("min") or 0, rules.get("max")
            text = text + "a" * max(0, low - len(text))
            if high is not None and len(text) > high:
                continue
            if _fits(service, shape, text, owner, member):
                return text
        raise LookupError(f"no candidate fits {rules.get('pattern')}")
    if kind in ("integer", "long"):
        low, high = rules.get("min"), rules.get("max")
        low = 1 if low is None else int(low)
        return low if high is None else min(max(low, 1), int(high))
    if kind in ("float", "double"):
        return float(rules.get("min") or 1)
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    if kind == "blob":
        return b"fuzz"
    raise LookupError(kind)


def _simple(shape: Any) -> bool:
    return shape.type_name in ("string", "integer", "long", "boolean", "double", "float")


def breakers(service: str, shape: Any, owner: str | None, member: str | None) -> Iterator[Any]:
    """Values that break exactly one of the constraints `shape` has (as `owner`.`member`)."""
    kind = shape.type_name
    rules = constraints_of(service, shape, owner, member)
    if kind == "string":
        if rules.get("enum"):
            yield "NOT_AN_ENUM_VALUE"
            return
        high, low = rules.get("max"), rules.get("min")
        if high is not None and high < 5000:
            yield "a" * (int(high) + 1)
        if low and low > 1:
            yield "a" * (int(low) - 1)
        if rules.get("pattern"):
            for text in _BREAKERS:
                if not _fits(service, shape, text, owner, member):
                    yield text
                    return
    elif kind in ("integer", "long"):
        if rules.get("max") is not None and rules["max"] < 2 ** 62:
            yield int(rules["max"]) + 1
        if rules.get("min") is not None and rules["min"] > -(2 ** 62):
            yield int(rules["min"]) - 1


def _nested(service: str, shape: Any, value: Any, path: str, depth: int) -> Iterator[tuple[Any, str]]:
    """Copies of `value` (of `shape`) with one constraint of one nested member broken."""
    if depth > 3:
        return
    if shape.type_name == "list" and isinstance(value, list) and value:
        for bad, inner in _nested(service, shape.member, value[0], f"{path}.1.member", depth + 1):
            yield [bad, *value[1:]], inner
    elif shape.type_name == "structure" and isinstance(value, dict):
        required = set(constraints_of(service, shape).get("required", ()))
        for name, member in shape.members.items():
            where = f"{path}.{name}"
            if name in required and name in value and len(value) > 1:
                yield {k: v for k, v in value.items() if k != name}, where
            for bad in breakers(service, member, shape.name, name):
                yield {**value, name: bad}, where
            if name in value:
                for bad, inner in _nested(service, member, value[name], where, depth + 1):
                    yield {**value, name: bad}, inner


def requests(service: str, model: Any, operations: list[str], seed: int = 7,
             per_operation: int = 30, valid_per_operation: int = 3) -> Iterator[Request]:
    """For each operation: a few valid requests (each with other optional members), then up to
    `per_operation` that each break one thing of one member."""
    rng = random.Random(f"{seed}:{service}")
    for operation in operations:
        shape = model.operation_model(operation).input_shape
        if shape is None:
            continue
        valid = []
        for attempt in range(valid_per_operation):
            try:
                candidate = valid_value(service, shape, rng, rich=attempt == 0)
            except LookupError:
                continue
            if not list(walk.check(service, shape, candidate)) and candidate not in valid:
                valid.append(candidate)  # else the generator could not satisfy the model: no fair test
        if not valid:
            continue
        base = valid[0]
        for params in valid:
            yield Request(service, operation, params)
        made = 0
        required = set(constraints_of(service, shape).get("required", ()))
        names = list(shape.members)
        rng.shuffle(names)
        for name in names:
            if made >= per_operation:
                break
            member = shape.members[name]
            if member.serialization.get("location") in ("uri", "header", "headers"):
                continue  # a broken URI or header is refused by routing, not by the model
            if name in required and name in base:
                params = {k: v for k, v in base.items() if k != name}
                yield Request(service, operation, params, breaks=name)
                made += 1
                continue
            for bad in breakers(service, member, shape.name, name):
                yield Request(service, operation, {**base, name: bad}, breaks=name)
                made += 1
            if name in base:
                for bad, path in _nested(service, member, base[name], name, 1):
                    if made >= per_operation:
                        break
                    yield Request(service, operation, {**base, name: bad}, breaks=path)
                    made += 1


@dataclass
class Report:
    """What a fuzz run found: counts, and every request that went wrong (to replay it)."""

    sent: int = 0
    refused_correctly: int = 0      # broke a constraint, got a 4xx naming the parameter
    accepted_correctly: int = 0     # valid, not refused for validation
    refused_by_rule: int = 0        # valid for the model, refused by a rule or by moto (cross-field, state)
    server_errors: int = 0          # any 5xx
    skipped_operations: int = 0     # the generator could not build a valid call
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.sent} requests: {self.refused_correctly} invalid refused naming the parameter, "
                f"{self.accepted_correctly} valid not refused for validation ({self.refused_by_rule} "
                f"of them then refused for another reason: a rule, a missing resource), "
                f"{self.server_errors} answered 5xx, "
                f"{len(self.failures)} wrong; {self.skipped_operations} operations skipped")


def _survives_wire(client: Any, req: Request) -> bool:
    """Whether the broken constraint is still broken once the client has serialised the call.

    On the query and EC2 wires an empty structure or list element sends no key at all,
    so AWS would see that member as absent: such a request breaks nothing there.
    """
    from types import SimpleNamespace

    from mylearning.emulator.fidelity.validation import wire

    model = client.meta.service_model
    if model.protocol not in ("query", "ec2"):
        return True
    operation = model.operation_model(req.operation)
    body = client._serializer.serialize_to_request(req.params, operation)["body"]
    params = {k: str(v) for k, v in body.items() if k not in ("Action", "Version")}
    shape = operation.input_shape
    structured = wire.structured(SimpleNamespace(protocol=model.protocol, params=params), shape)
    return bool(list(walk.check(req.service, shape, structured)))


def run(endpoint: str, operations: dict[str, set[str]], seed: int = 7,
        per_operation: int = 30) -> Report:
    """Send every generated request to `endpoint` with client-side validation off."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    session = boto3.Session(aws_access_key_id="fuzz", aws_secret_access_key="fuzz",
                            region_name="us-east-1")
    config = Config(parameter_validation=False, retries={"max_attempts": 1}, read_timeout=30)
    report = Report()
    for service in sorted(operations):
        client = session.client(service, endpoint_url=endpoint, config=config)
        model = client.meta.service_model
        methods = {api: snake for snake, api in client.meta.method_to_api_mapping.items()}
        # Operations sent to another host (a hostPrefix such as "stream-") cannot reach a
        # loopback endpoint; they are left out, and counted as skipped.
        wanted = sorted(op for op in operations[service] if op in methods
                        and not (model.operation_model(op).endpoint or {}).get("hostPrefix"))
        report.skipped_operations += len(set(operations[service]) & set(methods)) - len(wanted)
        covered: set[str] = set()
        for req in requests(service, model, wanted, seed, per_operation):
            covered.add(req.operation)
            if req.breaks is not None and not _survives_wire(client, req):
                continue  # e.g. a structure left empty: the query wire carries nothing of it
            report.sent += 1
            what = f"{service}.{req.operation}" + (f" breaking {req.breaks}" if req.breaks else " (valid)")
            try:
                getattr(client, methods[req.operation])(**req.params)
                status, message, by = 200, "", ""
            except ClientError as err:
                status = err.response["ResponseMetadata"].get("HTTPStatusCode", 0)
                message = err.response["Error"].get("Message", "")
                by = err.response["ResponseMetadata"].get("HTTPHeaders", {}).get("x-mylearning-refused-by", "")
            except Exception as exc:  # the client could not even build or read the call
                report.failures.append(f"{what}: client raised {type(exc).__name__}: {exc}")
                continue
            if status >= 500:
                if status == 501:
                    report.sent -= 1  # not implemented: the course-operations test reports it
                    continue
                report.server_errors += 1
                report.failures.append(f"{what}: HTTP {status}: {message[:120]}")
            elif req.breaks is None:
                if by == "model":
                    report.failures.append(f"{what}: refused by model validation: {message[:160]}")
                else:
                    report.accepted_correctly += 1
                    report.refused_by_rule += int(status >= 400)
            elif 400 <= status < 500 and req.breaks.split(".")[-1] in message:
                report.refused_correctly += 1
            else:
                report.failures.append(f"{what}: HTTP {status}, not refused naming it: {message[:160]}")
        report.skipped_operations += len(set(wanted) - covered)
    return report
