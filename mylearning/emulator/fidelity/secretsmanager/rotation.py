"""AWS Secrets Manager: rotation schedules, rotation functions and staging labels.

moto 5.2 rotates a secret that has no rotation function (AWS can't), answers GetSecretValue
with its own default version rather than AWSCURRENT's (wrong once a rotation started), accepts a schedule
given both as days and as an expression and a rotation window longer than the schedule
allows, lets one staging label sit on two versions, and refuses to rotate when the
previous rotation finished (AWSPENDING and AWSCURRENT on one version) while it lets a
rotation start when the previous one is still in progress. Each rule cites its page.
"""
from __future__ import annotations

import re
from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, after, moto_fixes, rule
from mylearning.emulator.fidelity.secretsmanager.access import (
    SERVICE, invalid_parameter, invalid_request, secret, stages)

RATE = re.compile(r"rate\(\s*(\d+)\s+(hours?|days?)\s*\)", re.IGNORECASE)
DURATION = re.compile(r"(\d+)h")


@rule(SERVICE, "RotateSecret")
def schedule_as_days_or_expression(req: AwsRequest) -> None:
    """A rotation schedule is AutomaticallyAfterDays or ScheduleExpression, not both.

    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html
    (AutomaticallyAfterDays: "In RotateSecret, you can set the rotation schedule in
    RotationRules with AutomaticallyAfterDays or ScheduleExpression, but not both");
    API_RotateSecret.html, Errors: InvalidParameterException.
    """
    rules = req.params.get("RotationRules")
    if isinstance(rules, dict) and rules.get("AutomaticallyAfterDays") is not None \
            and rules.get("ScheduleExpression") is not None:
        raise invalid_parameter("You can't specify both AutomaticallyAfterDays and ScheduleExpression "
                                "in RotationRules.")


@rule(SERVICE, "RotateSecret")
def window_within_the_schedule(req: AwsRequest) -> None:
    """A rotation window (Duration) ends before the next window and the next UTC day.

    https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html
    ("For a rate in hours ... The rotation window must not extend into the next rotation
    window. One way to check this is to confirm that the rotation window is less than or equal
    to the number of hours between rotations"; "For a rate in days, the default rotation window
    starts at midnight ... The rotation window must not extend into the next UTC day ... the
    start hour plus the window duration is less than or equal to 24 hours");
    API_RotationRulesType.html (Duration: "The window must not extend into the next rotation
    window or the next UTC day"). Only rate() schedules are checked: their windows start at
    midnight; a cron() window's start would need the expression evaluated.
    """
    rules = req.params.get("RotationRules")
    if not isinstance(rules, dict):
        return
    rate = RATE.fullmatch(str(rules.get("ScheduleExpression") or "").strip())
    duration = DURATION.fullmatch(str(rules.get("Duration") or ""))
    if not rate or not duration:
        return
    hours, every = int(duration.group(1)), int(rate.group(1))
    limit = every if rate.group(2).lower().startswith("hour") else 24
    if hours > limit:
        raise invalid_parameter(f"The rotation window Duration {hours}h extends into the next "
                                f"{'rotation window' if limit == every else 'UTC day'}: it can be at "
                                f"most {limit}h for {rate.group(0)}.")


@rule(SERVICE, "RotateSecret")
def rotation_function_known(req: AwsRequest) -> None:
    """Rotation needs a rotation function: in this call or already configured on the secret.

    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html
    (Errors: InvalidRequestException, "You tried to enable rotation on a secret that doesn't
    already have a Lambda function ARN configured and you didn't include such an ARN as a
    parameter in this call"). moto then rotates without one.
    """
    if req.params.get("RotationLambdaARN"):
        return
    found = secret(req.region, req.params.get("SecretId"))
    if found is not None and not getattr(found, "rotation_lambda_arn", None):
        raise invalid_request("You tried to enable rotation on a secret that doesn't already have a "
                              "Lambda function ARN configured and you didn't include such an ARN as "
                              "a parameter in this call.")


@rule(SERVICE, "RotateSecret")
def previous_rotation_finished(req: AwsRequest) -> None:
    """A rotation can't start while the previous one is in progress: AWSPENDING on a version
    that isn't AWSCURRENT.

    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html ("If
    the AWSPENDING staging label is present but not attached to the same version as AWSCURRENT,
    then any later invocation of RotateSecret assumes that a previous rotation request is still
    in progress and returns an error"); the state error is InvalidRequestException ("A
    parameter value is not valid for the current state of the resource").
    """
    found = secret(req.region, req.params.get("SecretId"))
    if found is None:
        return
    if any("AWSPENDING" in labels and "AWSCURRENT" not in labels for labels in stages(found).values()):
        raise invalid_request("A previous rotation isn't complete. That rotation will be reattempted.")


