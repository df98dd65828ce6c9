"""Logs Insights' API: StartQuery, GetQueryResults, StopQuery, DescribeQueries, GetLogRecord.

moto 5.2 reads only ``fields``, ``sort`` and ``limit`` and ignores every other command (a
``filter`` or ``stats`` query returns every event unfiltered), returns no ``statistics``
and no ``@ptr`` in the API's shape, accepts any query string, and lacks StopQuery. Here the query runs through the
language of `insights_syntax` and `insights_run`, and the API answers as its pages say:

* "A StartQuery operation must include exactly one of the following parameters:
  logGroupName, logGroupNames, or logGroupIdentifiers"; up to 50 log groups; an ARN in
  logGroupIdentifiers "can't end with an asterisk (*)"; startTime and endTime in epoch
  seconds, "The range is inclusive" (API_StartQuery.html).
* A query that does not compile is MalformedQueryException (API_StartQuery.html, Errors).
* GetQueryResults: ``results`` as lists of ``{field, value}``, ``statistics``
  (recordsMatched, recordsScanned, bytesScanned), ``status`` (API_GetQueryResults.html).
* StopQuery answers ``success``: "This is true if the query was stopped by the StopQuery
  operation" (API_StopQuery.html).

The embedded AWS runs a query to completion when it starts it (its logs are small), so a
query is Complete by the first GetQueryResults, and StopQuery finds nothing left to stop.
Only the Logs Insights query language (queryLanguage CWLI, the default) is implemented.
"""
from __future__ import annotations

import base64
import gc
import json
import time
import uuid
from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, handler
from mylearning.emulator.fidelity.logs.access import (SERVICE, backend, events, find_group, group_name,
                                                      invalid, not_found)
from mylearning.emulator.fidelity.logs.insights_functions import text
from mylearning.emulator.fidelity.logs.insights_run import event_row, result_rows, run
from mylearning.emulator.fidelity.logs.insights_syntax import QueryError, malformed, parse
from mylearning.facts.logs import DEFAULT_QUERY_RESULTS, MAX_QUERY_LOG_GROUPS, MAX_QUERY_RESULTS

STORE = "_mylearning_queries"
GROUP_PARAMETERS = ("logGroupName", "logGroupNames", "logGroupIdentifiers")


def _queries(region: str) -> dict[str, dict]:
    logs = backend(region)
    if not hasattr(logs, STORE):
        setattr(logs, STORE, {})
    return getattr(logs, STORE)


def _groups(req: AwsRequest) -> list[str]:
    given = [p for p in GROUP_PARAMETERS if req.params.get(p) not in (None, [])]
    if len(given) != 1:
        if not given and str(req.params.get("queryString", "")).lstrip().upper().startswith("SOURCE"):
            raise AwsError("NotImplemented", "The embedded AWS does not implement the SOURCE command: "
                           "name the log groups with logGroupName, logGroupNames or "
                           "logGroupIdentifiers.", 501)
        raise invalid("A StartQuery operation must include exactly one of the following parameters: "
                      "logGroupName, logGroupNames, or logGroupIdentifiers.")
    value = req.params[given[0]]
    names = [value] if isinstance(value, str) else list(value)
    if len(names) > MAX_QUERY_LOG_GROUPS:
        raise invalid(f"You can include up to {MAX_QUERY_LOG_GROUPS} log groups in a query; "
                      f"{given[0]} has {len(names)}.")
    if given[0] == "logGroupIdentifiers":
        for name in names:
            if name.startswith("arn:") and name.endswith("*"):
                raise invalid(f"The log group ARN {name} in logGroupIdentifiers can't end with an "
                              "asterisk (*).")
    return names


