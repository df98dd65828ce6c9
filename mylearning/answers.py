"""Answers that are not AWS resources, kept in the account as SSM parameters.

A computed cost or a chosen option lives in the notebook's memory, where a
grader outside the kernel cannot see it and a learner could fake it. Storing it
as a parameter under the learner's lab path makes the account the one source
of truth, for check cells and batch grading alike.
"""
from __future__ import annotations

import json
from typing import Any

from mylearning import identity

ROOT = "/mylearning"


def parameter_name(learner: str, lab: str | int, key: str) -> str:
    if not key or not all(c.isalnum() or c in "-_." for c in key):
        raise ValueError(f"An answer key uses letters, digits, '-', '_' or '.'; got {key!r}")
    return f"{ROOT}/{learner}/lab{identity.lab_id(lab)}/{key}"


def record_answer(lab: str | int, key: str, value: Any, session: Any = None) -> str:
    """Store `value` (text, number, or JSON-able) as this learner's answer; return its name.

    Re-running the cell overwrites the answer, so a learner can correct it.
    """
    from mylearning.backend import current
    session = session or current()
    ssm = session.client("ssm")
    name = parameter_name(session.learner, lab, key)
    text = value if isinstance(value, str) else json.dumps(value)
    if not text:
        raise ValueError("An answer cannot be empty.")
    try:
        ssm.put_parameter(Name=name, Value=text, Type="String",
                          Tags=session.tags(lab))
    except ssm.exceptions.ParameterAlreadyExists:
        # AWS forbids Tags together with Overwrite; the tags are already on it.
        ssm.put_parameter(Name=name, Value=text, Type="String", Overwrite=True)
    return name


def read_answer(session: Any, lab: str | int, key: str) -> str | None:
    """The stored answer text, or None when the learner has not answered yet."""
    ssm = session.client("ssm")
    try:
        return ssm.get_parameter(Name=parameter_name(session.learner, lab, key))["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None


def read_json_answer(session: Any, lab: str | int, key: str) -> dict | None:
    """A JSON object answer (what the labs record as dicts), or None when it is missing or not one."""
    import json
    text = read_answer(session, lab, key)
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def recorded(session: Any, lab: str | int) -> list[str]:
    """The names of every answer this learner recorded for `lab` (what its teardown removes)."""
    ssm = session.client("ssm")
    path = f"{ROOT}/{session.learner}/lab{identity.lab_id(lab)}"
    names: list[str] = []
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=True):
        names += [p["Name"] for p in page["Parameters"]]
    return sorted(names)
