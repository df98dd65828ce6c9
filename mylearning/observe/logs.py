"""CloudWatch Logs Insights, as a notebook runs it: StartQuery, then GetQueryResults until the
query is Complete (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html,
API_GetQueryResults.html). Results come back as rows of ``field -> value`` (values are strings, as
Logs Insights gives them); the hidden ``@ptr`` field is left out."""
from __future__ import annotations

import time
from typing import Any, Iterable

from mylearning.observe import shown
from mylearning.observe.table import Table

#: GetQueryResults' statuses while a query has not finished.
RUNNING = ("Scheduled", "Running")


class QueryFailed(RuntimeError):
    """Logs Insights ended the query Failed, Cancelled or Timeout."""


def query(session: Any, groups: Iterable[str] | str, text: str, start: float, end: float | None = None, *,
          limit: int | None = None, show: bool = True, timeout: float = 60.0, poll: float = 0.5) -> Table:
    """Run the Logs Insights query `text` over `groups` between `start` and `end` (epoch seconds,
    end defaults to now); its rows, as a table. Raises QueryFailed when the query did not complete."""
    names = [groups] if isinstance(groups, str) else list(groups)
    if not names:
        raise ValueError("Name at least one log group to query")
    if not text or not text.strip():
        raise ValueError("The query is empty: write a Logs Insights query, e.g. 'fields @timestamp, @message'")
    logs = session.client("logs")
    arguments: dict[str, Any] = {"logGroupNames": names, "startTime": int(start),
                                 "endTime": int(end if end is not None else time.time()) + 1, "queryString": text}
    if limit is not None:
        arguments["limit"] = limit
    query_id = shown.call(logs, "start_query", show, **arguments)["queryId"]
    if show:
        print(f"logs.get_query_results(queryId={query_id!r})  # until status is Complete")
    deadline = time.monotonic() + timeout
    while True:
        answer = logs.get_query_results(queryId=query_id)
        if answer["status"] not in RUNNING:
            break
        if time.monotonic() > deadline:
            logs.stop_query(queryId=query_id)
            raise QueryFailed(f"The query did not finish within {timeout:g} s; it was stopped (StopQuery)")
        time.sleep(poll)
    if answer["status"] != "Complete":
        raise QueryFailed(f"The query ended {answer['status']}")
    rows = [{c["field"]: c["value"] for c in row if c["field"] != "@ptr"} for row in answer["results"]]
    stats = answer.get("statistics") or {}
    return Table(rows, title=f"{len(rows)} rows; {stats.get('recordsMatched', 0):g} of "
                             f"{stats.get('recordsScanned', 0):g} log events matched")
