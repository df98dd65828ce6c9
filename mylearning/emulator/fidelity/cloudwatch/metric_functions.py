"""The metric math functions `metric_math` computes (using-metric-math.html, "Functions supported
for metric math" and "Using IF expressions"); see `metric_math` for the list and the rules."""
from __future__ import annotations

import bisect
import math
from typing import Any, Callable

from mylearning.emulator.fidelity.cloudwatch.metric_math import (REDUCERS, Arr, Context, MathError,
                                                                 Series, Unsupported, _map, _scalar,
                                                                 reduce_array, reduce_series)

Eval = Callable[[tuple], Any]


def call(name: str, args: list[tuple], ctx: Context, ev: Eval) -> Any:
    if name in REDUCERS:
        return _reduce(name, _one(name, args), ev)
    fn = _FUNCTIONS.get(name)
    if fn is None:
        raise Unsupported(f"the metric math function {name} is not computed by the embedded AWS")
    return fn(args, ctx, ev)


def _one(name: str, args: list[tuple]) -> tuple:
    if len(args) != 1:
        raise MathError(f"{name} takes one argument, got {len(args)}")
    return args[0]


def _reduce(name: str, arg: tuple, ev: Eval) -> Any:
    value = ev(arg)
    if isinstance(value, Arr):
        return reduce_array(value, REDUCERS[name], missing_zero=name == "AVG")
    if isinstance(value, dict):
        return reduce_series(value, REDUCERS[name])
    raise MathError(f"{name} takes a time series or an array of time series")


def _metrics(args: list[tuple], ctx: Context, ev: Eval) -> Arr:
    text = ev(args[0]) if args else ""
    if not isinstance(text, str):
        raise MathError("METRICS takes a string")
    return Arr((query_id, s) for query_id, s in ctx.metrics.items() if text in query_id)


def _elementwise(fn: Callable[[float], float]) -> Callable[[list[tuple], Context, Eval], Any]:
    return lambda args, ctx, ev: _map(ev(_one("function", args)), fn)


def _array(args: list[tuple], ev: Eval) -> Arr:
    value = ev(_one("function", args))
    if not isinstance(value, Arr):
        raise MathError("expected an array of time series")
    return value


def _period(args: list[tuple], ctx: Context, ev: Eval) -> float:
    arg = _one("PERIOD", args)
    if arg[0] != "id" or arg[1] not in ctx.periods:
        raise MathError("PERIOD takes the id of a metric")
    return float(ctx.periods[arg[1]])


def _time_series(args: list[tuple], ctx: Context, ev: Eval) -> Series:
    value = _scalar(ev(_one("TIME_SERIES", args)))
    return {t: value for t in ctx.grid} if math.isfinite(value) else {}


def _changes(rate: bool) -> Callable[[list[tuple], Context, Eval], Any]:
    """DIFF: each value minus the one before; RATE: that over the seconds between them."""
    def one(s: Series, ctx: Context) -> Series:
        times = sorted(s)
        out = {}
        for before, t in zip(times, times[1:]):
            change = s[t] - s[before]
            out[t] = change / ((t - before) * ctx.seconds_per_unit) if rate else change
        return out

    def fn(args: list[tuple], ctx: Context, ev: Eval) -> Any:
        value = ev(_one("DIFF", args))
        if isinstance(value, Arr):
            return Arr((label, one(s, ctx)) for label, s in value)
        if isinstance(value, dict):
            return one(value, ctx)
        raise MathError("DIFF and RATE take time series")
    return fn


def _if(args: list[tuple], ctx: Context, ev: Eval) -> Any:
    """IF(condition, trueValue[, falseValue]), per point of a condition series: true takes the
    true value (0 where that series has no point); false takes the false value, or drops the
    point where it has none or is omitted (using-metric-math.html, "Using IF expressions")."""
    if len(args) not in (2, 3):
        raise MathError(f"IF takes two or three arguments, got {len(args)}")
    cond, yes = ev(args[0]), ev(args[1])
    no = ev(args[2]) if len(args) == 3 else None
    if isinstance(cond, Arr) or isinstance(yes, Arr) or isinstance(no, Arr):
        raise MathError("IF works on single time series")
    if not isinstance(cond, dict):
        chosen = yes if _scalar(cond) else no
        return {} if chosen is None else chosen
    out: Series = {}
    for t, c in cond.items():
        if c:
            out[t] = yes.get(t, 0.0) if isinstance(yes, dict) else _scalar(yes)
        elif isinstance(no, dict):
            if t in no:
                out[t] = no[t]
        elif no is not None:
            out[t] = _scalar(no)
    return {t: v for t, v in out.items() if math.isfinite(v)}


def _fill(args: list[tuple], ctx: Context, ev: Eval) -> Any:
    if len(args) != 2:
        raise MathError(f"FILL takes two arguments, got {len(args)}")
    value = ev(args[0])
    how = args[1][1] if args[1][0] == "kw" else ev(args[1])
    if how in ("REPEAT", "LINEAR") or isinstance(how, (dict, int, float)):
        if isinstance(value, Arr):
            return Arr((label, _fill_one(s, how, ctx.grid)) for label, s in value)
        if isinstance(value, dict):
            return _fill_one(value, how, ctx.grid)
    raise MathError("FILL takes a time series and a number, a time series, REPEAT or LINEAR")


def _fill_one(s: Series, how: Any, grid: list[float]) -> Series:
    out = dict(s)
    known = sorted(s)
    for t in grid:
        if t in s:
            continue
        i = bisect.bisect_left(known, t)
        before = known[i - 1] if i > 0 else None
        after = known[i] if i < len(known) else None
        if how == "REPEAT":
            if before is not None:
                out[t] = s[before]
        elif how == "LINEAR":
            if before is not None and after is not None:
                out[t] = s[before] + (s[after] - s[before]) * (t - before) / (after - before)
        elif isinstance(how, dict):
            if t in how:
                out[t] = how[t]
        elif math.isfinite(float(how)):
            out[t] = float(how)
    return dict(sorted(out.items()))


def _first_last(last: bool) -> Callable[[list[tuple], Context, Eval], Series]:
    def fn(args: list[tuple], ctx: Context, ev: Eval) -> Series:
        arr = _array(args, ev)
        return dict(arr[-1 if last else 0][1]) if arr else {}
    return fn


_FUNCTIONS: dict[str, Callable[[list[tuple], Context, Eval], Any]] = {
    "METRICS": _metrics, "ABS": _elementwise(abs), "CEIL": _elementwise(math.ceil),
    "FLOOR": _elementwise(math.floor), "LOG": _elementwise(math.log), "LOG10": _elementwise(math.log10),
    "METRIC_COUNT": lambda args, ctx, ev: float(len(_array(args, ev))),
    "FIRST": _first_last(False), "LAST": _first_last(True), "PERIOD": _period,
    "TIME_SERIES": _time_series, "DIFF": _changes(False), "RATE": _changes(True),
    "IF": _if, "FILL": _fill}
