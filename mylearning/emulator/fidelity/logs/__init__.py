"""Amazon CloudWatch Logs: the checks AWS makes that moto 5.2 skips, and what moto lacks.

Parts, each small enough to be offered upstream to moto on its own:

* ``groups``: log group names, retention periods, tags and listing filters.
* **Logs Insights** (``queries``, ``@handler``): StartQuery, GetQueryResults, StopQuery,
  DescribeQueries and GetLogRecord over the query language read by ``insights_syntax`` and
  run by ``insights_run`` (its values and functions: ``insights_functions``).
* **Metric filters** (``metric_filters``, ``@handler``): Put/Describe/Delete/TestMetricFilter
  with the filter pattern language of ``filter_patterns``; matching events of PutLogEvents
  become CloudWatch datapoints (``metric_publishing``).

Shared by them: ``access`` (moto's log groups, AWS's errors). Rules cite the CloudWatch Logs
API reference (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/) and
user guide (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/).
"""
from __future__ import annotations

from mylearning.emulator.fidelity.logs import groups as _groups  # noqa: F401
from mylearning.emulator.fidelity.logs import queries as _queries  # noqa: F401
from mylearning.emulator.fidelity.logs import metric_filters as _metric_filters  # noqa: F401
from mylearning.emulator.fidelity.logs import metric_publishing as _metric_publishing  # noqa: F401
