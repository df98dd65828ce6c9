"""Text a submission controls, made harmless before it reaches a feedback file or the gradebook.

An exception's name and message, a resource name read back from the account, a
learner id: a submission chooses all of them. Unflattened, they could fake a
heading or a score line in feedback.md ("## [PASS] Step 0.2 (1/1)"), hide text
with terminal escapes, or bury the real reason under megabytes. So such text
becomes one line of printable characters, of bounded length, that cannot
start a Markdown block. And nothing of the grader's own environment may be
echoed back: `redact` removes the values of the grader's environment variables.
"""
from __future__ import annotations

import os
import re
import unicodedata
from typing import Iterable, Mapping

_BLOCK_START = re.compile(r"^[\s#>|]+")
_FENCE = re.compile(r"`{3,}|~{3,}")


def flat(text: object, limit: int = 300) -> str:
    """One line, printable, at most `limit` characters, not a Markdown block marker."""
    raw = str(text)
    chars = []
    for ch in raw[: limit * 4]:
        cat = unicodedata.category(ch)
        if ch in "\r\n\t\v\f" or cat in ("Zl", "Zp"):
            chars.append(" ")
        elif cat.startswith("C"):  # control, format (bidi overrides, zero-width), unassigned
            continue
        else:
            chars.append(ch)
    one = " ".join("".join(chars).split())
    one = _FENCE.sub("'''", one)
    match = _BLOCK_START.match(one)
    if match and match.group(0).strip():
        one = "\\" + one
    return one if len(one) <= limit else one[: limit - 3] + "..."


def name(text: object, limit: int = 100) -> str:
    """An identifier such as an exception's class name: letters, digits, dots, underscores."""
    cleaned = re.sub(r"[^A-Za-z0-9_.]", "", str(text))[:limit]
    return cleaned or "Error"


def secrets_of(env: Mapping[str, str] | None = None,
               allowed: Iterable[str] = ()) -> list[str]:
    """Values of the grader's environment that must never appear in feedback.

    Short values (a shell level, "1", "en_US.UTF-8") would match ordinary words;
    `allowed` are values a kernel is given anyway (its own endpoint, learner id).
    """
    source = os.environ if env is None else env
    keep = set(allowed)
    values = {v for v in source.values() if len(v) >= 8 and v not in keep}
    return sorted(values, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        if value in text:
            text = text.replace(value, "[redacted]")
    return text
