"""A small, safe shell standing for the tools inside a course container image.

There is no Docker here, so a container's `healthCheck` command and the busybox image's
`command` cannot run a real /bin/sh. This interpreter runs them instead, in-process: it
never starts a program and never touches a file outside the container's own root and
mounts, so a learner's command can do no more than it could inside the container.

What a command may be, as ECS defines it:
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
- ``["CMD-SHELL", "curl -f http://localhost/ || exit 1"]``: run with the container's
  default shell (here: this one), so `||`, `&&`, `;`, quotes and `$VAR` work.
- ``["CMD", "curl", "-f", "http://localhost/"]``: run the arguments directly, no shell.
- a plain argv (a container's `command`, e.g. ``["sh", "-c", "echo ready"]``).
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html

The shell language is busybox ash's core: words with '...', "..." and backslash quoting;
$VAR, ${VAR}, ${VAR:-word}, $? and sh -c's $0 $1...; `;`, newlines, `&&`, `||`, `|`
(each stage runs to its end, then feeds the next); `>`, `>>`, `<`, `2>&1`; `#` comments;
NAME=value; if/elif/else/fi, while/until ... do ... done, for NAME in ...; do ... done.
Command substitution, `$(...)` and `...` in backquotes, nested and inside "...", as POSIX
specifies it (XCU 2.6.3): the command runs in a subshell environment (its variables and
`cd` do not leak out), its standard output replaces it with trailing newlines removed,
unquoted results are split into fields, and a command made only of assignments and
redirections completes with the status of its last substitution (XCU 2.9.1), so
`x=$(false); echo $?` prints 1.
https://pubs.opengroup.org/onlinepubs/9699919799/utilities/V3_chap02.html#tag_18_06_03
Not supported (exit 2 with a message): arithmetic `$((...))`, `&`, subshells, functions.
Built-ins, answering as busybox does: sh, curl and wget (mylearning.dataplane.http_tools),
find (mylearning.dataplane.shell_tools), exit, true, false, :, echo, printf (plain
%s/%d), test and [, cat, mkdir [-p], touch, sleep, env, export, cd, pwd, ls, grep,
hostname. Any other name: `sh: NAME: not found`, 127.

Files: container paths live under `root`, with `mounts` (container path -> host folder)
laid over it. With `readonly_root`, writing outside a mount fails with busybox's
"Read-only file system" (readonlyRootFilesystem in the task definition:
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html).
Without a `root`, the container's own files are an empty, read-only tree.
"""
from __future__ import annotations

import asyncio
import errno
import os
import posixpath
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Union

from mylearning.dataplane import http_tools, shell_tools

#: The exit code a timed-out command gets, as Docker records for a health check
#: that exceeds its timeout (ExitCode -1, "Health check exceeded timeout").
TIMED_OUT = -1
#: What is kept of a command's output (Docker keeps 4 KiB of a health check's; a busybox
#: container's output streams to its log as it comes, see `stdout`).
OUTPUT_LIMIT = 64 * 1024
SHELLS = frozenset({"sh", "ash", "bash", "dash"})


@dataclass(frozen=True)
class ShellResult:
    exit_code: int
    output: str


async def run(command: list[str], *, env: dict[str, str], address: str, timeout: float | None = None,
              root: Path | None = None, readonly_root: bool = False,
              mounts: dict[str, Path] | None = None, proxy: str | None = None,
              stdout: Callable[[str], None] | None = None) -> ShellResult:
    """Run a health-check command or a container command; its exit code and output.

    `address` is the task's loopback address (what localhost means inside it); `proxy`
    the data plane's edge proxy for other hosts; `stdout`, when given, receives output
    as it is produced (stdout and stderr together, as a container's log has them).
    A command still running after `timeout` seconds is stopped and fails (TIMED_OUT).
    """
    sh = Shell(env=dict(env), address=address, proxy=proxy,
               files=Files(root, mounts or {}, readonly_root), stream=stdout)
    argv = list(command)
    try:
        if argv and argv[0] == "CMD-SHELL":
            work: Awaitable[int] = sh.script(" ".join(argv[1:]))
        elif argv and argv[0] == "CMD":
            work = sh.argv(argv[1:])
        else:
            work = sh.argv(argv)
        code = await asyncio.wait_for(work, timeout) if timeout else await work
    except asyncio.TimeoutError:
        sh.err(f"command timed out after {timeout:g}s\n")
        code = TIMED_OUT
    return ShellResult(code, sh.output())


# ---------------------------------------------------------------- files

