"""A Logs Insights query run over log events: the pipeline of commands, in order.

Fields an event has (CWL_AnalyzeLogData-discoverable-fields.html): the system fields
``@timestamp @message @logStream @log @ingestionTime @ptr`` in every log, and, for a JSON
event, each of its keys, nested objects and arrays flattened with ``.`` ("a.b", "items.0.id")
as the guide's CloudTrail example names them. JSON is read only when a query first needs a
field that is not a system field, so a query over @message alone never parses it.

Without ``stats``, results are sorted by @timestamp, newest first, unless the query sorts
them itself; a query that names no fields returns every field of each event. Each event's
result carries its ``@ptr``; aggregated results carry none (API_GetQueryResults.html:
"the @ptr field ... for each log event").
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from mylearning.emulator.fidelity.logs.insights_functions import (SCALARS, Timestamp, aggregate,
                                                                  equal, like, number, ordered,
                                                                  sort_key, text)
from mylearning.emulator.fidelity.logs.insights_syntax import (AGGREGATES, STAR, Command, Duration,
                                                               Node, QueryError)

Row = dict
Compiled = Callable[[Row], Any]


class ResultRow(dict):
    """A row that ``stats`` made: a missing field reads as None, as in an event."""

    def __missing__(self, key: str) -> Any:
        return None


class EventRow(dict):
    """One log event's fields; its JSON keys are discovered on the first lookup that needs
    them, and its @ptr made on the first lookup of it. Missing fields read as None
    (``row[name]`` never raises).

    An event's message never changes once put, so the fields read from its JSON are kept on
    the event (`_FIELDS`) and each later query over it reuses them: a query over 100,000
    events otherwise spends most of its time in ``json.loads``."""

    __slots__ = ("_event", "_where", "_discovered")

    def __init__(self, fields: dict, event: Any, group: str, stream: str):
        super().__init__(fields)
        self._event = event
        self._where = (group, stream)
        self._discovered = False

    def __missing__(self, key: str) -> Any:
        if key == "@ptr":
            value = pointer(*self._where, self._event.event_id)
            dict.__setitem__(self, key, value)
            return value
        if not self._discovered:
            self.discover()
            if dict.__contains__(self, key):
                return dict.__getitem__(self, key)
        return None

    def discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        for key, value in json_fields(self._event):
            if not dict.__contains__(self, key):
                dict.__setitem__(self, key, value)


_FIELDS = "_mylearning_insights_fields"


def json_fields(event: Any) -> list[tuple[str, Any]]:
    """The fields of an event's JSON message (none for a message that is not a JSON object),
    read once per event."""
    cached = getattr(event, _FIELDS, None)
    if cached is not None:
        return cached
    found: list[tuple[str, Any]] = []
    stripped = event.message.strip()
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except ValueError:
            document = None
        if isinstance(document, dict):
            for key, value in document.items():
                if isinstance(value, (dict, list)):
                    found.extend(pair for pair in flatten(value, key) if not pair[0].startswith("@"))
                elif value is not None and key and not key.startswith("@"):
                    found.append((key, value))
    try:
        setattr(event, _FIELDS, found)
    except AttributeError:  # an event type that takes no attributes: read again next time
        pass
    return found


def flatten(value: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    """JSON keys as Logs Insights names them: nested keys joined with "." and array items by index."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten(item, f"{prefix}{key}" if not prefix else f"{prefix}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}.{index}" if prefix else str(index))
    elif value is not None and prefix:
        yield prefix, value


def pointer(group: str, stream: str, event_id: Any) -> str:
    """An opaque @ptr that names the event (GetLogRecord takes it back)."""
    return base64.urlsafe_b64encode(json.dumps([group, stream, event_id]).encode()).decode()


def event_row(account: str, group: str, stream: str, event: Any) -> EventRow:
    return EventRow({"@timestamp": Timestamp(event.timestamp), "@message": event.message,
                     "@logStream": stream, "@log": f"{account}:{group}",
                     "@ingestionTime": Timestamp(event.ingestion_time)}, event, group, stream)


# ---------------------------------------------------------------- expressions

def compile_expr(node: Node) -> Compiled:
    kind = node.kind
    if kind == "lit":
        value = node.value
        return lambda row: value
    if kind == "regex":
        pattern = node.value
        return lambda row: pattern
    if kind == "field":
        name = node.value
        return lambda row: row[name]
    if kind == "list":
        items = [compile_expr(a) for a in node.args]
        return lambda row: [f(row) for f in items]
    if kind == "unary":
        inner = compile_expr(node.args[0])
        if node.value == "not":
            def negate(row: Row) -> Any:
                v = inner(row)
                return None if v is None else not truthy(v)
            return negate
        return lambda row: _arith("-", 0, inner(row))
    if kind == "binary":
        return _binary(node)
    if kind == "call":
        return _call(node)
    raise QueryError(f"cannot evaluate '{node.text}'")


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    n = number(value)
    return bool(n) if n is not None else value not in (None, "")


