"""The Logs Insights query language, read into commands and expression trees.

The grammar follows the user guide (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/
CWL_QuerySyntax.html and its command pages): commands separated by ``|``, comments from ``#``
to the end of the line, the commands ``fields``, ``display``, ``filter``, ``parse``,
``stats``, ``sort``, ``limit`` and ``dedup`` (keywords in any case, as the guide's own
"FIELDS @message | PARSE ... | FILTER loggingType IN [...]" example writes them).
Expressions: ``or``, ``and``, ``not``; comparisons ``= != < <= > >=``; ``like`` with a string
or a ``/regex/``, ``=~``, ``in [...]``; arithmetic ``+ - * / % ^``; function calls; field
names (backquoted when they hold other characters, CWL_QuerySyntax-operations-functions.html);
string, number and duration (``5m``) literals.

A query the grammar cannot read is a MalformedQueryException, whose message says what was
found where (line and column), as AWS's queryCompileError locates it (API_QueryCompileError.html).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mylearning.emulator.fidelity.core import AwsError

COMMANDS = ("fields", "display", "filter", "parse", "stats", "sort", "limit", "dedup")
#: Duration units of bin() and datefloor() (CWL_QuerySyntax-operations-functions.html,
#: "Date and time functions": ms, s, m, h, d, w, mo, q, y), in milliseconds.
UNITS = {"ms": 1, "s": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "hr": 3_600_000,
         "d": 86_400_000, "w": 7 * 86_400_000, "mo": 30 * 86_400_000,
         "q": 91 * 86_400_000, "y": 365 * 86_400_000}
KEYWORDS = {"and", "or", "not", "like", "in", "as", "by", "asc", "desc"}


class QueryError(Exception):
    """A query that does not compile; `at` is its character offset."""

    def __init__(self, message: str, at: int = 0):
        super().__init__(message)
        self.at = at


def malformed(query: str, err: QueryError) -> AwsError:
    """MalformedQueryException, naming the line and column of the mistake."""
    line = query.count("\n", 0, err.at) + 1
    column = err.at - (query.rfind("\n", 0, err.at) + 1) + 1
    return AwsError("MalformedQueryException",
                    f"{err} at line {line} and position {column}", 400)


# ---------------------------------------------------------------- tokens

@dataclass(frozen=True)
class Token:
    kind: str     # "name", "string", "number", "duration", "regex", "op", "punct", "pipe", "end"
    text: str
    at: int
    value: Any = None


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_UNIT = re.compile(r"(ms|mo|min|hr|s|m|h|d|w|q|y)(?![A-Za-z0-9_])")
_NAME = re.compile(r"[@A-Za-z_][@A-Za-z0-9_.]*(?<!\.)")
_OPS = ("=~", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "^")


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c == "|":
            out.append(Token("pipe", c, i))
            i += 1
        elif c in ",()[]":
            out.append(Token("punct", c, i))
            i += 1
        elif c in "'\"":
            i = _string(text, i, out)
        elif c == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise QueryError("unterminated backquoted field name", i)
            out.append(Token("name", text[i:end + 1], i, text[i + 1:end]))
            i = end + 1
        elif c == "/" and _regex_allowed(out):
            i = _regex(text, i, out)
        elif c.isdigit():
            m = _NUMBER.match(text, i)
            unit = _UNIT.match(text, m.end())
            if unit:
                amount = float(m.group())
                out.append(Token("duration", text[i:unit.end()], i, int(amount * UNITS[unit.group(1)])))
                i = unit.end()
            else:
                number = float(m.group()) if "." in m.group() else int(m.group())
                out.append(Token("number", m.group(), i, number))
                i = m.end()
        elif _NAME.match(text, i):
            word = _NAME.match(text, i).group()
            out.append(Token("name", word, i, word))
            i += len(word)
        else:
            op = next((o for o in _OPS if text.startswith(o, i)), None)
            if op is None:
                raise QueryError(f"unexpected symbol '{c}' found", i)
            out.append(Token("op", op, i))
            i += len(op)
    out.append(Token("end", "", n))
    return out


def _string(text: str, i: int, out: list[Token]) -> int:
    quote, j, chars = text[i], i + 1, []
    while j < len(text) and text[j] != quote:
        if text[j] == "\\" and j + 1 < len(text):
            j += 1
            chars.append({"n": "\n", "t": "\t"}.get(text[j], text[j]) if text[j] != quote else quote)
        else:
            chars.append(text[j])
        j += 1
    if j >= len(text):
        raise QueryError("unterminated string", i)
    out.append(Token("string", text[i:j + 1], i, "".join(chars)))
    return j + 1


def _regex_allowed(out: list[Token]) -> bool:
    """A slash opens a regular expression where no value precedes it (else it divides),
    and after ``parse`` and its field."""
    if not out:
        return True
    last = out[-1]
    if last.kind in ("op", "pipe") or last.text in ("(", ",", "["):
        return True
    if last.kind == "name" and last.text.lower() in ("like", "parse", "and", "or", "not", "in"):
        return True
    return (last.kind == "name" and len(out) >= 2 and out[-2].kind == "name"
            and out[-2].text.lower() == "parse")


def _regex(text: str, i: int, out: list[Token]) -> int:
    j = i + 1
    while j < len(text) and text[j] != "/":
        j += 2 if text[j] == "\\" else 1
    if j >= len(text):
        raise QueryError("unterminated regular expression", i)
    source = text[i + 1:j]
    # Named groups are written (?<name>...), as in Java; Python spells them (?P<name>...).
    python = re.sub(r"\(\?<(?![=!])", "(?P<", source).replace("\\/", "/")
    try:
        compiled = re.compile(python)
    except re.error as exc:
        raise QueryError(f"invalid regular expression /{source}/: {exc}", i) from None
    out.append(Token("regex", text[i:j + 1], i, compiled))
    return j + 1


# ---------------------------------------------------------------- trees

@dataclass(frozen=True)
class Node:
    kind: str            # "lit", "field", "regex", "list", "call", "unary", "binary"
    text: str            # the source text, which names an unaliased result column
    value: Any = None    # literal value, field name, regex, operator or function name
    args: tuple = ()


@dataclass
class Command:
    name: str
    at: int
    items: list[tuple[Node, str]] = field(default_factory=list)   # (expression, column name)
    by: list[tuple[Node, str]] = field(default_factory=list)      # stats ... by
    condition: Node | None = None                                 # filter
    source: Node | None = None                                    # parse: the field parsed
    pattern: Any = None                                           # parse: glob (str) or regex
    names: list[str] = field(default_factory=list)                # parse: the fields it sets
    order: list[tuple[Node, bool]] = field(default_factory=list)  # sort: (expression, descending)
    count: int = 0                                                # limit


class Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokens(text)
        self.i = 0

    # -- helpers
    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self) -> Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def word(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "name" and tok.text.lower() in words

    def expect(self, text: str) -> Token:
        tok = self.peek()
        if tok.text != text:
            raise QueryError(f"expected '{text}' but found {describe(tok)}", tok.at)
        return self.take()

    def span(self, start: Token) -> str:
        end = self.toks[self.i - 1]
        return self.text[start.at:end.at + len(end.text)].strip()

    # -- query
    def query(self) -> list[Command]:
        commands: list[Command] = []
        if self.peek().kind == "end":
            raise QueryError("the query is empty", 0)
        while True:
            commands.append(self.command())
            tok = self.peek()
            if tok.kind == "end":
                return commands
            if tok.kind != "pipe":
                raise QueryError(f"unexpected {describe(tok)}; commands are separated by '|'", tok.at)
            self.take()

    def command(self) -> Command:
        tok = self.take()
        name = tok.text.lower() if tok.kind == "name" else ""
        if name not in COMMANDS:
            raise QueryError(f"unexpected {describe(tok)}: a command ({', '.join(COMMANDS)}) "
                             "was expected", tok.at)
        cmd = Command(name, tok.at)
        getattr(self, f"_{name}")(cmd)
        return cmd

    def _fields(self, cmd: Command) -> None:
        cmd.items = self.named_list()

    def _display(self, cmd: Command) -> None:
        cmd.items = self.named_list()

    def _dedup(self, cmd: Command) -> None:
        cmd.items = self.named_list()

    def _filter(self, cmd: Command) -> None:
        cmd.condition = self.expr()

    def _limit(self, cmd: Command) -> None:
        tok = self.take()
        if tok.kind != "number" or not isinstance(tok.value, int) or tok.value < 1:
            raise QueryError(f"limit takes a positive whole number, not {describe(tok)}", tok.at)
        cmd.count = tok.value

    def _sort(self, cmd: Command) -> None:
        while True:
            node = self.expr()
            descending = True  # the sort page states no default; moto and common use sort newest first
            if self.word("asc", "desc"):
                descending = self.take().text.lower() == "desc"
            cmd.order.append((node, descending))
            if self.peek().text != ",":
                return
            self.take()

    def _parse(self, cmd: Command) -> None:
        """``parse [field] "glob" as a, b`` or ``parse [field] /regex with (?<a>...)/``;
        "If fieldName is omitted, @message is used" (CWL_QuerySyntax-Parse.html)."""
        cmd.source = Node("field", "@message", "@message")
        if self.peek().kind == "name" and self.peek(1).kind in ("string", "regex"):
            tok = self.take()
            cmd.source = Node("field", tok.text, tok.value)
        tok = self.take()
        if tok.kind == "regex":
            cmd.pattern = tok.value
            cmd.names = list(tok.value.groupindex)
            if not cmd.names:
                raise QueryError("a parse regular expression needs named capturing groups (?<name>...)", tok.at)
            return
        if tok.kind != "string":
            raise QueryError(f"parse takes a glob string or a /regex/, not {describe(tok)}", tok.at)
        cmd.pattern = tok.value
        if not self.word("as"):
            raise QueryError("parse with a glob pattern names its fields with 'as'", self.peek().at)
        self.take()
        while True:
            name = self.take()
            if name.kind != "name":
                raise QueryError(f"expected a field name but found {describe(name)}", name.at)
            cmd.names.append(name.value)
            if self.peek().text != ",":
                break
            self.take()
        stars = cmd.pattern.count("*")
        if stars != len(cmd.names):
            raise QueryError(f"the parse pattern has {stars} wildcards but {len(cmd.names)} field "
                             "names: the number of * wildcards must equal the number of aliases", tok.at)

    def _stats(self, cmd: Command) -> None:
        cmd.items = self.named_list()
        for node, _ in cmd.items:
            if not contains_aggregate(node):
                raise QueryError(f"'{node.text}' is not an aggregation: stats takes functions such "
                                 "as count(*), avg(field) or pct(field, 95)", self.toks[self.i - 1].at)
        if self.word("by"):
            self.take()
            cmd.by = self.named_list()

    def named_list(self) -> list[tuple[Node, str]]:
        items = []
        while True:
            start = self.peek()
            node = self.expr()
            name = node.value if node.kind == "field" else node.text
            if self.word("as"):
                self.take()
                alias = self.take()
                if alias.kind != "name":
                    raise QueryError(f"expected a field name after 'as' but found {describe(alias)}", alias.at)
                name = alias.value
            elif start.kind == "end":
                raise QueryError("a field or expression was expected", start.at)
            items.append((node, name))
            if self.peek().text != ",":
                return items
            self.take()

    # -- expressions, lowest precedence first
    def expr(self) -> Node:
        start = self.peek()
        node = self.conj()
        while self.word("or"):
            self.take()
            node = Node("binary", "", "or", (node, self.conj()))
        return self._spanned(node, start)

    def conj(self) -> Node:
        start = self.peek()
        node = self.neg()
        while self.word("and"):
            self.take()
            node = Node("binary", "", "and", (node, self.neg()))
        return self._spanned(node, start)

    def neg(self) -> Node:
        start = self.peek()
        if self.word("not"):
            self.take()
            return self._spanned(Node("unary", "", "not", (self.neg(),)), start)
        return self.comparison()

    def comparison(self) -> Node:
        start = self.peek()
        left = self.additive()
        tok = self.peek()
        negate = False
        if self.word("not") and self.peek(1).kind == "name" and self.peek(1).text.lower() in ("like", "in"):
            self.take()
            negate, tok = True, self.peek()
        if tok.kind == "op" and tok.text in ("=", "!=", "<", "<=", ">", ">=", "=~"):
            self.take()
            op = "like" if tok.text == "=~" else tok.text
            node = Node("binary", "", op, (left, self.additive()))
        elif self.word("like"):
            self.take()
            node = Node("binary", "", "like", (left, self.additive()))
        elif self.word("in"):
            self.take()
            node = Node("binary", "", "in", (left, self.list_literal()))
        else:
            return left
        if negate:
            node = Node("unary", "", "not", (node,))
        return self._spanned(node, start)

    def additive(self) -> Node:
        start = self.peek()
        node = self.multiplicative()
        while self.peek().kind == "op" and self.peek().text in "+-":
            op = self.take().text
            node = self._spanned(Node("binary", "", op, (node, self.multiplicative())), start)
        return node

    def multiplicative(self) -> Node:
        start = self.peek()
        node = self.power()
        while self.peek().kind == "op" and self.peek().text in ("*", "/", "%"):
            op = self.take().text
            node = self._spanned(Node("binary", "", op, (node, self.power())), start)
        return node

    def power(self) -> Node:
        start = self.peek()
        node = self.unary()
        if self.peek().text == "^":
            self.take()
            node = self._spanned(Node("binary", "", "^", (node, self.power())), start)
        return node

    def unary(self) -> Node:
        start = self.peek()
        if start.kind == "op" and start.text == "-":
            self.take()
            return self._spanned(Node("unary", "", "-", (self.unary(),)), start)
        return self.primary()

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind in ("number", "string"):
            return Node("lit", tok.text, tok.value)
        if tok.kind == "duration":
            return Node("lit", tok.text, Duration(tok.value))
        if tok.kind == "regex":
            return Node("regex", tok.text, tok.value)
        if tok.text == "(":
            node = self.expr()
            self.expect(")")
            return node
        if tok.text == "[":
            self.i -= 1
            return self.list_literal()
        if tok.kind == "name" and tok.text.lower() not in KEYWORDS | set(COMMANDS):
            if self.peek().text == "(":
                return self.call(tok)
            return Node("field", tok.text, tok.value)
        raise QueryError(f"unexpected {describe(tok)}", tok.at)

    def call(self, name: Token) -> Node:
        self.expect("(")
        args: list[Node] = []
        if self.peek().kind == "op" and self.peek().text == "*" and self.peek(1).text == ")":
            self.take()
            args.append(Node("lit", "*", STAR))
        elif self.peek().text != ")":
            while True:
                args.append(self.expr())
                if self.peek().text != ",":
                    break
                self.take()
        self.expect(")")
        return Node("call", self.span(name), name.text.lower(), tuple(args))

    def list_literal(self) -> Node:
        start = self.expect("[")
        items: list[Node] = []
        while self.peek().text != "]":
            items.append(self.additive())
            if self.peek().text == ",":
                self.take()
            elif self.peek().text != "]":
                raise QueryError(f"expected ',' or ']' but found {describe(self.peek())}", self.peek().at)
        self.take()
        return Node("list", self.span(start), None, tuple(items))

    def _spanned(self, node: Node, start: Token) -> Node:
        if node.text:
            return node
        return Node(node.kind, self.span(start), node.value, node.args)


class Duration(int):
    """A duration literal (``5m``), in milliseconds."""


class _Star:
    def __repr__(self) -> str:
        return "*"


STAR = _Star()

#: Aggregation functions of ``stats`` (CWL_QuerySyntax-Stats.html, "Aggregation functions").
AGGREGATES = frozenset({"count", "count_distinct", "sum", "avg", "min", "max", "pct", "stddev",
                        "earliest", "latest"})


def contains_aggregate(node: Node) -> bool:
    if node.kind == "call" and node.value in AGGREGATES:
        return True
    return any(contains_aggregate(a) for a in node.args if isinstance(a, Node))


def describe(tok: Token) -> str:
    return "end of the query" if tok.kind == "end" else f"'{tok.text}'"


def parse(text: str) -> list[Command]:
    """The commands of a query; QueryError when it does not compile."""
    return Parser(text).query()
