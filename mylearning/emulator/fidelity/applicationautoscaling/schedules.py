"""Application Auto Scaling schedule expressions: what ``at()``, ``rate()`` and ``cron()`` mean,
and when they fire. Pure functions, no moto, no I/O (the rules and the runner share them).

* The three forms: https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html
  ("At expressions - at(yyyy-mm-ddThh:mm:ss)", "Rate expressions - rate(value unit)" where value
  is a positive integer and unit is minute | minutes | hour | hours | day | days, "Cron
  expressions - cron(fields)"; at and cron use UTC unless ``Timezone`` names another zone).
* Cron: https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html
  ("six fields separated by white spaces: [Minutes] [Hours] [Day_of_Month] [Month]
  [Day_of_Week] [Year]"), whose syntax is EventBridge's cron reference
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html): minutes
  0-59, hours 0-23, day-of-month 1-31 (``, - * ? / L W``), month 1-12 or JAN-DEC, day-of-week
  1-7 or SUN-SAT with 1 = Sunday (``, - * ? L #``), year 1970-2199; one of day-of-month and
  day-of-week is ``?`` ("If you specify a value or a * (asterisk) in one of the fields, you must
  use a ? (question mark) in the other"). ``L`` is the last day of the month (day-of-month) or
  of the week, Saturday (day-of-week; ``5L`` the month's last Thursday); ``W`` the weekday
  nearest a day of the month (``15W``, ``LW``), never in another month; ``#`` the nth weekday
  of the month (``2#1``, the first Monday). As in Quartz, whose syntax this is, ``L``, ``W``
  and ``#`` stand alone in their field (not in a list). Names are read in any case.
* Time zones: "the canonical names of the IANA time zones supported by Joda-Time (such as
  Etc/GMT+9 or Pacific/Tahiti)" (same cron page); read with `zoneinfo`. A local time that a
  daylight-saving change skips is read with the offset before the change (02:30 on a spring-
  forward night fires at 03:30 new time); one it repeats fires once, at its first occurrence.
"""
from __future__ import annotations

import calendar
import datetime
import re
import zoneinfo
from dataclasses import dataclass

UTC = datetime.timezone.utc
YEARS = (1970, 2199)
_MONTHS = {m: i for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG",
                                       "SEP", "OCT", "NOV", "DEC"], start=1)}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
_UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}

_AT = re.compile(r"^at\((.*)\)$")
# AWS's own example shows a one-digit hour ("at(2020-12-08T9:36:00)" in
# https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-additional-cli-commands.html).
_AT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{1,2}:\d{2}:\d{2}$")
_RATE = re.compile(r"^rate\((.*)\)$")
_RATE_BODY = re.compile(r"^(-?\d+)\s+(\w+)$")
_CRON = re.compile(r"^cron\((.*)\)$")


class ScheduleError(ValueError):
    """Why an expression is not one of AWS's forms (the message finishes a sentence)."""


@dataclass(frozen=True)
class At:
    """A one-time action at a local date and time."""

    when: datetime.datetime  # naive, local to the action's time zone

    def moment(self, zone: datetime.tzinfo) -> float:
        return self.when.replace(tzinfo=zone).timestamp()


@dataclass(frozen=True)
class Rate:
    """A recurring action every `seconds` of AWS time."""

    value: int
    unit: str

    @property
    def seconds(self) -> int:
        return self.value * _UNIT_SECONDS[self.unit]


@dataclass(frozen=True)
class _Field:
    values: frozenset[int] = frozenset()
    any: bool = False           # ``?``
    last: bool = False          # ``L`` (day-of-month)
    last_weekday: bool = False  # ``LW``
    nearest_weekday: int = 0    # ``15W``
    last_of: int = 0            # ``5L`` (day-of-week): the month's last Thursday
    nth: tuple[int, int] = (0, 0)  # ``2#1`` (day-of-week, occurrence)


