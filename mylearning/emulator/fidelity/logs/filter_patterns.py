"""The filter pattern language of metric filters: what matches an event, and what it extracts.

As the user guide's "Filter pattern syntax for metric filters, subscription filters, and
filter log events" page (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/
FilterAndPatternSyntax.html) and "Filter pattern syntax for metric filters"
(FilterAndPatternSyntaxForMetricFilters.html) describe it; patterns are case sensitive:

* An empty pattern matches every event.
* **Terms** (unstructured events): every term must appear; ``"a quoted phrase"`` is one
  term; ``?term`` terms match when any of them appears; ``-term`` excludes events that hold
  it; ``%regex%`` is a regular expression term.
* **JSON** ``{ $.field = value }``: selectors ``$.a.b`` and ``$.a[0]``; ``=`` and ``!=`` with
  strings (``*`` as a wildcard, ``%regex%``) or numbers; ``< <= > >=`` with numbers only;
  ``IS NULL``, ``NOT EXISTS``, ``IS TRUE``, ``IS FALSE``; ``&&``, ``||`` and parentheses.
  ``$.field = *`` matches when the field exists.
* **Space-delimited** ``[ip, user, ..., status = 5*, bytes > 1000]``: an event's fields
  are split at spaces, with text in double quotes or square brackets one field; ``...``
  stands for any number of fields; a named field may carry conditions joined by ``&&`` /
  ``||``. Without ``...`` the event must have exactly as many fields as the pattern.

A match extracts values, as TestMetricFilter's ``extractedValues`` shows them: ``$.field``
for each JSON selector of the pattern the event has, ``$name`` for each named field of a
space-delimited pattern. A pattern AWS would not accept raises PatternError.
"""
from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from mylearning.facts.logs import MAX_REGEX_PER_PATTERN


class PatternError(ValueError):
    pass


Extracted = dict[str, str]


@dataclass
class FilterPattern:
    text: str
    kind: str                    # "all", "terms", "json", "space"
    test: Callable[[str], Extracted | None]
    fields: set[str] = field(default_factory=set)   # what it can extract: "$.a", "$name"
    regexes: int = 0

    def match(self, message: str) -> Extracted | None:
        """The extracted values when the event matches, else None."""
        return self.test(message)


def compile_pattern(text: str) -> FilterPattern:
    stripped = text.strip()
    if not stripped:
        return FilterPattern(text, "all", lambda message: {})
    if stripped.startswith("{"):
        pattern = _json_pattern(text, stripped)
    elif stripped.startswith("["):
        pattern = _space_pattern(text, stripped)
    else:
        pattern = _terms_pattern(text, stripped)
    if pattern.regexes > MAX_REGEX_PER_PATTERN:
        raise PatternError(f"A filter pattern can hold at most {MAX_REGEX_PER_PATTERN} regular "
                           f"expressions; this one has {pattern.regexes}.")
    return pattern


def _regex(source: str) -> re.Pattern:
    try:
        return re.compile(source)
    except re.error as exc:
        raise PatternError(f"Invalid regular expression %{source}%: {exc}") from None


# ---------------------------------------------------------------- terms

_TERM = re.compile(r'([?\-]?)("(?:[^"\\]|\\.)*"|%[^%]*%|\S+)')


def _terms_pattern(text: str, stripped: str) -> FilterPattern:
    required, optional, excluded = [], [], []
    regexes = 0
    for sign, body in _TERM.findall(stripped):
        if body.startswith('"'):
            if len(body) < 2 or not body.endswith('"'):
                raise PatternError(f"Unterminated quoted term {body}")
            term: Any = body[1:-1].replace('\\"', '"')
        elif body.startswith("%") and body.endswith("%") and len(body) > 2:
            term = _regex(body[1:-1])
            regexes += 1
        else:
            term = body
        {"": required, "?": optional, "-": excluded}[sign].append(term)

    def holds(message: str, term: Any) -> bool:
        return term.search(message) is not None if isinstance(term, re.Pattern) else term in message

    def test(message: str) -> Extracted | None:
        if not all(holds(message, t) for t in required):
            return None
        if optional and not any(holds(message, t) for t in optional):
            return None
        if any(holds(message, t) for t in excluded):
            return None
        return {}
    return FilterPattern(text, "terms", test, regexes=regexes)


# ---------------------------------------------------------------- values in conditions

MISSING = object()


@dataclass
class Value:
    kind: str        # "number", "string", "glob", "regex", "any"
    value: Any

    def equals(self, found: Any) -> bool:
        if self.kind == "any":
            return True
        if isinstance(found, bool) or found is None or isinstance(found, (dict, list)):
            return False
        if self.kind == "number":
            return _number(found) is not None and _number(found) == self.value
        text = _text(found)
        if self.kind == "regex":
            return self.value.search(text) is not None
        if self.kind == "glob":
            return fnmatch.fnmatchcase(text, self.value)
        return text == self.value


