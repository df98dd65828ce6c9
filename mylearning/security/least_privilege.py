"""Least privilege from the record: propose a role's policy from the CloudTrail records of its calls.

This does, on the course's records, what IAM Access Analyzer's policy generation does on a real
account (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-policy-generation.html;
its rules are in `mylearning.facts.access_analyzer`): it reads what a role *did* and writes the
policy that allows that and nothing more, as a template for the learner to review. So:

    records = least_privilege.recorded(session, role_arn, start, end)
    proposal = least_privilege.generate(records, role_arn)
    proposal                      # a table: each action, where, how often, what to review
    proposal.unused(current_docs) # what the role's policies allow that it never used
    iam.put_role_policy(..., PolicyDocument=json.dumps(proposal.policy))   # after review

What it follows from Access Analyzer, and where it goes further (each choice says so in the table):

* Only the role's own calls count: records whose ``userIdentity`` is an ``AssumedRole`` session
  issued by that role (`records_for_role`).
* The action of each call is the record's eventSource and eventName, mapped to the IAM action
  (``monitoring.amazonaws.com`` is ``cloudwatch``; ``ListObjectsV2`` needs ``s3:ListBucket``):
  `mylearning.facts.cloudtrail_records`.
* Resources. Access Analyzer does not infer them: its template holds a placeholder such as
  ``arn:aws:s3:::${BucketName}`` for an action with resource-level permissions, ``"*"`` for one
  without. This helper names the resource when the record does (its ``resources`` list, or the
  request's bucket and key, table, queue URL, secret, key, log group) and keeps Access Analyzer's
  placeholder only where the record does not say. S3 object keys are generalised to
  ``bucket/*`` (``exact_keys=True`` keeps the keys the record shows): a sample of keys read in a
  week is not the set the app will read. A placeholder is a policy variable IAM cannot resolve,
  so until it is replaced that grant allows nothing; `Proposal.ready` says whether any is left.
* Detail. Access Analyzer names actions only for the services on its action-level list, and not
  for data events (S3 object calls, DynamoDB items, SQS messages); for the others it gives only
  the service. Here the record is read whole, so every action is named, and the "detail" column
  says "service" where Access Analyzer would have left the actions to you.
* ``iam:PassRole`` is not recorded by CloudTrail and Access Analyzer never adds it. When a
  recorded call passed a role (a ``roleArn``, ``taskRoleArn``, ``executionRoleArn`` parameter),
  the proposal lists it under "review" rather than granting it.
* A call refused with AccessDenied (or its kin) is listed as "denied: was it needed?", never
  granted: a call the role could not make proves nothing about what it needs.
* It is a proposal. Access Analyzer's page asks you to review and customise the template before
  attaching it; so does this one.

The decision of "does the policy allow this call" is the course's one evaluator,
`mylearning.facts.iam`.
"""
from __future__ import annotations

import datetime
import gzip
import html
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlparse

from mylearning.facts import access_analyzer as aa
from mylearning.facts import cloudtrail_records as ct
from mylearning.facts.iam import Request, as_list, evaluate, matches, statements
from mylearning.facts.iam_actions import NO_RESOURCE_LEVEL
from mylearning.observe.table import Table

__all__ = ["records_for_role", "generate", "recorded", "Proposal", "Grant", "Denied", "PassedRole"]

#: Inline policies of one role may total 10,240 characters (whitespace not counted).
#: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
ROLE_POLICY_CHARS = 10_240

_ROLE_PARAMETERS = ("roleArn", "taskRoleArn", "executionRoleArn", "role", "serviceRoleArn", "iamRoleArn")


# ---------------------------------------------------------------- whose records

def _role_key(arn: str) -> tuple[str, str] | None:
    """(account, role name) of a role ARN, whatever its path: role names are unique in an
    account, and the session's ARN carries no path (cloudtrail-event-reference-user-identity)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("role/"):
        return None
    return parts[4], parts[5].rsplit("/", 1)[-1]


def issuer(record: Mapping[str, Any]) -> str | None:
    """The role ARN behind a record's AssumedRole session, or None for any other identity."""
    identity = record.get("userIdentity") or {}
    if identity.get("type") != ct.ASSUMED_ROLE:
        return None
    source = ((identity.get("sessionContext") or {}).get("sessionIssuer") or {})
    if source.get("type", "Role") != "Role" or not source.get("arn"):
        return None
    return source["arn"]


