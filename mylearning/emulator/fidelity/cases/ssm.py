"""SSM Parameter Store fidelity cases: the course's answer parameters under /mylearning/...

Names, hierarchy depth, value size per tier, descriptions and AllowedPattern;
SecureString KMS keys, tiers and policies, labels and GetParametersByPath; with
the checks moto already makes (reserved prefixes, Tags with Overwrite, duplicates,
a type for a new parameter, ten labels a version) pinned alongside.
"""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, BehaviourMismatch, Case, Env
from mylearning.facts.ecs import ECS_OPTIMIZED_AMI_PARAMETER

API = "https://docs.aws.amazon.com/systems-manager/latest/APIReference/"
PUT = "API_PutParameter.html"
INVALID = "ValidationException"


def _answer(env: Env, key: str = "answer") -> str:
    """A parameter name the way mylearning.answers builds one."""
    return f"/mylearning/{env.name('t')}/lab99/{key}"


def _put(name: Callable[[Env], str] = _answer, value: str = "42", **args: Any) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("ssm").put_parameter(Name=name(env), Value=value, Type="String", **args)
    return call


def _levels(n: int) -> Callable[[Env], str]:
    """A name with `n` slash-separated levels, the parameter's own name included."""
    return lambda env: "/" + "/".join([env.name("l")] + [f"l{i}" for i in range(2, n + 1)])


def _put_twice(overwrite: bool, tags: bool) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ssm, name = env.client("ssm"), _answer(env)
        ssm.put_parameter(Name=name, Value="1", Type="String")
        args: dict[str, Any] = {"Overwrite": True} if overwrite else {}
        if tags:
            args["Tags"] = [{"Key": "course", "Value": "mylearning"}]
        return ssm.put_parameter(Name=name, Value="2", Type="String", **args)
    return call


def _overwrite_advanced(env: Env) -> Any:
    """An Advanced parameter stays Advanced: overwriting it without Tier may keep 8 KB."""
    ssm, name = env.client("ssm"), _answer(env)
    ssm.put_parameter(Name=name, Value="a" * 5000, Type="String", Tier="Advanced")
    return ssm.put_parameter(Name=name, Value="b" * 6000, Type="String", Overwrite=True)


def _get(name: Callable[[Env], str]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        return env.client("ssm").get_parameter(Name=name(env))
    return call


BY_PATH, LABEL = "API_GetParametersByPath.html", "API_LabelParameterVersion.html"
EXPIRATION = '[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-12-02T21:34:33.000Z"}}]'


def _secure(key: Callable[[Env], str | None]) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        key_id = key(env)
        args = {"KeyId": key_id} if key_id else {}
        return env.client("ssm").put_parameter(Name=_answer(env, "db-password"), Value="s3cret",
                                               Type="SecureString", **args)
    return call


def _own_key(env: Env) -> str:
    kms, alias = env.client("kms"), f"alias/{env.name('mylearning')}"
    kms.create_alias(AliasName=alias, TargetKeyId=kms.create_key(Description="app settings")["KeyMetadata"]["KeyId"])
    return alias


def _retier(first: str, then: str) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ssm, name = env.client("ssm"), _answer(env)
        ssm.put_parameter(Name=name, Value="1", Type="String", Tier=first)
        return ssm.put_parameter(Name=name, Value="2", Type="String", Tier=then, Overwrite=True)
    return call


def _under_path(env: Env) -> str:
    """A path with a labelled SecureString and a String, after a lookup of a name not (yet) there."""
    ssm, path = env.client("ssm"), f"/mylearning/{env.name('t')}/app"
    try:
        ssm.label_parameter_version(Name=f"{path}/not-yet", Labels=["Prod"])
    except ssm.exceptions.ParameterNotFound:
        pass
    ssm.put_parameter(Name=f"{path}/db-password", Value="s3cret", Type="SecureString")
    ssm.label_parameter_version(Name=f"{path}/db-password", Labels=["Prod"])
    ssm.put_parameter(Name=f"{path}/db-host", Value="db.internal", Type="String")
    return path


def _by_path(key: str, values: list[str], expect: set[str] | None = None) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        path = _under_path(env)
        found = env.client("ssm").get_parameters_by_path(
            Path=path, Recursive=True, WithDecryption=True,
            ParameterFilters=[{"Key": key, "Values": values}])["Parameters"]
        names = {p["Name"].rsplit("/", 1)[-1] for p in found}
        if expect is not None and names != expect:
            raise BehaviourMismatch(f"{key}={values} under {path} found {sorted(names)}, not {sorted(expect)}")
    return call


def _get_after_missing_lookup(env: Env) -> Any:
    ssm, name = env.client("ssm"), _answer(env, "never-created")
    try:
        ssm.label_parameter_version(Name=name, Labels=["Prod"])
    except ssm.exceptions.ParameterNotFound:
        pass
    return ssm.get_parameter(Name=name)


def _overwrite_without_type(env: Env) -> Any:
    """"Specifying a parameter type isn't required when updating a parameter" (API_PutParameter.html)."""
    ssm, name = env.client("ssm"), _answer(env)
    ssm.put_parameter(Name=name, Value="1", Type="String")
    return ssm.put_parameter(Name=name, Value="2", Overwrite=True)


def _labels(count: int) -> Callable[[Env], Any]:
    def call(env: Env) -> Any:
        ssm, name = env.client("ssm"), _answer(env)
        ssm.put_parameter(Name=name, Value="1", Type="String")
        return ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=[f"l{i}" for i in range(count)])
    return call