class Files:
    """The container's file tree: root with mounts laid over it, nothing outside."""

    def __init__(self, root: Path | None, mounts: dict[str, Path], readonly_root: bool):
        self.root = Path(root) if root is not None else None
        self.mounts = {_clean(k): Path(v) for k, v in mounts.items()}
        self.readonly_root = readonly_root or root is None
        self.cwd = "/"

    def path(self, path: str) -> str:
        """The absolute, normalised container path ('..' never climbs above /)."""
        return _clean(posixpath.join(self.cwd, path))

    def host(self, path: str) -> tuple[Path | None, bool]:
        """The host path for a container path, and whether it may be written."""
        cpath = self.path(path)
        for mount in sorted(self.mounts, key=len, reverse=True):
            if cpath == mount or cpath.startswith(mount.rstrip("/") + "/"):
                base = self.mounts[mount]
                return self._inside(base, base / cpath[len(mount):].lstrip("/")), True
        if self.root is None:
            return None, False
        return self._inside(self.root, self.root / cpath.lstrip("/")), not self.readonly_root

    @staticmethod
    def _inside(base: Path, target: Path) -> Path | None:
        # A symlink must not lead out of the container's tree.
        real, top = os.path.realpath(target), os.path.realpath(base)
        return target if real == top or real.startswith(top + os.sep) else None

    def _existing(self, path: str) -> Path:
        host, _ = self.host(path)
        if host is None or not host.exists():
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        return host

    def _writable(self, path: str) -> Path:
        host, writable = self.host(path)
        if not writable or host is None:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
        return host

    def read(self, path: str) -> bytes:
        if self.path(path) == "/dev/null":
            return b""
        host = self._existing(path)
        if host.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        return host.read_bytes()

    def write(self, path: str, data: bytes, append: bool = False) -> None:
        if self.path(path) in ("/dev/null", "/dev/stdout", "/dev/stderr"):
            return
        host = self._writable(path)
        with open(host, "ab" if append else "wb") as f:
            f.write(data)

    def mkdir(self, path: str, parents: bool) -> None:
        host, _ = self.host(path)
        if host is not None and host.is_dir():
            if parents:
                return
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), path)
        self._writable(path).mkdir(parents=parents)

    def touch(self, path: str) -> None:
        host = self._writable(path)
        if host.exists():
            os.utime(host)
        else:
            host.touch()

    def exists(self, path: str) -> Path | None:
        host, _ = self.host(path)
        return host if host is not None and host.exists() else None

    def writable(self, path: str) -> bool:
        return self.host(path)[1]


def _clean(path: str) -> str:
    """An absolute container path with '.', '..' and repeated slashes resolved."""
    return "/" + posixpath.normpath("/" + path).lstrip("/")


def _why(exc: OSError) -> str:
    return exc.strerror or os.strerror(exc.errno or errno.EIO)


# ---------------------------------------------------------------- words and tokens

@dataclass
class Part:
    text: str          # literal text, or a variable's name
    quoted: bool
    var: bool = False
    op: str = ""       # ${name:-word} / ${name-word} / ${name:=word}...
    word: "Word | None" = None
    cmd: "Seq | None" = None   # $(...) or `...`: the parsed command


@dataclass
class Word:
    parts: list[Part]

    def literal(self) -> str | None:
        """The word's text when it is plain unquoted text (reserved words, assignments)."""
        if all(not p.var and not p.quoted and p.cmd is None for p in self.parts):
            return "".join(p.text for p in self.parts)
        return None


@dataclass
class Redir:
    fd: int
    op: str            # > >> < >&
    target: Word


Token = Union[Word, Redir, str]   # str: an operator (; && || | & ( ) and "\n")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_META = set(" \t\n;&|()<>")
_RESERVED = {"if", "then", "elif", "else", "fi", "while", "until", "do", "done", "for", "in",
             "{", "}", "!"}


class ShellSyntaxError(Exception):
    pass


def _lex(src: str) -> list[Token]:
    return _tokens(src, 0, nested=False)[0]


def _tokens(src: str, i: int, nested: bool) -> tuple[list[Token], int]:
    """Tokens from src[i:]; `nested` (inside "$("): up to the matching ")", and the index past it."""
    tokens: list[Token] = []
    n = len(src)
    depth = 0  # "(" seen inside a $(...): the parser refuses them, but their ")" is not ours
    while i < n:
        c = src[i]
        if c in " \t":
            i += 1
        elif c == "\\" and src.startswith("\\\n", i):
            i += 2
        elif c == "#":
            while i < n and src[i] != "\n":
                i += 1
        elif c == "\n" or c == ";":
            if src.startswith(";;", i):
                raise ShellSyntaxError("syntax error: unexpected \";;\"")
            tokens.append(";" if c == ";" else "\n")
            i += 1
        elif src.startswith("&&", i) or src.startswith("||", i):
            tokens.append(src[i:i + 2])
            i += 2
        elif c in "|&()":
            if nested and c == ")":
                if depth == 0:
                    return tokens, i + 1
                depth -= 1
            elif nested and c == "(":
                depth += 1
            tokens.append(c)
            i += 1
        else:
            m = re.match(r"(\d?)(>>|>&|>|<)", src[i:])
            if m:
                fd = int(m.group(1)) if m.group(1) else (0 if m.group(2) == "<" else 1)
                i += m.end()
                while i < n and src[i] in " \t":
                    i += 1
                word, i = _lex_word(src, i)
                if not word.parts:
                    raise ShellSyntaxError("syntax error: unexpected newline")
                tokens.append(Redir(fd, m.group(2), word))
            else:
                word, i = _lex_word(src, i)
                tokens.append(word)
    if nested:
        raise ShellSyntaxError("syntax error: unterminated $(...)")
    return tokens, i


