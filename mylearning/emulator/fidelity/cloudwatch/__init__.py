"""Amazon CloudWatch: the checks AWS makes that moto skips, and what moto lacks, split by kind.

* ``alarms``: PutMetricAlarm's rules (operators, statistics, periods, metric math, anomaly bands).
* ``metrics``: PutMetricData's and GetMetricData's limits.
* ``composite``: composite alarms (PutCompositeAlarm, their state following their children),
  and the DeleteAlarms and DescribeAlarms rules they bring; ``alarm_rule``: their rule language.
* ``history``: the alarm history and DescribeAlarmHistory.
* ``percentiles``: percentile statistics moto cannot compute; ``datapoints``: the stored
  datapoints, filed by metric and aggregated per period (statistics, percentiles of raw
  values and of the statistic sets that allow them).
* ``evaluation``: how a metric alarm's state follows its datapoints (M out of N, missing data,
  StateReason); ``evaluator``: the thread that evaluates every metric alarm on its period
  (and how the embedded clock's time scale maps periods to datapoints); ``actions``: what a
  state change invokes (SNS, handlers registered for Auto Scaling policies, the history).
* ``metric_math`` and ``metric_functions``: metric math, for alarms and GetMetricData;
  ``metric_data``: GetMetricData computed from the stored datapoints.
* ``dashboards``: PutDashboard, GetDashboard, ListDashboards, DeleteDashboards (global, not per
  Region); ``dashboard_body``: the body checked as CloudWatch checks it; ``widget_metrics``: a
  widget's metrics array and its shorthand; ``widget_image`` and ``widget_render``:
  GetMetricWidgetImage drawn with matplotlib from the stored datapoints.
* ``fixes``: moto patches (alarm store, DescribeAlarms, percentiles, GetMetricData), applied
  on the first CloudWatch call, after the rules have run.

Rules cite the CloudWatch API reference
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/). boto3 1.44 talks to
CloudWatch in JSON 1.0 (X-Amz-Target); the rules read the older query protocol too. The
operations answered here (PutCompositeAlarm, DescribeAlarmHistory, the dashboards,
GetMetricWidgetImage) answer in JSON only.
"""
from __future__ import annotations

# Order matters: validation rules first, then the rule that applies moto's fixes (registered
# for every CloudWatch operation), so a rejected request never patches or reaches moto.
from mylearning.emulator.fidelity.cloudwatch import alarms as _alarms  # noqa: F401
from mylearning.emulator.fidelity.cloudwatch import metrics as _metrics  # noqa: F401
from mylearning.emulator.fidelity.cloudwatch import composite as _composite  # noqa: F401
from mylearning.emulator.fidelity.cloudwatch import history as _history  # noqa: F401
from mylearning.emulator.fidelity.cloudwatch import dashboards as _dashboards  # noqa: F401
from mylearning.emulator.fidelity.cloudwatch import widget_image as _widget_image  # noqa: F401
from mylearning.emulator.fidelity.cloudwatch import statistics as _statistics  # noqa: F401
from mylearning.emulator.fidelity.cloudwatch import fixes as _fixes  # noqa: F401
from mylearning.emulator.fidelity.cloudwatch.actions import register_action_handler
from mylearning.emulator.fidelity.cloudwatch.percentiles import extended_statistic, percentile

__all__ = ["extended_statistic", "percentile", "register_action_handler"]
