"""How an IAM identity policy decides one action on one resource: the small, pure part.

One copy, without I/O, so that the course's graders (mylearning.roles) and the data
plane's task agent (mylearning.dataplane.secrets, which must refuse a secret the
execution role may not read, as ECS does) decide the same way.

IAM's rule, reduced to what the course needs: a request is allowed only when some
statement allows it and no statement denies it; an explicit Deny always wins, and
no matching Allow is an implicit deny.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
Action names match case-insensitively, resource ARNs case-sensitively, both with the
`*` and `?` wildcards.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
Conditions, NotAction and NotResource are not modelled: a statement using NotAction or
NotResource is treated as granting nothing (and denying nothing).
"""
from __future__ import annotations

import fnmatch
import json
from typing import Any, Iterable, Literal, Mapping

ALLOW = "Allow"
EXPLICIT_DENY = "ExplicitDeny"
IMPLICIT_DENY = "ImplicitDeny"
Decision = Literal["Allow", "ExplicitDeny", "ImplicitDeny"]


def as_list(value: Any) -> list:
    """IAM lets a single action or resource stand without its list brackets."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def document(value: Any) -> dict:
    """A policy document as a dict: boto3 decodes them, but some stores keep the
    raw (sometimes URL-encoded) JSON text."""
    if isinstance(value, str):
        from urllib.parse import unquote
        text = value if value.lstrip().startswith("{") else unquote(value)
        return json.loads(text)
    return dict(value or {})


def statements(doc: Mapping[str, Any]) -> list[dict]:
    """A document's statements; a lone statement may stand without a list."""
    items = doc.get("Statement") or []
    return [items] if isinstance(items, Mapping) else list(items)


def matches(pattern: str, value: str, case_sensitive: bool) -> bool:
    # fnmatch's [..] classes are not IAM syntax; escape them so only * and ? are wild.
    pattern = pattern.replace("[", "[[]")
    if case_sensitive:
        return fnmatch.fnmatchcase(value, pattern)
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def covers(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    """Whether the statement's Action and Resource both match."""
    if "NotAction" in statement or "NotResource" in statement:
        return False
    actions = as_list(statement.get("Action"))
    resources = as_list(statement.get("Resource"))
    return (any(matches(a, action, False) for a in actions)
            and any(matches(r, resource, True) for r in resources))


def decide(docs: Iterable[tuple[str, Mapping[str, Any]]], action: str, resource: str) -> Decision:
    """ALLOW, EXPLICIT_DENY or IMPLICIT_DENY for `action` on `resource` under these
    (label, document) policies. The two denials read differently in AWS's AccessDenied
    messages ("with an explicit deny" / "because no identity-based policy allows")."""
    allowed = False
    for _, doc in docs:
        for statement in statements(doc):
            if covers(statement, action, resource):
                if statement.get("Effect") == "Deny":
                    return EXPLICIT_DENY
                allowed = allowed or statement.get("Effect") == "Allow"
    return ALLOW if allowed else IMPLICIT_DENY


def allows(docs: Iterable[tuple[str, Mapping[str, Any]]], action: str, resource: str) -> bool:
    """True when some Allow statement covers action on resource and no Deny does."""
    return decide(docs, action, resource) == ALLOW
