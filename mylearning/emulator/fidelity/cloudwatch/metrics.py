"""CloudWatch metrics: the limits PutMetricData and GetMetricData enforce that moto skips.

PutMetricData answers ``InvalidParameterValue`` for a collection too large or a value it
cannot store, as CloudWatch does ("The collection MetricData must not have a size greater
than ..."); GetMetricData answers ``ValidationError``. Query ids and kinds are checked with
the alarm rules (`alarms.query_ids_and_kinds`), which both operations share.
"""
from __future__ import annotations

import math
from typing import Any

from mylearning.emulator.fidelity.cloudwatch.common import (SERVICE, invalid_value, listed, params,
                                                            to_int, validation)
from mylearning.emulator.fidelity.core import AwsRequest, rule

#: "The array can include no more than 1000 metrics per call" (API_PutMetricData.html).
MAX_METRIC_DATA = 1000
#: "You can assign up to 30 dimensions to a metric" (API_Dimension.html; API_MetricDatum.html).
MAX_DIMENSIONS = 30
#: "You can include up to 150 unique values in each PutMetricData action that specifies a
#: Values array" (API_MetricDatum.html).
MAX_VALUES = 150
#: "Values must be in the range of -2^360 to 2^360" (API_MetricDatum.html, Value and Values).
VALUE_LIMIT = 2.0 ** 360
#: StorageResolution: "Valid values are 1 and 60" (API_MetricDatum.html).
STORAGE_RESOLUTIONS = (1, 60)
#: "A single GetMetricData call can include as many as 500 MetricDataQuery structures"
#: (API_GetMetricData.html).
MAX_QUERIES = 500


def _storable(value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and abs(number) <= VALUE_LIMIT


@rule(SERVICE, "PutMetricData")
def metric_data_limits(req: AwsRequest) -> None:
    """At most 1000 metrics a call, 30 dimensions and 150 unique values a metric; each value
    finite and within -2^360..2^360 ("special values (for example, NaN, +Infinity, -Infinity)
    are not supported"); StorageResolution 1 or 60 (API_PutMetricData.html, API_MetricDatum.html)."""
    data = listed(params(req).get("MetricData"))
    if len(data) > MAX_METRIC_DATA:
        raise invalid_value(f"The collection MetricData must not have a size greater than {MAX_METRIC_DATA}.")
    for i, datum in enumerate(data, start=1):
        datum = datum if isinstance(datum, dict) else {}
        where = f"MetricData.member.{i}"
        if len(listed(datum.get("Dimensions"))) > MAX_DIMENSIONS:
            raise invalid_value(f"The collection {where}.Dimensions must not have a size greater "
                                f"than {MAX_DIMENSIONS}.")
        values = listed(datum.get("Values"))
        if len(values) > MAX_VALUES:
            raise invalid_value(f"The collection {where}.Values must not have a size greater than "
                                f"{MAX_VALUES}.")
        if "Value" in datum and not _storable(datum["Value"]):
            raise invalid_value(f"The value {datum['Value']} for parameter {where}.Value is invalid.")
        for value in values:
            if not _storable(value):
                raise invalid_value(f"The value {value} for parameter {where}.Values is invalid.")
        resolution = datum.get("StorageResolution")
        if resolution is not None and to_int(resolution) not in STORAGE_RESOLUTIONS:
            raise invalid_value(f"The value {resolution} for parameter {where}.StorageResolution "
                                "is invalid: use 1 or 60.")


@rule(SERVICE, "GetMetricData")
def at_most_500_queries(req: AwsRequest) -> None:
    """"A single GetMetricData call can include as many as 500 MetricDataQuery structures"
    (API_GetMetricData.html, MetricDataQueries)."""
    queries = listed(params(req).get("MetricDataQueries"))
    if len(queries) > MAX_QUERIES:
        raise validation(f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}.")