def _lex_word(src: str, i: int) -> tuple[Word, int]:
    parts: list[Part] = []
    n = len(src)
    while i < n and src[i] not in _META:
        c = src[i]
        if c == "'":
            end = src.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("syntax error: unterminated quoted string")
            parts.append(Part(src[i + 1:end], True))
            i = end + 1
        elif c == '"':
            i = _lex_double(src, i + 1, parts)
        elif c == "\\":
            parts.append(Part(src[i + 1:i + 2], True))
            i += 2
        elif c == "$":
            i = _lex_dollar(src, i, parts, quoted=False)
        elif c == "`":
            i = _lex_backquote(src, i, parts, quoted=False)
        else:
            j = i
            while j < n and src[j] not in _META and src[j] not in "'\"\\$`":
                j += 1
            parts.append(Part(src[i:j], False))
            i = j
    return Word(parts), i


def _lex_double(src: str, i: int, parts: list[Part]) -> int:
    buf = []
    n = len(src)
    while True:
        if i >= n:
            raise ShellSyntaxError("syntax error: unterminated quoted string")
        c = src[i]
        if c == '"':
            break
        if c == "\\" and i + 1 < n and src[i + 1] in '$`"\\\n':
            buf.append("" if src[i + 1] == "\n" else src[i + 1])
            i += 2
        elif c == "$":
            parts.append(Part("".join(buf), True))
            buf = []
            i = _lex_dollar(src, i, parts, quoted=True)
        elif c == "`":
            parts.append(Part("".join(buf), True))
            buf = []
            i = _lex_backquote(src, i, parts, quoted=True)
        else:
            buf.append(c)
            i += 1
    parts.append(Part("".join(buf), True))
    return i + 1


def _lex_dollar(src: str, i: int, parts: list[Part], quoted: bool) -> int:
    rest = src[i + 1:]
    if rest.startswith("(("):
        raise ShellSyntaxError("arithmetic expansion is not supported here")
    if rest.startswith("("):
        tokens, end = _tokens(src, i + 2, nested=True)
        parts.append(Part("", quoted, cmd=_Parser(tokens).program()))
        return end
    if rest.startswith("{"):
        end = src.find("}", i)
        if end < 0:
            raise ShellSyntaxError("syntax error: missing '}'")
        body = src[i + 2:end]
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*|\d+|\?)(:?[-=+?])?(.*)", body, re.S)
        if not m:
            raise ShellSyntaxError("syntax error: bad substitution")
        word = None
        if m.group(2):
            word, _ = _lex_word_text(m.group(3))
        parts.append(Part(m.group(1), quoted, var=True, op=m.group(2) or "", word=word))
        return end + 1
    m = re.match(r"[A-Za-z_][A-Za-z0-9_]*|\d|[?$#]", rest)
    if not m:
        parts.append(Part("$", quoted))
        return i + 1
    parts.append(Part(m.group(0), quoted, var=True))
    return i + 1 + m.end()


def _lex_backquote(src: str, i: int, parts: list[Part], quoted: bool) -> int:
    """`...`: the old form of $(...). Inside it a backslash quotes only $ ` \\ (and " within
    double quotes); what remains is parsed as a script of its own (XCU 2.6.3)."""
    body: list[str] = []
    j, n = i + 1, len(src)
    while True:
        if j >= n:
            raise ShellSyntaxError("syntax error: unterminated `...`")
        c = src[j]
        if c == "`":
            break
        if c == "\\" and j + 1 < n and (src[j + 1] in "$`\\" or (quoted and src[j + 1] == '"')):
            body.append(src[j + 1])
            j += 2
        else:
            body.append(c)
            j += 1
    parts.append(Part("", quoted, cmd=parse("".join(body))))
    return j + 1


def _lex_word_text(text: str) -> tuple[Word, int]:
    """A ${name:-word} default: lexed as a word in which blanks are ordinary text."""
    parts: list[Part] = []
    i = 0
    while i < len(text):
        word, j = _lex_word(text, i)
        parts += word.parts
        if j < len(text):  # a blank or other metacharacter: keep it as text
            parts.append(Part(text[j], True))
            j += 1
        i = j
    return Word(parts), i


# ---------------------------------------------------------------- parse tree

@dataclass
class Simple:
    words: list[Word]
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class Pipeline:
    stages: list[Any]
    negate: bool = False


@dataclass
class AndOr:
    first: Any
    rest: list[tuple[str, Any]]


@dataclass
class Seq:
    items: list[Any]


@dataclass
class If:
    branches: list[tuple[Any, Any]]
    otherwise: Any = None


