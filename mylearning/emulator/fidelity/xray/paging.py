"""NextToken paging of X-Ray's read APIs: GetTraceSummaries, BatchGetTraces, GetServiceGraph,
GetTraceGraph each take a NextToken and answer one with the next page ("If the requested time
frame contained more than one page of results, you can use this token to retrieve the next
page", API_GetTraceSummaries.html; "Pagination token", API_BatchGetTraces.html,
API_GetServiceGraph.html, API_GetTraceGraph.html). boto3's paginators follow it.

AWS documents no page sizes but one: BatchGetTraces takes "Maximum number of 5 items" of
TraceIds (API_BatchGetTraces.html), so it answers at most 5 traces a page. The others' sizes are
this emulator's choice, stated here: 100 trace summaries, 100 services a page.
"""
from __future__ import annotations

import base64
from typing import Any, Sequence

from mylearning.emulator.fidelity.xray.access import invalid_request

SUMMARIES_PAGE = 100
TRACES_PAGE = 5
SERVICES_PAGE = 100


def page(items: Sequence[Any], token: Any, size: int) -> tuple[list[Any], str | None]:
    """The page that `token` (a NextToken given back, or none for the first) names, and the
    token of the page after it, None on the last page."""
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(str(token).encode()).decode())
        except ValueError:
            raise invalid_request("The NextToken is not valid.") from None
        if start < 0:
            raise invalid_request("The NextToken is not valid.")
    end = start + size
    following = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return list(items[start:end]), following
