"""Metric math (the CloudWatch User Guide's "Using metric math", using-metric-math.html), which
moto 5.2 does not compute: an alarm's `Metrics` expression and GetMetricData's expressions.

A time series is a dict of period start -> value over a grid of periods; an array of time
series is a list of (label, series). What is computed, as the page's tables say:

* ``+ - * / ^`` and unary ``-`` on scalars, series and arrays; between two series a value
  missing from one "is treated as 0", and a point that would divide by zero is dropped;
* comparisons ``== != < <= > >=`` and ``AND``/``&&``, ``OR``/``||``, giving 1 or 0;
* ``METRICS()`` and ``METRICS("text")`` (the request's metrics, "Math expressions aren't
  included"), ``[a, b]`` arrays;
* ``SUM AVG MIN MAX STDDEV DATAPOINT_COUNT`` (of a series a scalar, of an array a series; AVG
  of an array counts a missing value as 0), ``ABS CEIL FLOOR LOG LOG10 DIFF RATE``,
  ``METRIC_COUNT FIRST LAST PERIOD TIME_SERIES``;
* ``IF(condition, a[, b])`` with the page's rules for missing points, and ``FILL(x, S | TS |
  REPEAT | LINEAR)`` over the grid (REPEAT and LINEAR leave the points before the first value,
  and LINEAR those after the last, unfilled: nothing is there to repeat or interpolate from).

Any other function (ANOMALY_DETECTION_BAND, SEARCH, SORT, INSIGHT_RULE_METRIC, ...) raises
`Unsupported`; a malformed expression raises `MathError`.
"""
from __future__ import annotations

import math
import operator
import re
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable

Series = dict[float, float]


class MathError(ValueError):
    pass


class Unsupported(MathError):
    pass


class Arr(list):
    """An array of time series: (label, series) pairs."""


@dataclass
class Context:
    grid: list[float]                                            # the period starts, oldest first
    metrics: dict[str, Series] = field(default_factory=dict)    # MetricStat results, request order
    periods: dict[str, int] = field(default_factory=dict)       # their periods (AWS seconds)
    expressions: dict[str, str] = field(default_factory=dict)   # the other expressions, by id
    seconds_per_unit: float = 1.0   # AWS seconds per grid second (RATE); the clock's scale
    _done: dict[str, Any] = field(default_factory=dict)
    _busy: set = field(default_factory=set)


_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)|(\"[^\"]*\"|'[^']*'|“[^”]*”)"
                    r"|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|&&|\|\||[-+*/^<>()\[\],]))")
_BINARY = [("OR", "||"), ("AND", "&&"), ("==", "!=", "<", "<=", ">", ">="), ("+", "-"), ("*", "/")]


def _tokens(text: str) -> list[tuple[str, Any]]:
    out, i = [], 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if not m:
            if text[i:].strip():
                raise MathError(f"Unexpected character '{text[i:].lstrip()[0]}' at position {i}")
            break
        number, string, word, op = m.groups()
        if number:
            out.append(("num", float(number)))
        elif string:
            out.append(("str", string[1:-1]))
        elif word:
            out.append(("op", word) if word in ("AND", "OR") else ("word", word))
        else:
            out.append(("op", op))
        i = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.tokens, self.i = _tokens(text), 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: Any = None) -> tuple[str, Any]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise MathError(f"Expected {value or 'a value'}, found {token[1] if token else 'the end'}")
        self.i += 1
        return token

    def binary(self, level: int = 0) -> tuple:
        if level == len(_BINARY):
            return self.unary()
        node = self.binary(level + 1)
        while (t := self.peek()) and t[0] == "op" and t[1] in _BINARY[level]:
            self.take()
            node = ("bin", {"AND": "&&", "OR": "||"}.get(t[1], t[1]), node, self.binary(level + 1))
        return node

    def unary(self) -> tuple:
        if (t := self.peek()) and t == ("op", "-"):
            self.take()
            return ("neg", self.unary())
        return self.power()

    def power(self) -> tuple:
        node = self.primary()
        if (t := self.peek()) and t == ("op", "^"):
            self.take()
            return ("bin", "^", node, self.unary())
        return node

    def primary(self) -> tuple:
        kind, value = self.take()
        if kind in ("num", "str"):
            return (kind, value)
        if value == "(":
            node = self.binary()
            self.take(")")
            return node
        if value == "[":
            items = [self.binary()]
            while self.peek() == ("op", ","):
                self.take()
                items.append(self.binary())
            self.take("]")
            return ("array", items)
        if kind == "word" and self.peek() == ("op", "("):
            self.take()
            args = []
            if self.peek() != ("op", ")"):
                args.append(self.binary())
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.binary())
            self.take(")")
            return ("call", value, args)
        if kind == "word":
            return ("id", value) if value[0].islower() else ("kw", value)
        raise MathError(f"Unexpected '{value}'")


