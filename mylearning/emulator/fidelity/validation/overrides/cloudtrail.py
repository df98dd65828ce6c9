"""CloudTrail: LookupEvents names its own errors for what the model constrains.

A MaxResults outside 1-50 is InvalidMaxResultsException, an unknown AttributeKey
InvalidLookupAttributesException, an unknown EventCategory InvalidEventCategoryException
(https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html#API_LookupEvents_Errors),
not the generic validation error: the model's constraints are dropped here and
`fidelity.cloudtrail.lookup` answers them with those codes.
"""
from mylearning.emulator.fidelity.validation.overrides import DROP, Override

_ERRORS = "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html#API_LookupEvents_Errors"

OVERRIDES = (
    Override("MaxResults", None, _ERRORS, {"min": DROP, "max": DROP}),
    Override("LookupAttributeKey", None, _ERRORS, {"enum": DROP}),
    Override("EventCategory", None, _ERRORS, {"enum": DROP}),
)
