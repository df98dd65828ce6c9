"""Who the learner is, and how the course names and tags what it creates.

On a shared or real account the course must find, grade and tear down exactly
its own resources and nothing else. Two things make that possible: every name
starts with the learner's prefix, and every resource carries the course tags.
"""
from __future__ import annotations

import getpass
import os
import re

COURSE = "mylearning-ecs"
TAG_COURSE, TAG_LAB, TAG_LEARNER = "course", "lab", "learner"


def learner_id() -> str:
    """A short, name-safe learner id: MYLEARNING_LEARNER, else the OS user name.

    Lower-case letters and digits only, at most 12 characters, because it ends up
    inside names with tight limits (a load balancer name allows 32 characters).
    """
    raw = os.environ.get("MYLEARNING_LEARNER") or _os_user()
    cleaned = re.sub(r"[^a-z0-9]", "", raw.lower())[:12]
    return cleaned or "learner"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (some containers)
        return "learner"


def prefix(learner: str | None = None) -> str:
    """The name prefix of everything this learner's labs create, e.g. ``ml-alice``."""
    return f"ml-{learner or learner_id()}"


def lab_id(lab: str | int) -> str:
    """Normalise a lab number: 2, "2", "02" -> "02"."""
    text = str(lab).strip()
    if not text.isdigit() or len(text) > 2:
        raise ValueError(f"A lab number is one or two digits, like 2 or '02'; got {lab!r}")
    return text.zfill(2)


def tags(lab: str | int, learner: str | None = None) -> dict[str, str]:
    return {TAG_COURSE: COURSE, TAG_LAB: lab_id(lab), TAG_LEARNER: learner or learner_id()}


def tag_list(lab: str | int, learner: str | None = None, *, style: str = "Key",
             extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    """Tags in the list shape an API wants: style "Key" (EC2, IAM...) or "key" (ECS)."""
    k, v = ("key", "value") if style == "key" else ("Key", "Value")
    merged = {**tags(lab, learner), **(extra or {})}
    return [{k: key, v: value} for key, value in merged.items()]