def _binary(node: Node) -> Compiled:
    op = node.value
    left, right = (compile_expr(a) for a in node.args)
    if op == "and":
        def both(row: Row) -> Any:
            a = left(row)
            if a is not None and not truthy(a):
                return False
            b = right(row)
            if b is not None and not truthy(b):
                return False
            return None if a is None or b is None else True
        return both
    if op == "or":
        def either(row: Row) -> Any:
            a, b = left(row), right(row)
            if (a is not None and truthy(a)) or (b is not None and truthy(b)):
                return True
            return None if a is None or b is None else False
        return either
    if op == "=":
        return lambda row: equal(left(row), right(row))
    if op == "!=":
        def differ(row: Row) -> Any:
            same = equal(left(row), right(row))
            return None if same is None else not same
        return differ
    if op in ("<", "<=", ">", ">="):
        return lambda row: ordered(left(row), right(row), op)
    if op == "like":
        return lambda row: like(left(row), right(row))
    if op == "in":
        def member(row: Row) -> Any:
            v = left(row)
            if v is None:
                return None
            return any(equal(v, item) for item in right(row))
        return member
    return lambda row: _arith(op, left(row), right(row))


def _arith(op: str, a: Any, b: Any) -> Any:
    x, y = number(a), number(b)
    if x is None or y is None:
        return None
    try:
        if op == "+":
            result = x + y
        elif op == "-":
            result = x - y
        elif op == "*":
            result = x * y
        elif op == "/":
            result = x / y
        elif op == "%":
            result = x % y
        else:
            result = x ** y
    except (ZeroDivisionError, OverflowError, ValueError):
        return None
    if isinstance(a, Timestamp) and op in "+-" and not isinstance(b, Timestamp):
        return Timestamp(int(result))
    return result