@dataclass
class Loop:
    cond: Any
    body: Any
    until: bool


@dataclass
class For:
    name: str
    words: list[Word]
    body: Any


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def reserved(self, *names: str) -> bool:
        tok = self.peek()
        return isinstance(tok, Word) and tok.literal() in names

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, name: str) -> None:
        if not self.reserved(name):
            found = self.peek()
            what = found.literal() if isinstance(found, Word) else (found or "end of file")
            raise ShellSyntaxError(f"syntax error: unexpected {what!r} (expecting \"{name}\")")
        self.take()

    def skip_breaks(self) -> None:
        while self.peek() in (";", "\n"):
            self.take()

    def program(self) -> Seq:
        seq = self.seq(())
        if self.peek() is not None:
            tok = self.peek()
            raise ShellSyntaxError(f"syntax error: unexpected {tok.literal() if isinstance(tok, Word) else tok!r}")
        return seq

    def seq(self, stops: tuple[str, ...]) -> Seq:
        items = []
        self.skip_breaks()
        while self.peek() is not None and not self.reserved(*stops):
            items.append(self.and_or())
            if self.peek() == "&":
                raise ShellSyntaxError("background jobs (&) are not supported here")
            if self.peek() in (";", "\n"):
                self.skip_breaks()
            elif self.peek() is not None and not self.reserved(*stops):
                tok = self.peek()
                raise ShellSyntaxError(f"syntax error: unexpected {tok.literal() if isinstance(tok, Word) else tok!r}")
        return Seq(items)

    def and_or(self) -> AndOr:
        first = self.pipeline()
        rest = []
        while self.peek() in ("&&", "||"):
            op = self.take()
            while self.peek() == "\n":
                self.take()
            rest.append((op, self.pipeline()))
        return AndOr(first, rest)

    def pipeline(self) -> Pipeline:
        negate = False
        if self.reserved("!"):
            self.take()
            negate = True
        stages = [self.command()]
        while self.peek() == "|":
            self.take()
            while self.peek() == "\n":
                self.take()
            stages.append(self.command())
        return Pipeline(stages, negate)

    def command(self) -> Any:
        if self.reserved("if"):
            branches, otherwise = [], None
            while not branches or self.reserved("elif"):
                self.take()  # "if", then each "elif"
                cond = self.seq(("then",))
                self.expect("then")
                branches.append((cond, self.seq(("elif", "else", "fi"))))
            if self.reserved("else"):
                self.take()
                otherwise = self.seq(("fi",))
            self.expect("fi")
            return If(branches, otherwise)
        if self.reserved("while", "until"):
            until = self.take().literal() == "until"  # type: ignore[union-attr]
            cond = self.seq(("do",))
            self.expect("do")
            body = self.seq(("done",))
            self.expect("done")
            return Loop(cond, body, until)
        if self.reserved("for"):
            self.take()
            name = self.take()
            if not isinstance(name, Word) or not _NAME.fullmatch(name.literal() or ""):
                raise ShellSyntaxError("syntax error: bad for loop variable")
            words: list[Word] = []
            if self.reserved("in"):
                self.take()
                while isinstance(self.peek(), Word) and not self.reserved("do"):
                    words.append(self.take())  # type: ignore[arg-type]
            self.skip_breaks()
            self.expect("do")
            body = self.seq(("done",))
            self.expect("done")
            return For(name.literal() or "", words, body)
        if self.reserved("{"):
            self.take()
            body = self.seq(("}",))
            self.expect("}")
            return body
        if self.peek() == "(":
            raise ShellSyntaxError("subshells are not supported here")
        simple = Simple([])
        while isinstance(self.peek(), (Word, Redir)):
            tok = self.take()
            (simple.redirs if isinstance(tok, Redir) else simple.words).append(tok)  # type: ignore[arg-type]
        if not simple.words and not simple.redirs:
            tok = self.peek()
            raise ShellSyntaxError(f"syntax error: unexpected {tok.literal() if isinstance(tok, Word) else tok or 'end of file'!r}")
        return simple


def parse(src: str) -> Seq:
    """The parse tree of a script; ShellSyntaxError says what is wrong or unsupported."""
    return _Parser(_lex(src)).program()


# ---------------------------------------------------------------- running

class _Exit(Exception):
    def __init__(self, code: int):
        self.code = code


Builtin = Callable[["Shell", list[str], str], Awaitable[int]]


