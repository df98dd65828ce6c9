"""SSM Parameter Store fidelity cases: the course's answer parameters under /mylearning/...

Names, hierarchy depth, value size per tier, descriptions and AllowedPattern, with
the checks moto already makes (reserved prefixes, Tags with Overwrite, duplicates)
pinned alongside.
"""
from __future__ import annotations

from typing import Any, Callable

from mylearning.emulator.fidelity.cases import OK, Case, Env
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
]
