"""CloudWatch Logs facts: Logs Insights' limits and system fields, metric filters' quotas.

No I/O: the embedded AWS (``mylearning.emulator.fidelity.logs``) enforces them, and the
course's observability helpers may explain them before AWS refuses.
"""
from __future__ import annotations

GUIDE = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/"
API = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/"

# ---------------------------------------------------------------- Logs Insights

#: "If you omit limit, the query defaults to returning up to 10,000 log events. You can
#: specify a limit value of up to 100,000" (CWL_QuerySyntax-Limit.html); StartQuery's
#: ``limit`` has the same default (API_StartQuery.html) and botocore's range 1..100,000.
DEFAULT_QUERY_RESULTS = 10_000
MAX_QUERY_RESULTS = 100_000
#: logGroupNames / logGroupIdentifiers: "You can include up to 50 log groups"
#: (API_StartQuery.html).
MAX_QUERY_LOG_GROUPS = 50
#: "You can have up to 30 concurrent CloudWatch Logs insights queries, including queries
#: that have been added to dashboards" and "Queries time out after 60 minutes of runtime"
#: (API_StartQuery.html).
MAX_CONCURRENT_QUERIES = 30
QUERY_TIMEOUT_SECONDS = 60 * 60
#: GetQueryResults' status values (API_GetQueryResults.html).
QUERY_STATUSES = ("Scheduled", "Running", "Complete", "Failed", "Cancelled", "Timeout", "Unknown")
#: Fields every log event has, whatever its type: "@message", "@timestamp", "@ingestionTime",
#: "@logStream", "@log" and "@ptr" (CWL_AnalyzeLogData-discoverable-fields.html).
SYSTEM_FIELDS = ("@timestamp", "@message", "@logStream", "@log", "@ingestionTime", "@ptr")
#: How Logs Insights prints a timestamp in query results ("2024-05-01 12:00:00.000", UTC).
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

# ---------------------------------------------------------------- metric filters

#: "The maximum number of metric filters that can be associated with a log group is 100"
#: (API_PutMetricFilter.html).
MAX_METRIC_FILTERS_PER_GROUP = 100
#: "there is a quota of two regular expression patterns within a single filter pattern.
#: There is also a quota of five regular expression patterns per log group"
#: (API_PutMetricFilter.html).
MAX_REGEX_PER_PATTERN = 2
MAX_REGEX_PER_GROUP = 5
#: "One metric filter can include as many as three dimensions" (API_MetricTransformation.html).
MAX_METRIC_FILTER_DIMENSIONS = 3
