"""The composite alarm rule language (API_PutCompositeAlarm.html, AlarmRule), parsed and evaluated.

``ALARM("name")``, ``OK(name)`` and ``INSUFFICIENT_DATA(name)`` are TRUE when the named alarm
(its name or ARN; quotes optional) is in that state; ``TRUE`` and ``FALSE`` are constants;
``NOT``, ``AND`` and ``OR`` (in that order of precedence) and parentheses combine them. A rule
that is not one raises `RuleError`, worded as CloudWatch words it ("Unsupported token ... at
char N"). Keywords are read in any case: the API reference itself writes ``false``
(API_DeleteAlarms.html).
"""
from __future__ import annotations

import functools
import re

from mylearning.emulator.fidelity.cloudwatch.common import alarm_name

STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
_TOKEN = re.compile(r"\s*(?:(\()|(\))|([A-Za-z_]+)|(\S))")


class RuleError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, value, position) of each token; a function's argument is read whole."""
    out: list[tuple[str, str, int]] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if not m or m.group(0).strip() == "":
            break
        start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
        if m.group(1):
            out.append(("(", "(", start))
        elif m.group(2):
            out.append((")", ")", start))
        elif m.group(3):
            word = m.group(3).upper()
            out.append(("word", word, start))
            i = m.end()
            if word in STATES:
                i = _argument(text, i, out)
            continue
        else:
            raise RuleError(f"Unsupported token '{m.group(4)}' at char {start}")
        i = m.end()
    return out


def _argument(text: str, i: int, out: list) -> int:
    """Read `(name)` or `("name")` after a state function; return the index after it."""
    m = re.compile(r"\s*\(\s*").match(text, i)
    if not m:
        at = len(text) - len(text[i:].lstrip())
        raise RuleError(f"Unsupported token '{text[at:at + 1] or 'end of rule'}' at char {at}: "
                        "a state function takes an alarm name in parentheses")
    i = m.end()
    if text[i:i + 1] == '"':
        end = text.find('"', i + 1)
        if end < 0:
            raise RuleError(f"Unterminated alarm name at char {i}")
        name, i = text[i + 1:end], end + 1
    else:
        end = text.find(")", i)
        if end < 0:
            raise RuleError(f"Missing ')' after the alarm name at char {i}")
        name, i = text[i:end].strip(), end
    close = re.compile(r"\s*\)").match(text, i)
    if not name or not close:
        raise RuleError(f"Unsupported token '{text[i:i + 1] or 'end of rule'}' at char {i}")
    out.append(("name", name, i))
    return close.end()


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], length: int):
        self.tokens, self.i, self.length = tokens, 0, length

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise RuleError(f"Unexpected end of rule at char {self.length}")
        self.i += 1
        return token

    def expression(self) -> tuple:
        node = self.conjunction()
        while (t := self.peek()) and t[:2] == ("word", "OR"):
            self.take()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> tuple:
        node = self.negation()
        while (t := self.peek()) and t[:2] == ("word", "AND"):
            self.take()
            node = ("and", node, self.negation())
        return node

    def negation(self) -> tuple:
        t = self.peek()
        if t and t[:2] == ("word", "NOT"):
            self.take()
            return ("not", self.negation())
        return self.operand()

    def operand(self) -> tuple:
        kind, value, at = self.take()
        if kind == "(":
            node = self.expression()
            if self.take()[0] != ")":
                raise RuleError(f"Unsupported token at char {at}: '(' is not closed")
            return ("group", node)
        if kind == "word" and value in ("TRUE", "FALSE"):
            return ("const", value == "TRUE")
        if kind == "word" and value in STATES:
            return ("state", value, alarm_name(self.take()[1]))
        raise RuleError(f"Unsupported token '{value}' at char {at}")


@functools.lru_cache(maxsize=512)
def parse(text: str) -> tuple:
    """The rule as a tree; RuleError (with AWS's wording) when it is not one."""
    parser = _Parser(_tokens(text), len(text))
    tree = parser.expression()
    if parser.peek() is not None:
        _, value, at = parser.peek()
        raise RuleError(f"Unsupported token '{value}' at char {at}")
    return tree


def references(tree: tuple) -> list[str]:
    """The alarm names a rule tree reads, in order, each once."""
    if tree[0] == "state":
        return [tree[2]]
    found: list[str] = []
    for child in tree[1:]:
        if isinstance(child, tuple):
            found += [n for n in references(child) if n not in found]
    return found


def elements(tree: tuple) -> int:
    """Elements as API_PutCompositeAlarm.html counts them: "child alarms, TRUE or FALSE
    statements, and parentheses" (a pair of grouping parentheses counted once)."""
    if tree[0] in ("state", "const"):
        return 1
    inner = sum(elements(child) for child in tree[1:] if isinstance(child, tuple))
    return inner + (1 if tree[0] == "group" else 0)


def evaluate(tree: tuple, states: dict[str, str]) -> bool:
    kind = tree[0]
    if kind == "const":
        return tree[1]
    if kind == "state":
        return states.get(tree[2], "INSUFFICIENT_DATA") == tree[1]
    if kind == "group":
        return evaluate(tree[1], states)
    if kind == "not":
        return not evaluate(tree[1], states)
    if kind == "and":
        return evaluate(tree[1], states) and evaluate(tree[2], states)
    return evaluate(tree[1], states) or evaluate(tree[2], states)
