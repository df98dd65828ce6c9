"""NextToken paging of X-Ray's read APIs (API_GetTraceSummaries.html, API_BatchGetTraces.html,
API_GetServiceGraph.html, API_GetTraceGraph.html), followed by boto3's paginators."""
from __future__ import annotations

import datetime
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

COUNT = 130  # more than one page of summaries (100) and of services (100)


@pytest.fixture(scope="module")
def run(env):
    """COUNT traces, each a service of its own named for this run, annotated with the run's id."""
    xray, tag, now = env.client("xray"), uuid.uuid4().hex[:10], time.time()
    ids, docs = [], []
    for i in range(COUNT):
        trace = f"1-{int(now):08x}-{uuid.uuid4().hex[:24]}"
        ids.append(trace)
        docs.append(json.dumps({"name": f"page-{tag}-{i:03d}", "id": uuid.uuid4().hex[:16], "trace_id": trace,
                                "start_time": now - 20 + i * 0.01, "end_time": now - 19.9 + i * 0.01,
                                "annotations": {"run": tag}}))
    for k in range(0, len(docs), 50):
        assert xray.put_trace_segments(TraceSegmentDocuments=docs[k:k + 50])["UnprocessedTraceSegments"] == []
    window = {"StartTime": datetime.datetime.fromtimestamp(now - 120, datetime.timezone.utc),
              "EndTime": datetime.datetime.fromtimestamp(now + 60, datetime.timezone.utc)}
    return xray, tag, ids, window


def test_trace_summaries_come_in_pages_newest_first(run):
    xray, tag, ids, window = run
    expression = f'annotation.run = "{tag}"'
    first = xray.get_trace_summaries(**window, FilterExpression=expression)
    assert len(first["TraceSummaries"]) == 100 and "NextToken" in first
    starts = [s["StartTime"] for s in first["TraceSummaries"]]
    assert starts == sorted(starts, reverse=True)  # "The first page contains the most recent results"
    pages = xray.get_paginator("get_trace_summaries").paginate(**window, FilterExpression=expression)
    found = [s["Id"] for p in pages for s in p["TraceSummaries"]]
    assert sorted(found) == sorted(ids)


def test_batch_get_traces_answers_five_traces_a_page(run):
    xray, _, ids, _ = run
    first = xray.batch_get_traces(TraceIds=ids[:12])
    assert [t["Id"] for t in first["Traces"]] == ids[:5] and "NextToken" in first
    assert "NextToken" not in xray.batch_get_traces(TraceIds=ids[:5])
    pages = xray.get_paginator("batch_get_traces").paginate(TraceIds=ids[:12] + ["1-00000000-000000000000000000000000"])
    pages = list(pages)
    assert [t["Id"] for p in pages for t in p["Traces"]] == ids[:12]
    assert [u for p in pages for u in p["UnprocessedTraceIds"]] == ["1-00000000-000000000000000000000000"]


@pytest.mark.parametrize("operation", ["get_service_graph", "get_trace_graph"])
def test_graphs_page_their_services(run, operation):
    xray, tag, ids, window = run
    params = window if operation == "get_service_graph" else {"TraceIds": ids}
    first = getattr(xray, operation)(**params)
    assert len(first["Services"]) == 100 and "NextToken" in first
    services = [s for p in xray.get_paginator(operation).paginate(**params) for s in p["Services"]]
    mine = [s["Name"] for s in services if s["Name"].startswith(f"page-{tag}-") and s["Type"] != "client"]
    assert sorted(mine) == [f"page-{tag}-{i:03d}" for i in range(COUNT)]
    references = [s["ReferenceId"] for s in services]
    assert len(references) == len(set(references))  # each service once, on one page


def test_a_token_that_is_not_ours_is_an_invalid_request(run):
    xray, _, ids, window = run
    with pytest.raises(ClientError) as caught:
        xray.get_trace_summaries(**window, NextToken="not-a-token")
    assert caught.value.response["Error"]["Code"] == "InvalidRequestException"
