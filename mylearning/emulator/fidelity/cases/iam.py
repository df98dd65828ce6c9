"""IAM fidelity cases: trust policy documents, AWS managed policies."""
from __future__ import annotations

import json
from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, Case, Env

API = "https://docs.aws.amazon.com/IAM/latest/APIReference/"
MALFORMED = "MalformedPolicyDocument"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ECS_TASKS = {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
             "Action": "sts:AssumeRole"}


def _role(document: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        text = document if isinstance(document, str) else json.dumps(document)
        return env.client("iam").create_role(RoleName=env.name("role"), AssumeRolePolicyDocument=text)
    return call


def _update_trust(document: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        iam, name = env.client("iam"), env.name("role")
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [ECS_TASKS]}))
        return iam.update_assume_role_policy(RoleName=name, PolicyDocument=document)
    return call


def _attach(arn: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        iam, name = env.client("iam"), env.name("role")
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [ECS_TASKS]}))
        return iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    return call


def _get_policy(arn: str) -> Callable[[Env], Any]:
    return lambda env: env.client("iam").get_policy(PolicyArn=arn)


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str) -> Case:
    return Case(f"iam.{id}", "iam", call, expect, API + page)


CASES = [
    _case("trust.invalid-json", _role('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",'),
          MALFORMED, "API_CreateRole.html"),
    _case("trust.not-an-object", _role('["sts:AssumeRole"]'), MALFORMED, "API_CreateRole.html"),
    _case("trust.no-statement", _role({"Version": "2012-10-17"}), MALFORMED, "API_CreateRole.html"),
    _case("trust.bad-effect", _role({"Version": "2012-10-17", "Statement": [{**ECS_TASKS, "Effect": "Permit"}]}),
          MALFORMED, "API_CreateRole.html"),
    _case("trust.no-principal", _role({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole"}]}), MALFORMED, "API_CreateRole.html"),
    _case("trust.with-resource", _role({"Version": "2012-10-17", "Statement": [
        {**ECS_TASKS, "Resource": "*"}]}), MALFORMED, "API_CreateRole.html"),
    _case("trust.ecs-tasks", _role({"Version": "2012-10-17", "Statement": [ECS_TASKS]}), OK,
          "API_CreateRole.html"),
    _case("trust.single-statement-object", _role({"Version": "2012-10-17", "Statement": ECS_TASKS}), OK,
          "API_CreateRole.html"),
    _case("trust.tag-session", _role({"Version": "2012-10-17", "Statement": [
        {**ECS_TASKS, "Action": ["sts:AssumeRole", "sts:TagSession"]}]}), OK, "API_CreateRole.html"),
    _case("trust.with-condition", _role({"Version": "2012-10-17", "Statement": [
        {**ECS_TASKS, "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]}), OK,
          "API_CreateRole.html"),
    _case("trust.update-invalid-json", _update_trust("{not json"), MALFORMED,
          "API_UpdateAssumeRolePolicy.html"),
    _case("managed.get-ecs-task-execution-policy", _get_policy(EXECUTION_POLICY), OK, "API_GetPolicy.html"),
    _case("managed.attach-ecs-task-execution-policy", _attach(EXECUTION_POLICY), OK,
          "API_AttachRolePolicy.html"),
    _case("managed.attach-cloudwatch-agent-policy",
          _attach("arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"), OK, "API_AttachRolePolicy.html"),
    _case("managed.wrong-path", _get_policy("arn:aws:iam::aws:policy/AmazonECSTaskExecutionRolePolicy"),
          "NoSuchEntity", "API_GetPolicy.html"),
    _case("managed.unknown", _get_policy("arn:aws:iam::aws:policy/MyLearningNoSuchPolicy"),
          "NoSuchEntity", "API_GetPolicy.html"),
]