class Shell:
    """One shell: its variables, last status, files and where its output goes."""

    def __init__(self, *, env: dict[str, str], address: str, proxy: str | None, files: Files,
                 stream: Callable[[str], None] | None = None, args: list[str] | None = None):
        self.env = env
        self.address = address
        self.proxy = proxy
        self.files = files
        self.status = 0
        self.args = args or ["sh"]
        self._kept: list[str] = []
        self._kept_size = 0
        self._stream = stream
        self.fds: dict[int, Callable[[str], None]] = {1: self._emit, 2: self._emit}
        self.stdin = ""
        #: The status of the last command substitution in the simple command being expanded.
        self.substituted: int | None = None

    # output ----------------------------------------------------------
    def _emit(self, text: str) -> None:
        if not text:
            return
        if self._kept_size < OUTPUT_LIMIT:
            piece = text[:OUTPUT_LIMIT - self._kept_size]
            self._kept.append(piece)
            self._kept_size += len(piece)
        if self._stream is not None:
            self._stream(text)

    def out(self, text: str) -> None:
        self.fds[1](text)

    def err(self, text: str) -> None:
        self.fds[2](text)

    def output(self) -> str:
        return "".join(self._kept)

    # entry points ----------------------------------------------------
    async def script(self, src: str) -> int:
        try:
            tree = parse(src)
        except ShellSyntaxError as exc:
            self.err(f"sh: {exc}\n")
            return 2
        try:
            return await self.execute(tree)
        except _Exit as done:
            return done.code

    async def argv(self, argv: list[str]) -> int:
        try:
            return await self.call(argv)
        except _Exit as done:
            return done.code

    # expansion -------------------------------------------------------
    def lookup(self, name: str) -> str | None:
        if name == "?":
            return str(self.status)
        if name == "$":
            return str(os.getpid())
        if name == "#":
            return str(len(self.args) - 1)
        if name.isdigit():
            index = int(name)
            return self.args[index] if index < len(self.args) else None
        return self.env.get(name)

    async def expand(self, word: Word) -> list[str]:
        """A word's fields: unquoted expansions split on blanks, quoted ones kept whole."""
        fields: list[str] = []
        current: list[str] = []
        started = False
        for part in word.parts:
            if part.cmd is not None:
                value = await self.substitute(part.cmd)
            elif part.var:
                value = await self._value(part)
            else:
                current.append(part.text)
                started = started or part.quoted or bool(part.text)
                continue
            if part.quoted:
                current.append(value)
                started = True
                continue
            pieces = value.split()
            if not pieces:
                continue
            if value[:1].isspace() and (current or started):
                fields.append("".join(current))
                current, started = [], False
            for k, piece in enumerate(pieces):
                if k:
                    fields.append("".join(current))
                    current = []
                current.append(piece)
                started = True
            if value[-1:].isspace():
                fields.append("".join(current))
                current, started = [], False
        if current or started:
            fields.append("".join(current))
        return fields

    async def expand_one(self, word: Word) -> str:
        return " ".join(await self.expand(word))

    async def _value(self, part: Part) -> str:
        value = self.lookup(part.text)
        if not part.op:
            return value or ""
        unset = value is None or (part.op.startswith(":") and value == "")
        kind = part.op[-1]
        # The word is expanded only when it is used: ${X:-$(cmd)} runs cmd only if X is unset.
        if (kind == "+") == unset:
            return "" if kind == "+" else value  # type: ignore[return-value]
        alternative = await self.expand_one(part.word) if part.word else ""
        if kind == "=":
            self.env[part.text] = alternative
        elif kind == "?":
            self.err(f"sh: {part.text}: {alternative or 'parameter not set'}\n")
            raise _Exit(1)
        return alternative

    def subshell(self) -> "Shell":
        """A copy of this shell's environment for `sh -c` and $(...): same files and output,
        its own variables; the caller puts the working directory back afterwards."""
        child = Shell(env=dict(self.env), address=self.address, proxy=self.proxy,
                      files=self.files, args=list(self.args))
        child.fds = dict(self.fds)
        child.stdin = self.stdin
        child.status = self.status
        return child

    async def substitute(self, tree: Seq) -> str:
        """Run $(...) in a subshell: its standard output, trailing newlines removed."""
        child = self.subshell()
        captured: list[str] = []
        child.fds[1] = captured.append
        cwd = self.files.cwd
        try:
            code = await child.execute(tree)
        except _Exit as done:
            code = done.code
        finally:
            self.files.cwd = cwd
        self.substituted = code
        return "".join(captured).rstrip("\n")

    # execution -------------------------------------------------------
    async def execute(self, node: Any) -> int:
        if isinstance(node, Seq):
            for item in node.items:
                self.status = await self.execute(item)
            return self.status
        if isinstance(node, AndOr):
            status = await self.execute(node.first)
            for op, nxt in node.rest:
                self.status = status
                if (op == "&&") == (status == 0):
                    status = await self.execute(nxt)
            self.status = status
            return status
        if isinstance(node, Pipeline):
            status = await self._pipeline(node.stages)
            return (0 if status else 1) if node.negate else status
        if isinstance(node, If):
            for cond, body in node.branches:
                if await self.execute(cond) == 0:
                    return await self.execute(body)
            return await self.execute(node.otherwise) if node.otherwise else 0
        if isinstance(node, Loop):
            status = 0
            while (await self.execute(node.cond) == 0) != node.until:
                status = await self.execute(node.body)
                await asyncio.sleep(0)  # a busy loop must still let timeouts and others run
            return status
        if isinstance(node, For):
            status = 0
            items = [f for w in node.words for f in await self.expand(w)]
            for item in items:
                self.env[node.name] = item
                status = await self.execute(node.body)
            return status
        if isinstance(node, Simple):
            return await self._simple(node)
        raise TypeError(node)

    async def _pipeline(self, stages: list[Any]) -> int:
        if len(stages) == 1:
            return await self.execute(stages[0])
        saved_out, saved_in = self.fds[1], self.stdin
        status = 0
        try:
            for k, stage in enumerate(stages):
                buf: list[str] = []
                self.fds[1] = buf.append if k < len(stages) - 1 else saved_out
                status = await self.execute(stage)
                self.stdin = "".join(buf)
        finally:
            self.fds[1], self.stdin = saved_out, saved_in
        return status

    async def _simple(self, node: Simple) -> int:
        words = list(node.words)
        assigns: list[tuple[str, str]] = []
        self.substituted = None
        while words:
            text = words[0].parts[0].text if words[0].parts and not words[0].parts[0].quoted \
                and not words[0].parts[0].var else ""
            m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=", text)
            if not m:
                break
            rest = Word([Part(text[m.end():], False)] + words[0].parts[1:])
            assigns.append((m.group(1), await self.expand_one(rest) if rest.parts else ""))
            words.pop(0)
        argv = [f for w in words for f in await self.expand(w)]
        if not argv:
            # No command name: the status is the last substitution's, else 0 (XCU 2.9.1).
            for name, value in assigns:
                self.env[name] = value
            code = await self._with_redirs(node.redirs, None) if node.redirs else 0
            return code or (self.substituted or 0)
        saved_env = dict(self.env) if assigns else None
        for name, value in assigns:
            self.env[name] = value
        try:
            return await self._with_redirs(node.redirs, argv)
        finally:
            if saved_env is not None:
                self.env = saved_env

    async def _with_redirs(self, redirs: list[Redir], argv: list[str] | None) -> int:
        saved_fds, saved_in = dict(self.fds), self.stdin
        writes: list[tuple[str, list[str], bool]] = []
        try:
            for r in redirs:
                target = await self.expand_one(r.target)
                if r.op == ">&":
                    if target.isdigit() and int(target) in self.fds:
                        self.fds[r.fd] = self.fds[int(target)]
                    elif target == "-":
                        self.fds[r.fd] = lambda text: None
                    else:
                        self.err(f"sh: {target}: bad file descriptor\n")
                        return 1
                elif r.op == "<":
                    try:
                        self.stdin = self.files.read(target).decode("utf-8", "replace")
                    except OSError as exc:
                        self.err(f"sh: can't open {target}: {_why(exc)}\n")
                        return 1
                else:
                    append = r.op == ">>"
                    try:
                        self.files.write(target, b"", append=True)  # fails now if it cannot be created
                    except OSError as exc:
                        self.err(f"sh: can't create {target}: {_why(exc)}\n")
                        return 2
                    buf: list[str] = []
                    writes.append((target, buf, append))
                    self.fds[r.fd] = buf.append
            return await self.call(argv) if argv else 0
        finally:
            self.fds, self.stdin = saved_fds, saved_in
            for target, buf, append in writes:
                try:
                    self.files.write(target, "".join(buf).encode(), append=append)
                except OSError as exc:
                    self.err(f"sh: can't create {target}: {_why(exc)}\n")

    async def call(self, argv: list[str]) -> int:
        if not argv:
            return 0
        name = argv[0].rsplit("/", 1)[-1] if argv[0].startswith("/") else argv[0]
        builtin = BUILTINS.get(name)
        if builtin is None:
            self.err(f"sh: {argv[0]}: not found\n")
            return 127
        return await builtin(self, [name] + argv[1:], self.stdin)


