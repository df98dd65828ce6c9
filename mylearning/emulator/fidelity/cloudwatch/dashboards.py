"""CloudWatch dashboards: PutDashboard, GetDashboard, ListDashboards and DeleteDashboards,
answered here rather than by moto 5.2, which misleads in four ways:

* it stores any JSON, a list or a widget of an unknown type 99 columns wide included, and
  answers ``DashboardValidationMessages: []``; CloudWatch refuses such a body with
  ``InvalidParameterInput``, its message and its ``DashboardValidationMessages`` (DataPath,
  Message) naming every field at fault (`dashboard_body`);
* it keeps dashboards per Region, where "All dashboards in your account are global, not
  region-specific" (API_PutDashboard.html): one put in us-east-1 is listed in eu-west-1;
* DeleteDashboards with one missing name deletes none, where "If there is an error during
  this call, the operation attempts to delete as many dashboards as possible"
  (API_DeleteDashboards.html), then answers ResourceNotFound (404);
* ListDashboards never pages, where it "returns up to 1000 results on one page" with a
  NextToken (API_ListDashboards.html).

DashboardName: "The maximum length is 255, and valid characters are A-Z, a-z, 0-9, "-", and
"_"" (API_PutDashboard.html). Tags are kept only when the dashboard is created: "If you specify
Tags when updating an existing dashboard, the tag updates are ignored" (same page); they go to
moto's tag store, so ListTagsForResource on the dashboard's ARN shows them.
"""
from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from typing import Any

from mylearning.emulator.fidelity.cloudwatch.common import LOCK, SERVICE, backend, listed, params
from mylearning.emulator.fidelity.cloudwatch.dashboard_body import validate
from mylearning.emulator.fidelity.core import AwsError, AwsRequest, handler, on_reset

PAGE = 1000
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


@dataclass
class Dashboard:
    name: str
    arn: str
    body: str
    last_modified: datetime.datetime

    def entry(self) -> dict[str, Any]:
        return {"DashboardName": self.name, "DashboardArn": self.arn,
                "LastModified": self.last_modified, "Size": len(self.body.encode())}


_DASHBOARDS: dict[str, Dashboard] = {}


@on_reset
def _clear() -> None:
    with LOCK:
        _DASHBOARDS.clear()


def _arn(name: str) -> str:
    from moto.core import DEFAULT_ACCOUNT_ID
    return f"arn:aws:cloudwatch::{DEFAULT_ACCOUNT_ID}:dashboard/{name}"


def invalid_body(messages: list[tuple[str, str]], what: str = "dashboard body") -> AwsError:
    """InvalidParameterInput as CloudWatch words it: the count, then the list of
    {dataPath, message}, and the same list as the error's DashboardValidationMessages."""
    listing = json.dumps([{"dataPath": p, "message": m} for p, m in messages], indent=2)
    return AwsError("InvalidParameterInput",
                    f"The {what} is invalid, there are {len(messages)} validation errors:\n{listing}",
                    400, fields={"dashboardValidationMessages": [
                        {"DataPath": p, "Message": m} for p, m in messages]})


@handler(SERVICE, "PutDashboard")
def put_dashboard(req: AwsRequest) -> tuple[int, Any]:
    """https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html"""
    p = params(req)
    name, body = p.get("DashboardName") or "", p.get("DashboardBody")
    if not _NAME.match(name):
        raise AwsError("InvalidParameterInput", "The value for field DashboardName contains invalid "
                       "characters. It can only contain alphanumerics, dash (-) and underscore (_).", 400)
    messages = validate(body if body is not None else "")
    if messages:
        raise invalid_body(messages)
    with LOCK:
        existed = name in _DASHBOARDS
        _DASHBOARDS[name] = Dashboard(name, _arn(name), body,
                                      datetime.datetime.now(datetime.timezone.utc))
    tags = listed(p.get("Tags"))
    if tags and not existed:
        backend(req.region).tagger.tag_resource(_arn(name), tags)
    return 200, {"DashboardValidationMessages": []}


@handler(SERVICE, "GetDashboard")
def get_dashboard(req: AwsRequest) -> tuple[int, Any]:
    """https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetDashboard.html"""
    name = params(req).get("DashboardName") or ""
    with LOCK:
        found = _DASHBOARDS.get(name)
    if found is None:
        raise AwsError("ResourceNotFound", f"Dashboard {name} does not exist", 404)
    return 200, {"DashboardArn": found.arn, "DashboardBody": found.body, "DashboardName": found.name}


@handler(SERVICE, "ListDashboards")
def list_dashboards(req: AwsRequest) -> tuple[int, Any]:
    """https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListDashboards.html"""
    p = params(req)
    prefix, token = p.get("DashboardNamePrefix") or "", p.get("NextToken")
    with LOCK:
        entries = [d.entry() for n, d in sorted(_DASHBOARDS.items()) if n.startswith(prefix)]
    offset = 0
    if token:
        text = str(token)
        offset = int(text[11:]) if text.startswith("dashboards-") and text[11:].isdigit() else -1
        if not 0 <= offset <= len(entries):
            raise AwsError("InvalidParameterValue", "The service couldn't process the NextToken.", 400)
    answer: dict[str, Any] = {"DashboardEntries": entries[offset:offset + PAGE]}
    if offset + PAGE < len(entries):
        answer["NextToken"] = f"dashboards-{offset + PAGE}"
    return 200, answer


@handler(SERVICE, "DeleteDashboards")
def delete_dashboards(req: AwsRequest) -> tuple[int, Any]:
    """https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteDashboards.html"""
    names = [str(n) for n in listed(params(req).get("DashboardNames"))]
    with LOCK:
        missing = [n for n in dict.fromkeys(names) if n not in _DASHBOARDS]
        for name in names:
            _DASHBOARDS.pop(name, None)
    if missing:
        raise AwsError("ResourceNotFound",
                       f"The specified dashboard does not exist. [{', '.join(missing)}]", 404)
    return 200, {}