def _number(found: Any) -> float | None:
    if isinstance(found, bool):
        return None
    if isinstance(found, (int, float)):
        return float(found)
    try:
        return float(str(found))
    except ValueError:
        return None


def _text(found: Any) -> str:
    if isinstance(found, float) and found == int(found):
        return str(int(found))
    return str(found)


_VALUE = re.compile(r'\s*("(?:[^"\\]|\\.)*"|%[^%]*%|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w*.])|[^\s&|()\],]+)')


def _read_value(source: str, at: int) -> tuple[Value, int, int]:
    """(value, next offset, regexes used) of the value that starts at `at`."""
    m = _VALUE.match(source, at)
    if not m:
        raise PatternError(f"Invalid filter pattern: a value was expected at position {at + 1}")
    token = m.group(1)
    if token.startswith('"'):
        body = token[1:-1].replace('\\"', '"')
        kind = "glob" if "*" in body else "string"
        return Value(kind, body), m.end(), 0
    if token.startswith("%") and token.endswith("%") and len(token) > 2:
        return Value("regex", _regex(token[1:-1])), m.end(), 1
    if token == "*":
        return Value("any", None), m.end(), 0
    try:
        return Value("number", float(token)), m.end(), 0
    except ValueError:
        return Value("glob" if "*" in token else "string", token), m.end(), 0


def _compare(op: str, value: Value, found: Any) -> bool:
    if found is MISSING:
        return False
    if op == "=":
        return value.equals(found)
    if op == "!=":
        return found is not None and not value.equals(found)
    if value.kind != "number":
        raise PatternError(f"The operator {op} compares numbers only")
    n = _number(found)
    if n is None:
        return False
    return {"<": n < value.value, "<=": n <= value.value, ">": n > value.value, ">=": n >= value.value}[op]


# ---------------------------------------------------------------- JSON

_SELECTOR = re.compile(r"\s*(\$(?:\.[A-Za-z0-9_\-@$]+|\[\d+\])*)")
_OP = re.compile(r"\s*(!=|<=|>=|=|<|>)")
_WORDS = re.compile(r"\s*(IS\s+NULL|NOT\s+EXISTS|IS\s+TRUE|IS\s+FALSE)\b", re.I)


def select(document: Any, selector: str) -> Any:
    """The value at ``$.a.b[0]`` in a JSON document, or MISSING."""
    current = document
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", selector[1:]):
        key, index = part
        if key:
            if not isinstance(current, dict) or key not in current:
                return MISSING
            current = current[key]
        else:
            if not isinstance(current, list) or int(index) >= len(current):
                return MISSING
            current = current[int(index)]
    return current


class _JsonParser:
    def __init__(self, source: str):
        self.source = source
        self.at = 0
        self.selectors: set[str] = set()
        self.regexes = 0

    def skip(self) -> None:
        while self.at < len(self.source) and self.source[self.at].isspace():
            self.at += 1

    def peek(self, text: str) -> bool:
        self.skip()
        return self.source.startswith(text, self.at)

    def expr(self) -> Callable[[Any], bool]:
        left = self.conj()
        while self.peek("||"):
            self.at += 2
            right, prev = self.conj(), left
            left = (lambda a, b: lambda doc: a(doc) or b(doc))(prev, right)
        return left

    def conj(self) -> Callable[[Any], bool]:
        left = self.atom()
        while self.peek("&&"):
            self.at += 2
            right, prev = self.atom(), left
            left = (lambda a, b: lambda doc: a(doc) and b(doc))(prev, right)
        return left

    def atom(self) -> Callable[[Any], bool]:
        if self.peek("("):
            self.at += 1
            inner = self.expr()
            if not self.peek(")"):
                raise PatternError(f"Invalid filter pattern: ')' expected at position {self.at + 1}")
            self.at += 1
            return inner
        m = _SELECTOR.match(self.source, self.at)
        if not m or not m.group(1) or m.group(1) == "$":
            raise PatternError(f"Invalid filter pattern: a selector such as $.field was expected at "
                               f"position {self.at + 1}")
        selector = m.group(1)
        self.selectors.add(selector)
        self.at = m.end()
        words = _WORDS.match(self.source, self.at)
        if words:
            self.at = words.end()
            check = " ".join(words.group(1).upper().split())
            tests = {"IS NULL": lambda found: found is None,
                     "NOT EXISTS": lambda found: found is MISSING,
                     "IS TRUE": lambda found: found is True,
                     "IS FALSE": lambda found: found is False}
            test = tests[check]
            return lambda doc: test(select(doc, selector))
        op = _OP.match(self.source, self.at)
        if not op:
            raise PatternError(f"Invalid filter pattern: an operator (=, !=, <, <=, >, >=) was "
                               f"expected after {selector}")
        self.at = op.end()
        value, self.at, regexes = _read_value(self.source, self.at)
        self.regexes += regexes
        if op.group(1) not in ("=", "!=") and value.kind != "number":
            raise PatternError(f"Invalid filter pattern: {op.group(1)} compares {selector} with "
                               "numbers only")
        return lambda doc: _compare(op.group(1), value, select(doc, selector))


