"""A run's summary: what answered, which version and task, how fast, what failed.

It prints as a plain-text table (``print(summary)``, and its repr), shows as a small
HTML table in Jupyter, draws with matplotlib (``summary.plot()``), and turns into plain
JSON-able data for graders (``summary.to_dict()``). Definitions (success, error kinds,
percentiles) are in ``mylearning.traffic.results``.
"""
from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .results import NO_ANSWER, UNKNOWN, Percentiles, Recorder, Result, Second, per_second


def _ordered(counts: Counter) -> dict:
    """Biggest first, then by name; `unknown` last, since it is the absence of an answer."""
    return dict(sorted(counts.items(), key=lambda kv: (kv[0] == UNKNOWN, -kv[1], str(kv[0]))))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _share(n: int, total: int) -> str:
    return f"{100.0 * n / total:.1f}%" if total else "-"


@dataclass(repr=False)
class Summary:
    """What a `send()` run measured. Latencies in milliseconds, durations in seconds."""

    url: str
    method: str
    mode: str  # "requests" (N as fast as `concurrency` allows) or "rate" (open loop)
    scheduled: int  # requests the run set out to send
    sent: int
    count: int  # requests finished (answered or failed)
    duration: float
    by_status: dict[int, int]  # status 0: no answer
    by_version: dict[str, int]
    by_target: dict[str, int]
    errors: dict[str, int]  # by kind
    error_examples: dict[str, str]  # one message for each kind that has one
    latency: Percentiles  # over every finished request
    ok_latency: Percentiles  # over successful ones
    series: list[Second]
    concurrency: int | None = None
    rate: float | None = None
    planned_duration: float | None = None
    skipped: int = 0
    late: int = 0
    max_late: float = 0.0
    interrupted: bool = False
    unfinished: int = 0  # in flight when the run was interrupted: not counted
    via: str | None = None  # the proxy the requests went through, if any
    _results: list[Result] = field(default_factory=list)

    @classmethod
    def build(cls, recorder: Recorder, *, url: str, method: str, mode: str, scheduled: int,
              concurrency: int | None = None, rate: float | None = None,
              planned_duration: float | None = None, interrupted: bool = False,
              via: str | None = None, examples: dict[str, str] | None = None) -> "Summary":
        seen = recorder.snapshot()
        results = sorted(seen.results, key=lambda r: r.started)
        duration = seen.elapsed()
        return cls(
            url=url, method=method, mode=mode, scheduled=scheduled, sent=seen.sent, count=len(results),
            duration=duration,
            by_status=dict(sorted(Counter(r.status for r in results).items())),
            by_version=_ordered(Counter(r.version for r in results)),
            by_target=_ordered(Counter(r.target for r in results)),
            errors=_ordered(Counter(r.error for r in results if r.error)),
            error_examples=dict(examples or {}),
            latency=Percentiles.of(r.latency for r in results),
            ok_latency=Percentiles.of(r.latency for r in results if r.ok),
            series=per_second(results, duration), concurrency=concurrency, rate=rate,
            planned_duration=planned_duration, skipped=seen.skipped, late=seen.late,
            max_late=seen.max_late, interrupted=interrupted, unfinished=seen.sent - len(results),
            via=via, _results=results)

    # -- derived numbers ---------------------------------------------------------
    @property
    def ok(self) -> int:
        return self.count - self.error_count

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def error_rate(self) -> float:
        return self.error_count / self.count if self.count else 0.0

    @property
    def achieved_rate(self) -> float:
        """Requests finished per second of the run."""
        return self.count / self.duration if self.duration > 0 else 0.0

    @property
    def kept_rate(self) -> bool | None:
        """Whether an open-loop run started its requests on time (None for a requests= run).

        It did not when it had to skip starts (too many in flight) or when more than 5%
        of them started late (the client itself was too busy).
        """
        if self.mode != "rate":
            return None
        return self.skipped == 0 and self.late <= 0.05 * max(self.scheduled, 1)

    @property
    def notes(self) -> list[str]:
        said = []
        if self.interrupted:
            said.append(f"interrupted after {self.duration:.1f} s: {self.count} of {self.scheduled} "
                        f"requests finished" + (f", {self.unfinished} in flight not counted"
                                                if self.unfinished else ""))
        if self.kept_rate is False:
            behind = []
            if self.skipped:
                behind.append(f"{self.skipped} requests not sent because too many were in flight "
                              "(the server answers slower than the rate needs)")
            if self.late:
                behind.append(f"{self.late} started late (up to {self.max_late * 1000:.0f} ms; "
                              "this machine was too busy)")
            said.append(f"the client could not keep {self.rate:g} requests/s: " + "; ".join(behind))
        return said

    # -- as data -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (status codes become strings, as JSON keys must)."""
        return {
            "url": self.url, "method": self.method, "mode": self.mode, "via": self.via,
            "concurrency": self.concurrency, "rate": self.rate, "planned_duration": self.planned_duration,
            "scheduled": self.scheduled, "sent": self.sent, "count": self.count, "ok": self.ok,
            "error_count": self.error_count, "error_rate": round(self.error_rate, 6),
            "duration": round(self.duration, 6), "achieved_rate": round(self.achieved_rate, 3),
            "kept_rate": self.kept_rate, "skipped": self.skipped, "late": self.late,
            "max_late_ms": round(self.max_late * 1000, 3), "interrupted": self.interrupted,
            "unfinished": self.unfinished,
            "by_status": {str(k): v for k, v in self.by_status.items()},
            "by_version": dict(self.by_version), "by_target": dict(self.by_target),
            "errors": dict(self.errors), "error_examples": dict(self.error_examples),
            "latency_ms": {"all": self.latency.to_dict(), "ok": self.ok_latency.to_dict()},
            "series": [s.to_dict() for s in self.series],
            "notes": self.notes,
        }

    # -- as text -----------------------------------------------------------------
    def headline(self) -> str:
        plan = (f"rate {self.rate:g}/s for {self.planned_duration:g} s" if self.mode == "rate"
                else f"{self.scheduled} requests, concurrency {self.concurrency}")
        return (f"{self.method} {self.url} ({plan}): {self.count} finished in {self.duration:.2f} s, "
                f"{self.achieved_rate:.1f}/s, {self.ok} ok, {self.error_count} errors "
                f"({100 * self.error_rate:.1f}%)")

    def tables(self) -> list[tuple[list[str], list[list[str]]]]:
        """The summary as (header, rows) tables: what both the text and the HTML show."""
        def counts(title: str, items: dict) -> tuple[list[str], list[list[str]]]:
            return [title, "count", "share"], [[str(k), str(v), _share(v, self.count)] for k, v in items.items()]

        status = {("0 (no answer)" if k == NO_ANSWER else k): v for k, v in self.by_status.items()}
        tables = [counts("status", status), counts("version", self.by_version), counts("task", self.by_target)]
        if self.errors:
            tables.append((["error", "count", "example"],
                           [[k, str(v), self.error_examples.get(k, "")[:70]] for k, v in self.errors.items()]))
        tables.append((["latency ms", "n", "p50", "p95", "p99", "max"],
                       [[name, str(p.count), _ms(p.p50), _ms(p.p95), _ms(p.p99), _ms(p.max)]
                        for name, p in (("ok", self.ok_latency), ("all", self.latency))]))
        return tables

    def __str__(self) -> str:
        lines = [self.headline()] + [f"note: {n}" for n in self.notes]
        for header, rows in self.tables():
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
            lines.append("")
            for row in [header, *rows]:
                cells = [c.ljust(w) if i == 0 or header[i] == "example" else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths))]
                lines.append("  " + "  ".join(cells).rstrip())
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(self.headline())}</b></p>"]
        parts += [f'<p style="color:#ef6c00">{html.escape(n)}</p>' for n in self.notes]
        parts.append('<div style="display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start">')
        for header, rows in self.tables():
            head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
            body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        parts.append("</div>")
        return "".join(parts)

    # -- as a chart --------------------------------------------------------------
    def plot(self, *, bins: int = 40) -> Any:
        """Draw the per-second series (by version, with the error rate) and the latency
        histogram with its percentiles; returns the matplotlib Figure."""
        from .plot import summary_figure
        return summary_figure(self, bins=bins)

    def latencies(self, ok_only: bool = False) -> list[float]:
        """Every finished request's latency in milliseconds, in the order they started."""
        return [r.latency * 1000 for r in self._results if r.ok or not ok_only]
