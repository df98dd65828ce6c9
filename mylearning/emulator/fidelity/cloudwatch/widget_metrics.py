"""A metric widget's ``metrics`` array, as dashboards and GetMetricWidgetImage both read it.

Each row is ``[Namespace, MetricName, DimName, DimValue, ..., {rendering properties}]`` or
``[{"expression": ..., "id": ..., "label": ...}]`` (Dashboard Body Structure, "Metric Widget:
Format for Each Metric in the Array"; the image page's "Format for Each Metric in the Array of
Metrics"). Two shorthands read the previous metric row: ``"."`` repeats the field in the same
place, ``"..."`` repeats every field of the previous row that the rest of this row does not
give (``["...", "i-2"]`` after ``["AWS/EC2", "CPUUtilization", "InstanceId", "i-1"]``).

The messages are CloudWatch's own, as it answers PutDashboard (its validator's wording, with
the data path of the field):

* a field that is neither a string nor the row's last element, the rendering object:
  ``Invalid metric field type, only "String" type is allowed``;
* a ``"."`` past the end of the previous row: ``Repeat marker "." used but not enough fields in
  previous metric``;
* a rendering object CloudWatch does not accept (a member it does not know, such as
  ``dimensions``, or a color that is not ``#rrggbb``): ``Should NOT have more than N items`` on
  the row, N being the row's length without the object (the row then reads as strings only;
  aws/aws-cdk#5026 shows ``color: "red"`` answered so).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mylearning.facts.cloudwatch import (COLOR, RENDERING_KEYS, REPEAT_ALL, REPEAT_ONE, Y_AXES,
                                         valid_period)

Message = tuple[str, str]  # (data path, message)


@dataclass
class Row:
    """One metric or expression of the widget, shorthand expanded."""

    fields: list[str]                       # namespace, name, dimension name/value pairs
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def expression(self) -> str | None:
        value = self.options.get("expression")
        return value if isinstance(value, str) else None

    @property
    def namespace(self) -> str:
        return self.fields[0] if self.fields else ""

    @property
    def name(self) -> str:
        return self.fields[1] if len(self.fields) > 1 else ""

    @property
    def dimensions(self) -> list[dict[str, str]]:
        pairs = self.fields[2:]
        return [{"Name": pairs[i], "Value": pairs[i + 1]} for i in range(0, len(pairs) - 1, 2)]


def _options_ok(options: dict) -> bool:
    """The rendering properties CloudWatch accepts (Dashboard Body Structure, "Metric Widget:
    Format for Each Metric in the Array": color, label, stat, period, visible, yAxis, id,
    expression, region, accountId)."""
    if any(key not in RENDERING_KEYS for key in options):
        return False
    color = options.get("color")
    if color is not None and not (isinstance(color, str) and COLOR.match(color)):
        return False
    if "visible" in options and not isinstance(options["visible"], bool):
        return False
    if "yAxis" in options and options["yAxis"] not in Y_AXES:
        return False
    if "period" in options and not valid_period(options["period"]):
        return False
    for text in ("label", "stat", "id", "expression", "region", "accountId"):
        if text in options and not isinstance(options[text], str):
            return False
    return True


def read(metrics: Any, path: str) -> tuple[list[Row], list[Message]]:
    """The rows of a metrics array and the messages CloudWatch would answer for it."""
    if not isinstance(metrics, list):
        return [], [(path, "Should be array")]
    rows: list[Row] = []
    messages: list[Message] = []
    previous: list[str] = []
    for i, raw in enumerate(metrics):
        where = f"{path}/{i}"
        if not isinstance(raw, list):
            messages.append((where, "Should be array"))
            continue
        if not raw:
            messages.append((where, "Should NOT have fewer than 1 items"))
            continue
        options: dict = raw[-1] if isinstance(raw[-1], dict) else {}
        items = raw[:-1] if isinstance(raw[-1], dict) else list(raw)
        bad = [j for j, item in enumerate(items) if not isinstance(item, str)]
        if bad:
            messages += [(f"{where}/{j}", 'Invalid metric field type, only "String" type is allowed')
                         for j in bad]
            continue
        if not _options_ok(options):
            messages.append((where, f"Should NOT have more than {len(raw) - 1} items"))
            continue
        if not items:  # an expression row
            if "expression" not in options:
                messages.append((f"{where}/0", "Should have required property 'expression'"))
                continue
            rows.append(Row([], dict(options)))
            continue
        expanded, problem = _expand(items, previous, where)
        if problem:
            messages.append(problem)
            continue
        if len(expanded) < 2:
            messages.append((where, "Should NOT have fewer than 2 items"))
            continue
        previous = expanded
        rows.append(Row(expanded, dict(options)))
    return rows, messages


def _expand(items: list[str], previous: list[str], where: str) -> tuple[list[str], Message | None]:
    if REPEAT_ALL in items:
        k = items.index(REPEAT_ALL)
        before, after = items[:k], items[k + 1:]
        fill = len(previous) - len(before) - len(after)
        if fill < 0:
            return [], (f"{where}/{k}", 'Repeat marker "..." used but not enough fields in previous metric')
        items = before + previous[len(before):len(before) + fill] + after
    out = []
    for j, item in enumerate(items):
        if item == REPEAT_ONE:
            if j >= len(previous):
                return [], (f"{where}/{j}", 'Repeat marker "." used but not enough fields in previous metric')
            item = previous[j]
        out.append(item)
    return out, None
