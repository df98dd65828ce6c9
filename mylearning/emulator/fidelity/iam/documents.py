"""AWS IAM: policy documents checked as AWS checks them.

* Trust policies (``AssumeRolePolicyDocument``): moto 5.2 stores whatever it is
  given on CreateRole. AWS answers ``MalformedPolicyDocument`` (IAM API reference,
  API_CreateRole.html, Errors) for a document that is not JSON or not a policy.
* Identity-based policies (managed and inline): moto stores one that names a
  Principal, which only resource-based policies (a trust policy is one) may do.
"""
from __future__ import annotations

import json
from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule
from mylearning.emulator.fidelity.iam.access import SERVICE

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


# ---------------------------------------------------------------- identity-based policies


def names_a_principal(document: Any) -> bool:
    """Whether an identity-based policy document has a Principal or NotPrincipal element."""
    if not isinstance(document, str):
        return False
    try:
        policy = json.loads(document)
    except ValueError:
        return False  # moto answers MalformedPolicyDocument for text that is not JSON
    statements = policy.get("Statement") if isinstance(policy, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    return any(isinstance(s, dict) and ("Principal" in s or "NotPrincipal" in s)
               for s in statements or [])


@rule(SERVICE, "CreatePolicy", "CreatePolicyVersion", "PutRolePolicy", "PutUserPolicy", "PutGroupPolicy")
def identity_policy_names_no_principal(req: AwsRequest) -> None:
    """An identity-based policy (managed or inline) has no Principal: it applies to whoever
    it is attached to.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    ("You cannot use the Principal element in an identity-based policy"; "Identity-based
    policies are permissions policies that you attach to IAM identities"); API_CreatePolicy.html
    and API_PutRolePolicy.html, Errors: MalformedPolicyDocument.
    """
    if names_a_principal(req.params.get("PolicyDocument")):
        raise malformed("Policy document should not specify a principal.")
