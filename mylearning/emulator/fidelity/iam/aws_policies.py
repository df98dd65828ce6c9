"""AWS IAM: AWS managed policies present, as on AWS.

AWS managed policies (``arn:aws:iam::aws:policy/...``): moto ships them but loads
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

from mylearning.emulator.fidelity.core import AwsRequest, rule
from mylearning.emulator.fidelity.iam.access import AWS_POLICY_PREFIX, SERVICE, iam_backend

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


def _add_policy(backend, name: str, data: dict) -> None:
    from moto.iam.models import AWSManagedPolicy
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    if policy.arn not in backend.managed_policies:
        backend.managed_policies[policy.arn] = policy


def ensure_aws_policy(arn: str) -> None:
    """Make the AWS managed policy named by `arn` exist in the account, if AWS has it."""
    if not isinstance(arn, str) or not arn.startswith(AWS_POLICY_PREFIX):
        return
    backend = iam_backend()
    if arn in backend.managed_policies:
        return
    name = arn.rsplit("/", 1)[-1]
    path = "/" + arn[len(AWS_POLICY_PREFIX):].rsplit(name, 1)[0]
    data = _aws_policy_data().get(name)
    if data is not None and data.get("Path", "/") == path:
        with _LOCK:
            _add_policy(backend, name, data)


def ensure_all_aws_policies() -> None:
    backend = iam_backend()
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
