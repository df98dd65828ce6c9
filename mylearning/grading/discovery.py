"""Turn the command line's files and folders into a stable list of submissions.

Grades are keyed by a notebook's content hash, not its name or date, so a
re-run recognises what it already graded and a renamed copy is still the same
work. Names are the path relative to the folder given, which is what an
instructor sees in the gradebook.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

#: Files or folders named like these inside a submissions folder are not submissions.
_SKIP_PARTS = re.compile(r"^\.|^__pycache__$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: Names an output sub-folder may not take, because the grader writes files with them.
RESERVED = {"grades.csv", "summary.txt"}


class DiscoveryError(ValueError):
    """A path on the command line does not exist: a typo, not a learner's mistake."""


@dataclass(frozen=True)
class Submission:
    path: Path
    #: Shown in grades.csv: the path relative to the folder given (or the file's name).
    name: str
    #: The sub-folder of the output folder that holds this submission's results.
    slug: str
    sha256: str
    size: int


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size, read in chunks so a huge file never sits in memory."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _slug(name: str) -> str:
    stem = name[:-len(".ipynb")] if name.endswith(".ipynb") else name
    slug = _UNSAFE.sub("_", stem.replace("/", "__")).strip("._") or "submission"
    return "_" + slug if slug.lower() in RESERVED else slug


def _candidates(arg: Path, exclude: Path | None) -> Iterable[tuple[Path, str]]:
    if arg.is_dir():
        for path in sorted(arg.rglob("*.ipynb")):
            rel = path.relative_to(arg)
            if any(_SKIP_PARTS.search(part) for part in rel.parts):
                continue
            if exclude is not None and _inside(path, exclude):
                continue
            if path.is_file():
                yield path, rel.as_posix()
    else:
        yield arg, ""


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def discover(args: Iterable[str | Path], exclude: Path | None = None) -> list[Submission]:
    """Every submission named by `args` (files, or folders searched for *.ipynb).

    A file given explicitly is a submission whatever its contents (a broken one
    still gets a grade with a reason); `exclude` (the output folder) is never
    searched. Duplicated paths count once; clashing names get a numbered suffix.
    """
    found: list[Submission] = []
    seen_paths: set[Path] = set()
    names: set[str] = set()
    slugs: set[str] = set()
    for raw in args:
        arg = Path(raw)
        if not arg.exists():
            raise DiscoveryError(f"No such file or folder: {arg}")
        for path, name in _candidates(arg, exclude):
            if not name:  # a file named on the command line: its name, or its path on a clash
                name = path.name if path.name.lower() not in names else path.as_posix()
            real = path.resolve()
            if real in seen_paths:
                continue
            seen_paths.add(real)
            name, slug = _unique(name, names), _unique(_slug(name), slugs)
            digest, size = file_digest(path)
            found.append(Submission(path=path, name=name, slug=slug, sha256=digest, size=size))
    return found


def _unique(value: str, taken: set[str]) -> str:
    stem, dot, ext = value.rpartition(".") if value.endswith(".ipynb") else (value, "", "")
    candidate, n = value, 2
    while candidate.lower() in taken:
        candidate, n = f"{stem}-{n}{dot}{ext}", n + 1
    taken.add(candidate.lower())
    return candidate
