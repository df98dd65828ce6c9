"""AWS Systems Manager Parameter Store: parameter names, values and patterns, checked as AWS does.

The course keeps a learner's answers as String parameters under
``/mylearning/<learner>/lab<NN>/<key>`` (mylearning/answers.py) and reads the
ECS-optimised AMI from a public ``/aws/service/...`` parameter. SSM speaks
JSON 1.1, so ``req.params`` carries the API reference's names (``Name``,
``Value``, ``Tier``...).

What moto already gets right and the table pins: names prefixed with "aws" or
"ssm", Tags together with Overwrite, a second PutParameter without Overwrite
(ParameterAlreadyExists), and GetParameter of a missing name.
"""
from __future__ import annotations

import re

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule
from mylearning.emulator.fidelity.ssm.access import SERVICE, name_of as _name, parameter, validation

#: "Parameter names can include only the following symbols and letters: a-zA-Z0-9_.-
#: In addition, the slash character ( / ) is used to delineate hierarchies" (API_PutParameter.html).
NAME_CHARS = re.compile(r"[a-zA-Z0-9_.\-/]+")
#: "Parameter hierarchies are limited to a maximum depth of fifteen levels" (API_PutParameter.html).
MAX_LEVELS = 15
#: "Standard parameters have a value limit of 4 KB. Advanced parameters have a value limit of 8 KB."
STANDARD_VALUE_LIMIT = 4096
ADVANCED_VALUE_LIMIT = 8192
#: Description: "Maximum length of 1024" (API_PutParameter.html).
MAX_DESCRIPTION = 1024
#: AWS's own wording for a name outside the allowed characters.
NAME_MESSAGE = ('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed '
                'as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be '
                'formed as a mix of letters, numbers and the following 3 symbols .-_')


@rule(SERVICE, "PutParameter")
def name_well_formed(req: AwsRequest) -> None:
    """A parameter name uses a-zA-Z0-9_.- and ``/``; a hierarchical name starts with ``/``.

    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    ("For parameters in a hierarchy, you must include a leading forward slash character (/)";
    "Parameter names can include only the following symbols and letters: a-zA-Z0-9_.-";
    "If the specified name for a parameter contains spaces between characters, the request
    fails with a ValidationException error").
    """
    name = _name(req)
    if not name:
        return
    if not NAME_CHARS.fullmatch(name):
        raise validation(NAME_MESSAGE)
    if "/" in name and not name.startswith("/"):
        raise validation(f"Parameter name must be a fully qualified name: a name in a hierarchy "
                         f"starts with a forward slash (/), e.g. /{name}.")


@rule(SERVICE, "PutParameter")
def hierarchy_at_most_fifteen_levels(req: AwsRequest) -> None:
    """A parameter name is at most fifteen levels deep.

    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    ("Parameter hierarchies are limited to a maximum depth of fifteen levels"; Errors:
    HierarchyLevelLimitExceededException, "A hierarchy can have a maximum of 15 levels").
    Levels are the slash-separated parts, the name included: "Hierarchies start with a forward
    slash (/) and end with the parameter name. A parameter name hierarchy can have a maximum of
    15 levels" (API_GetParametersByPath.html, Path; and
    https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html).
    """
    name = _name(req)
    if not name:
        return
    levels = [part for part in name.split("/") if part]
    if len(levels) > MAX_LEVELS:
        raise AwsError("HierarchyLevelLimitExceededException",
                       f"A hierarchy can have a maximum of {MAX_LEVELS} levels; {name} has "
                       f"{len(levels)}.", 400)


def _existing_tier(region: str, name: str) -> str | None:
    return getattr(parameter(region, name), "tier", None)


@rule(SERVICE, "PutParameter")
def value_within_tier_limit(req: AwsRequest) -> None:
    """A Standard parameter's value is at most 4 KB, an Advanced one's at most 8 KB.

    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    (Value: "Standard parameters have a value limit of 4 KB. Advanced parameters have a value
    limit of 8 KB"; Tier: Intelligent-Tiering makes a parameter Advanced when it needs to be,
    and an Advanced parameter never reverts to Standard). Counted in characters, as AWS's
    message does.
    """
    value = req.params.get("Value")
    if not isinstance(value, str) or len(value) <= STANDARD_VALUE_LIMIT:
        return
    tier = req.params.get("Tier")
    name = _name(req)
    advanced = tier in ("Advanced", "Intelligent-Tiering") or (
        tier is None and name and _existing_tier(req.region, name) == "Advanced")
    if not advanced:
        raise validation(
            f"Standard tier parameters support a maximum parameter value of {STANDARD_VALUE_LIMIT} "
            "characters. To create a larger parameter value, upgrade the parameter to use the "
            "advanced-parameter tier. For more information, see "
            "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html")
    if len(value) > ADVANCED_VALUE_LIMIT:
        raise validation(f"Advanced tier parameters support a maximum parameter value of "
                         f"{ADVANCED_VALUE_LIMIT} characters.")


@rule(SERVICE, "PutParameter")
def description_at_most_1024(req: AwsRequest) -> None:
    """A parameter description is at most 1024 characters.

    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    (Description: "Length Constraints: Minimum length of 0. Maximum length of 1024").
    """
    description = req.params.get("Description")
    if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
        raise validation(f"1 validation error detected: Value '{description[:40]}...' at "
                         f"'description' failed to satisfy constraint: Member must have length "
                         f"less than or equal to {MAX_DESCRIPTION}")


@rule(SERVICE, "PutParameter")
def value_matches_allowed_pattern(req: AwsRequest) -> None:
    """A value must match the parameter's AllowedPattern.

    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    (AllowedPattern: "A regular expression used to validate the parameter value"; Errors:
    ParameterPatternMismatchException). Read as a search (the value matches somewhere), the lenient reading; a
    pattern Python can't compile is left to AWS.
    """
    pattern, value = req.params.get("AllowedPattern"), req.params.get("Value")
    if not isinstance(pattern, str) or not pattern or not isinstance(value, str):
        return
    try:
        compiled = re.compile(pattern)
    except re.error:
        return
    if compiled.search(value) is None:
        raise AwsError("ParameterPatternMismatchException",
                       f"Parameter value, cannot be validated against allowedPattern: {pattern}", 400)