# ---------------------------------------------------------------- built-ins

async def _sh(sh: Shell, argv: list[str], stdin: str) -> int:
    args = argv[1:]
    while args and args[0] in ("-e", "-x", "-u", "-eu", "-ex", "-l"):
        args = args[1:]
    if not args:
        if not stdin:
            return 0
        script, params = stdin, ["sh"]
    elif args[0] == "-c":
        if len(args) < 2:
            sh.err("sh: -c requires an argument\n")
            return 2
        script, params = args[1], args[2:] or ["sh"]
    else:
        try:
            script = sh.files.read(args[0]).decode()
        except OSError as exc:
            sh.err(f"sh: can't open '{args[0]}': {_why(exc)}\n")
            return 127 if isinstance(exc, FileNotFoundError) else 2
        params = args
    child = sh.subshell()
    child.args, child.stdin, child.status = params, stdin, 0
    cwd = sh.files.cwd
    try:
        return await child.script(script)
    finally:
        sh.files.cwd = cwd  # a child process's cd is its own


async def _exit(sh: Shell, argv: list[str], stdin: str) -> int:
    if len(argv) > 1:
        try:
            raise _Exit(int(argv[1]) & 0xFF)
        except ValueError:
            sh.err(f"sh: exit: Illegal number: {argv[1]}\n")
            raise _Exit(2)
    raise _Exit(sh.status)


