"""AWS Secrets Manager: secret names, values and deletion, checked as AWS checks them.

Lab 03 creates the database credentials secret with a password from
GetRandomPassword, and teardown deletes it. Secrets Manager speaks JSON 1.1, so
``req.params`` carries the API reference's names (``Name``, ``SecretString``...).

What moto already gets right and the table pins: RecoveryWindowInDays outside
7..30, RecoveryWindowInDays together with ForceDeleteWithoutRecovery, a second
CreateSecret with the same name (ResourceExistsException), GetSecretValue of a
secret scheduled for deletion, and GetRandomPassword as lab 03 calls it
(PasswordLength=32, ExcludePunctuation=True).
"""
from __future__ import annotations

import re

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule
from mylearning.emulator.fidelity.secretsmanager.access import (
    SERVICE, invalid_parameter, scheduled_for_deletion, secret, validation)

#: "The secret name can contain ASCII letters, numbers, and the following characters:
#: /_+=.@-" (API_CreateSecret.html). AWS's own error message lists "!" as well
#: ("Invalid name. Must be a valid name containing alphanumeric characters, or any of the
#: following: -/_+=.@!"), so "!" is let through: stricter than AWS would be a bug too.
SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@!\-]+")
MAX_NAME = 512             # Name: "Maximum length of 512"
MAX_SECRET_STRING = 65536  # SecretString: "Maximum length of 65536"
MAX_DESCRIPTION = 2048     # Description: "Maximum length of 2048"
MAX_PASSWORD = 4096        # GetRandomPassword PasswordLength: "Maximum value of 4096"
MAX_EXCLUDE = 4096         # ExcludeCharacters: "Maximum length of 4096"


@rule(SERVICE, "CreateSecret")
def secret_name_well_formed(req: AwsRequest) -> None:
    """A secret name is at most 512 ASCII letters, digits and ``/_+=.@-``.

    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
    (Name: "The secret name can contain ASCII letters, numbers, and the following characters:
    /_+=.@-"; "Length Constraints: Minimum length of 1. Maximum length of 512").
    """
    name = req.params.get("Name")
    if not isinstance(name, str) or not name:
        return
    if len(name) > MAX_NAME:
        raise validation(f"1 validation error detected: Value at 'name' failed to satisfy "
                         f"constraint: Member must have length less than or equal to {MAX_NAME}")
    if not SECRET_NAME.fullmatch(name):
        raise validation("Invalid name. Must be a valid name containing alphanumeric characters, "
                         "or any of the following: -/_+=.@!")


@rule(SERVICE, "CreateSecret", "PutSecretValue", "UpdateSecret")
def string_or_binary_not_both(req: AwsRequest) -> None:
    """A secret value is SecretString or SecretBinary, not both.

    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
    ("Either SecretString or SecretBinary must have a value, but not both"; the same on
    API_PutSecretValue.html, "You must include SecretBinary or SecretString, but not both",
    and API_UpdateSecret.html).
    """
    if req.params.get("SecretString") is not None and req.params.get("SecretBinary") is not None:
        raise invalid_parameter("You can't specify both a binary secret value and a string secret "
                                "value in the same secret.")


@rule(SERVICE, "CreateSecret", "PutSecretValue", "UpdateSecret")
def sizes_within_limits(req: AwsRequest) -> None:
    """SecretString is at most 65,536 characters and Description at most 2,048.

    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
    (SecretString: "Length Constraints: Minimum length of 1. Maximum length of 65536";
    Description: "Maximum length of 2048").
    """
    value = req.params.get("SecretString")
    if isinstance(value, str) and len(value) > MAX_SECRET_STRING:
        raise validation("1 validation error detected: Value at 'secretString' failed to satisfy "
                         f"constraint: Member must have length less than or equal to {MAX_SECRET_STRING}")
    description = req.params.get("Description")
    if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
        raise validation("1 validation error detected: Value at 'description' failed to satisfy "
                         f"constraint: Member must have length less than or equal to {MAX_DESCRIPTION}")


@rule(SERVICE, "CreateSecret")
def name_not_scheduled_for_deletion(req: AwsRequest) -> None:
    """A name whose secret is scheduled for deletion can't be reused until it is gone or restored.

    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
    (Errors: InvalidRequestException, "A parameter value is not valid for the current state of
    the resource. Possible causes: The secret is scheduled for deletion"). moto answers
    ResourceExistsException instead.
    """
    name = req.params.get("Name")
    if isinstance(name, str) and name:
        found = secret(req.region, name)
        if found is not None and scheduled_for_deletion(found):
            raise AwsError("InvalidRequestException",
                           "You can't create this secret because a secret with this name is "
                           "already scheduled for deletion.", 400)


@rule(SERVICE, "PutSecretValue", "TagResource", "UntagResource")
def not_on_a_secret_scheduled_for_deletion(req: AwsRequest) -> None:
    """A secret scheduled for deletion takes no new value or tags until it is restored.

    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
    (Errors: InvalidRequestException, "Possible causes: The secret is scheduled for deletion";
    the same on API_TagResource.html and API_UntagResource.html). moto already refuses
    UpdateSecret and GetSecretValue on such a secret.
    """
    secret_id = req.params.get("SecretId")
    if isinstance(secret_id, str) and secret_id:
        found = secret(req.region, secret_id)
        if found is not None and scheduled_for_deletion(found):
            raise AwsError("InvalidRequestException",
                           "You can't perform this operation on the secret because it was marked "
                           "for deletion.", 400)


@rule(SERVICE, "GetRandomPassword")
def password_parameters_within_limits(req: AwsRequest) -> None:
    """PasswordLength is at most 4096 and ExcludeCharacters at most 4096 characters.

    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html
    (PasswordLength: "Valid Range: Minimum value of 1. Maximum value of 4096"; ExcludeCharacters:
    "Maximum length of 4096"). botocore catches a length below 1 itself; moto refuses 4097 but
    with the code InvalidParameterValue, quoting AWS's ValidationException in its message.
    """
    length = req.params.get("PasswordLength")
    if isinstance(length, int) and not isinstance(length, bool) and length > MAX_PASSWORD:
        raise validation(f"1 validation error detected: Value '{length}' at 'passwordLength' failed "
                         f"to satisfy constraint: Member must have value less than or equal to {MAX_PASSWORD}")
    exclude = req.params.get("ExcludeCharacters")
    if isinstance(exclude, str) and len(exclude) > MAX_EXCLUDE:
        raise validation("1 validation error detected: Value at 'excludeCharacters' failed to satisfy "
                         f"constraint: Member must have length less than or equal to {MAX_EXCLUDE}")
