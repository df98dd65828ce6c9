"""Metric filters: PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter, TestMetricFilter.

moto 5.2 stores a metric filter but never reads its pattern: it accepts any pattern,
dimensions and metric value, has no per-group quota, lacks TestMetricFilter, and no log
event ever becomes a metric. Here, as the API reference says:

* "The maximum number of metric filters that can be associated with a log group is 100"
  (LimitExceededException); "a quota of two regular expression patterns within a single
  filter pattern ... five regular expression patterns per log group" (API_PutMetricFilter.html).
* The pattern is read by `filter_patterns`; one AWS would not read is InvalidParameterException.
* A metric transformation's ``metricValue`` is a number or a field the pattern extracts
  ("$.fieldName" from a JSON pattern, "$fieldName" from a space-delimited one;
  FilterAndPatternSyntaxForMetricFilters.html, "Publishing numerical values found in log
  events"); ``dimensions`` ("as many as three", API_MetricTransformation.html) name such
  fields, so they need a JSON or space-delimited pattern ("Publishing dimensions with metrics
  from values in JSON or space-delimited log events", same page).
* DescribeMetricFilters: "The results are ASCII-sorted by filter name", at most 50 a page;
  ``metricName`` and ``metricNamespace`` go together (API_DescribeMetricFilters.html).
* TestMetricFilter answers each matching message with its ``eventNumber`` (from 1), the
  message and the ``extractedValues`` (API_TestMetricFilter.html, API_MetricFilterMatchRecord.html).

The filters of a log group live on moto's group object, so DeleteLogGroup removes them.
"""
from __future__ import annotations

import base64
import time
from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, handler
from mylearning.emulator.fidelity.logs.access import SERVICE, backend, find_group, invalid, not_found
from mylearning.emulator.fidelity.logs.filter_patterns import FilterPattern, PatternError, compile_pattern
from mylearning.facts.logs import (MAX_METRIC_FILTER_DIMENSIONS, MAX_METRIC_FILTERS_PER_GROUP,
                                   MAX_REGEX_PER_GROUP)

STORE = "_mylearning_metric_filters"
PAGE = 50


def filters_of(group: Any) -> dict[str, dict]:
    """name -> the filter as DescribeMetricFilters shows it, plus its compiled pattern."""
    if not hasattr(group, STORE):
        setattr(group, STORE, {})
    return getattr(group, STORE)


def _limit_exceeded(message: str) -> AwsError:
    return AwsError("LimitExceededException", message, 400)


def pattern_of(text: str) -> FilterPattern:
    try:
        return compile_pattern(text)
    except PatternError as err:
        raise invalid(str(err)) from None


def _check_field(value: str, pattern: FilterPattern, what: str) -> None:
    """A ``$.field`` or ``$field`` reference names a field the pattern can extract."""
    if pattern.kind == "json" and value.startswith("$."):
        return  # any selector of the event's JSON (the pattern need not test it)
    if pattern.kind == "space" and value in pattern.fields:
        return
    raise invalid(f"Invalid {what} '{value}': a field reference needs a JSON filter pattern "
                  "($.field) or a space-delimited pattern that names the field ($field).")


def _check_transformation(t: dict, pattern: FilterPattern) -> None:
    value = str(t.get("metricValue", ""))
    if value.startswith("$"):
        _check_field(value, pattern, "metricValue")
    else:
        try:
            float(value)
        except ValueError:
            raise invalid(f"Invalid metricValue '{value}': a number, or a field the filter pattern "
                          "extracts ($.field or $field).") from None
    dimensions = t.get("dimensions") or {}
    if dimensions and pattern.kind not in ("json", "space"):
        raise invalid("Dimensions can only be used with JSON or space-delimited filter patterns.")
    if len(dimensions) > MAX_METRIC_FILTER_DIMENSIONS:
        raise invalid(f"A metric filter can have at most {MAX_METRIC_FILTER_DIMENSIONS} dimensions; "
                      f"this one has {len(dimensions)}.")
    for name, ref in dimensions.items():
        if not str(ref).startswith("$"):
            raise invalid(f"Invalid dimension value '{ref}' for '{name}': a dimension takes its value "
                          "from a field the filter pattern extracts ($.field or $field).")
        _check_field(str(ref), pattern, "dimension value")