async def _true(sh: Shell, argv: list[str], stdin: str) -> int:
    return 0


async def _false(sh: Shell, argv: list[str], stdin: str) -> int:
    return 1


async def _echo(sh: Shell, argv: list[str], stdin: str) -> int:
    args, newline, escapes = argv[1:], True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        newline = newline and "n" not in args[0]
        escapes = "e" in args[0] or (escapes and "E" not in args[0])
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text = text.replace("\\n", "\n").replace("\\t", "\t")
    sh.out(text + ("\n" if newline else ""))
    return 0


async def _printf(sh: Shell, argv: list[str], stdin: str) -> int:
    if len(argv) < 2:
        sh.err("printf: usage: printf FORMAT [ARG]...\n")
        return 1
    fmt = argv[1].replace("\\n", "\n").replace("\\t", "\t")
    args = iter(argv[2:])
    sh.out(re.sub(r"%[sd%]", lambda m: "%" if m.group(0) == "%%" else next(args, ""), fmt))
    return 0


def _test(sh: Shell, args: list[str]) -> bool:
    if args and args[0] == "!":
        return not _test(sh, args[1:])
    if len(args) == 0:
        return False
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        op, operand = args
        if op == "-z":
            return operand == ""
        if op == "-n":
            return operand != ""
        host = sh.files.exists(operand)
        checks = {"-e": lambda: host is not None, "-f": lambda: host is not None and host.is_file(),
                  "-d": lambda: host is not None and host.is_dir(),
                  "-s": lambda: host is not None and host.is_file() and host.stat().st_size > 0,
                  "-r": lambda: host is not None,
                  "-w": lambda: host is not None and sh.files.writable(operand),
                  "-x": lambda: host is not None and os.access(host, os.X_OK)}
        if op in checks:
            return checks[op]()
        raise ValueError(f"{op}: unknown operand")
    if len(args) == 3:
        left, op, right = args
        if op in ("=", "=="):
            return left == right
        if op == "!=":
            return left != right
        numeric = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__, "-le": int.__le__,
                   "-gt": int.__gt__, "-ge": int.__ge__}
        if op in numeric:
            try:
                return numeric[op](int(left), int(right))
            except ValueError:
                raise ValueError(f"{left if not left.lstrip('-').isdigit() else right}: bad number")
    raise ValueError("syntax error")


async def _test_cmd(sh: Shell, argv: list[str], stdin: str) -> int:
    args = argv[1:]
    if argv[0] == "[":
        if not args or args[-1] != "]":
            sh.err("sh: [: missing ]\n")
            return 2
        args = args[:-1]
    try:
        return 0 if _test(sh, args) else 1
    except ValueError as exc:
        sh.err(f"sh: {argv[0]}: {exc}\n")
        return 2


async def _cat(sh: Shell, argv: list[str], stdin: str) -> int:
    status = 0
    for name in argv[1:] or ["-"]:
        if name == "-":
            sh.out(stdin)
            continue
        try:
            sh.out(sh.files.read(name).decode("utf-8", "replace"))
        except IsADirectoryError:
            sh.err("cat: read error: Is a directory\n")
            status = 1
        except OSError as exc:
            sh.err(f"cat: can't open '{name}': {_why(exc)}\n")
            status = 1
    return status


async def _mkdir(sh: Shell, argv: list[str], stdin: str) -> int:
    parents = False
    names = []
    for arg in argv[1:]:
        if arg in ("-p", "--parents"):
            parents = True
        elif arg.startswith("-m"):
            continue
        else:
            names.append(arg)
    if not names:
        sh.err("BusyBox v1.36.1 multi-call binary.\n\nUsage: mkdir [-m MODE] [-p] DIRECTORY...\n")
        return 1
    status = 0
    for name in names:
        try:
            sh.files.mkdir(name, parents)
        except OSError as exc:
            sh.err(f"mkdir: can't create directory '{name}': {_why(exc)}\n")
            status = 1
    return status


async def _touch(sh: Shell, argv: list[str], stdin: str) -> int:
    status = 0
    for name in [a for a in argv[1:] if not a.startswith("-")]:
        try:
            sh.files.touch(name)
        except OSError as exc:
            sh.err(f"touch: {name}: {_why(exc)}\n")
            status = 1
    return status


_SLEEP_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


async def _sleep(sh: Shell, argv: list[str], stdin: str) -> int:
    if len(argv) < 2:
        sh.err("BusyBox v1.36.1 multi-call binary.\n\nUsage: sleep [N]...\n")
        return 1
    total = 0.0
    for arg in argv[1:]:
        if arg in ("inf", "infinity"):
            await asyncio.Event().wait()  # until the command is stopped
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", arg)
        if not m:
            sh.err(f"sleep: invalid number '{arg}'\n")
            return 1
        total += float(m.group(1)) * _SLEEP_UNITS[m.group(2)]
    await asyncio.sleep(total)
    return 0


