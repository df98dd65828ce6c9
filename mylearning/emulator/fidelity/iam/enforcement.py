"""IAM enforced on role sessions: a call signed with credentials from AssumeRole is authorised
against the role's policies before it runs, as AWS authorises every request.

The embedded AWS takes any credentials from the learner (interface 3: it is an ordinary endpoint
for dummy keys, which stand for the account's administrator). Credentials its own STS issued are
different: they belong to a role session, and AWS answers a role session's request only when the
role's identity-based policies allow the action on the resource and no policy denies it, within
the role's permissions boundary if it has one
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html). That is how a
task's calls with its task role's credentials (which the data plane hands out through the
container credentials endpoint, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html)
and ECS's own calls with the execution role are judged.

The decision is `mylearning.facts.iam.evaluate`'s; which action and resources a call is comes
from `mylearning.facts.iam_requests` (an operation whose resource it does not know is judged on
its action alone: looser than IAM, never stricter). The request context carries the global keys
the course's policies use: aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:userid,
aws:RequestedRegion, aws:CurrentTime, aws:EpochTime, aws:SecureTransport and the role's
aws:PrincipalTag/* (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
Not modelled: resource-based policies (a bucket policy cannot grant what the role lacks here),
session policies, SCPs.

The refusal is AWS's: ``AccessDenied`` (S3 and the query services, HTTP 403) or
``AccessDeniedException`` (JSON services), with the message
``User: arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION is not authorized to perform: ACTION on
resource: ARN because no identity-based policy allows the ACTION action``
(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
"""
from __future__ import annotations

import datetime
import json
import threading
import urllib.parse
from typing import Any, Optional

from mylearning.emulator import auth
from mylearning.emulator.fidelity.core import AwsError, AwsRequest, after, before_every, moto_backend, on_reset
from mylearning.facts import iam as policy
from mylearning.facts import iam_requests

#: Services whose access errors are ``AccessDenied`` with HTTP 403 (REST-XML and query
#: protocols); the JSON services answer ``AccessDeniedException``.
_ACCESS_DENIED_403 = {"rest-xml", "query", "ec2"}
#: Access keys seen that are no role session's (the learner's, the grader's): remembered so the
#: common case costs one lookup. Bounded: past it, keys are looked up every time.
_PLAIN_LIMIT = 10_000
_plain: set[str] = set()
_sessions: dict[str, Any] = {}
_lock = threading.Lock()


@on_reset
def _forget() -> None:
    with _lock:
        _plain.clear()
        _sessions.clear()


def _account() -> str:
    from moto.core import DEFAULT_ACCOUNT_ID
    return DEFAULT_ACCOUNT_ID


def session_of(access_key: Optional[str]) -> Any:
    """moto's AssumedRole for `access_key`, or None for credentials STS did not issue."""
    if not access_key or access_key in _plain:
        return None
    found = _sessions.get(access_key)
    if found is not None:
        return found
    found = moto_backend("sts", "global").get_assumed_role_from_access_key(access_key)
    with _lock:
        if found is not None:
            _sessions[access_key] = found
        elif len(_plain) < _PLAIN_LIMIT:
            _plain.add(access_key)
    return found


def _document(text: Any) -> dict:
    if isinstance(text, dict):
        return text
    if isinstance(text, str) and "%" in text and "{" not in text:
        text = urllib.parse.unquote(text)
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _managed_document(arn: str) -> Optional[dict]:
    from mylearning.emulator.fidelity.iam.aws_policies import ensure_aws_policy
    iam = moto_backend("iam", "global")
    ensure_aws_policy(arn)
    managed = iam.managed_policies.get(arn)
    if managed is None:
        return None
    version = next((v for v in managed.versions if v.is_default), None)
    return _document(version.document) if version is not None else None


#: A role's parsed policies, kept this long: the data plane's log shippers sign a call every
#: second per container with the execution role. IAM changes also take a moment to apply on AWS
#: (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
POLICY_SECONDS = 1.0
_policies: dict[str, tuple[float, Any]] = {}


#: IAM calls after which every cached role is read again: a permission the learner adds counts
#: from the next call on.
_WRITES = ("CreateRole", "DeleteRole", "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy",
           "DetachRolePolicy", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "TagRole",
           "UntagRole", "CreatePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicyVersion")


@on_reset
def _forget_policies() -> None:
    _policies.clear()


@after("iam", *_WRITES)
def _policies_changed(req: AwsRequest, status: int, body: bytes) -> None:
    _policies.clear()


def role_policies(role_name: str) -> tuple[Any, list[tuple[str, dict]], Optional[list[tuple[str, dict]]]]:
    """(moto's role or None, its identity policies as (label, document), its boundary or None),
    read at most every POLICY_SECONDS."""
    import time
    cached = _policies.get(role_name)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    found = _read_role_policies(role_name)
    _policies[role_name] = (time.monotonic() + POLICY_SECONDS, found)
    return found