@handler(SERVICE, "StartQuery")
def start_query(req: AwsRequest) -> tuple[int, Any]:
    """Run the query now, over the events of its log groups in [startTime, endTime]."""
    p = req.params
    if p.get("queryLanguage") not in (None, "CWLI"):
        raise AwsError("NotImplemented", f"The embedded AWS implements the Logs Insights query "
                       f"language (CWLI) only, not {p['queryLanguage']}.", 501)
    identifiers = _groups(req)
    start, end = int(p.get("startTime", 0)), int(p.get("endTime", 0))
    if end < start:
        raise invalid("endTime must be greater than or equal to startTime.")
    groups = [find_group(req.region, i) for i in identifiers]
    query = str(p.get("queryString", ""))
    # A query makes a row per event (100,000 dicts for a busy group), none of them in a cycle:
    # the cyclic collector would walk them again and again as they are made, doubling the
    # query's time, and refcounting frees them all anyway. It is paused for the query.
    collecting = gc.isenabled()
    gc.disable()
    try:
        commands = parse(query)
        limits = [c for c in commands if c.name == "limit"]
        for cmd in limits:
            if cmd.count > MAX_QUERY_RESULTS:
                raise QueryError(f"limit can be at most {MAX_QUERY_RESULTS}", cmd.at)
        account = backend(req.region).account_id
        rows, scanned_bytes = [], 0
        for group in groups:
            for stream, event in events(group, start * 1000, end * 1000 + 999):
                rows.append(event_row(account, group.name, stream.log_stream_name, event))
                scanned_bytes += len(event.message.encode())
        rows.sort(key=lambda r: r["@timestamp"], reverse=True)
        cap = int(p["limit"]) if p.get("limit") else DEFAULT_QUERY_RESULTS
        outcome = run(commands, rows, cap)
        results = result_rows(outcome)
    except QueryError as err:
        raise malformed(query, err) from None
    finally:
        if collecting:
            gc.enable()
    query_id = str(uuid.uuid4())
    _queries(req.region)[query_id] = {
        "queryId": query_id, "queryString": query, "status": "Complete", "queryLanguage": "CWLI",
        "createTime": int(time.time() * 1000), "logGroupName": groups[0].name,
        "logGroupNames": [g.name for g in groups], "results": results,
        "statistics": {"recordsMatched": float(outcome.matched), "recordsScanned": float(len(rows)),
                       "bytesScanned": float(scanned_bytes), "logGroupsScanned": float(len(groups))},
    }
    return 200, {"queryId": query_id}


def _query(req: AwsRequest) -> dict:
    found = _queries(req.region).get(str(req.params.get("queryId", "")))
    if found is None:
        raise not_found(f"Query {req.params.get('queryId')} does not exist.")
    return found


@handler(SERVICE, "GetQueryResults")
def get_query_results(req: AwsRequest) -> tuple[int, Any]:
    """The stored results, paged by maxItems and nextToken when asked."""
    query = _query(req)
    results = query["results"]
    answer: dict[str, Any] = {"queryLanguage": query["queryLanguage"], "status": query["status"],
                              "statistics": query["statistics"]}
    start = _offset(req.params.get("nextToken"))
    size = req.params.get("maxItems")
    if size:
        page = results[start:start + int(size)]
        if start + int(size) < len(results):
            answer["nextToken"] = _token(start + int(size))
    else:
        page = results[start:]
    answer["results"] = page
    return 200, answer


@handler(SERVICE, "StopQuery")
def stop_query(req: AwsRequest) -> tuple[int, Any]:
    query = _query(req)
    if query["status"] in ("Scheduled", "Running"):
        query["status"] = "Cancelled"
        return 200, {"success": True}
    return 200, {"success": False}


@handler(SERVICE, "DescribeQueries")
def describe_queries(req: AwsRequest) -> tuple[int, Any]:
    """Queries newest first, of one log group and one status when asked (API_DescribeQueries.html)."""
    group = req.params.get("logGroupName")
    status = req.params.get("status")
    found = [q for q in _queries(req.region).values()
             if (group is None or group in q["logGroupNames"]) and (status is None or q["status"] == status)]
    found.sort(key=lambda q: q["createTime"], reverse=True)
    start, size = _offset(req.params.get("nextToken")), int(req.params.get("maxResults") or 1000)
    answer: dict[str, Any] = {"queries": [
        {k: q[k] for k in ("queryLanguage", "queryId", "queryString", "status", "createTime", "logGroupName")}
        for q in found[start:start + size]]}
    if start + size < len(found):
        answer["nextToken"] = _token(start + size)
    return 200, answer


@handler(SERVICE, "GetLogRecord")
def get_log_record(req: AwsRequest) -> tuple[int, Any]:
    """All the fields of the event an @ptr names (API_GetLogRecord.html)."""
    ptr = str(req.params.get("logRecordPointer", ""))
    try:
        group, stream, event_id = json.loads(base64.urlsafe_b64decode(ptr.encode()))
    except (ValueError, TypeError):
        raise invalid("The logRecordPointer is not valid.") from None
    found = find_group(req.region, group_name(group)).streams.get(stream)
    event = next((e for e in (found.events if found else ()) if e.event_id == event_id), None)
    if event is None:
        raise not_found("The specified log record does not exist.")
    row = event_row(backend(req.region).account_id, group, stream, event)
    row.discover()
    row["@ptr"]  # made on first lookup; the record lists it with the event's other fields
    return 200, {"logRecord": {k: text(v) for k, v in row.items()}}


def _offset(token: Any) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(str(token).encode()).decode())
    except ValueError:
        raise invalid("The specified nextToken is not valid.") from None


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()
