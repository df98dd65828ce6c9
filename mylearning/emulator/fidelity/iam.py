"""AWS IAM: trust policies checked as AWS checks them, and AWS managed policies present.

* Trust policies (``AssumeRolePolicyDocument``): moto 5.2 stores whatever it is
  given on CreateRole. AWS answers ``MalformedPolicyDocument`` (IAM API reference,
  API_CreateRole.html, Errors) for a document that is not JSON or not a policy.
* AWS managed policies (``arn:aws:iam::aws:policy/...``): moto ships them but loads
  them only with ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``, for every account and
  after every reset, which costs time on each reset. Here a policy is added to the
  account the first time a call names it (and all of them when a call lists
  AWS policies), so attach_role_policy and get_policy work as on AWS
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies).
"""
from __future__ import annotations

import json
import threading
from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule

SERVICE = "iam"
AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"
#: Elements of a policy and of its statements (IAM JSON policy element reference,
#: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html).
POLICY_KEYS = {"Version", "Id", "Statement"}
STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                  "Resource", "NotResource", "Condition"}
#: "Version": 2012-10-17 or the older 2008-10-17 (reference_policies_elements_version.html).
VERSIONS = {"2012-10-17", "2008-10-17"}


def malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicyDocument", message, 400)


# ---------------------------------------------------------------- trust policies

def trust_policy_problem(document: Any) -> str | None:
    """What AWS would reject in a role's trust policy, or None when it is well formed.

    A trust policy is a resource-based policy: it names who may assume the role
    (Principal) and must not name a Resource
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-trust-policy).
    """
    if not isinstance(document, str):
        return None
    try:
        policy = json.loads(document)
    except ValueError:
        return "This policy contains invalid Json"
    if not isinstance(policy, dict):
        return "Syntax errors in policy."
    unknown = set(policy) - POLICY_KEYS
    if unknown:
        return f"Syntax errors in policy. Unknown field {sorted(unknown)[0]}."
    version = policy.get("Version")
    if version is not None and version not in VERSIONS:
        return "Policy document must be version 2012-10-17 or greater."
    statements = policy.get("Statement")
    if isinstance(statements, dict):  # a single statement need not be in a list
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return "Syntax errors in policy. Missing required field Statement."
    for statement in statements:
        if not isinstance(statement, dict):
            return "Syntax errors in policy."
        unknown = set(statement) - STATEMENT_KEYS
        if unknown:
            return f"Syntax errors in policy. Unknown field {sorted(unknown)[0]}."
        if statement.get("Effect") not in ("Allow", "Deny"):
            return f"Invalid effect: {statement.get('Effect')}"
        if "Principal" not in statement and "NotPrincipal" not in statement:
            return "Missing required field Principal"
        if "Action" not in statement and "NotAction" not in statement:
            return "Missing required field Action"
        if "Resource" in statement or "NotResource" in statement:
            return "Has prohibited field Resource"
    return None


@rule(SERVICE, "CreateRole", "UpdateAssumeRolePolicy")
def trust_policy_well_formed(req: AwsRequest) -> None:
    """MalformedPolicyDocument for a trust policy AWS can't read (API_CreateRole.html,
    API_UpdateAssumeRolePolicy.html)."""
    key = "AssumeRolePolicyDocument" if req.operation == "CreateRole" else "PolicyDocument"
    problem = trust_policy_problem(req.params.get(key))
    if problem:
        raise malformed(problem)


# ---------------------------------------------------------------- AWS managed policies

_DATA: dict[str, Any] | None = None
_LOCK = threading.Lock()


def _aws_policy_data() -> dict[str, Any]:
    """moto's copy of AWS's managed policies, parsed once per emulator process."""
    global _DATA
    if _DATA is None:
        with _LOCK:
            if _DATA is None:
                from moto.iam.aws_managed_policies import aws_managed_policies_data
                _DATA = json.loads(aws_managed_policies_data)
    return _DATA


def _iam_backend():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends
    return iam_backends[DEFAULT_ACCOUNT_ID]["global"]


def _add_policy(backend, name: str, data: dict) -> None:
    from moto.iam.models import AWSManagedPolicy
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    if policy.arn not in backend.managed_policies:
        backend.managed_policies[policy.arn] = policy


def ensure_aws_policy(arn: str) -> None:
    """Make the AWS managed policy named by `arn` exist in the account, if AWS has it."""
    if not isinstance(arn, str) or not arn.startswith(AWS_POLICY_PREFIX):
        return
    backend = _iam_backend()
    if arn in backend.managed_policies:
        return
    name = arn.rsplit("/", 1)[-1]
    path = "/" + arn[len(AWS_POLICY_PREFIX):].rsplit(name, 1)[0]
    data = _aws_policy_data().get(name)
    if data is not None and data.get("Path", "/") == path:
        with _LOCK:
            _add_policy(backend, name, data)


def ensure_all_aws_policies() -> None:
    backend = _iam_backend()
    if getattr(backend, "_mylearning_all_aws_policies", False):
        return
    with _LOCK:
        for name, data in _aws_policy_data().items():
            _add_policy(backend, name, data)
        backend._mylearning_all_aws_policies = True


@rule(SERVICE, "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy",
      "AttachGroupPolicy", "DetachGroupPolicy", "GetPolicy", "GetPolicyVersion",
      "ListPolicyVersions", "ListEntitiesForPolicy", "PutRolePermissionsBoundary",
      "PutUserPermissionsBoundary", "CreateRole", "CreateUser")
def aws_managed_policy_present(req: AwsRequest) -> None:
    """Not a check: the AWS managed policy a call names exists, as on AWS."""
    ensure_aws_policy(req.params.get("PolicyArn") or req.params.get("PermissionsBoundary"))


@rule(SERVICE, "ListPolicies")
def aws_managed_policies_listed(req: AwsRequest) -> None:
    """Not a check: ListPolicies with Scope All (the default) or AWS lists AWS's
    policies too (API_ListPolicies.html)."""
    if req.params.get("Scope", "All") in ("All", "AWS"):
        ensure_all_aws_policies()
