"""AWS X-Ray: sampling rules, which moto 5.2 lacks (every call was HTTP 404).

CreateSamplingRule, GetSamplingRules, UpdateSamplingRule and DeleteSamplingRule are
answered here, with the account's Default rule
(https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html: "By default,
the X-Ray SDK records the first request each second, and five percent of any additional
requests"; its record on xray-api-sampling.html). Field ranges
(Priority 1-9999, FixedRate 0-1, ReservoirSize 0 or more) are botocore's model; what is
checked here relates fields and rules to each other. The pages name one error for all of
it, InvalidRequestException ("The request is missing required parameters or has invalid
parameters").
"""
from __future__ import annotations

import threading
import time
from typing import Any

from mylearning.emulator.fidelity.core import AwsRequest, handler, on_reset
from mylearning.emulator.fidelity.xray.access import SERVICE, invalid_request

DEFAULT = "Default"
#: SamplingRuleUpdate fields a rule can change (all but its name and version).
UPDATABLE = ("ResourceARN", "Priority", "FixedRate", "ReservoirSize", "Host", "ServiceName",
             "ServiceType", "HTTPMethod", "URLPath", "Attributes", "SamplingRateBoost")

_RULES: dict[str, dict[str, dict]] = {}  # region -> rule name -> record
_LOCK = threading.Lock()


@on_reset
def _forget() -> None:
    with _LOCK:
        _RULES.clear()


def _arn(region: str, name: str) -> str:
    from moto.core import DEFAULT_ACCOUNT_ID
    return f"arn:aws:xray:{region}:{DEFAULT_ACCOUNT_ID}:sampling-rule/{name}"


def _record(region: str, rule: dict) -> dict:
    now = time.time()
    return {"SamplingRule": {"Attributes": {}, **rule, "RuleARN": _arn(region, rule["RuleName"])},
            "CreatedAt": now, "ModifiedAt": now}


def _rules(region: str) -> dict[str, dict]:
    """The region's rules, the Default rule first made present."""
    rules = _RULES.setdefault(region, {})
    if DEFAULT not in rules:
        rules[DEFAULT] = _record(region, {
            "RuleName": DEFAULT, "ResourceARN": "*", "Priority": 10000, "FixedRate": 0.05,
            "ReservoirSize": 1, "ServiceName": "*", "ServiceType": "*", "Host": "*",
            "HTTPMethod": "*", "URLPath": "*", "Version": 1})
    return rules


def _name_or_arn(region: str, source: Any) -> str:
    """The rule a request names: "Specify a rule by either name or ARN, but not both"
    (API_SamplingRuleUpdate.html and API_DeleteSamplingRule.html, RuleName and RuleARN)."""
    source = source if isinstance(source, dict) else {}
    name, arn = source.get("RuleName"), source.get("RuleARN")
    if name and arn:
        raise invalid_request("Specify a rule by either name or ARN, but not both.")
    if not name and not arn:
        raise invalid_request("Specify the rule by its RuleName or its RuleARN.")
    if arn:
        head, _, name = str(arn).partition(":sampling-rule/")
        if not name or not head.startswith(f"arn:aws:xray:{region}:"):
            raise invalid_request(f"{arn} is not the ARN of a sampling rule in {region}.")
    return str(name)


@handler(SERVICE, "CreateSamplingRule")
def create_sampling_rule(req: AwsRequest) -> tuple[int, Any]:
    """A new rule, named by RuleName (not also by RuleARN), unique in the Region.

    https://docs.aws.amazon.com/xray/latest/api/API_CreateSamplingRule.html;
    https://docs.aws.amazon.com/xray/latest/api/API_SamplingRule.html (RuleName, RuleARN:
    "Specify a rule by either name or ARN, but not both").
    """
    rule = req.params.get("SamplingRule")
    if not isinstance(rule, dict):
        raise invalid_request("SamplingRule is required.")
    if rule.get("RuleARN"):
        raise invalid_request("Specify a rule by either name or ARN, but not both: a new rule is "
                              "named by RuleName; X-Ray gives it its ARN.")
    name = rule.get("RuleName")
    if not name:
        raise invalid_request("RuleName is required to create a sampling rule.")
    with _LOCK:
        rules = _rules(req.region)
        if name in rules:
            raise invalid_request(f"A sampling rule named {name} already exists.")
        rules[name] = _record(req.region, rule)
        return 200, {"SamplingRuleRecord": rules[name]}


@handler(SERVICE, "GetSamplingRules")
def get_sampling_rules(req: AwsRequest) -> tuple[int, Any]:
    """The Region's rules, the Default rule among them (API_GetSamplingRules.html)."""
    with _LOCK:
        records = sorted(_rules(req.region).values(), key=lambda r: r["SamplingRule"]["Priority"])
        return 200, {"SamplingRuleRecords": records}


@handler(SERVICE, "UpdateSamplingRule")
def update_sampling_rule(req: AwsRequest) -> tuple[int, Any]:
    """Changes the fields given of the rule named by RuleName or RuleARN (not both).

    https://docs.aws.amazon.com/xray/latest/api/API_UpdateSamplingRule.html and
    API_SamplingRuleUpdate.html; the Default rule's rate and reservoir can change
    (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-configuration.html).
    """
    change = req.params.get("SamplingRuleUpdate")
    name = _name_or_arn(req.region, change)
    with _LOCK:
        record = _rules(req.region).get(name)
        if record is None:
            raise invalid_request(f"No sampling rule named {name}.")
        record["SamplingRule"].update({k: change[k] for k in UPDATABLE if change.get(k) is not None})
        record["ModifiedAt"] = time.time()
        return 200, {"SamplingRuleRecord": record}


@handler(SERVICE, "DeleteSamplingRule")
def delete_sampling_rule(req: AwsRequest) -> tuple[int, Any]:
    """Deletes the rule named by RuleName or RuleARN (not both); the Default rule stays.

    https://docs.aws.amazon.com/xray/latest/api/API_DeleteSamplingRule.html ("Specify a rule by
    either name or ARN, but not both");
    https://docs.aws.amazon.com/xray/latest/devguide/xray-api-configuration.html ("The default
    rule applies to all requests that don't match another rule. It is the lowest priority rule
    and cannot be deleted").
    """
    name = _name_or_arn(req.region, req.params)
    with _LOCK:
        rules = _rules(req.region)
        if name == DEFAULT:
            raise invalid_request("The Default sampling rule cannot be deleted; you can change its "
                                  "rate and reservoir size with UpdateSamplingRule.")
        record = rules.pop(name, None)
        if record is None:
            raise invalid_request(f"No sampling rule named {name}.")
        return 200, {"SamplingRuleRecord": record}