@handler(SERVICE, "PutMetricFilter")
def put_metric_filter(req: AwsRequest) -> tuple[int, Any]:
    p = req.params
    group = find_group(req.region, str(p.get("logGroupName", "")))
    text = str(p.get("filterPattern", ""))
    pattern = pattern_of(text)
    transformations = list(p.get("metricTransformations") or [])
    for t in transformations:
        _check_transformation(t, pattern)
    filters = filters_of(group)
    name = str(p.get("filterName"))
    others = {n: f for n, f in filters.items() if n != name}
    if len(others) >= MAX_METRIC_FILTERS_PER_GROUP:
        raise _limit_exceeded(f"The log group {group.name} already has {MAX_METRIC_FILTERS_PER_GROUP} "
                              "metric filters, the most a log group can have.")
    if sum(f["pattern"].regexes for f in others.values()) + pattern.regexes > MAX_REGEX_PER_GROUP:
        raise _limit_exceeded(f"A log group's metric filters can hold at most {MAX_REGEX_PER_GROUP} "
                              "regular expression patterns in all.")
    created = filters.get(name, {}).get("creationTime") or int(time.time() * 1000)
    filters[name] = {"filterName": name, "filterPattern": text, "logGroupName": group.name,
                     "metricTransformations": transformations, "creationTime": created,
                     "applyOnTransformedLogs": bool(p.get("applyOnTransformedLogs", False)),
                     "pattern": pattern}
    return 200, {}


def _shown(f: dict) -> dict:
    return {k: v for k, v in f.items() if k != "pattern"}


@handler(SERVICE, "DescribeMetricFilters")
def describe_metric_filters(req: AwsRequest) -> tuple[int, Any]:
    p = req.params
    if (p.get("metricName") is None) != (p.get("metricNamespace") is None):
        raise invalid("If you include metricName you must also include metricNamespace, and the "
                      "other way round.")
    if p.get("logGroupName"):
        groups = [find_group(req.region, str(p["logGroupName"]))]
    else:
        groups = list(backend(req.region).groups.values())
    prefix = p.get("filterNamePrefix") or ""
    found = []
    for group in groups:
        for f in filters_of(group).values():
            if not f["filterName"].startswith(prefix):
                continue
            if p.get("metricName") is not None and not any(
                    t.get("metricName") == p["metricName"] and t.get("metricNamespace") == p["metricNamespace"]
                    for t in f["metricTransformations"]):
                continue
            found.append(f)
    found.sort(key=lambda f: (f["filterName"], f["logGroupName"]))
    start = int(base64.urlsafe_b64decode(str(p["nextToken"]).encode()).decode()) if p.get("nextToken") else 0
    size = int(p.get("limit") or PAGE)
    answer: dict[str, Any] = {"metricFilters": [_shown(f) for f in found[start:start + size]]}
    if start + size < len(found):
        answer["nextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return 200, answer


@handler(SERVICE, "DeleteMetricFilter")
def delete_metric_filter(req: AwsRequest) -> tuple[int, Any]:
    group = find_group(req.region, str(req.params.get("logGroupName", "")))
    if filters_of(group).pop(str(req.params.get("filterName")), None) is None:
        raise not_found("The specified metric filter does not exist.")
    return 200, {}


@handler(SERVICE, "TestMetricFilter")
def test_metric_filter(req: AwsRequest) -> tuple[int, Any]:
    pattern = pattern_of(str(req.params.get("filterPattern", "")))
    matches = []
    for number, message in enumerate(req.params.get("logEventMessages") or [], start=1):
        extracted = pattern.match(str(message))
        if extracted is not None:
            matches.append({"eventNumber": number, "eventMessage": message, "extractedValues": extracted})
    return 200, {"matches": matches}
