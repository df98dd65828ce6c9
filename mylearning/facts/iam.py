"""How IAM decides one request under identity policies and a permissions boundary: pure, no I/O.

One copy, without I/O, so that the course's graders (mylearning.roles), the data plane (the
execution role's secrets and logs, the task role's calls to the AWS endpoints it serves) and
the least-privilege helper (mylearning.security.least_privilege) decide the same way.

The rules, from the policy evaluation logic
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html),
reduced to a principal in its own account with identity-based policies and, optionally, a
permissions boundary:

* every request starts as an implicit deny; an explicit Deny in any policy (identity policy or
  boundary) wins over every Allow;
* without a Deny, the request is allowed only when an identity-based policy allows it *and*,
  if the principal has a permissions boundary, the boundary allows it too; a boundary grants
  nothing by itself (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).

What a statement matches:

* Action names case-insensitively, resource ARNs case-sensitively, both with the ``*`` and
  ``?`` wildcards; ``NotAction`` / ``NotResource`` match everything their list does not
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html,
  .../reference_policies_elements_notaction.html, .../reference_policies_elements_resource.html,
  .../reference_policies_elements_notresource.html).
* ``Condition``: every operator of the block must hold, and every key under an operator; several
  values for one key are ORed, and for the negated operators (StringNotEquals, ArnNotLike, ...)
  the key must match none of them. Condition key names are case-insensitive; the values of the
  String operators are case-sensitive unless the operator says IgnoreCase. A key absent from the
  request makes a condition false, except for negated operators (true), ``...IfExists`` (true)
  and ``Null`` (which tests exactly that)
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
  ``ForAnyValue:`` holds when some value of a multivalued key matches (false when the key is
  absent or empty); ``ForAllValues:`` when every value does (true when absent or empty)
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
* Policy variables ``${aws:PrincipalTag/team}``, ``${aws:username}``, with a default
  ``${aws:x, 'default'}`` and the special ``${*}``, ``${?}``, ``${$}``, in Resource and in the
  String and ARN conditions; a variable the request does not carry (and has no default for)
  makes that pattern match nothing
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).

Not modelled: resource-based policies, SCPs/RCPs, session policies, Principal/NotPrincipal
(identity policies have none), BinaryEquals. An operator this module does not know never holds.
"""
from __future__ import annotations

import datetime
import fnmatch
import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping, Optional

ALLOW = "Allow"
EXPLICIT_DENY = "ExplicitDeny"
IMPLICIT_DENY = "ImplicitDeny"
Decision = Literal["Allow", "ExplicitDeny", "ImplicitDeny"]
#: The policy types an AccessDenied message names (troubleshoot_access-denied.html).
IDENTITY = "identity-based policy"
BOUNDARY = "permissions boundary"

Documents = Iterable[tuple[str, Mapping[str, Any]]]


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


# ---------------------------------------------------------------- the request

@dataclass(frozen=True)
class Request:
    """One request as IAM sees it: the action, the resource ARN ("*" for actions without
    resource-level permissions) and the request context (condition keys -> a value, or a list
    for multivalued keys). Context keys are matched case-insensitively."""

    action: str
    resource: str = "*"
    context: Mapping[str, Any] = field(default_factory=dict)

    def value(self, key: str) -> Any:
        """The context's value for `key` (case-insensitive), or None when absent."""
        lowered = key.lower()
        for name, value in self.context.items():
            if name.lower() == lowered:
                return value
        return None


@dataclass(frozen=True)
class Outcome:
    """A decision, and for a denial the policy type that caused it and (explicit deny) which
    policy: what AWS's AccessDenied message says."""

    decision: Decision
    policy_type: str = IDENTITY
    policy: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOW


# ---------------------------------------------------------------- policy variables

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


class _Unresolved(Exception):
    """A policy variable the request has no value for (and no default)."""


def substitute(text: str, request: Request, *, literal_wildcards: bool = False) -> str:
    """`text` with its policy variables replaced from the request context. In a pattern
    (Resource, StringLike) ``${*}`` stands for a literal ``*``: the caller escapes it when
    `literal_wildcards` (fnmatch has no escape, so it is spelled as the class ``[*]``)."""
    if "${" not in text:
        return text

    def one(match: re.Match) -> str:
        inner = match.group(1).strip()
        if inner in _SPECIAL:
            return f"[{inner}]" if literal_wildcards and inner in "*?" else _SPECIAL[inner]
        key, _, default = inner.partition(",")
        value = request.value(key.strip())
        if isinstance(value, (list, tuple)):
            value = None  # a multivalued key cannot stand in a single string
        if value is None:
            default = default.strip()
            if len(default) >= 2 and default[0] == default[-1] == "'":
                return default[1:-1]
            raise _Unresolved(key)
        text_value = str(value).lower() if isinstance(value, bool) else str(value)
        return text_value.replace("[", "[[]") if literal_wildcards else text_value

    return _VARIABLE.sub(one, text)


