"""AWS Systems Manager Parameter Store: KMS keys, tiers, policies and GetParametersByPath filters.

moto 5.2 encrypts a SecureString with a KMS key that doesn't exist, moves an Advanced
parameter back to Standard, gives a Standard parameter policies, accepts filters
GetParametersByPath doesn't support, and, once any call has looked up a parameter that
doesn't exist, answers GetParametersByPath, DescribeParameters and GetParameter for that
name with HTTP 500.
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, moto_backend, moto_fixes, rule
from mylearning.emulator.fidelity.ssm.access import SERVICE, name_of, parameter, validation

#: "The following Key values are supported for GetParametersByPath: Type, KeyId, and Label"
#: (API_GetParametersByPath.html, ParameterFilters).
BY_PATH_FILTER_KEYS = ("Type", "KeyId", "Label")


def _kms_key_exists(region: str, key_id: str) -> bool:
    """Whether `key_id` (key ID, key ARN, alias name or alias ARN) names a KMS key of the
    account. AWS managed aliases (alias/aws/...) exist once a service first uses them."""
    from moto.core import DEFAULT_ACCOUNT_ID

    if key_id.startswith("alias/aws/") or ":alias/aws/" in key_id:
        return True
    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        if len(parts) > 4 and (parts[4] != DEFAULT_ACCOUNT_ID or parts[3] != region):
            return True  # another account's or Region's key: not ours to judge
    try:
        kms = moto_backend("kms", region)
        return kms.any_id_to_key_id(key_id) in kms.keys
    except Exception:
        return False


@rule(SERVICE, "PutParameter")
def secure_string_key_exists(req: AwsRequest) -> None:
    """A SecureString's KeyId names a KMS key that exists.

    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    (KeyId: "The Key Management Service (KMS) ID that you want to use to encrypt a
    parameter"; Errors: InvalidKeyId, "The query key ID isn't valid").
    """
    key_id = req.params.get("KeyId")
    if req.params.get("Type") != "SecureString" or not isinstance(key_id, str) or not key_id:
        return
    if not _kms_key_exists(req.region, key_id):
        raise AwsError("InvalidKeyId", f"The query key ID {key_id} isn't valid: no KMS key with this "
                       "ID, ARN or alias exists in the account and Region.", 400)


@rule(SERVICE, "PutParameter")
def advanced_stays_advanced(req: AwsRequest) -> None:
    """An Advanced parameter can't be changed back to the Standard tier.

    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    (Tier: "You can change a standard parameter to an advanced parameter any time. But you
    can't revert an advanced parameter to a standard parameter"; "If you no longer need an
    advanced parameter ... you must delete it and recreate it as a new standard parameter");
    https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html.
    The error is SSM's ValidationException, as for the tier's value limit.
    """
    if req.params.get("Tier") != "Standard":
        return
    existing = parameter(req.region, name_of(req))
    if getattr(existing, "tier", None) == "Advanced":
        raise validation("This parameter uses the advanced-parameter tier. You can't downgrade a "
                         "parameter from the advanced-parameter tier to the standard-parameter tier. "
                         "If necessary, you can delete the advanced parameter and recreate it as a "
                         "standard parameter.")


@rule(SERVICE, "PutParameter")
def policies_need_the_advanced_tier(req: AwsRequest) -> None:
    """A Standard parameter can't have parameter policies.

    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    (Tier: "Standard parameters have a content size limit of 4 KB and can't be configured to use
    parameter policies"; "Options that require an advanced parameter include ... The parameter
    uses a parameter policy"). Only an explicit Tier=Standard is checked: with no Tier, the
    account's default tier (which may be Intelligent-Tiering) decides.
    """
    policies = req.params.get("Policies")
    if req.params.get("Tier") == "Standard" and isinstance(policies, str) and policies.strip() not in ("", "[]"):
        raise validation("Standard tier parameters don't support parameter policies. To use policies, "
                         "use the advanced-parameter tier.")


@rule(SERVICE, "GetParametersByPath")
def by_path_filter_keys(req: AwsRequest) -> None:
    """GetParametersByPath filters only by Type, KeyId and Label.

    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html
    (ParameterFilters: "The following Key values are supported for GetParametersByPath: Type,
    KeyId, and Label. The following Key values aren't supported for GetParametersByPath: tag,
    DataType, Name, Path, and Tier"; Errors: InvalidFilterKey). moto lets tag filters through.
    """
    filters = req.params.get("ParameterFilters")
    for item in filters if isinstance(filters, list) else []:
        key = item.get("Key") if isinstance(item, dict) else None
        if isinstance(key, str) and key not in BY_PATH_FILTER_KEYS:
            raise AwsError("InvalidFilterKey", f"The following filter key is not valid: {key}. Valid "
                           f"filter keys include: [{', '.join(BY_PATH_FILTER_KEYS)}].", 400)


# ---------------------------------------------------------------- moto fix

def _fix_names_that_never_existed() -> None:
    """moto's parameter store is a defaultdict: looking up a name that doesn't exist (e.g.
    LabelParameterVersion, GetParameterHistory) leaves an empty entry behind, which every later
    GetParametersByPath and DescribeParameters, and GetParameter of that name, trips over
    (IndexError, HTTP 500). Empty entries are no parameters: not listed, not contained."""
    from moto.ssm.models import ParameterDict

    contains = ParameterDict.__contains__

    def __iter__(self: Any):
        return iter([name for name in list(dict.keys(self)) if dict.get(self, name)])

    def __contains__(self: Any, key: Any) -> bool:
        if not contains(self, key):
            return False
        if isinstance(key, str) and key.startswith("/aws/reference/secretsmanager/"):
            return True
        return bool(dict.get(self, self.normalize_name(key)))

    ParameterDict.__iter__ = __iter__
    ParameterDict.__contains__ = __contains__


moto_fixes(SERVICE, _fix_names_that_never_existed)
