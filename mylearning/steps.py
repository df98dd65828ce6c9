"""The step registry and check engine shared by check cells and batch grading.

Each lab declares its steps once (id, title, points, check function). A check
reads the account through the AWS API, never the notebook's variables, and
returns an Outcome; the engine turns anything unexpected into a failed step
with a reason, so a learner never sees a traceback from a check.
"""
from __future__ import annotations

import html
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Mapping

from mylearning import identity


@dataclass(frozen=True)
class Outcome:
    """What a check found: passed or not, why, and what to do about it."""

    passed: bool
    message: str
    hint: str = ""
    details: tuple[str, ...] = ()


def ok(message: str, *details: str) -> Outcome:
    return Outcome(True, message, "", tuple(details))


def fail(message: str, hint: str, *details: str) -> Outcome:
    if not hint:
        raise ValueError("A failed check must tell the learner what to do next (hint).")
    return Outcome(False, message, hint, tuple(details))


class Context:
    """What a check may use: the session's clients, the learner's names, stored answers.

    `memo` lets the steps of one evaluation share a lookup (the VPC, say)
    instead of asking the API again.
    """

    def __init__(self, session: Any, lab: str):
        self.session = session
        self.lab = lab
        self.learner: str = session.learner
        self.prefix: str = session.prefix
        self.region: str = session.region_name
        self.memo: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def name(self, *parts: str) -> str:
        return self.session.name(*parts)

    def answer(self, key: str) -> str | None:
        from mylearning.answers import read_answer
        return read_answer(self.session, self.lab, key)

    def remember(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


CheckFn = Callable[[Context], Outcome]


@dataclass
class StepResult:
    step_id: str
    title: str
    points: float
    max_points: float
    passed: bool
    message: str
    hint: str = ""
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "StepResult":
        """A result read back from `to_dict`'s form, as grading records store it.

        Strict on purpose: a key this class does not know means the record was
        written by other code, and the TypeError lets the reader treat it as stale.
        """
        return cls(**data)

    def to_text(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        lines = [f"[{mark}] Step {self.step_id} {self.title}: "
                 f"{_fmt(self.points)}/{_fmt(self.max_points)} points",
                 f"  {self.message}"]
        lines += [f"  - {d}" for d in self.details]
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        return "\n".join(lines)

    __str__ = to_text

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        color, bg, mark = (("#1a7f37", "#e8f6ec", "&#10004;") if self.passed
                           else ("#b42318", "#fdecea", "&#10008;"))
        details = "".join(f"<li>{html.escape(d)}</li>" for d in self.details)
        hint = (f"<div style='margin-top:4px'><b>Hint:</b> {html.escape(self.hint)}</div>"
                if self.hint else "")
        return (
            f"<div style='border-left:6px solid {color};background:{bg};padding:8px 12px;"
            f"margin:4px 0;font-family:sans-serif'>"
            f"<div style='color:{color};font-weight:bold'>{mark} Step {html.escape(self.step_id)} "
            f"&middot; {html.escape(self.title)} &middot; {_fmt(self.points)}/"
            f"{_fmt(self.max_points)} points</div>"
            f"<div>{html.escape(self.message)}</div>"
            f"{'<ul style=margin:2px>' + details + '</ul>' if details else ''}{hint}</div>")


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    points: float
    check: CheckFn

    def evaluate(self, ctx: Context) -> StepResult:
        start = time.perf_counter()
        try:
            outcome = self.check(ctx)
            if not isinstance(outcome, Outcome):
                raise TypeError(f"check returned {type(outcome).__name__}, not an Outcome")
        except Exception as exc:  # a check never raises at the learner
            outcome = _outcome_from_exception(exc)
        return StepResult(
            step_id=self.id, title=self.title,
            points=self.points if outcome.passed else 0.0, max_points=self.points,
            passed=outcome.passed, message=outcome.message, hint=outcome.hint,
            details=list(outcome.details), seconds=time.perf_counter() - start)


def _outcome_from_exception(exc: Exception) -> Outcome:
    name = type(exc).__name__
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return fail(f"AWS answered {err.get('Code')}: {err.get('Message')}",
                    "The resource this step needs is probably missing or misnamed. "
                    "Run the step's cells again, then re-run this check.")
    if name in ("EndpointConnectionError", "ConnectionClosedError", "ConnectTimeoutError",
                "ReadTimeoutError"):
        return fail(f"The backend did not answer ({exc}).",
                    "Run the lab's first cell again: it reconnects (and restarts the "
                    "embedded AWS if it stopped).")
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return fail("No AWS credentials are available for the real-AWS backend.",
                    "Configure credentials (aws configure) or use the embedded AWS.")
    return fail(f"The check could not finish: {name}: {exc}",
                "Re-run the step's cells, then this check. If it keeps failing, send this "
                "message to your instructor.")


def _fmt(points: float) -> str:
    return f"{points:g}"


class Lab:
    """One lab's ordered steps. Step ids are "N.M" where N is the lab number."""

    def __init__(self, number: str | int, title: str):
        self.number = identity.lab_id(number)
        self.title = title
        self.steps: dict[str, Step] = {}

    @classmethod
    def declared(cls, about: Any) -> "Lab":
        """The steps of a lab declared in the registry (`mylearning.course`): same number, same title."""
        return cls(about.number, about.title)

    def step(self, step_id: str, title: str, points: float = 1) -> Callable[[CheckFn], CheckFn]:
        major, _, minor = step_id.partition(".")
        if not (major.isdigit() and minor.isdigit()) or int(major) != int(self.number):
            raise ValueError(f"Step id {step_id!r} must look like '{int(self.number)}.N'")
        if step_id in self.steps:
            raise ValueError(f"Step {step_id} is declared twice in lab {self.number}")
        if points <= 0:
            raise ValueError("A step is worth a positive number of points")

        def deco(fn: CheckFn) -> CheckFn:
            self.steps[step_id] = Step(step_id, title, float(points), fn)
            return fn
        return deco

    def guarded_step(self, unavailable: Callable[[Any], str | None], hint: str) -> Callable[..., Callable[[CheckFn], CheckFn]]:
        """`step`, for a lab that cannot run everywhere: each check first asks
        `unavailable(session)` and, when it gives a reason, fails with it and `hint` before
        making any call (App Mesh's labs on a real account)."""
        def step(step_id: str, title: str, points: float = 1) -> Callable[[CheckFn], CheckFn]:
            def deco(fn: CheckFn) -> CheckFn:
                def check(ctx: "Context") -> "Outcome":
                    reason = unavailable(ctx.session)
                    return fail(reason, hint) if reason else fn(ctx)
                check.__name__, check.__doc__ = fn.__name__, fn.__doc__
                return self.step(step_id, title, points=points)(check)
            return deco
        return step

    @property
    def max_total(self) -> float:
        return sum(s.points for s in self.steps.values())

    def evaluate(self, session: Any, ids: Iterable[str] | None = None) -> "LabReport":
        ctx = Context(session, self.number)
        wanted = list(ids) if ids is not None else list(self.steps)
        unknown = [i for i in wanted if i not in self.steps]
        if unknown:
            raise KeyError(f"Lab {self.number} has no step {', '.join(unknown)}; "
                           f"its steps are {', '.join(self.steps)}")
        return LabReport(self, [self.steps[i].evaluate(ctx) for i in wanted])


@dataclass
class LabReport:
    lab: Lab
    results: list[StepResult]

    @property
    def total(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_total(self) -> float:
        return sum(r.max_points for r in self.results)

    def by_id(self) -> dict[str, StepResult]:
        return {r.step_id: r for r in self.results}

    def to_text(self) -> str:
        done = sum(r.passed for r in self.results)
        head = (f"Lab {self.lab.number} - {self.lab.title}: {done}/{len(self.results)} steps, "
                f"{_fmt(self.total)}/{_fmt(self.max_total)} points")
        return "\n".join([head] + [r.to_text() for r in self.results])

    __str__ = to_text

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        done = sum(r.passed for r in self.results)
        pct = 100 * self.total / self.max_total if self.max_total else 0
        rows = "".join(
            f"<tr><td>{'&#10004;' if r.passed else '&#10008;'}</td><td>{html.escape(r.step_id)}</td>"
            f"<td>{html.escape(r.title)}</td><td>{_fmt(r.points)}/{_fmt(r.max_points)}</td>"
            f"<td>{html.escape(r.message if r.passed else r.hint)}</td></tr>"
            for r in self.results)
        return (
            f"<div style='font-family:sans-serif'><b>Lab {self.lab.number} &middot; "
            f"{html.escape(self.lab.title)}</b>: {done}/{len(self.results)} steps, "
            f"{_fmt(self.total)}/{_fmt(self.max_total)} points"
            f"<div style='background:#eee;height:10px;width:300px;margin:4px 0'>"
            f"<div style='background:#1a7f37;height:10px;width:{pct * 3:.0f}px'></div></div>"
            f"<table><tr><th></th><th>Step</th><th>Title</th><th>Points</th><th>Status</th></tr>"
            f"{rows}</table></div>")