def _pattern_matches(pattern: str, value: str, request: Request, case_sensitive: bool) -> bool:
    """A Resource (or wildcard condition) pattern, after its variables, against `value`."""
    try:
        pattern = substitute(pattern.replace("[", "[[]"), request, literal_wildcards=True)
    except _Unresolved:
        return False
    if case_sensitive:
        return fnmatch.fnmatchcase(value, pattern)
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


# ---------------------------------------------------------------- conditions

def _string_equals(policy: str, value: Any, request: Request, fold: bool) -> bool:
    try:
        expected = substitute(str(policy), request)
    except _Unresolved:
        return False
    value = str(value)
    return expected.lower() == value.lower() if fold else expected == value


def _string_like(policy: str, value: Any, request: Request) -> bool:
    return _pattern_matches(str(policy), str(value), request, True)


def _arn_like(policy: str, value: Any, request: Request) -> bool:
    """ArnEquals and ArnLike alike: each of the six colon-separated parts is matched on its
    own, with * and ? wildcards, case-sensitively (condition_operators.html, "ARN")."""
    try:
        policy = substitute(str(policy), request)
    except _Unresolved:
        return False
    want, got = policy.split(":", 5), str(value).split(":", 5)
    if len(want) != 6 or len(got) != 6:
        return False
    return all(matches(w, g, True) for w, g in zip(want, got))


def _number(text: Any) -> Optional[float]:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _date(text: Any) -> Optional[float]:
    """A date as IAM takes it: ISO 8601 (``2026-01-01T00:00:00Z``) or epoch seconds."""
    if isinstance(text, datetime.datetime):
        return text.timestamp()
    number = _number(text)
    if number is not None:
        return number
    try:
        parsed = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


def _compare(parse: Any, test: Any) -> Any:
    def check(policy: Any, value: Any, request: Request) -> bool:
        a, b = parse(value), parse(policy)
        return a is not None and b is not None and test(a, b)
    return check


def _bool(policy: Any, value: Any, request: Request) -> bool:
    return str(policy).lower() == str(value).lower()


def _ip(policy: Any, value: Any, request: Request) -> bool:
    try:
        return ipaddress.ip_address(str(value)) in ipaddress.ip_network(str(policy), strict=False)
    except ValueError:
        return False


#: Operator -> (test of one policy value against one request value, negated?).
_OPERATORS: dict[str, tuple[Any, bool]] = {
    "stringequals": (lambda p, v, r: _string_equals(p, v, r, False), False),
    "stringnotequals": (lambda p, v, r: _string_equals(p, v, r, False), True),
    "stringequalsignorecase": (lambda p, v, r: _string_equals(p, v, r, True), False),
    "stringnotequalsignorecase": (lambda p, v, r: _string_equals(p, v, r, True), True),
    "stringlike": (_string_like, False),
    "stringnotlike": (_string_like, True),
    "numericequals": (_compare(_number, lambda a, b: a == b), False),
    "numericnotequals": (_compare(_number, lambda a, b: a == b), True),
    "numericlessthan": (_compare(_number, lambda a, b: a < b), False),
    "numericlessthanequals": (_compare(_number, lambda a, b: a <= b), False),
    "numericgreaterthan": (_compare(_number, lambda a, b: a > b), False),
    "numericgreaterthanequals": (_compare(_number, lambda a, b: a >= b), False),
    "dateequals": (_compare(_date, lambda a, b: a == b), False),
    "datenotequals": (_compare(_date, lambda a, b: a == b), True),
    "datelessthan": (_compare(_date, lambda a, b: a < b), False),
    "datelessthanequals": (_compare(_date, lambda a, b: a <= b), False),
    "dategreaterthan": (_compare(_date, lambda a, b: a > b), False),
    "dategreaterthanequals": (_compare(_date, lambda a, b: a >= b), False),
    "bool": (_bool, False),
    "ipaddress": (_ip, False),
    "notipaddress": (_ip, True),
    "arnequals": (_arn_like, False),
    "arnlike": (_arn_like, False),
    "arnnotequals": (_arn_like, True),
    "arnnotlike": (_arn_like, True),
}


def _one_value(test: Any, negated: bool, policy_values: list, value: Any, request: Request) -> bool:
    """One request value against the key's policy values: ORed, or for a negated operator,
    matching none of them."""
    hit = any(test(p, value, request) for p in policy_values)
    return not hit if negated else hit