def _call(node: Node) -> Compiled:
    name, args = node.value, node.args
    if name in AGGREGATES:
        raise QueryError(f"the aggregation {node.text} can only be used in stats")
    if name == "bin":
        if len(args) != 1 or args[0].kind != "lit" or not isinstance(args[0].value, Duration):
            raise QueryError(f"bin takes one period such as 5m or 1h, not '{node.text}'")
        period = int(args[0].value)
        return lambda row: Timestamp(row["@timestamp"] // period * period)
    found = SCALARS.get(name)
    if found is None:
        raise QueryError(f"unknown function '{name}'")
    fn, least, most = found
    if not least <= len(args) <= most:
        raise QueryError(f"{name} takes {least if least == most else f'{least} to {most}'} "
                         f"argument{'s' if most > 1 else ''}, not {len(args)}")
    compiled = [compile_expr(a) for a in args]
    return lambda row: fn(*(f(row) for f in compiled))


# ---------------------------------------------------------------- stats

def compile_aggregate(node: Node) -> Callable[[list[Row]], Any]:
    """An expression of stats over a group of rows: aggregations, and arithmetic on them."""
    if node.kind == "call" and node.value in AGGREGATES:
        return _aggregation(node)
    if node.kind == "lit":
        value = node.value
        return lambda rows: value
    if node.kind == "binary" and node.value in ("+", "-", "*", "/", "%", "^"):
        left, right = (compile_aggregate(a) for a in node.args)
        return lambda rows: _arith(node.value, left(rows), right(rows))
    if node.kind == "unary" and node.value == "-":
        inner = compile_aggregate(node.args[0])
        return lambda rows: _arith("-", 0, inner(rows))
    raise QueryError(f"'{node.text}' must be an aggregation in stats")


def _aggregation(node: Node) -> Callable[[list[Row]], Any]:
    name, args = node.value, node.args
    extra = None
    if name == "pct":
        if len(args) != 2 or args[1].kind != "lit" or number(args[1].value) is None \
                or not 0 <= number(args[1].value) <= 100:
            raise QueryError(f"pct takes a field and a percentile from 0 to 100, not '{node.text}'")
        extra = number(args[1].value)
        args = args[:1]
    if name == "count" and (not args or (args[0].kind == "lit" and args[0].value is STAR)):
        return lambda rows: len(rows)
    if len(args) != 1 or (args[0].kind == "lit" and args[0].value is STAR):
        raise QueryError(f"{name} takes one field or expression, not '{node.text}'")
    value = compile_expr(args[0])

    def run(rows: list[Row]) -> Any:
        return aggregate(name, [value(r) for r in rows], [r["@timestamp"] or 0 for r in rows], extra)
    return run


def stats(rows: list[Row], cmd: Command) -> list[Row]:
    keys = [(compile_expr(node), name) for node, name in cmd.by]
    items = [(compile_aggregate(node), name) for node, name in cmd.items]
    groups: dict[tuple, list[Row]] = {}
    for row in rows:
        key = tuple(text(v) if v is not None else None for v in (f(row) for f, _ in keys))
        groups.setdefault(key, []).append(row)
    if not keys and not groups:
        groups[()] = []
    out: list[Row] = []
    for members in groups.values():
        result: Row = ResultRow()
        first = members[0] if members else {}
        for f, name in keys:
            result[name] = f(first) if members else None
        for f, name in items:
            result[name] = f(members)
        out.append(result)
    return out


# ---------------------------------------------------------------- the pipeline

@dataclass
class Outcome:
    rows: list[Row]
    columns: list[str] | None     # None: every field of each event
    aggregated: bool
    matched: int = 0
    scanned: int = 0
    scanned_bytes: int = 0


def run(commands: list[Command], rows: list[EventRow], limit: int) -> Outcome:
    """The query's results over `rows` (events in the time range, newest first)."""
    columns: list[str] | None = None
    aggregated = False
    current: list[Row] = list(rows)
    matched: int | None = None
    for cmd in commands:
        if cmd.name == "filter":
            condition = compile_expr(cmd.condition)
            current = [r for r in current if _kept(condition(r))]
        elif cmd.name == "fields":
            compiled = [(compile_expr(n), name, n) for n, name in cmd.items]
            for row in current:
                for f, name, node in compiled:
                    if not (node.kind == "field" and node.value == name):
                        row[name] = f(row)
            names = [name for _, name, _ in compiled]
            columns = _union(columns or [], names)
        elif cmd.name == "display":
            compiled = [(compile_expr(n), name, n) for n, name in cmd.items]
            for row in current:
                for f, name, node in compiled:
                    if not (node.kind == "field" and node.value == name):
                        row[name] = f(row)
            columns = [name for _, name, _ in compiled]
        elif cmd.name == "parse":
            _parse(current, cmd)
        elif cmd.name == "stats":
            if matched is None:
                matched = len(current)
            current = stats(current, cmd)
            columns = [name for _, name in cmd.by] + [name for _, name in cmd.items]
            aggregated = True
        elif cmd.name == "sort":
            current = _sorted(current, cmd)
        elif cmd.name == "limit":
            current = current[:cmd.count]
        elif cmd.name == "dedup":
            current = _dedup(current, cmd)
    return Outcome(current[:limit], columns, aggregated,
                   matched=len(current) if matched is None else matched)


def _kept(value: Any) -> bool:
    return value is not None and truthy(value)


def _union(first: list[str], more: list[str]) -> list[str]:
    return first + [n for n in more if n not in first]


def _parse(rows: list[Row], cmd: Command) -> None:
    """Glob or regex extraction; "If a log event doesn't match the specified pattern, you
    still see it in the results, but without the extracted fields" (CWL_QuerySyntax-Parse.html)."""
    if isinstance(cmd.pattern, str):
        # Each * takes as little as it can, but a * that ends the pattern takes the rest.
        parts = cmd.pattern.split("*")
        last = len(parts) - 2
        regex = re.compile("".join(re.escape(p) + ("(.*)" if i == last and not parts[-1] else "(.*?)")
                                   for i, p in enumerate(parts[:-1])) + re.escape(parts[-1]), re.S)
        names = cmd.names
    else:
        regex, names = cmd.pattern, cmd.names
    source = compile_expr(cmd.source)
    for row in rows:
        value = source(row)
        if value is None:
            continue
        m = regex.search(text(value))
        if m is None:
            continue
        captured = m.groups() if isinstance(cmd.pattern, str) else [m.group(n) for n in names]
        for name, found in zip(names, captured):
            if found is not None:
                row[name] = _typed(found)


def _typed(found: str) -> Any:
    n = number(found)
    return n if n is not None and found.strip() == found and found else found


def _sorted(rows: list[Row], cmd: Command) -> list[Row]:
    out = list(rows)
    for node, descending in reversed(cmd.order):
        f = compile_expr(node)
        keyed = [(sort_key(f(r)), r) for r in out]
        present = [pair for pair in keyed if pair[0] != (3,)]
        missing = [pair for pair in keyed if pair[0] == (3,)]
        present.sort(key=lambda pair: pair[0], reverse=descending)
        out = [r for _, r in present] + [r for _, r in missing]
    return out


def _dedup(rows: list[Row], cmd: Command) -> list[Row]:
    """Keeps the first row of each combination of the fields' values (CWL_QuerySyntax-Dedup.html).
    A row lacking one of the fields is kept: a missing value is no value to be a duplicate of."""
    getters = [compile_expr(node) for node, _ in cmd.items]
    seen: set[tuple] = set()
    out = []
    for row in rows:
        values = tuple(g(row) for g in getters)
        if any(v is None for v in values):
            out.append(row)
            continue
        key = tuple(text(v) for v in values)
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def result_rows(outcome: Outcome) -> list[list[dict[str, str]]]:
    """Rows in GetQueryResults' shape: lists of {field, value}, without the fields a row lacks."""
    out = []
    for row in outcome.rows:
        if outcome.columns is None:
            if isinstance(row, EventRow):
                row.discover()
            names = [n for n in row if n != "@ptr"]
        else:
            names = outcome.columns
        cells = [{"field": n, "value": text(row[n])} for n in names if row[n] is not None and n != "@ptr"]
        if not outcome.aggregated and isinstance(row, EventRow):
            cells.append({"field": "@ptr", "value": row["@ptr"]})
        out.append(cells)
    return out