@dataclass(frozen=True)
class Cron:
    """A recurring action on the local times the six fields allow."""

    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: _Field
    months: frozenset[int]
    day_of_week: _Field
    years: frozenset[int]

    def days(self, year: int, month: int) -> list[int]:
        """The days of this month the day fields allow, in order."""
        last = calendar.monthrange(year, month)[1]
        if self.day_of_week.any:
            return _month_days(self.day_of_month, year, month, last)
        return _week_days(self.day_of_week, year, month, last)

    def next_after(self, moment: float, zone: datetime.tzinfo) -> float | None:
        """The first firing strictly after `moment` (epoch seconds), or None if none is left."""
        # Local wall time from a little before the moment, so a repeated (fall-back) hour is
        # not skipped; the comparison in epoch seconds decides.
        start = datetime.datetime.fromtimestamp(moment, zone).replace(tzinfo=None, second=0,
                                                                      microsecond=0)
        start -= datetime.timedelta(hours=3)
        for year in sorted(y for y in self.years if y >= start.year):
            for month in sorted(self.months):
                if (year, month) < (start.year, start.month):
                    continue
                for day in self.days(year, month):
                    if (year, month, day) < (start.year, start.month, start.day):
                        continue
                    for hour in sorted(self.hours):
                        for minute in sorted(self.minutes):
                            local = datetime.datetime(year, month, day, hour, minute)
                            if local < start:
                                continue
                            fires = local.replace(tzinfo=zone).timestamp()
                            if fires > moment:
                                return fires
        return None


Schedule = At | Rate | Cron


def parse(expression: str) -> Schedule:
    """The schedule an expression describes; `ScheduleError` says why it describes none."""
    text = (expression or "").strip()
    at = _AT.match(text)
    if at:
        body = at.group(1).strip()
        if not _AT_TIME.match(body):
            raise ScheduleError(f"an at expression is at(yyyy-mm-ddThh:mm:ss), not at({body})")
        try:
            return At(datetime.datetime.strptime(body, "%Y-%m-%dT%H:%M:%S"))
        except ValueError:
            raise ScheduleError(f"the date and time {body} do not exist") from None
    rate = _RATE.match(text)
    if rate:
        body = _RATE_BODY.match(rate.group(1).strip())
        if not body:
            raise ScheduleError("a rate expression is rate(value unit), e.g. rate(5 minutes)")
        value, unit = int(body.group(1)), body.group(2)
        if value < 1:
            raise ScheduleError(f"the value of a rate must be a positive integer, not {value}")
        if unit not in _UNIT_SECONDS:
            raise ScheduleError(f"the unit of a rate is minute(s), hour(s) or day(s), not {unit}")
        return Rate(value, unit)
    cron = _CRON.match(text)
    if cron:
        return _cron(cron.group(1).split())
    raise ScheduleError("use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)")


def error(expression: str) -> str | None:
    """Why `expression` is not a schedule, or None when it is one."""
    try:
        parse(expression)
    except ScheduleError as err:
        return str(err)
    return None


def zone(name: str | None) -> datetime.tzinfo:
    """The time zone a scheduled action's ``Timezone`` names (UTC when none); ScheduleError when
    the name is not an IANA zone."""
    if not name:
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(f"{name} is not an IANA time zone name (such as Etc/GMT+9 or "
                            "Pacific/Tahiti)") from None


# ---------------------------------------------------------------- cron fields

_SPECS = [  # name, low, high, names, the special characters the field takes
    ("minutes", 0, 59, {}, ""),
    ("hours", 0, 23, {}, ""),
    ("day-of-month", 1, 31, {}, "?LW"),
    ("month", 1, 12, _MONTHS, ""),
    ("day-of-week", 1, 7, _DAYS, "?L#"),
    ("year", YEARS[0], YEARS[1], {}, ""),
]


def _cron(fields: list[str]) -> Cron:
    if len(fields) != 6:
        raise ScheduleError(f"a cron expression has 6 fields (minutes hours day-of-month month "
                            f"day-of-week year), this one has {len(fields)}")
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        raise ScheduleError("one of day-of-month and day-of-week must be ? (a value or * in one "
                            "needs ? in the other)")
    parsed = [_field(text, *spec) for text, spec in zip(fields, _SPECS)]
    return Cron(minutes=parsed[0].values, hours=parsed[1].values, day_of_month=parsed[2],
                months=parsed[3].values, day_of_week=parsed[4], years=parsed[5].values)


