"""Logs Insights' values and functions: how fields compare, sort and print, the general,
string, numeric and date functions, and the aggregations of ``stats``.

Functions as the guide lists them (CWL_QuerySyntax-operations-functions.html): numeric
``abs ceil floor greatest least log sqrt``; string ``strlen tolower toupper trim ltrim rtrim
concat substr replace strcontains isempty isblank``; general ``ispresent coalesce``; date
``bin datefloor dateceil fromMillis toMillis``. Aggregations (CWL_QuerySyntax-Stats.html):
``count count_distinct sum avg min max pct stddev earliest latest``.

A missing field is None: a comparison or a function of it is None, and ``filter`` keeps only
the events whose condition is true, so an event without ``status`` is in neither
``status = 500`` nor ``status != 500``.
"""
from __future__ import annotations

import datetime
import math
import re
from typing import Any, Callable, Iterable

from mylearning.facts.logs import TIMESTAMP_FORMAT


class Timestamp(int):
    """Milliseconds since the epoch, printed the way Logs Insights prints @timestamp."""


def text(value: Any) -> str:
    """A value as GetQueryResults carries it: every value is a string."""
    if isinstance(value, Timestamp):
        moment = datetime.datetime.fromtimestamp(value / 1000, datetime.timezone.utc)
        return moment.strftime(TIMESTAMP_FORMAT) + f".{int(value) % 1000:03d}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def number(value: Any) -> float | int | None:
    """A value as a number, when it is one: JSON numbers, and strings that hold only a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                found = float(value)
            except ValueError:
                return None
            return found if math.isfinite(found) else None
    return None


def equal(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    x, y = number(a), number(b)
    if x is not None and y is not None:
        return x == y
    return text(a) == text(b)


def ordered(a: Any, b: Any, op: str) -> bool | None:
    """<, <=, >, >= numerically when both sides are numbers, else as strings."""
    if a is None or b is None:
        return None
    x, y = number(a), number(b)
    if x is None or y is None:
        x, y = text(a), text(b)
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def like(value: Any, pattern: Any) -> bool | None:
    """``like "text"`` is a substring test; ``like /regex/`` (and ``=~``) a regex search."""
    if value is None or pattern is None:
        return None
    if isinstance(pattern, re.Pattern):
        return pattern.search(text(value)) is not None
    return text(pattern) in text(value)


_CHUNKS = re.compile(r"\d+|\D+")


def sort_key(value: Any) -> tuple:
    """The sort page's natural order (CWL_QuerySyntax-Sort.html), ascending: "All non-number
    values come before all number values"; other values are split into runs of digits and
    of other characters, the runs compared by their Unicode values and digit runs "by their
    length first and then by their numerical value". None sorts after everything."""
    if value is None:
        return (3,)
    n = number(value)
    if n is not None and not (isinstance(value, str) and not value.strip()):
        return (1, n)
    chunks = []
    for run in _CHUNKS.findall(text(value)):
        chunks.append((ord("0"), len(run), run) if run[0].isdigit() else (ord(run[0]), 0, run))
    return (0, tuple(chunks))


# ---------------------------------------------------------------- scalar functions

def _num1(fn: Callable[[float], Any]) -> Callable[..., Any]:
    def call(value: Any) -> Any:
        n = number(value)
        return None if n is None else fn(n)
    return call


def _str1(fn: Callable[[str], Any]) -> Callable[..., Any]:
    def call(value: Any) -> Any:
        return None if value is None else fn(text(value))
    return call


def _log(n: float) -> float | None:
    return math.log(n) if n > 0 else None


def _sqrt(n: float) -> float | None:
    return math.sqrt(n) if n >= 0 else None


def _numbers(values: Iterable[Any]) -> list:
    return [n for n in (number(v) for v in values) if n is not None]


def _greatest(*values: Any) -> Any:
    found = _numbers(values)
    return max(found) if found else None


def _least(*values: Any) -> Any:
    found = _numbers(values)
    return min(found) if found else None


def _concat(*values: Any) -> str:
    return "".join(text(v) for v in values if v is not None)


def _substr(value: Any, start: Any, length: Any = None) -> str | None:
    if value is None or number(start) is None:
        return None
    s, begin = text(value), int(number(start))
    if length is None:
        return s[begin:]
    return s[begin:begin + max(0, int(number(length) or 0))]


