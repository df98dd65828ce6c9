"""Lab 00 - Welcome: the learner proves they can reach their backend and knows the course's frame.

Answers are read from the account (SSM parameters written by `record_answer`),
never from the notebook, so the same checks grade a real account.
"""
from __future__ import annotations

import json
import re

from mylearning.course.lab00_welcome import ABOUT
from mylearning.steps import Context, Lab, Outcome, fail, ok

LAB = Lab.declared(ABOUT)

#: AWS App Mesh end of support. Source: "AWS App Mesh end of support",
#: https://docs.aws.amazon.com/app-mesh/latest/userguide/what-is-app-mesh.html
APPMESH_END_OF_SUPPORT = "2026-09-30"
#: AWS's recommended path off App Mesh for ECS workloads. Source:
#: https://aws.amazon.com/blogs/containers/migrating-from-aws-app-mesh-to-amazon-ecs-service-connect/
SUCCESSOR_ACCEPTED = {"ecs service connect", "amazon ecs service connect", "service connect"}


@LAB.step("0.1", "Record who and where you are", points=1)
def identity_recorded(ctx: Context) -> Outcome:
    raw = ctx.answer("identity")
    if raw is None:
        return fail("No identity answer is stored yet.",
                    "Run the step 0.1 cell: it asks STS who you are and records the account "
                    "id and region with record_answer('00', 'identity', ...).")
    try:
        answer = json.loads(raw)
        account, region = str(answer["account"]), str(answer["region"])
    except (ValueError, KeyError, TypeError):
        return fail(f"The stored identity is not a JSON object with 'account' and 'region': {raw[:80]!r}",
                    "Record a dict: {'account': <Account from get_caller_identity>, 'region': session.region_name}.")
    real = ctx.client("sts").get_caller_identity()["Account"]
    if account != real:
        return fail(f"The recorded account {account} is not the account you are using.",
                    "Take the account id from sts.get_caller_identity()['Account'], not from memory.")
    if region != ctx.region:
        return fail(f"The recorded region {region} is not your session's region {ctx.region}.",
                    "Record session.region_name.")
    return ok(f"Account {account} in {region} recorded.")


@LAB.step("0.2", "Know when App Mesh support ended", points=1)
def appmesh_date(ctx: Context) -> Outcome:
    raw = ctx.answer("appmesh_end_of_support")
    if raw is None:
        return fail("No answer stored for App Mesh's end-of-support date.",
                    "Read the 'App Mesh has ended' section above, then record the date as "
                    "'YYYY-MM-DD' in the step 0.2 cell.")
    text = raw.strip().strip('"')
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return fail(f"{raw!r} is not a date in YYYY-MM-DD form.", "Write it like 2025-01-31.")
    if text != APPMESH_END_OF_SUPPORT:
        return fail(f"{text} is not the date App Mesh support ended.",
                    "The date is in the 'App Mesh has ended' section of this notebook.")
    return ok(f"App Mesh reached end of support on {text}.")


@LAB.step("0.3", "Name App Mesh's successor for ECS", points=1)
def successor(ctx: Context) -> Outcome:
    raw = ctx.answer("appmesh_successor")
    if raw is None:
        return fail("No answer stored for the service that replaces App Mesh on ECS.",
                    "Record the name of the ECS feature AWS recommends instead of App Mesh.")
    norm = " ".join(raw.strip().strip('"').lower().split())
    if norm in SUCCESSOR_ACCEPTED:
        return ok("Right: the course ends by moving from App Mesh to ECS Service Connect.")
    if "lattice" in norm:
        return fail(f"{raw!r} is AWS's answer for cross-platform, cross-account networking, "
                    "not the one the course migrates its ECS services to.",
                    "For services that all run on ECS, AWS points to a feature built into ECS itself.")
    return fail(f"{raw!r} is not the service this course migrates to.",
                "Look for the ECS feature named in the 'App Mesh has ended' section.")
