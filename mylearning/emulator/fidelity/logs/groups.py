"""CloudWatch Logs log groups: the checks AWS makes that moto 5.2 skips.

CloudWatch Logs speaks JSON 1.1 (X-Amz-Target), so ``req.params`` is the JSON
body with the API reference's names (``logGroupName``, ``retentionInDays``).
AWS answers these mistakes with ``InvalidParameterException`` (HTTP 400), the
error each operation's page lists for "A parameter is specified incorrectly".

What moto already gets right and the table pins: a second CreateLogGroup with
the same name (ResourceAlreadyExistsException), a name over 512 characters,
and PutRetentionPolicy on a group that does not exist (ResourceNotFoundException).
"""
from __future__ import annotations

import re
import unicodedata

from mylearning.emulator.fidelity.core import AwsRequest, rule
from mylearning.emulator.fidelity.logs.access import SERVICE, invalid

#: "Possible values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
#: 1096, 1827, 2192, 2557, 2922, 3288, and 3653" (API_PutRetentionPolicy.html).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                  1096, 1827, 2192, 2557, 2922, 3288, 3653)
#: Log group names: "a-z, A-Z, 0-9, '_' (underscore), '-' (hyphen), '/' (forward slash),
#: '.' (period), and '#' (number sign)"; pattern [\.\-_/#A-Za-z0-9]+ (API_CreateLogGroup.html).
LOG_GROUP_NAME = re.compile(r"[\.\-_/#A-Za-z0-9]+")
#: Tags: at most 50; keys 1-128 and values 0-256 characters of
#: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$ (API_CreateLogGroup.html, API_TagResource.html).
MAX_TAGS = 50
TAG_PUNCTUATION = set("_.:/=+-@")


def _tag_text_ok(text: str) -> bool:
    """Letters, separators (spaces), numbers and _.:/=+-@, as the tag pattern allows."""
    return all(c in TAG_PUNCTUATION or unicodedata.category(c)[0] in "LZN" for c in text)


@rule(SERVICE, "PutRetentionPolicy")
def retention_is_an_allowed_value(req: AwsRequest) -> None:
    """retentionInDays is one of the documented values.

    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
    ("Possible values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, and 3653").
    """
    days = req.params.get("retentionInDays")
    if isinstance(days, bool) or not isinstance(days, int):
        return  # a shape error botocore catches before sending
    if days not in RETENTION_DAYS:
        raise invalid(f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
                      f"satisfy constraint: Member must satisfy enum value set: "
                      f"[{', '.join(map(str, RETENTION_DAYS))}]")


@rule(SERVICE, "CreateLogGroup")
def log_group_name_well_formed(req: AwsRequest) -> None:
    """A log group name uses a-z, A-Z, 0-9, _ - / . # only and does not start with ``aws/``.

    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
    ("Log group names consist of the following characters: a-z, A-Z, 0-9, '_' (underscore),
    '-' (hyphen), '/' (forward slash), '.' (period), and '#' (number sign)";
    "Log group names can't start with the string aws/"). The 1-512 length moto checks itself.
    """
    name = req.params.get("logGroupName")
    if not isinstance(name, str) or not name or len(name) > 512:
        return
    if not LOG_GROUP_NAME.fullmatch(name):
        raise invalid(f"1 validation error detected: Value '{name}' at 'logGroupName' failed to "
                      f"satisfy constraint: Member must satisfy regular expression pattern: "
                      f"[\\.\\-_/#A-Za-z0-9]+")
    if name.startswith("aws/"):
        raise invalid(f"Log group name {name} is invalid: log group names can't start with 'aws/'.")


@rule(SERVICE, "CreateLogGroup", "TagResource", "TagLogGroup")
def tags_well_formed(req: AwsRequest) -> None:
    """Tag keys are 1-128 and values up to 256 characters of letters, spaces, numbers and
    ``_.:/=+-@``; CreateLogGroup takes at most 50 tags.

    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
    (tags: "Maximum number of 50 items. Key Length Constraints: Minimum length of 1. Maximum
    length of 128. Key Pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$ ... Value Length Constraints:
    Maximum length of 256"). More than 50 on a resource through TagResource is
    TooManyTagsException instead, a count this rule leaves to moto.
    """
    tags = req.params.get("tags")
    if not isinstance(tags, dict):
        return
    if req.operation == "CreateLogGroup" and len(tags) > MAX_TAGS:
        raise invalid(f"1 validation error detected: Value at 'tags' failed to satisfy constraint: "
                      f"Member must have length less than or equal to {MAX_TAGS}")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or not _tag_text_ok(key):
            raise invalid(f"1 validation error detected: Value '{key}' at 'tags' failed to satisfy "
                          "constraint: Map keys must satisfy constraint: [Member must have length "
                          "less than or equal to 128, Member must have length greater than or equal "
                          "to 1, Member must satisfy regular expression pattern: "
                          "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$]")
        if not isinstance(value, str):
            continue
        if len(value) > 256 or not _tag_text_ok(value):
            raise invalid(f"1 validation error detected: Value '{value}' at 'tags' failed to satisfy "
                          "constraint: Map value must satisfy constraint: [Member must have length "
                          "less than or equal to 256, Member must satisfy regular expression "
                          "pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$]")


@rule(SERVICE, "DescribeLogGroups")
def prefix_and_pattern_exclusive(req: AwsRequest) -> None:
    """logGroupNamePrefix and logGroupNamePattern can't be used together.

    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html
    ("logGroupNamePattern and logGroupNamePrefix are mutually exclusive. Only one of these
    parameters can be passed").
    """
    if req.params.get("logGroupNamePrefix") is not None and req.params.get("logGroupNamePattern") is not None:
        raise invalid("LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive. "
                      "Only one of these parameters can be passed.")