def _replace(value: Any, find: Any, replacement: Any) -> str | None:
    if value is None or find is None:
        return None
    return text(value).replace(text(find), text(replacement if replacement is not None else ""))


def _strcontains(value: Any, part: Any) -> bool | None:
    if value is None or part is None:
        return None
    return text(part) in text(value)


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _datefloor(value: Any, period: Any) -> Timestamp | None:
    n, p = number(value), number(period)
    if n is None or not p:
        return None
    return Timestamp(int(n) // int(p) * int(p))


def _dateceil(value: Any, period: Any) -> Timestamp | None:
    n, p = number(value), number(period)
    if n is None or not p:
        return None
    return Timestamp(-(-int(n) // int(p)) * int(p))


def _from_millis(value: Any) -> Timestamp | None:
    n = number(value)
    return None if n is None else Timestamp(int(n))


def _to_millis(value: Any) -> int | None:
    n = number(value)
    return None if n is None else int(n)


#: name -> (function, least and most arguments)
SCALARS: dict[str, tuple[Callable[..., Any], int, int]] = {
    "abs": (_num1(abs), 1, 1),
    "ceil": (_num1(lambda n: int(math.ceil(n))), 1, 1),
    "floor": (_num1(lambda n: int(math.floor(n))), 1, 1),
    "log": (_num1(_log), 1, 1),
    "sqrt": (_num1(_sqrt), 1, 1),
    "greatest": (_greatest, 1, 100),
    "least": (_least, 1, 100),
    "strlen": (_str1(len), 1, 1),
    "tolower": (_str1(str.lower), 1, 1),
    "toupper": (_str1(str.upper), 1, 1),
    "trim": (_str1(str.strip), 1, 1),
    "ltrim": (_str1(str.lstrip), 1, 1),
    "rtrim": (_str1(str.rstrip), 1, 1),
    "concat": (_concat, 1, 100),
    "substr": (_substr, 2, 3),
    "replace": (_replace, 3, 3),
    "strcontains": (_strcontains, 2, 2),
    "isempty": (lambda v: v is None or text(v) == "", 1, 1),
    "isblank": (lambda v: v is None or text(v).strip() == "", 1, 1),
    "ispresent": (lambda v: v is not None, 1, 1),
    "coalesce": (_coalesce, 1, 100),
    "datefloor": (_datefloor, 2, 2),
    "dateceil": (_dateceil, 2, 2),
    "frommillis": (_from_millis, 1, 1),
    "tomillis": (_to_millis, 1, 1),
}


# ---------------------------------------------------------------- aggregations

def percentile(values: list[float], p: float) -> float | None:
    """The p-th percentile by nearest rank (AWS documents pct as an approximation and does
    not say which; nearest rank returns a value that occurred, as a latency pNN should)."""
    if not values:
        return None
    ordered_values = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered_values)))
    return ordered_values[min(rank, len(ordered_values)) - 1]


def stddev(values: list[float]) -> float | None:
    """The sample standard deviation (n - 1); one value has none."""
    if len(values) < 2:
        return 0.0 if values else None
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def aggregate(name: str, values: list[Any], times: list[int], extra: Any = None) -> Any:
    """One aggregation over a group's values (None where a row lacks the field); `times`
    are the rows' @timestamp, for earliest and latest."""
    present = [v for v in values if v is not None]
    if name == "count":
        return len(present)
    if name == "count_distinct":
        return len({text(v) for v in present})
    if name in ("earliest", "latest"):
        pairs = [(t, v) for t, v in zip(times, values) if v is not None]
        if not pairs:
            return None
        pick = min if name == "earliest" else max
        return pick(pairs, key=lambda pair: pair[0])[1]
    numbers = _numbers(present)
    if name in ("min", "max"):
        if numbers and len(numbers) == len(present):
            found = min(numbers) if name == "min" else max(numbers)
            kinds = {type(v) for v in present}
            return type(present[0])(found) if kinds == {Timestamp} else found
        if not present:
            return None
        pick = min if name == "min" else max
        return pick(present, key=sort_key)
    if not numbers:
        return None
    if name == "sum":
        return sum(numbers)
    if name == "avg":
        return sum(numbers) / len(numbers)
    if name == "pct":
        return percentile([float(n) for n in numbers], float(extra))
    if name == "stddev":
        return stddev([float(n) for n in numbers])
    raise KeyError(name)
