"""The lab registry: every lab of the course, found by its number.

Each lab has one library module here, ``labNN_topic.py``, beside its notebooks
(``solutions/NN-topic.ipynb``, ``labs/NN-topic.ipynb``) and its grader
(``graders/labNN_topic.py``). The module holds, in one place:

* ``ABOUT``, the lab's declaration (:class:`LabInfo`): its title, the AWS services
  its notebook, checks, builder and teardown call, and the course concepts it uses.
  Grading reads the services from here (to create the kernel's clients while it
  boots), the emulator pre-warms them, and tests hold each declaration to the code.
* ``build(session)``, when later labs need what the lab builds: its end state, built
  idempotently (find before create); ``prepare.up_to`` runs it.
* ``teardown(session, execute=False)``: the plan that removes what the lab created,
  and nothing else; ``mylearning.teardown.plan`` runs it.

Nothing else in the library is keyed by a lab's number: adding a lab adds files,
it edits none of the shared ones.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import pkgutil
import re
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable

from mylearning.identity import lab_id

if TYPE_CHECKING:  # pragma: no cover
    from mylearning.steps import Lab

_MODULE = re.compile(r"^lab(\d\d)_\w+$")

#: The lab that builds the network and cluster every later lab runs on. Lab modules
#: that need them before their own turn (the App Runner migration lands a service
#: on that cluster) ask `prepare.foundation` for them, not for a lab by number.
FOUNDATION = "02"


@dataclass(frozen=True)
class LabInfo:
    """What a lab is, declared once: shown in notebooks and reports, read by grading."""

    number: str
    title: str
    #: boto3 client names the lab's notebook, checks, builder and teardown call.
    services: tuple[str, ...]
    #: mylearning modules (course concepts) the lab teaches with.
    concepts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "number", lab_id(self.number))
        if not self.title:
            raise ValueError(f"Lab {self.number} needs a title")
        bad = [s for s in self.services if not re.fullmatch(r"[a-z0-9-]+", s)]
        if bad:
            raise ValueError(f"Lab {self.number}: {bad} are not boto3 client names")


@functools.lru_cache(maxsize=None)
def _scan(package: str) -> dict[str, str]:
    """Lab number -> module name, for the labNN_topic modules of an importable package.

    Read from the file system once per process: every check cell goes through it, and
    the course's labs do not change while it runs."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return {}
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(spec.submodule_search_locations):
        match = _MODULE.match(info.name)
        if match:
            found[match.group(1)] = f"{package}.{info.name}"
    return dict(sorted(found.items()))


def numbers() -> list[str]:
    """Every lab's number, in course order."""
    return list(_scan(__name__))


def module(number: str | int) -> ModuleType:
    """The lab's library module (its declaration, builder and teardown)."""
    key = lab_id(number)
    modules = _scan(__name__)
    if key not in modules:
        raise KeyError(f"There is no lab {key}. The course's labs are {', '.join(modules)}.")
    return importlib.import_module(modules[key])


def about(number: str | int) -> LabInfo:
    return module(number).ABOUT


def builder(number: str | int) -> Callable[[Any], None] | None:
    """The function that builds the lab's end state, or None when later labs need nothing of it."""
    return getattr(module(number), "build", None)


def services_up_to(number: str | int) -> tuple[str, ...]:
    """The services a notebook of lab `number` calls: its own and those its preparation calls."""
    key = lab_id(number)
    found = set(about(key).services)
    for earlier in numbers():
        if earlier < key and builder(earlier) is not None:
            found.update(about(earlier).services)
    return tuple(sorted(found))


def all_services() -> tuple[str, ...]:
    """Every service some lab calls: what the embedded AWS must serve, and pre-warms."""
    return tuple(sorted({s for n in numbers() for s in about(n).services}))


# ------------------------------------------------------------ the one lookup into graders/
#: The package holding the labs' checks (for code that ships or fingerprints the course).
GRADERS_PACKAGE = "graders"


def grader_module(number: str | int) -> ModuleType:
    """The lab's grader, ``graders/labNN_topic.py``: the library's only way into `graders`.

    The graders import the library (its step engine, its helpers); the library
    never imports them by name, only through this lookup by lab number, so the two
    packages do not import each other.
    """
    key = lab_id(number)
    modules = _scan(GRADERS_PACKAGE)
    if key not in modules:
        raise KeyError(f"There is no lab {key}. Labs with checks: {', '.join(modules) or 'none'}.")
    return importlib.import_module(modules[key])


def grader(number: str | int) -> "Lab":
    """The lab's steps and checks (a `mylearning.steps.Lab`)."""
    return grader_module(number).LAB


def graded_numbers() -> list[str]:
    """The labs that have a grader."""
    return list(_scan("graders"))


def lab_of_step(step_id: str) -> "Lab":
    """The lab a step id like "2.3" belongs to."""
    major = str(step_id).partition(".")[0]
    if not major.isdigit():
        raise KeyError(f"A step id looks like '2.3' (lab 2, step 3); got {step_id!r}")
    return grader(major)
