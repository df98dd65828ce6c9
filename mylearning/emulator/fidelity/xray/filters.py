"""AWS X-Ray filter expressions: parsed as the developer guide writes them, evaluated on traces.

moto 5.2 answers GetTraceSummaries with HTTP 500 ("Not implemented yet") whenever a
FilterExpression is given. Here the expression is parsed by the grammar of
https://docs.aws.amazon.com/xray/latest/devguide/xray-console-filters.html (keyword,
operator, value; AND, OR, ``!`` and parentheses; ``service()``, ``edge()`` and ``id()``;
``annotation.key``; boolean, number and string keywords). An expression that doesn't parse,
or names a keyword the guide doesn't have, is InvalidRequestException, as AWS answers.

Evaluation covers the keywords a course lab filters by (ok, error, throttle, fault, partial,
inferred, root; responsetime, duration, http.status; http.*, user, name, type; annotations;
service and edge, inferred services included). The others (root causes, groups, coverage,
index, first, last, remote, message, availabilityzone, instance.id, resource.arn, json) are
accepted and match every trace: an emulator that lists a trace too many is wrong less harmfully than one that
refuses an expression AWS accepts.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from mylearning.emulator.fidelity.xray.access import invalid_request
from mylearning.emulator.fidelity.xray.traces import (
    Trace, annotations_of, boolean_fact, compare, number_fact, segments_of, string_facts)

BOOLEAN = {"ok", "error", "throttle", "fault", "partial", "inferred", "first", "last", "remote", "root"}
NUMBER = {"responsetime", "duration", "http.status", "index", "coverage"}
EVALUATED_NUMBERS = {"responsetime", "duration", "http.status"}
STRING = {"http.url", "http.method", "http.useragent", "http.clientip", "user", "name", "type",
          "message", "availabilityzone", "instance.id", "resource.arn"}
#: Keywords accepted with any dotted suffix (root causes, groups, annotations).
PREFIXES = ("annotation.", "rootcause.", "group.", "fault.", "error.", "responsetime.")
STRING_OPERATORS = {"=", "!=", "CONTAINS", "BEGINSWITH", "ENDSWITH"}
NUMBER_OPERATORS = {"=", "!=", "<", "<=", ">", ">="}

_TOKEN = re.compile(r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)
                    |(?P<op><=|>=|!=|=|<|>|!|\(|\)|\{|\}|,|:)|(?P<json>\#\[)
                    |(?P<word>[A-Za-z_][A-Za-z0-9_.]*))""", re.VERBOSE)

Test = Callable[[Trace], "bool | None"]  # None: not evaluated here (matches)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, i = [], 0
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = _TOKEN.match(text, i)
        if not m or m.end() == i:
            raise invalid_request(f"Invalid filter expression: unexpected {text[i:i + 20]!r}.")
        kind = m.lastgroup
        if kind == "json":  # rootcause.json = #[ ... ]: a bracketed JSON value
            depth, j = 0, m.end() - 1
            for j in range(m.end() - 1, len(text)):
                depth += {"[": 1, "]": -1}.get(text[j], 0)
                if depth == 0:
                    break
            if depth:
                raise invalid_request("Invalid filter expression: unclosed #[ ... ].")
            tokens.append(("json", text[m.start("json"):j + 1]))
            i = j + 1
            continue
        tokens.append((kind, m.group(kind)))
        i = m.end()
    return tokens


# ---------------------------------------------------------------- parser