def _field(text: str, name: str, low: int, high: int, names: dict[str, int], special: str) -> _Field:
    upper = text.upper()
    if upper == "?":
        if "?" not in special:
            raise ScheduleError(f"? is only for day-of-month or day-of-week, not {name}")
        return _Field(any=True)
    if name == "day-of-month":
        if upper == "L":
            return _Field(last=True)
        if upper == "LW":
            return _Field(last_weekday=True)
        if upper.endswith("W"):
            return _Field(nearest_weekday=_number(upper[:-1], name, low, high, names))
    if name == "day-of-week":
        if upper == "L":
            return _Field(values=frozenset({7}))  # the last day of the week, Saturday
        if upper.endswith("L"):
            return _Field(last_of=_number(upper[:-1], name, low, high, names))
        if "#" in upper:
            day, _, nth = upper.partition("#")
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                raise ScheduleError(f"in {text}, the occurrence after # is 1 to 5")
            return _Field(nth=(_number(day, name, low, high, names), int(nth)))
    values: set[int] = set()
    for item in upper.split(","):
        used = [c for c in special if c != "?" and c in item]
        if used:
            raise ScheduleError(f"{used[0]} stands alone in {name}: {text} combines it with "
                                "other values")
        values |= _item(item, name, low, high, names)
    return _Field(values=frozenset(values))


def _item(item: str, name: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    """One comma-separated part: ``*``, ``n``, ``a-b``, with an optional ``/step``."""
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) < 1:
            raise ScheduleError(f"the increment in {name} {item} must be a positive integer")
        step = int(step_text)
    if base == "*":
        first, last = low, high
    elif "-" in base:
        a, _, b = base.partition("-")
        first, last = _number(a, name, low, high, names), _number(b, name, low, high, names)
    else:
        first = _number(base, name, low, high, names)
        last = high if slash else first  # "0/15": from 0, every 15
    if first <= last:
        return set(range(first, last + 1, step))
    if name == "year":
        raise ScheduleError(f"the year range {base} runs backwards")
    # A range that wraps (FRI-MON, 22-2): from `first` to the top, on round to `last`.
    span = list(range(first, high + 1)) + list(range(low, last + 1))
    return set(span[::step])


def _number(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise ScheduleError(f"{text or 'an empty value'} is not a valid {name} value")
    value = int(text)
    if not low <= value <= high:
        raise ScheduleError(f"{name} {value} is outside {low}-{high}")
    return value


def _weekday(year: int, month: int, day: int) -> int:
    """Cron's day of the week: 1 = Sunday ... 7 = Saturday."""
    return (datetime.date(year, month, day).weekday() + 1) % 7 + 1


def _month_days(field: _Field, year: int, month: int, last: int) -> list[int]:
    if field.last:
        return [last]
    if field.last_weekday:
        day = last
        while _weekday(year, month, day) in (1, 7):
            day -= 1
        return [day]
    if field.nearest_weekday:
        day = field.nearest_weekday
        if day > last:
            return []
        weekday = _weekday(year, month, day)
        if weekday == 7:      # Saturday: the Friday before, or the Monday after the 1st
            day = day - 1 if day > 1 else day + 2
        elif weekday == 1:    # Sunday: the Monday after, or the Friday before the last day
            day = day + 1 if day < last else day - 2
        return [day]
    return sorted(d for d in field.values if d <= last)


def _week_days(field: _Field, year: int, month: int, last: int) -> list[int]:
    days = range(1, last + 1)
    if field.last_of:
        return [max(d for d in days if _weekday(year, month, d) == field.last_of)]
    if field.nth[0]:
        weekday, nth = field.nth
        matching = [d for d in days if _weekday(year, month, d) == weekday]
        return [matching[nth - 1]] if len(matching) >= nth else []
    return [d for d in days if _weekday(year, month, d) in field.values]