def records_for_role(records: Iterable[Mapping[str, Any]], role_arn: str) -> list[dict]:
    """The records of calls made by sessions of `role_arn` (userIdentity.sessionContext.sessionIssuer)."""
    want = _role_key(role_arn)
    if want is None:
        raise ValueError(f"{role_arn!r} is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    found = []
    for record in records:
        arn = issuer(record)
        if arn is not None and _role_key(arn) == want:
            found.append(dict(record))
    return found


# ---------------------------------------------------------------- one call

@dataclass(frozen=True)
class Call:
    """One IAM action one record needed, on one resource (None when the record does not say)."""
    action: str
    resource: str | None
    error: str
    data_event: bool
    time: str
    event: str


def _partition(record: Mapping[str, Any]) -> str:
    arn = (record.get("userIdentity") or {}).get("arn") or "arn:aws:"
    return arn.split(":")[1] or "aws"


def _where(record: Mapping[str, Any]) -> tuple[str, str, str]:
    account = record.get("recipientAccountId") or (record.get("userIdentity") or {}).get("accountId") or ""
    return _partition(record), record.get("awsRegion") or "", account


def _listed(record: Mapping[str, Any], kind: str | None = None) -> list[str]:
    return [r["ARN"] for r in record.get("resources") or []
            if r.get("ARN") and (kind is None or r.get("type") == kind)]


def _resources(record: Mapping[str, Any], action: str) -> list[str]:
    """Concrete ARNs the call acted on, from the record; [] when it does not say."""
    if action.lower() in NO_RESOURCE_LEVEL:
        return ["*"]
    partition, region, account = _where(record)
    params = record.get("requestParameters") or {}
    prefix = action.split(":", 1)[0]
    if prefix == "s3":
        obj = action.lower() in ct.S3_OBJECT_ACTIONS
        listed = _listed(record, "AWS::S3::Object" if obj else "AWS::S3::Bucket")
        if listed:
            return listed
        bucket = params.get("bucketName")
        if not bucket:
            return []
        if obj:
            key = params.get("key")
            return [f"arn:{partition}:s3:::{bucket}/{key}"] if key else []
        return [f"arn:{partition}:s3:::{bucket}"]
    listed = _listed(record)
    if listed:
        return listed
    if prefix == "dynamodb":
        tables = [params["tableName"]] if params.get("tableName") else sorted(params.get("requestItems") or {})
        base = f"arn:{partition}:dynamodb:{region}:{account}:table/"
        if params.get("indexName") and len(tables) == 1:
            # A Query or Scan of an index is authorized on the index's ARN.
            # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
            return [f"{base}{tables[0]}/index/{params['indexName']}"]
        return [t if t.startswith("arn:") else base + t for t in tables]
    if prefix == "sqs" and params.get("queueUrl"):
        url = urlparse(params["queueUrl"])
        path = [p for p in url.path.split("/") if p]
        host = url.hostname or ""
        queue_region = host.split(".")[1] if host.startswith("sqs.") and host.count(".") >= 3 else region
        if len(path) == 2:
            return [f"arn:{partition}:sqs:{queue_region}:{path[0]}:{path[1]}"]
        return []
    if prefix == "secretsmanager" and params.get("secretId"):
        secret = params["secretId"]
        if secret.startswith("arn:"):
            return [secret]
        return [f"arn:{partition}:secretsmanager:{region}:{account}:secret:{secret}{ct.SECRET_SUFFIX_PATTERN}"]
    if prefix == "kms" and params.get("keyId"):
        key = params["keyId"]
        if key.startswith("arn:") and ":key/" in key:
            return [key]
        if re.fullmatch(r"[0-9a-f-]{36}|mrk-[0-9a-f]{32}", key):
            return [f"arn:{partition}:kms:{region}:{account}:key/{key}"]
        return []  # an alias: IAM authorizes on the key it names, which the record does not give
    if prefix == "logs" and params.get("logGroupName"):
        group = f"arn:{partition}:logs:{region}:{account}:log-group:{params['logGroupName']}"
        if params.get("logStreamName"):
            return [f"{group}:log-stream:{params['logStreamName']}"]
        return [group]
    return []


def calls(record: Mapping[str, Any]) -> list[Call]:
    """The (action, resource) pairs one record needed."""
    found = []
    data = record.get("managementEvent") is False or record.get("eventCategory") == "Data"
    for action in ct.actions(record.get("eventSource", ""), record.get("eventName", "")):
        for resource in _resources(record, action) or [None]:
            found.append(Call(action, resource, record.get("errorCode") or "", data,
                              record.get("eventTime", ""), record.get("eventName", "")))
    return found


def _passed_roles(record: Mapping[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key in _ROLE_PARAMETERS and isinstance(item, str) and ":role/" in item:
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(record.get("requestParameters") or {})
    return found


# ---------------------------------------------------------------- the proposal

@dataclass(frozen=True)
class Grant:
    action: str
    resources: tuple[str, ...]
    calls: int
    detail: str            # what Access Analyzer would give: "action" or "service"
    placeholder: bool      # some resource is still Access Analyzer's ${...} placeholder


@dataclass(frozen=True)
class Denied:
    action: str
    resource: str
    error: str
    calls: int
    last: str


@dataclass(frozen=True)
class PassedRole:
    event: str
    role: str


@dataclass
class Proposal:
    """A proposed policy for one role, from its record: review it before you attach it."""

    role_arn: str
    grants: tuple[Grant, ...]
    denied: tuple[Denied, ...]
    passed_roles: tuple[PassedRole, ...]
    considered: int                    # the role's API-call records read
    used: tuple[Call, ...] = field(repr=False, default=())

    # ------------------------------------------------ the document
    @property
    def statements(self) -> list[dict]:
        groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for grant in self.grants:
            prefix = grant.action.split(":", 1)[0]
            groups.setdefault((prefix, grant.resources), []).append(grant.action)
        out: list[dict] = []
        counts: dict[str, int] = {}
        for (prefix, resources), actions in sorted(groups.items(), key=lambda kv: (kv[0][0], sorted(kv[1]), kv[0][1])):
            name = "".join(p.title() for p in re.split(r"[^A-Za-z0-9]+", prefix) if p)
            counts[name] = counts.get(name, 0) + 1
            sid = name if counts[name] == 1 else f"{name}{chr(ord('A') + counts[name] - 1)}"
            out.append({"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": list(resources)})
        return out

    @property
    def policy(self) -> dict:
        """The policy document (a dict for put_role_policy's PolicyDocument, after json.dumps)."""
        return {"Version": "2012-10-17", "Statement": self.statements}

    @property
    def ready(self) -> bool:
        """No placeholder left to replace (a placeholder grant allows nothing)."""
        return not any(g.placeholder for g in self.grants)

    def json(self) -> str:
        return json.dumps(self.policy, indent=2)

    def notes(self) -> list[str]:
        notes = ["A proposal from the record: review it (add what the record missed, narrow what it "
                 "generalised) before attaching it, as Access Analyzer asks of its templates."]
        if not self.ready:
            notes.append("Some resources are placeholders (${...}): the record did not name them. "
                         "Replace them with the real ARNs; until then those grants allow nothing.")
        if any(g.detail == aa.SERVICE_LEVEL for g in self.grants):
            notes.append("detail 'service': Access Analyzer would list only the service here (a data event, "
                         "or a service without action-level information); the action is read from the record.")
        size = len(re.sub(r"\s", "", json.dumps(self.policy)))
        if size > ROLE_POLICY_CHARS:
            notes.append(f"The policy has {size} characters; a role's inline policies may have "
                         f"{ROLE_POLICY_CHARS} in all: split it into managed policies.")
        return notes

    # ------------------------------------------------ showing it
    def table(self) -> Table:
        rows = [{"action": g.action, "resources": ", ".join(g.resources), "calls": g.calls,
                 "detail": g.detail, "review": "replace the placeholder" if g.placeholder else ""}
                for g in self.grants]
        rows += [{"action": d.action, "resources": d.resource, "calls": d.calls, "detail": "",
                  "review": f"denied ({d.error}): not granted; was it needed?" + (
                      " (S3 also answers AccessDenied for a missing key without s3:ListBucket)"
                      if d.action.lower() in ct.S3_MISSING_KEY_DENIED else "")} for d in self.denied]
        rows += [{"action": "iam:PassRole", "resources": p.role, "calls": "", "detail": "",
                  "review": f"{p.event} passed this role; CloudTrail does not record iam:PassRole: "
                            "add it if the call must go on"} for p in self.passed_roles]
        return Table(rows, ["action", "resources", "calls", "detail", "review"],
                     f"Proposed policy for {self.role_arn} from {self.considered} recorded calls")

    def __str__(self) -> str:
        return "\n".join([str(self.table()), ""] + [f"* {n}" for n in self.notes()])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes())
        return f"{self.table()._repr_html_()}<ul>{notes}</ul>"

    # ------------------------------------------------ against what the role has now
    def unused(self, current: Any) -> Table:
        """What `current` (a policy document, a list of them, or (label, document) pairs as
        roles.documents returns) allows that the record never used: each Allow statement's
        action and resource, with what was called through it. Rows: "never called" (no recorded
        call matches it), "wildcard" (an action pattern wider than the calls it served), "every
        resource" (Resource "*" for an action that supports resource-level permissions)."""
        docs = _documents(current)
        rows: list[dict] = []
        for label, doc in docs:
            for statement in statements(doc):
                if statement.get("Effect") != "Allow":
                    continue
                sid = statement.get("Sid", "")
                if "NotAction" in statement or "NotResource" in statement:
                    rows.append({"policy": label, "sid": sid, "action": "NotAction" if "NotAction" in statement
                                 else ", ".join(as_list(statement.get("Action"))), "resource": "NotResource"
                                 if "NotResource" in statement else ", ".join(as_list(statement.get("Resource"))),
                                 "finding": "allows everything not listed: replace it with what was called"})
                    continue
                for pattern in as_list(statement.get("Action")):
                    for resource in as_list(statement.get("Resource")):
                        rows += _unused_rows(label, sid, pattern, resource, self.used, docs)
        return Table(rows, ["policy", "sid", "action", "resource", "finding"],
                     f"Allowed but not used by {self.role_arn}")


def _documents(current: Any) -> list[tuple[str, Mapping[str, Any]]]:
    if isinstance(current, Mapping):
        return [("policy", current)]
    out = []
    for i, item in enumerate(current):
        if isinstance(item, Mapping):
            out.append((f"policy {i + 1}", item))
        else:
            label, doc = item
            out.append((label, doc))
    return out


def _unused_rows(label: str, sid: str, pattern: str, resource: str, used: Sequence[Call],
                 docs: list) -> list[dict]:
    served = []
    for call in used:
        if not matches(pattern, call.action, False):
            continue
        if call.resource is not None and not evaluate(Request(call.action, call.resource), [
                (label, {"Statement": [{"Effect": "Allow", "Action": pattern, "Resource": resource}]})]).allowed:
            continue
        if call.resource is not None and not evaluate(Request(call.action, call.resource), docs).allowed:
            continue  # a Deny elsewhere: this grant did not serve it
        served.append(call)
    base = {"policy": label, "sid": sid, "action": pattern, "resource": resource}
    if not served:
        return [dict(base, finding="never called")]
    rows = []
    actions = sorted({c.action for c in served})
    if "*" in pattern or "?" in pattern:
        rows.append(dict(base, finding="wildcard; the record used only " + ", ".join(actions)))
    narrowable = [c for c in served if c.action.lower() not in NO_RESOURCE_LEVEL and c.resource]
    if resource == "*" and narrowable:
        where = sorted({c.resource for c in narrowable})
        rows.append(dict(base, finding="every resource; called only on " + ", ".join(where)))
    return rows


def generate(records: Iterable[Mapping[str, Any]], role_arn: str, *, exact_keys: bool = False) -> Proposal:
    """The policy `role_arn`'s recorded calls needed, from CloudTrail record dicts (any mix of
    principals: only the role's own sessions count)."""
    mine = [r for r in records_for_role(records, role_arn) if r.get("eventType", ct.API_CALL) == ct.API_CALL]
    granted: dict[str, dict[str, Any]] = {}
    denied: dict[tuple[str, str, str], list[str]] = {}
    passed: set[tuple[str, str]] = set()
    used: list[Call] = []
    for record in sorted(mine, key=lambda r: (r.get("eventTime", ""), r.get("eventID", ""))):
        partition, region, account = _where(record)
        for call in calls(record):
            if call.action.lower() in aa.NOT_TRACKED:
                continue
            if call.error in ct.DENIED_ERROR_CODES:
                denied.setdefault((call.action, call.resource or "", call.error), []).append(call.time)
                continue
            used.append(call)
            entry = granted.setdefault(call.action, {"resources": set(), "calls": 0, "service": False,
                                                     "placeholder": False})
            entry["calls"] += 1
            prefix = call.action.split(":", 1)[0]
            entry["service"] |= aa.level(prefix, call.data_event) == aa.SERVICE_LEVEL
            if call.resource is None:
                hole = ct.placeholder(call.action, partition, region, account)
                entry["resources"].add(hole or "*")
                entry["placeholder"] |= hole is not None
            elif prefix == "s3" and not exact_keys and call.action.lower() in ct.S3_OBJECT_ACTIONS:
                bucket = call.resource.split(":::", 1)[1].split("/", 1)[0]
                entry["resources"].add(f"arn:{partition}:s3:::{bucket}/*")
            else:
                entry["resources"].add(call.resource)
        if record.get("errorCode") not in ct.DENIED_ERROR_CODES:
            for role in _passed_roles(record):
                passed.add((record.get("eventName", ""), role))
    grants = []
    for action in sorted(granted, key=str.lower):
        entry = granted[action]
        resources = entry["resources"]
        placeholder = entry["placeholder"]
        if "*" in resources:  # "*" covers every other resource, placeholders included
            resources, placeholder = {"*"}, False
        grants.append(Grant(action, tuple(sorted(resources)), entry["calls"],
                            aa.SERVICE_LEVEL if entry["service"] else aa.ACTION_LEVEL, placeholder))
    # A call denied on a resource where the same action also succeeded later is still listed:
    # the proposal grants only where it succeeded.
    refused = [Denied(a, r, e, len(times), max(times)) for (a, r, e), times in sorted(denied.items())]
    return Proposal(role_arn, tuple(grants), tuple(refused),
                    tuple(PassedRole(e, r) for e, r in sorted(passed)), len(mine), tuple(used))


# ---------------------------------------------------------------- reading the record

def _utc(value: datetime.datetime) -> datetime.datetime:
    return value.replace(tzinfo=datetime.timezone.utc) if value.tzinfo is None else value


def _in_window(record: Mapping[str, Any], start: datetime.datetime, end: datetime.datetime) -> bool:
    text = record.get("eventTime")
    if not text:
        return False
    when = _utc(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")))
    return start <= when <= end


def _logs_data_events(cloudtrail: Any, trail: Mapping[str, Any]) -> bool:
    """Whether a trail's selectors log data events (basic DataResources or advanced selectors
    with eventCategory Data).
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html"""
    selectors = cloudtrail.get_event_selectors(TrailName=trail.get("TrailARN") or trail["Name"])
    for selector in selectors.get("EventSelectors") or []:
        if selector.get("DataResources"):
            return True
    for selector in selectors.get("AdvancedEventSelectors") or []:
        for item in selector.get("FieldSelectors") or []:
            if item.get("Field") == "eventCategory" and "Data" in (item.get("Equals") or []):
                return True
    return False


def _trail_records(session: Any, account: str, start: datetime.datetime, end: datetime.datetime) -> list[dict]:
    cloudtrail, s3 = session.client("cloudtrail"), session.client("s3")
    region = session.region_name
    found: list[dict] = []
    for trail in cloudtrail.describe_trails().get("trailList") or []:
        if not trail.get("S3BucketName") or not _logs_data_events(cloudtrail, trail):
            continue
        day = start.date()
        while day <= end.date():
            prefix = ct.log_prefix(trail.get("S3KeyPrefix"), account, region, day.year, day.month, day.day)
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=trail["S3BucketName"], Prefix=prefix):
                for item in page.get("Contents") or []:
                    if not item["Key"].endswith(".json.gz"):
                        continue
                    body = s3.get_object(Bucket=trail["S3BucketName"], Key=item["Key"])["Body"].read()
                    found += json.loads(gzip.decompress(body)).get("Records") or []
            day += datetime.timedelta(days=1)
    return found


def recorded(session: Any, role_arn: str, start: datetime.datetime, end: datetime.datetime, *,
             event_history: bool = True, trail_logs: bool = True) -> list[dict]:
    """The role's CloudTrail records between `start` and `end`, through boto3 only, each once
    (by eventID): Event history's management events (lookup_events, paginated), and the log files
    of every trail that logs data events, in its bucket, for the session's region.
    https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html"""
    start, end = _utc(start), _utc(end)
    records: list[dict] = []
    if event_history:
        paginator = session.client("cloudtrail").get_paginator("lookup_events")
        for page in paginator.paginate(StartTime=start, EndTime=end):
            for event in page.get("Events") or []:
                if event.get("CloudTrailEvent"):
                    records.append(json.loads(event["CloudTrailEvent"]))
    if trail_logs:
        account = session.client("sts").get_caller_identity()["Account"]
        records += [r for r in _trail_records(session, account, start, end) if _in_window(r, start, end)]
    seen: set[str] = set()
    unique = []
    for record in records:
        key = record.get("eventID") or json.dumps(record, sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(record)
    unique.sort(key=lambda r: (r.get("eventTime", ""), r.get("eventID", "")))
    return records_for_role(unique, role_arn)
