"""IAM fidelity cases: trust policy documents, AWS managed policies, identity policies,
policy size and attachment quotas, deletes of policies and roles in use, names, boundaries."""
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
    return Case(f"iam.{id}", "iam", call, expect, page if page.startswith("https://") else API + page)


QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
PRINCIPAL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"
LIMIT = "LimitExceeded"
COMPACT = {"separators": (",", ":")}


def _padded(build: Callable[[str], dict], size: int, indent: int | None = None) -> str:
    """The JSON of `build(padding)` with `size` characters besides white space (and `indent`
    spaces of white space, which IAM doesn't count)."""
    bare = len(json.dumps(build(""), **COMPACT))
    document = build("x" * (size - bare))
    return json.dumps(document, indent=indent) if indent else json.dumps(document, **COMPACT)


def _identity(padding: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                    "Resource": f"arn:aws:s3:::bucket{padding}/*"}]}


def _trust(padding: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{**ECS_TASKS, "Condition": {
        "StringEquals": {"sts:ExternalId": f"id{padding}"}}}]}


def _policy(env: Env, document: str | None = None) -> str:
    return env.client("iam").create_policy(PolicyName=env.name("policy"), PolicyDocument=document or json.dumps(
        _identity("")))["Policy"]["Arn"]


def _new_role(env: Env) -> str:
    name = env.name("role")
    env.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [ECS_TASKS]}))
    return name


def _create_policy(size: int, indent: int | None = None) -> Callable[[Env], Any]:
    return lambda env: _policy(env, _padded(_identity, size, indent))


def _inline(sizes: list[int], same_name: bool = False) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        iam, role = env.client("iam"), _new_role(env)
        for i, size in enumerate(sizes):
            iam.put_role_policy(RoleName=role, PolicyName="tasks" if same_name else f"tasks-{i}",
                                PolicyDocument=_padded(_identity, size))
    return call


def _attach_many(count: int) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        iam, role = env.client("iam"), _new_role(env)
        for arn in [_policy(env) for _ in range(count)]:
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    return call


def _versions(count: int) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        iam, arn = env.client("iam"), _policy(env)
        for _ in range(count - 1):
            iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(_identity("v")))
    return call


def _delete_role(detach: bool) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        iam, role, arn = env.client("iam"), _new_role(env), _policy(env)
        iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        if detach:
            iam.detach_role_policy(RoleName=role, PolicyArn=arn)
        return iam.delete_role(RoleName=role)
    return call


def _delete_policy(attached: bool = False, versions: int = 1) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        iam, arn = env.client("iam"), _policy(env)
        if attached:
            iam.attach_role_policy(RoleName=_new_role(env), PolicyArn=arn)
        for _ in range(versions - 1):
            iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(_identity("v")))
        return iam.delete_policy(PolicyArn=arn)
    return call


def _boundary(arn: Callable[[Env], str]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("iam").put_role_permissions_boundary(RoleName=_new_role(env), PermissionsBoundary=arn(env))
    return call


def _role_named_like(transform: Callable[[str], str]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        iam, name = env.client("iam"), _new_role(env)
        return iam.create_role(RoleName=transform(name), AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [ECS_TASKS]}))
    return call


WITH_PRINCIPAL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject",
     "Resource": "*"}]})


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
    # identity-based policies
    _case("policy.with-principal", lambda env: _policy(env, WITH_PRINCIPAL), MALFORMED, PRINCIPAL),
    _case("inline.with-principal", lambda env: env.client("iam").put_role_policy(
        RoleName=_new_role(env), PolicyName="tasks", PolicyDocument=WITH_PRINCIPAL), MALFORMED, PRINCIPAL),
    _case("policy.valid-identity-policy", lambda env: _policy(env), OK, "API_CreatePolicy.html"),
    # quotas
    _case("quota.trust-policy-2049", _role(_padded(_trust, 2049)), LIMIT, QUOTAS),
    _case("quota.valid-trust-policy-2048-indented", _role(_padded(_trust, 2048, indent=4)), OK, QUOTAS),
    _case("quota.managed-policy-6145", _create_policy(6145), LIMIT, QUOTAS),
    _case("quota.valid-managed-policy-6144-indented", _create_policy(6144, indent=4), OK, QUOTAS),
    _case("quota.inline-policies-over-10240", _inline([6000, 6000]), LIMIT, QUOTAS),
    _case("quota.valid-inline-policy-replaced", _inline([6000, 6000], same_name=True), OK, QUOTAS),
    _case("quota.valid-inline-policies-10240", _inline([5120, 5120]), OK, QUOTAS),
    _case("quota.eleven-managed-policies", _attach_many(11), LIMIT, QUOTAS),
    _case("quota.valid-ten-managed-policies", _attach_many(10), OK, QUOTAS),
    _case("quota.six-policy-versions", _versions(6), LIMIT, "API_CreatePolicyVersion.html"),
    _case("quota.valid-five-policy-versions", _versions(5), OK, "API_CreatePolicyVersion.html"),
    # deletes
    _case("delete-role.attached-policy", _delete_role(detach=False), "DeleteConflict", "API_DeleteRole.html"),
    _case("delete-role.valid-after-detach", _delete_role(detach=True), OK, "API_DeleteRole.html"),
    _case("delete-policy.attached", _delete_policy(attached=True), "DeleteConflict", "API_DeletePolicy.html"),
    _case("delete-policy.other-versions", _delete_policy(versions=2), "DeleteConflict", "API_DeletePolicy.html"),
    _case("delete-policy.valid-detached-one-version", _delete_policy(), OK, "API_DeletePolicy.html"),
    # references
    _case("boundary.unknown-policy", _boundary(lambda env: "arn:aws:iam::123456789012:policy/mylearning-no-such"),
          "NoSuchEntity", "API_PutRolePermissionsBoundary.html"),
    _case("boundary.valid-customer-policy", _boundary(_policy), OK, "API_PutRolePermissionsBoundary.html"),
    _case("boundary.valid-aws-managed-policy", _boundary(lambda env: "arn:aws:iam::aws:policy/PowerUserAccess"),
          OK, "API_PutRolePermissionsBoundary.html"),
    _case("name.role-differs-only-by-case", _role_named_like(str.upper), "EntityAlreadyExists", QUOTAS),
    _case("name.valid-role-distinct-name", _role_named_like(lambda name: name + "-2"), OK, QUOTAS),
]
