"""STS fidelity cases: GetCallerIdentity as labs 00 and 03 use it.

moto matches AWS on the account and on assumed-role callers (pinned here); the
one gap is the ARN it gives the emulator's own credentials (see fidelity/sts.py).
"""
from __future__ import annotations

import json
import re
from typing import Any

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env

API = "https://docs.aws.amazon.com/STS/latest/APIReference/"
IDENTITY = API + "API_GetCallerIdentity.html"
#: ARN forms GetCallerIdentity returns (API_GetCallerIdentity.html, Examples): an IAM user,
#: an assumed role, the account root.
CALLER_ARN = re.compile(r"arn:aws:(iam::\d{12}:(user/.+|root)|sts::\d{12}:assumed-role/[^/]+/.+)")


def _caller_is_an_aws_principal(env: Env) -> Any:
    me = env.client("sts").get_caller_identity()
    if not re.fullmatch(r"\d{12}", me.get("Account", "")):
        raise BehaviourMismatch(f"Account {me.get('Account')!r} is not a 12-digit account id")
    if not CALLER_ARN.fullmatch(me.get("Arn", "")):
        raise BehaviourMismatch(f"Arn {me.get('Arn')!r} is not an IAM user, assumed role or root ARN")
    if me["Account"] not in me["Arn"]:
        raise BehaviourMismatch(f"Arn {me['Arn']} is not in account {me['Account']}")


def _account_matches_other_arns(env: Env) -> Any:
    """The account lab 03 reads from STS is the one in the ARNs IAM and ECS hand out."""
    account = env.client("sts").get_caller_identity()["Account"]
    role = env.client("iam").create_role(
        RoleName=env.name("role"), AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]})
    )["Role"]["Arn"]
    cluster = env.client("ecs").create_cluster(clusterName=env.name("cluster"))["cluster"]["clusterArn"]
    for arn in (role, cluster):
        if arn.split(":")[4] != account:
            raise BehaviourMismatch(f"{arn} is not in the caller's account {account}")


def _assumed_role_identity(env: Env) -> Any:
    import boto3

    account = env.client("sts").get_caller_identity()["Account"]
    name = env.name("role")
    env.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": f"arn:aws:iam::{account}:root"}}]}))
    creds = env.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{name}",
                                          RoleSessionName="learner")["Credentials"]
    sts = boto3.client("sts", endpoint_url=env.endpoint, region_name=env.region,
                       aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])
    arn = sts.get_caller_identity()["Arn"]
    expected = f"arn:aws:sts::{account}:assumed-role/{name}/learner"
    if arn != expected:
        raise BehaviourMismatch(f"assumed-role caller is {arn}, expected {expected}")


CASES = [
    Case("sts.caller.arn-is-an-aws-principal", "sts", _caller_is_an_aws_principal, OK, IDENTITY, "behaviour"),
    Case("sts.caller.account-matches-iam-and-ecs-arns", "sts", _account_matches_other_arns, OK, IDENTITY,
         "behaviour"),
    Case("sts.caller.assumed-role-arn", "sts", _assumed_role_identity, OK, IDENTITY, "behaviour"),
]