def _label_moves(env: Env) -> Any:
    ssm, name = env.client("ssm"), _answer(env)
    ssm.put_parameter(Name=name, Value="1", Type="String")
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["Prod"])
    ssm.put_parameter(Name=name, Value="2", Type="String", Overwrite=True)
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["Prod"])
    if ssm.get_parameter(Name=f"{name}:Prod")["Parameter"]["Value"] != "2":
        raise BehaviourMismatch("the label didn't move to version 2")


def _case(id: str, call: Callable[[Env], Any], expect: str, page: str = PUT) -> Case:
    return Case(f"ssm.{id}", "ssm", call, expect, API + page)


CASES = [
    _case("put.valid-answer-path", _put(), OK),
    _case("put.valid-answer-with-tags", _put(Tags=[{"Key": "course", "Value": "mylearning"}]), OK),
    _case("put.valid-flat-name", _put(lambda env: env.name("answer")), OK),
    _case("put.name-without-leading-slash", _put(lambda env: _answer(env).lstrip("/")), INVALID),
    _case("put.name-with-space", _put(lambda env: _answer(env, "my answer")), INVALID),
    _case("put.name-with-colon", _put(lambda env: _answer(env, "lab:answer")), INVALID),
    _case("put.name-with-comma", _put(lambda env: _answer(env, "a,b")), INVALID),
    _case("put.name-prefixed-aws", _put(lambda env: env.name("awsanswer")), INVALID),
    _case("put.name-prefixed-ssm", _put(lambda env: env.name("SSManswer")), INVALID),
    _case("put.16-levels", _put(_levels(16)), "HierarchyLevelLimitExceededException"),
    _case("put.valid-15-levels", _put(_levels(15)), OK),
    _case("put.value-4097-default-tier", _put(value="a" * 4097), INVALID),
    _case("put.value-4097-standard", _put(value="a" * 4097, Tier="Standard"), INVALID),
    _case("put.valid-value-4096", _put(value="a" * 4096), OK),
    _case("put.valid-value-5000-advanced", _put(value="a" * 5000, Tier="Advanced"), OK),
    _case("put.valid-value-5000-intelligent-tiering", _put(value="a" * 5000, Tier="Intelligent-Tiering"), OK),
    _case("put.valid-overwrite-advanced-keeps-tier", _overwrite_advanced, OK),
    _case("put.value-8193-advanced", _put(value="a" * 8193, Tier="Advanced"), INVALID),
    _case("put.description-1025", _put(Description="d" * 1025), INVALID),
    _case("put.valid-description-1024", _put(Description="d" * 1024), OK),
    _case("put.value-not-matching-allowed-pattern", _put(value="forty-two", AllowedPattern=r"^\d+$"),
          "ParameterPatternMismatchException"),
    _case("put.valid-value-matching-allowed-pattern", _put(value="42", AllowedPattern=r"^\d+$"), OK),
    _case("put.exists-without-overwrite", _put_twice(overwrite=False, tags=False), "ParameterAlreadyExists"),
    _case("put.valid-overwrite", _put_twice(overwrite=True, tags=False), OK),
    _case("put.tags-with-overwrite", _put_twice(overwrite=True, tags=True), INVALID),
    _case("get.missing-answer", _get(_answer), "ParameterNotFound", "API_GetParameter.html"),
    _case("get.valid-ecs-optimized-ami", _get(
        lambda env: ECS_OPTIMIZED_AMI_PARAMETER), OK,
        "API_GetParameter.html"),
    # SecureString keys, tiers, policies
    _case("put.secure-string-unknown-key", _secure(lambda env: "alias/mylearning-no-such-key"), "InvalidKeyId"),
    _case("put.valid-secure-string-default-key", _secure(lambda env: None), OK),
    _case("put.valid-secure-string-aws-ssm-alias", _secure(lambda env: "alias/aws/ssm"), OK),
    _case("put.valid-secure-string-own-key", _secure(_own_key), OK),
    _case("put.advanced-to-standard", _retier("Advanced", "Standard"), INVALID),
    _case("put.valid-standard-to-advanced", _retier("Standard", "Advanced"), OK),
    _case("put.policies-on-standard-tier", _put(Tier="Standard", Policies=EXPIRATION), INVALID),
    _case("put.valid-policies-on-advanced-tier", _put(Tier="Advanced", Policies=EXPIRATION), OK),
    _case("put.create-without-type", lambda env: env.client("ssm").put_parameter(Name=_answer(env), Value="1"),
          INVALID),
    _case("put.valid-overwrite-without-type", _overwrite_without_type, OK),
    # labels and paths
    _case("label.eleven-labels", _labels(11), "ParameterVersionLabelLimitExceeded", LABEL),
    _case("label.valid-ten-labels", _labels(10), OK, LABEL),
    _case("label.valid-moves-to-new-version", _label_moves, OK, LABEL),
    _case("by-path.tag-filter", _by_path("tag:team", ["web"]), "InvalidFilterKey", BY_PATH),
    _case("by-path.valid-type-filter", _by_path("Type", ["SecureString"], {"db-password"}), OK, BY_PATH),
    _case("by-path.valid-label-filter", _by_path("Label", ["Prod"], {"db-password"}), OK, BY_PATH),
    _case("get.missing-after-lookup", _get_after_missing_lookup, "ParameterNotFound", "API_GetParameter.html"),
]
