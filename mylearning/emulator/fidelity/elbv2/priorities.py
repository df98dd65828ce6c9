"""ELBv2 rule priorities (SetRulePriorities): the default rule keeps its place -- a check AWS
makes that moto 5.2 skips (it checks priorities given twice and priorities in use)."""
from __future__ import annotations

import re

from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule
from mylearning.emulator.fidelity.elbv2.access import SERVICE, rule_of


@rule(SERVICE, "SetRulePriorities")
def default_rule_keeps_its_priority(req: AwsRequest) -> None:
    """The default rule's priority can't be changed.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html
    ("You can change the priority of a nondefault rule at any time. You cannot change the
    priority of the default rule") and
    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_SetRulePriorities.html
    (Errors: OperationNotPermitted, "This operation is not allowed").
    """
    for key, arn in req.params.items():
        if re.fullmatch(r"RulePriorities\.member\.\d+\.RuleArn", key):
            found = rule_of(req.region, arn)
            if found is not None and getattr(found, "is_default", False):
                raise AwsError("OperationNotPermitted",
                               "The priority of the default rule cannot be changed")
