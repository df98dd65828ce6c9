"""AWS IAM: the size and count quotas of policies, checked as IAM checks them.

moto 5.2 stores a trust policy, managed policy or inline policy of any size and attaches
any number of managed policies to a role. IAM answers ``LimitExceeded`` (HTTP 409),
with the quota in the message, at the default quotas of an account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). Sizes
are counted without white space, as IAM counts them. moto already refuses a sixth
policy version, a third access key and the like.
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule
from mylearning.emulator.fidelity.iam.access import SERVICE, entity, policy_size

#: "Role trust policy length: 2048 characters" (default quota, reference_iam-quotas.html).
TRUST_POLICY_SIZE = 2048
#: "The size of each managed policy cannot exceed 6,144 characters" (reference_iam-quotas.html).
MANAGED_POLICY_SIZE = 6144
#: "the total aggregate policy size (the sum size of all inline policies) per entity cannot
#: exceed": user 2,048, role 10,240, group 5,120 characters (reference_iam-quotas.html).
INLINE_POLICY_SIZE = {"user": 2048, "role": 10240, "group": 5120}
#: "Managed policies attached to an IAM role: 10", "... to an IAM user: 10" (default quotas),
#: "Managed policies attached to an IAM group: 10" (reference_iam-quotas.html).
ATTACHED_POLICIES = 10


def limit_exceeded(message: str) -> AwsError:
    return AwsError("LimitExceeded", message, 409)


@rule(SERVICE, "CreateRole", "UpdateAssumeRolePolicy")
def trust_policy_within_quota(req: AwsRequest) -> None:
    """A role's trust policy is at most 2,048 characters, white space not counted.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html ("Role trust
    policy length | 2048 characters"); API_CreateRole.html and API_UpdateAssumeRolePolicy.html,
    Errors: LimitExceeded.
    """
    key = "AssumeRolePolicyDocument" if req.operation == "CreateRole" else "PolicyDocument"
    if policy_size(req.params.get(key)) > TRUST_POLICY_SIZE:
        raise limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}")


@rule(SERVICE, "CreatePolicy", "CreatePolicyVersion")
def managed_policy_within_quota(req: AwsRequest) -> None:
    """A managed policy is at most 6,144 characters, white space not counted.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (managed
    policies: "The size of each managed policy cannot exceed 6,144 characters"; "IAM does not count white
    space when calculating the size of a policy against this limit"); API_CreatePolicy.html
    and API_CreatePolicyVersion.html, Errors: LimitExceeded.
    """
    if policy_size(req.params.get("PolicyDocument")) > MANAGED_POLICY_SIZE:
        raise limit_exceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE}")


_INLINE = {"PutRolePolicy": ("role", "RoleName"), "PutUserPolicy": ("user", "UserName"),
           "PutGroupPolicy": ("group", "GroupName")}


@rule(SERVICE, *_INLINE)
def inline_policies_within_quota(req: AwsRequest) -> None:
    """All inline policies of a role add up to at most 10,240 characters (a user 2,048, a group
    5,120), white space not counted; a policy put again under its name replaces itself.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (inline
    policies: "the total aggregate policy size (the sum size of all inline policies) per entity
    cannot exceed the following limits: User policy size cannot exceed 2,048 characters. Role
    policy size cannot exceed 10,240 characters. Group policy size cannot exceed 5,120
    characters"); API_PutRolePolicy.html, Errors: LimitExceeded.
    """
    kind, name_key = _INLINE[req.operation]
    name = req.params.get(name_key)
    owner = entity(kind, name)
    if owner is None:
        return
    policies: dict[str, Any] = dict(getattr(owner, "policies", {}) or {})
    policies[req.params.get("PolicyName")] = req.params.get("PolicyDocument")
    total, limit = sum(policy_size(doc) for doc in policies.values()), INLINE_POLICY_SIZE[kind]
    if total > limit:
        raise limit_exceeded(f"Maximum policy size of {limit} bytes exceeded for {kind} {name}")


_ATTACH = {"AttachRolePolicy": ("role", "RoleName", "PoliciesPerRole"),
           "AttachUserPolicy": ("user", "UserName", "PoliciesPerUser"),
           "AttachGroupPolicy": ("group", "GroupName", "PoliciesPerGroup")}


@rule(SERVICE, *_ATTACH)
def attached_policies_within_quota(req: AwsRequest) -> None:
    """A role, user or group has at most 10 managed policies attached.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html ("Managed
    policies attached to an IAM role | 10" and "... to an IAM user | 10", default quotas;
    "Managed policies attached to an IAM group | 10"); API_AttachRolePolicy.html, Errors:
    LimitExceeded. Attaching a policy already attached changes nothing and is let through.
    """
    kind, name_key, quota = _ATTACH[req.operation]
    owner = entity(kind, req.params.get(name_key))
    if owner is None:
        return
    attached = getattr(owner, "managed_policies", {}) or {}
    if req.params.get("PolicyArn") not in attached and len(attached) >= ATTACHED_POLICIES:
        raise limit_exceeded(f"Cannot exceed quota for {quota}: {ATTACHED_POLICIES}")