def _json_pattern(text: str, stripped: str) -> FilterPattern:
    if not stripped.endswith("}"):
        raise PatternError("Invalid filter pattern: a JSON pattern ends with '}'")
    parser = _JsonParser(stripped[1:-1])
    test_doc = parser.expr()
    parser.skip()
    if parser.at != len(parser.source):
        raise PatternError(f"Invalid filter pattern: unexpected '{parser.source[parser.at:]}'")
    selectors = sorted(parser.selectors)

    def test(message: str) -> Extracted | None:
        try:
            document = json.loads(message)
        except ValueError:
            return None
        if not isinstance(document, (dict, list)) or not test_doc(document):
            return None
        found = {s: select(document, s) for s in selectors}
        return {s: _extracted(v) for s, v in found.items() if v is not MISSING and v is not None}
    return FilterPattern(text, "json", test, set(selectors), parser.regexes)


def _extracted(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return _text(value)


# ---------------------------------------------------------------- space-delimited

_EVENT_FIELD = re.compile(r'"([^"]*)"|\[([^\]]*)\]|(\S+)')
_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_\-]*)")


def split_fields(message: str) -> list[str]:
    """An event's space-delimited fields; quoted and bracketed text is one field."""
    return [next(g for g in m.groups() if g is not None) for m in _EVENT_FIELD.finditer(message)]


def _split_top(body: str) -> list[str]:
    parts, depth, quoted, current = [], 0, False, []
    for c in body:
        if c == '"':
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
        if c == "," and not quoted and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _space_field(spec: str) -> tuple[str | None, Callable[[str], bool], int]:
    """(name or None for "...", test of a field's text, regexes)."""
    if spec == "...":
        return None, lambda value: True, 0
    m = _NAME.match(spec)
    if not m:
        raise PatternError(f"Invalid filter pattern: '{spec}' is not a field name")
    name = m.group(1)
    rest = spec[m.end():].strip()
    if not rest:
        return name, lambda value: True, 0
    tests: list[list[Callable[[str], bool]]] = [[]]   # OR of ANDs
    at, regexes = 0, 0
    source = spec[m.end():]
    first = True
    while True:
        while at < len(source) and source[at].isspace():
            at += 1
        if at >= len(source):
            break
        if not first:
            if source.startswith("&&", at):
                at += 2
            elif source.startswith("||", at):
                at += 2
                tests.append([])
            else:
                raise PatternError(f"Invalid filter pattern: '&&' or '||' expected in '{spec}'")
            named = _NAME.match(source, at)
            if named and named.group(1) == name:
                at = named.end()
        first = False
        op = _OP.match(source, at)
        if not op:
            raise PatternError(f"Invalid filter pattern: an operator was expected in '{spec}'")
        value, at, used = _read_value(source, op.end())
        regexes += used
        if op.group(1) not in ("=", "!=") and value.kind != "number":
            raise PatternError(f"Invalid filter pattern: {op.group(1)} compares numbers only in '{spec}'")
        tests[-1].append((lambda o, v: lambda found: _compare(o, v, found))(op.group(1), value))
    return name, lambda found: any(all(t(found) for t in group) for group in tests), regexes


def _space_pattern(text: str, stripped: str) -> FilterPattern:
    if not stripped.endswith("]"):
        raise PatternError("Invalid filter pattern: a space-delimited pattern ends with ']'")
    specs = _split_top(stripped[1:-1])
    if not specs or any(not s for s in specs):
        raise PatternError("Invalid filter pattern: empty field in a space-delimited pattern")
    compiled = [_space_field(s) for s in specs]
    names = {f"${n}" for n, _, _ in compiled if n}

    def align(fields: list[str], i: int, j: int, got: Extracted) -> Extracted | None:
        if i == len(compiled):
            return got if j == len(fields) else None
        name, test, _ = compiled[i]
        if name is None:
            for k in range(j, len(fields) + 1):
                found = align(fields, i + 1, k, got)
                if found is not None:
                    return found
            return None
        if j >= len(fields) or not test(fields[j]):
            return None
        return align(fields, i + 1, j + 1, {**got, f"${name}": fields[j]})

    def test(message: str) -> Extracted | None:
        return align(split_fields(message), 0, 0, {})
    return FilterPattern(text, "space", test, names, sum(r for _, _, r in compiled))
