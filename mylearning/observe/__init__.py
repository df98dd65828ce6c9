"""Seeing what the platform does: logs, metrics, traces and SLOs, each helper shown first as the raw
AWS call it makes.

* `logs.query` runs a CloudWatch Logs Insights query (StartQuery, then GetQueryResults until it
  completes) and gives its rows.
* `metrics.image` draws CloudWatch's own graph of some metrics (GetMetricWidgetImage), `metrics.series`
  reads them (GetMetricData).
* `traces.service_map` draws X-Ray's service graph (GetServiceGraph); `traces.slow` lists slow traces
  (GetTraceSummaries with a filter expression); `traces.time_by_service` says where a trace's time went
  (BatchGetTraces).
* `slo` turns an SLO target into an error budget and multi-window burn-rate alarms.

Each helper prints the boto3 call it makes (`shown.call`) before making it, so what a learner sees
is what they would type; pass ``show=False`` to keep it quiet. The helpers work the same on the
embedded AWS and on a real account.
"""
from __future__ import annotations

from mylearning.observe import logs, metrics, shown, slo, traces

__all__ = ["logs", "metrics", "shown", "slo", "traces"]