def _read_role_policies(role_name: str) -> tuple[Any, list[tuple[str, dict]], Optional[list[tuple[str, dict]]]]:
    iam = moto_backend("iam", "global")
    role = next((r for r in list(iam.roles.values()) if r.name == role_name), None)
    if role is None:
        return None, [], None
    docs = [(f"inline policy {name}", _document(text)) for name, text in list(role.policies.items())]
    for arn, managed in list(role.managed_policies.items()):
        found = _managed_document(arn)
        if found is not None:
            docs.append((f"managed policy {managed.name}", found))
    boundary = None
    limit = (role.permissions_boundary or {}).get("PermissionsBoundaryArn") \
        if isinstance(role.permissions_boundary, dict) else role.permissions_boundary
    if limit:
        found = _managed_document(limit)
        boundary = [(f"permissions boundary {limit.rsplit('/', 1)[-1]}", found or {})]
    return role, docs, boundary


def _secret_arn(req: AwsRequest) -> Optional[str]:
    """The full ARN of the secret a Secrets Manager call names by name or by partial ARN (without
    the six random characters): IAM judges the request on the secret's own ARN."""
    secret = req.params.get("SecretId")
    if req.service != "secretsmanager" or not isinstance(secret, str) or not secret:
        return None
    try:
        return moto_backend("secretsmanager", req.region).describe_secret(secret).arn
    except Exception:  # the operation itself answers ResourceNotFoundException
        return None


def context(session: Any, role: Any, region: str, secure: bool) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.timezone.utc)
    found: dict[str, Any] = {
        "aws:PrincipalArn": session.role_arn, "aws:PrincipalAccount": session.role_arn.split(":")[4],
        "aws:PrincipalType": "AssumedRole", "aws:RequestedRegion": region,
        "aws:userid": f"{getattr(role, 'id', '')}:{session.session_name}",
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "aws:EpochTime": str(int(now.timestamp())),
        "aws:SecureTransport": "true" if secure else "false",
    }
    for tag in getattr(role, "tags", None) or []:
        if isinstance(tag, dict) and "Key" in tag:
            found[f"aws:PrincipalTag/{tag['Key']}"] = tag.get("Value", "")
    return found


def refusal(req: AwsRequest, session: Any) -> Optional[AwsError]:
    """AWS's AccessDenied for `req` made by role `session`, or None when IAM allows it."""
    if (req.service, req.operation) in iam_requests.UNAUTHORISED_OPERATIONS:
        return None
    account = _account()
    action = iam_requests.action(req.service, req.operation)
    params = req.params if isinstance(req.params, dict) else {}
    resources = iam_requests.resources(req.service, req.operation, params, req.region, account,
                                       secret_arn=_secret_arn(req))
    role, identity, boundary = role_policies(session.role_arn.rsplit("/", 1)[-1])
    ctx = context(session, role, req.region, req.environ.get("wsgi.url_scheme") == "https")
    for resource in resources or [None]:
        request = policy.Request(action, resource or "*", ctx)
        if resource is None:  # unknown resource: judge the action on any resource its statements name
            outcome = _action_only(request, identity, boundary)
        else:
            outcome = policy.evaluate(request, identity, boundary)
        if not outcome.allowed:
            code, status = (("AccessDenied", 403) if req.protocol in _ACCESS_DENIED_403
                            else ("AccessDeniedException", 400))
            shown = resource or "*"
            return AwsError(code, f"User: {session.arn} is not authorized to perform: {action} on "
                                  f"resource: {shown} {policy.denial_reason(outcome, action)}", status)
    return None


def authorise(req: AwsRequest, session: Any, action: str, resource: str,
              extra_context: Optional[dict[str, Any]] = None) -> policy.Outcome:
    """IAM's decision on `action` on `resource` for role `session`, made while serving `req`
    (a service acting on the caller's behalf, as Secrets Manager calls kms:Decrypt, adds its
    own condition keys in `extra_context`)."""
    role, identity, boundary = role_policies(session.role_arn.rsplit("/", 1)[-1])
    ctx = context(session, role, req.region, req.environ.get("wsgi.url_scheme") == "https")
    ctx.update(extra_context or {})
    return policy.evaluate(policy.Request(action, resource, ctx), identity, boundary)


def _action_only(request: policy.Request, identity: list, boundary: Optional[list]) -> policy.Outcome:
    """The decision when the resource is unknown: each statement is read as if its Resource
    matched (its action and conditions still count), so only the action can refuse."""
    def loosen(docs: list) -> list:
        loosened = []
        for label, doc in docs:
            kept = []
            for statement in policy.statements(doc):
                if statement.get("Effect") == "Allow":
                    kept.append({k: v for k, v in statement.items() if k != "NotResource"} | {"Resource": "*"})
                elif "*" in policy.as_list(statement.get("Resource")):  # a Deny of everything still denies
                    kept.append(statement)
            loosened.append((label, {"Version": "2012-10-17", "Statement": kept}))
        return loosened
    return policy.evaluate(request, loosen(identity), None if boundary is None else loosen(boundary))


@before_every
def role_sessions_are_authorised(req: AwsRequest) -> None:
    """Refuse a role session's call that its role's policies do not allow (module docstring)."""
    session = session_of(auth.presented(req.environ))
    if session is None:
        return
    error = refusal(req, session)
    if error is not None:
        raise error
