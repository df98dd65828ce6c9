"""The few lines an instructor reads after a batch: how many, how well, what failed."""
from __future__ import annotations

from statistics import mean, median
from typing import Sequence

from mylearning.grading.records import Grade


def summarize(grades: Sequence[Grade], step_ids: Sequence[str], *, failures: Sequence[str] = (),
              wall_seconds: float | None = None, slowest: int = 3) -> str:
    if not grades:
        lines = ["No submission was graded."]
        lines += [f"Could not grade: {f}" for f in failures]
        return "\n".join(lines)
    totals = [g.total for g in grades]
    max_total = max(g.max_total for g in grades)
    resumed = sum(g.resumed for g in grades)
    head = f"Graded {len(grades)} submission{'s' if len(grades) != 1 else ''}"
    if resumed:
        head += f" ({resumed} from an earlier run)"
    if wall_seconds is not None:
        head += f" in {wall_seconds:.1f} s"
    lines = [head + ".",
             f"Mean {mean(totals):.2f} / {max_total:g}, median {median(totals):g}, "
             f"full marks {sum(t >= max_total for t in totals)}, zero {sum(t == 0 for t in totals)}."]
    if step_ids:
        lines.append("Pass rate per step:")
        for step in step_ids:
            passed = sum(1 for g in grades for s in g.steps if s.step_id == step and s.passed)
            title = next((s.title for g in grades for s in g.steps if s.step_id == step), "")
            lines.append(f"  {step:>6}  {100 * passed / len(grades):5.1f}%  {title}")
    stopped = [g for g in grades if g.execution.get("stop") or g.execution.get("unreadable")]
    if stopped:
        lines.append(f"{len(stopped)} did not run to the end (see each feedback.md).")
    flagged = [g for g in grades if any(n.startswith("TAMPER") for n in g.notes)]
    if flagged:
        lines.append("Changed the grader's output folder while running (restored): "
                     + ", ".join(g.submission for g in flagged))
    fresh = [g for g in grades if not g.resumed]
    if fresh and slowest:
        ranked = sorted(fresh, key=lambda g: g.seconds, reverse=True)[:slowest]
        lines.append("Slowest: " + ", ".join(f"{g.submission} ({g.seconds:.1f} s)"
                                             for g in ranked))
    lines += [f"Could not grade: {f}" for f in failures]
    return "\n".join(lines)