class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1].upper() != value.upper()):
            raise invalid_request(f"Invalid filter expression: expected {value or 'more'}, "
                                  f"found {token[1] if token else 'the end'}.")
        self.i += 1
        return token

    def is_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].upper() in words

    def parse(self) -> Test:
        test = self.expression()
        if self.peek() is not None:
            raise invalid_request(f"Invalid filter expression: unexpected {self.peek()[1]!r}.")
        return test

    def expression(self) -> Test:
        parts = [self.conjunction()]
        while self.is_word("OR"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else _any(parts)

    def conjunction(self) -> Test:
        """Factors joined by AND, or written side by side: the guide's "ok !partial
        duration <3" finds "requests that completed successfully in under 3 seconds"."""
        parts = [self.factor()]
        while True:
            if self.is_word("AND"):
                self.take()
            elif self.peek() is None or self.is_word("OR") or self.peek()[1] in (")", "}"):
                break
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else _all(parts)

    def factor(self) -> Test:
        token = self.peek()
        if token is None:
            raise invalid_request("Invalid filter expression: it ends where a keyword is expected.")
        if token[1] == "!":
            self.take()
            inner = self.factor()
            return lambda trace: None if (v := inner(trace)) is None else not v
        if token[1] == "(":
            self.take()
            inner = self.expression()
            self.take(")")
            return inner
        if token[0] != "word":
            raise invalid_request(f"Invalid filter expression: {token[1]!r} is not a keyword.")
        keyword = token[1].lower()
        if keyword in ("service", "edge"):
            return self.node(keyword)
        self.take()
        return self.comparison(keyword)

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "number":
            return float(text)
        if kind == "json":
            return text
        if kind == "word" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise invalid_request(f"Invalid filter expression: {text!r} is not a value.")

    def operator(self) -> str | None:
        token = self.peek()
        if token is None:
            return None
        if token[0] == "op" and token[1] in NUMBER_OPERATORS:
            return self.take()[1]
        if token[0] == "word" and token[1].upper() in STRING_OPERATORS:
            return self.take()[1].upper()
        return None

    def comparison(self, keyword: str) -> Test:
        known = keyword in BOOLEAN | NUMBER | STRING or keyword.startswith(PREFIXES)
        if not known:
            raise invalid_request(f"Invalid filter expression: unknown keyword {keyword!r}.")
        op = self.operator()
        value = self.value() if op else None
        if keyword in BOOLEAN:
            if op not in (None, "=", "!="):
                raise invalid_request(f"Invalid filter expression: {keyword} is compared only with = or !=.")
            wanted = True if op is None else (value is True) == (op == "=")
            return lambda trace: None if (v := boolean_fact(keyword, trace)) is None else v == wanted
        if keyword in NUMBER:
            evaluated = keyword in EVALUATED_NUMBERS
            if op is None:
                return lambda trace: number_fact(keyword, trace) is not None if evaluated else None
            if op not in NUMBER_OPERATORS or not isinstance(value, float):
                raise invalid_request(f"Invalid filter expression: {keyword} is compared with a number.")
            if not evaluated:
                return lambda trace: None
            return lambda trace: (v := number_fact(keyword, trace)) is not None and compare(v, op, value)
        if keyword in STRING:
            if op is not None and (op not in STRING_OPERATORS or not isinstance(value, str)):
                raise invalid_request(f"Invalid filter expression: {keyword} is compared with a string.")

            def string_test(trace: Trace) -> bool | None:
                found = string_facts(keyword, trace)
                if found is None:
                    return None
                return bool(found) if op is None else any(compare(v, op, value) for v in found)
            return string_test
        if keyword.startswith("annotation."):
            key = keyword[len("annotation."):]

            def annotation_test(trace: Trace) -> bool:
                values = [v for s in segments_of(trace) for k, v in annotations_of(s) if k == key]
                return bool(values) if op is None else any(compare(v, op, value) for v in values)
            return annotation_test
        return lambda trace: None  # root causes, groups, json: accepted, not evaluated

    def node_name(self) -> dict:
        """A service name: a string, or id(name: "...", type: "...", account.id: "...")."""
        token = self.peek()
        if token and token[0] == "string":
            return {"name": self.value()}
        if token and token[0] == "word" and token[1].lower() == "id":
            self.take()
            self.take("(")
            fields: dict = {}
            while self.peek() and self.peek()[1] != ")":
                field = self.take()[1].lower()
                self.take(":")
                fields[field] = self.value()
                if self.peek() and self.peek()[1] == ",":
                    self.take()
            self.take(")")
            return fields
        raise invalid_request("Invalid filter expression: a service is named by a string or id(...).")

    def node(self, keyword: str) -> Test:
        self.take()
        self.take("(")
        names: list[dict] = []
        if self.peek() and self.peek()[1] != ")":
            names.append(self.node_name())
            if keyword == "edge":
                self.take(",")
                names.append(self.node_name())
        self.take(")")
        if keyword == "edge" and len(names) != 2:
            raise invalid_request("Invalid filter expression: edge(source, destination) names two services.")
        inner: Test = lambda trace: True
        if self.peek() and self.peek()[1] == "{":
            self.take()
            inner = self.expression()
            self.take("}")

        def matches(segment: dict, wanted: dict) -> bool:
            return (("name" not in wanted or segment.get("name") == wanted["name"])
                    and ("type" not in wanted or segment.get("origin") == wanted["type"]))

        def service_test(trace: Trace) -> bool | None:
            results = [inner([s]) for s in segments_of(trace) if not names or matches(s, names[0])]
            return True if any(r is True for r in results) else (None if None in results else False)

        def edge_test(trace: Trace) -> bool | None:
            segments = segments_of(trace)
            owned = {}
            for s in segments:
                stack = list(s.get("subsegments") or [])
                while stack:
                    sub = stack.pop()
                    if isinstance(sub, dict):
                        owned[str(sub.get("id"))] = s
                        stack.extend(sub.get("subsegments") or [])
                owned[str(s.get("id"))] = s
            results = [inner([s]) for s in segments if matches(s, names[1]) and s.get("parent_id")
                       and (caller := owned.get(str(s["parent_id"]))) is not None and matches(caller, names[0])]
            return True if any(r is True for r in results) else (None if None in results else False)

        return service_test if keyword == "service" else edge_test


def _all(parts: list[Test]) -> Test:
    def test(trace: Trace) -> bool | None:
        values = [p(trace) for p in parts]
        return False if False in values else (None if None in values else True)
    return test


def _any(parts: list[Test]) -> Test:
    def test(trace: Trace) -> bool | None:
        values = [p(trace) for p in parts]
        return True if True in values else (None if None in values else False)
    return test


def compile_filter(text: str) -> Callable[[Trace], bool]:
    """A predicate on a trace's segment documents; InvalidRequestException if `text` is not a
    filter expression."""
    test = _Parser(text).parse()
    return lambda trace: test(trace) is not False