def condition_holds(operator: str, key: str, policy_value: Any, request: Request) -> bool:
    """Whether one (operator, key, values) entry of a Condition block holds for `request`."""
    name = operator.lower()
    qualifier = ""
    if ":" in name:
        qualifier, name = name.split(":", 1)
    if_exists = name.endswith("ifexists") and name != "ifexists"
    if if_exists:
        name = name[:-len("ifexists")]
    values = as_list(policy_value)
    present = request.value(key)
    if name == "null":
        # Null: "true" asks that the key be absent, "false" that it be present.
        absent = present is None or (isinstance(present, (list, tuple)) and not present)
        return any(str(v).lower() == ("true" if absent else "false") for v in values)
    if name not in _OPERATORS or qualifier not in ("", "foranyvalue", "forallvalues"):
        return False
    test, negated = _OPERATORS[name]
    if qualifier:
        request_values = [] if present is None else as_list(present)
        if qualifier == "foranyvalue":
            return any(_one_value(test, negated, values, v, request) for v in request_values)
        return all(_one_value(test, negated, values, v, request) for v in request_values)
    if present is None:
        return if_exists or negated
    if isinstance(present, (list, tuple)):  # a multivalued key without a set operator
        return any(_one_value(test, negated, values, v, request) for v in present)
    return _one_value(test, negated, values, present, request)


def conditions_hold(condition: Mapping[str, Any] | None, request: Request) -> bool:
    """Every operator of the block, and every key under each, must hold (they are ANDed)."""
    for operator, keys in (condition or {}).items():
        if not isinstance(keys, Mapping):
            return False
        for key, value in keys.items():
            if not condition_holds(operator, key, value, request):
                return False
    return True


# ---------------------------------------------------------------- statements

def applies(statement: Mapping[str, Any], request: Request) -> bool:
    """Whether the statement's Action/NotAction, Resource/NotResource and Condition all match."""
    if "NotAction" in statement:
        if any(matches(a, request.action, False) for a in as_list(statement["NotAction"])):
            return False
    elif not any(matches(a, request.action, False) for a in as_list(statement.get("Action"))):
        return False
    if "NotResource" in statement:
        if any(_pattern_matches(r, request.resource, request, True) for r in as_list(statement["NotResource"])):
            return False
    elif not any(_pattern_matches(r, request.resource, request, True) for r in as_list(statement.get("Resource"))):
        return False
    return conditions_hold(statement.get("Condition"), request)


def covers(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    """Whether the statement matches `action` on `resource` (no request context)."""
    return applies(statement, Request(action, resource))


def _effects(docs: Documents, request: Request) -> tuple[Optional[str], bool]:
    """(label of the first policy that explicitly denies, or None; whether some allows)."""
    allowed = False
    for label, doc in docs:
        for statement in statements(doc):
            if applies(statement, request):
                if statement.get("Effect") == "Deny":
                    return label, allowed
                allowed = allowed or statement.get("Effect") == "Allow"
    return None, allowed


def evaluate(request: Request, identity: Documents, boundary: Optional[Documents] = None) -> Outcome:
    """IAM's decision for `request` under the principal's identity policies and, when it has
    one, its permissions boundary (`boundary`: None means no boundary, which limits nothing;
    an empty list is a boundary that allows nothing)."""
    denied, identity_allows = _effects(identity, request)
    if denied is not None:
        return Outcome(EXPLICIT_DENY, IDENTITY, denied)
    boundary_denied, boundary_allows = (None, True) if boundary is None else _effects(boundary, request)
    if boundary_denied is not None:
        return Outcome(EXPLICIT_DENY, BOUNDARY, boundary_denied)
    if not identity_allows:
        return Outcome(IMPLICIT_DENY, IDENTITY)
    if not boundary_allows:
        return Outcome(IMPLICIT_DENY, BOUNDARY)
    return Outcome(ALLOW)


def decide(docs: Documents, action: str, resource: str, context: Mapping[str, Any] | None = None,
           boundary: Optional[Documents] = None) -> Decision:
    """ALLOW, EXPLICIT_DENY or IMPLICIT_DENY for `action` on `resource` under these
    (label, document) policies. The two denials read differently in AWS's AccessDenied
    messages ("with an explicit deny" / "because no identity-based policy allows")."""
    return evaluate(Request(action, resource, context or {}), docs, boundary).decision


def allows(docs: Documents, action: str, resource: str, context: Mapping[str, Any] | None = None,
           boundary: Optional[Documents] = None) -> bool:
    """True when some Allow statement covers action on resource and no Deny does."""
    return decide(docs, action, resource, context, boundary) == ALLOW


def denial_reason(outcome: Outcome, action: str) -> str:
    """The end of AWS's AccessDenied message for a denial
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html)."""
    if outcome.decision == EXPLICIT_DENY:
        article = "an" if outcome.policy_type[0] in "aeiou" else "a"
        return f"with an explicit deny in {article} {outcome.policy_type}"
    return f"because no {outcome.policy_type} allows the {action} action"