def parse(text: str) -> tuple:
    parser = _Parser(text)
    node = parser.binary()
    if parser.peek() is not None:
        raise MathError(f"Unexpected '{parser.peek()[1]}' after the expression")
    return node


def evaluate(text: str, ctx: Context) -> Any:
    return _eval(parse(text), ctx)


def lookup(name: str, ctx: Context) -> Any:
    if name in ctx.metrics:
        return ctx.metrics[name]
    if name in ctx.expressions:
        if name not in ctx._done:
            if name in ctx._busy:
                raise MathError(f"The expression {name} refers to itself")
            ctx._busy.add(name)
            ctx._done[name] = evaluate(ctx.expressions[name], ctx)
        return ctx._done[name]
    raise MathError(f"Unknown metric or expression id {name}")


def _eval(node: tuple, ctx: Context) -> Any:
    kind = node[0]
    if kind in ("num", "str", "kw"):
        return node[1]
    if kind == "id":
        return lookup(node[1], ctx)
    if kind == "neg":
        return _map(_eval(node[1], ctx), operator.neg)
    if kind == "array":
        arr = Arr()
        for item, sub in zip(node[1], (_eval(i, ctx) for i in node[1])):
            if isinstance(sub, Arr):
                arr.extend(sub)
            elif isinstance(sub, dict):
                arr.append((item[1] if item[0] == "id" else "", sub))
            else:
                raise MathError("An array holds time series")
        return arr
    if kind == "bin":
        return _binary(node[1], _eval(node[2], ctx), _eval(node[3], ctx))
    from mylearning.emulator.fidelity.cloudwatch.metric_functions import call
    return call(node[1], node[2], ctx, lambda n: _eval(n, ctx))


def _ok(value: float) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def _apply(fn: Callable[[float, float], float], a: float, b: float) -> float | None:
    try:
        value = float(fn(a, b))
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return None
    return value if _ok(value) else None


_OPS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "^": operator.pow, "==": lambda a, b: float(a == b), "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b), "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b), ">=": lambda a, b: float(a >= b),
    "&&": lambda a, b: float(bool(a) and bool(b)), "||": lambda a, b: float(bool(a) or bool(b))}


def _binary(op: str, a: Any, b: Any) -> Any:
    fn = _OPS[op]
    if isinstance(a, Arr):
        return Arr((label, _binary(op, s, b)) for label, s in a)
    if isinstance(b, Arr):
        return Arr((label, _binary(op, a, s)) for label, s in b)
    if isinstance(a, dict) and isinstance(b, dict):
        out = {t: _apply(fn, a.get(t, 0.0), b.get(t, 0.0)) for t in sorted(set(a) | set(b))}
    elif isinstance(a, dict):
        out = {t: _apply(fn, v, _scalar(b)) for t, v in a.items()}
    elif isinstance(b, dict):
        out = {t: _apply(fn, _scalar(a), v) for t, v in b.items()}
    else:
        return _apply(fn, _scalar(a), _scalar(b))
    return {t: v for t, v in out.items() if v is not None}


def _scalar(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if value is None:
        return math.nan
    raise MathError(f"Expected a number, got {value!r}")


def _map(value: Any, fn: Callable[[float], float]) -> Any:
    """fn on a scalar, each point of a series, or each series of an array; bad points drop."""
    if isinstance(value, Arr):
        return Arr((label, _map(s, fn)) for label, s in value)
    if isinstance(value, dict):
        out = {t: _apply(lambda x, _: fn(x), v, 0.0) for t, v in value.items()}
        return {t: v for t, v in out.items() if v is not None}
    return _apply(lambda x, _: fn(x), _scalar(value), 0.0)


def reduce_series(value: Series, fn: Callable[[list[float]], float]) -> float | None:
    return _apply(lambda *_: fn(list(value.values())), 0.0, 0.0) if value else None


def reduce_array(arr: Arr, fn: Callable[[list[float]], float], missing_zero: bool = False) -> Series:
    out: Series = {}
    for t in sorted({t for _, s in arr for t in s}):
        values = [s.get(t, 0.0) for _, s in arr] if missing_zero else [s[t] for _, s in arr if t in s]
        value = _apply(lambda *_: fn(values), 0.0, 0.0)
        if value is not None:
            out[t] = value
    return out


REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "SUM": sum, "AVG": statistics.fmean, "MIN": min, "MAX": max, "STDDEV": statistics.pstdev,
    "DATAPOINT_COUNT": lambda values: float(len(values))}