async def _env(sh: Shell, argv: list[str], stdin: str) -> int:
    args = argv[1:]
    env = dict(sh.env)
    while args and "=" in args[0] and _NAME.fullmatch(args[0].split("=", 1)[0]):
        name, value = args.pop(0).split("=", 1)
        env[name] = value
    if args:
        saved = sh.env
        sh.env = env
        try:
            return await sh.call(args)
        finally:
            sh.env = saved
    sh.out("".join(f"{k}={v}\n" for k, v in env.items()))
    return 0


async def _export(sh: Shell, argv: list[str], stdin: str) -> int:
    for arg in argv[1:]:
        if "=" in arg:
            name, value = arg.split("=", 1)
            sh.env[name] = value
    return 0


async def _cd(sh: Shell, argv: list[str], stdin: str) -> int:
    target = sh.files.path(argv[1] if len(argv) > 1 else sh.env.get("HOME", "/"))
    host = sh.files.exists(target)
    if host is None or not host.is_dir():
        sh.err(f"sh: cd: can't cd to {argv[1] if len(argv) > 1 else target}: No such file or directory\n")
        return 2
    sh.files.cwd = target
    return 0


async def _pwd(sh: Shell, argv: list[str], stdin: str) -> int:
    sh.out(sh.files.cwd + "\n")
    return 0


async def _ls(sh: Shell, argv: list[str], stdin: str) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-") and len(a) > 1)
    names = [a for a in argv[1:] if not a.startswith("-") or a == "-"] or ["."]
    status = 0
    for name in names:
        host = sh.files.exists(name)
        if host is None:
            sh.err(f"ls: {name}: No such file or directory\n")
            status = 1
            continue
        if host.is_dir():
            entries = sorted(p.name for p in host.iterdir() if "a" in flags or not p.name.startswith("."))
            if "a" in flags:
                entries = [".", ".."] + entries
            if len(names) > 1:
                sh.out(f"{name}:\n")
            for entry in entries:
                sh.out(_ls_line(host / entry, entry, "l" in flags))
        else:
            sh.out(_ls_line(host, name, "l" in flags))
    return status


def _ls_line(host: Path, name: str, long: bool) -> str:
    if not long:
        return name + "\n"
    st = host.stat()
    kind = "d" if host.is_dir() else "-"
    mode = "".join(c if st.st_mode & (1 << (8 - k)) else "-" for k, c in enumerate("rwxrwxrwx"))
    stamp = time.strftime("%b %e %H:%M", time.localtime(st.st_mtime))
    return f"{kind}{mode}    1 root     root     {st.st_size:>9} {stamp} {name}\n"


async def _grep(sh: Shell, argv: list[str], stdin: str) -> int:
    flags, args = "", []
    for arg in argv[1:]:
        if arg.startswith("-") and len(arg) > 1 and not args:
            flags += arg[1:]
        else:
            args.append(arg)
    if not args:
        sh.err("BusyBox v1.36.1 multi-call binary.\n\nUsage: grep [-qivcF] PATTERN [FILE]...\n")
        return 2
    pattern, names = args[0], args[1:]
    try:
        regex = re.compile(re.escape(pattern) if "F" in flags else pattern,
                           re.IGNORECASE if "i" in flags else 0)
    except re.error:
        sh.err(f"grep: bad regex '{pattern}'\n")
        return 2
    texts: list[str] = []
    for name in names or ["-"]:
        if name == "-":
            texts.append(stdin)
            continue
        try:
            texts.append(sh.files.read(name).decode("utf-8", "replace"))
        except OSError as exc:
            sh.err(f"grep: {name}: {_why(exc)}\n")
            return 2
    hits = [line for text in texts for line in text.splitlines()
            if bool(regex.search(line)) != ("v" in flags)]
    if "c" in flags:
        sh.out(f"{len(hits)}\n")
    elif "q" not in flags:
        sh.out("".join(line + "\n" for line in hits))
    return 0 if hits else 1


async def _hostname(sh: Shell, argv: list[str], stdin: str) -> int:
    if "-i" in argv[1:]:
        sh.out(sh.address + "\n")
    else:
        name = sh.env.get("HOSTNAME") or "ip-" + sh.address.replace(".", "-")
        sh.out(name + "\n")
    return 0


BUILTINS: dict[str, Builtin] = {
    **{name: _sh for name in SHELLS},
    "curl": http_tools.curl, "wget": http_tools.wget,
    "exit": _exit, "true": _true, ":": _true, "false": _false, "echo": _echo, "printf": _printf,
    "test": _test_cmd, "[": _test_cmd, "cat": _cat, "mkdir": _mkdir, "touch": _touch,
    "sleep": _sleep, "env": _env, "export": _export, "cd": _cd, "pwd": _pwd, "ls": _ls,
    "grep": _grep, "hostname": _hostname, "find": shell_tools.find,
}