@rule(SERVICE, "UpdateSecretVersionStage")
def label_moved_from_where_it_is(req: AwsRequest) -> None:
    """A staging label attached to another version moves only with RemoveFromVersionId naming it.

    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html
    (RemoveFromVersionId: "If the staging label you are trying to attach to one version is
    already attached to a different version, then you must include this parameter and specify
    the version that the label is to be removed from. If the label is attached and you either
    do not specify this parameter, or the version ID does not match, then the operation fails";
    "Each staging label can be attached to only one version at a time"). moto checks AWSCURRENT
    only and otherwise attaches the label twice.
    """
    found = secret(req.region, req.params.get("SecretId"))
    label, target = req.params.get("VersionStage"), req.params.get("MoveToVersionId")
    if found is None or not isinstance(label, str) or not target or req.params.get("RemoveFromVersionId"):
        return
    holder = next((vid for vid, labels in stages(found).items() if label in labels and vid != target), None)
    if holder is not None:
        raise invalid_parameter(f"The parameter RemoveFromVersionId can't be empty. Staging label "
                                f"{label} is currently attached to version {holder}, so you must "
                                "explicitly reference that version in RemoveFromVersionId.")


# ---------------------------------------------------------------- moto fixes

def _fix_finished_rotation_not_in_progress() -> None:
    """moto refuses RotateSecret when AWSPENDING and AWSCURRENT share a version, the state a
    finished rotation leaves (its finishSecret step moves AWSCURRENT to the AWSPENDING version).
    AWS treats only AWSPENDING on another version as in progress (API_RotateSecret.html), so the
    label is dropped from the current version before moto looks, as the new rotation would."""
    from moto.secretsmanager.models import SecretsManagerBackend

    rotate = SecretsManagerBackend.rotate_secret

    def rotate_secret(self: Any, secret_id: str, *args: Any, **kwargs: Any) -> str:
        found = self.secrets.get(secret_id) if self._is_valid_identifier(secret_id) else None
        for version in (getattr(found, "versions", None) or {}).values():
            labels = version.get("version_stages") or []
            if "AWSPENDING" in labels and "AWSCURRENT" in labels:
                labels.remove("AWSPENDING")
        return rotate(self, secret_id, *args, **kwargs)

    SecretsManagerBackend.rotate_secret = rotate_secret


@after(SERVICE, "RotateSecret")
def test_rotation_leaves_no_pending_version(req: AwsRequest, status: int, body: bytes) -> None:
    """Not a check: RotateImmediately=false only tests the rotation: "This test creates an
    AWSPENDING version of the secret and then removes it" (API_RotateSecret.html,
    RotateImmediately). moto keeps the AWSPENDING version. No other AWSPENDING-only version can
    be there: the call would have been refused as a rotation in progress."""
    if req.params.get("RotateImmediately") is not False:
        return
    found = secret(req.region, req.params.get("SecretId"))
    versions = getattr(found, "versions", None) or {}
    for version_id, labels in stages(found).items():
        if labels == ["AWSPENDING"]:
            versions.pop(version_id, None)


moto_fixes(SERVICE, _fix_finished_rotation_not_in_progress, operations=("RotateSecret",))



def _fix_default_version_is_awscurrent() -> None:
    """Without a version or stage, GetSecretValue returns the version labelled AWSCURRENT
    (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html,
    VersionStage), and only the rotation function's finishSecret step moves that label
    (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html).
    moto returns its own "default version" instead, which RotateSecret points at the new
    AWSPENDING version (valueless until createSecret puts one; the embedded AWS never runs a
    rotation function's code) and UpdateSecretVersionStage does not move. So the secret
    answered "can't find the specified secret value" after a rotation, and the previous value
    after AWSCURRENT was moved. The stage is made explicit before moto looks."""
    from moto.secretsmanager.models import SecretsManagerBackend

    get = SecretsManagerBackend.get_secret_value

    def get_secret_value(self: Any, secret_id: str, version_id: Any, version_stage: Any) -> Any:
        found = self.secrets.get(secret_id) if not version_id and not version_stage \
            and self._is_valid_identifier(secret_id) else None
        if found is not None and any("AWSCURRENT" in labels for labels in stages(found).values()):
            version_stage = "AWSCURRENT"  # (a secret without a value keeps moto's own answer)
        return get(self, secret_id, version_id, version_stage)

    SecretsManagerBackend.get_secret_value = get_secret_value


moto_fixes(SERVICE, _fix_default_version_is_awscurrent, operations=("GetSecretValue",))
