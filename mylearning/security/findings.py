"""A scan's findings, and the report that shows them: a table in JupyterLab, text, a standalone page.

A finding is shaped like a Security Hub control finding (control id, severity, resource, status),
plus the course's two sentences, why it matters and how to fix it, so a learner can act on each
row. Every value in the HTML is escaped: resource names, tag values and policy text come from the
account, and a report must never run what someone put in a name.
"""
from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from mylearning.facts.securityhub import FAILED, PASSED, SEVERITIES, Control, severity_rank


@dataclass(frozen=True)
class Finding:
    control: Control
    resource: str
    status: str
    #: What the scan saw on this resource ("container web runs as root"), empty when it passed.
    detail: str = ""

    @property
    def control_id(self) -> str:
        return self.control.id

    @property
    def title(self) -> str:
        return self.control.title

    @property
    def severity(self) -> str:
        return self.control.severity

    @property
    def why(self) -> str:
        return self.control.why

    @property
    def fix(self) -> str:
        return self.control.fix

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    def as_row(self) -> dict[str, str]:
        return {"control": self.control_id, "severity": self.severity, "status": self.status,
                "resource": self.resource, "title": self.title, "detail": self.detail,
                "why": self.why, "fix": self.fix if self.failed else ""}


COLUMNS = ("control", "severity", "status", "resource", "title", "detail", "why", "fix")


def _order(finding: Finding) -> tuple:
    return (finding.status != FAILED, severity_rank(finding.severity),
            _control_key(finding.control_id), finding.resource)


def _control_key(control_id: str) -> tuple:
    """ECS.2 before ECS.10: the numeric part sorts as a number."""
    return tuple(int(p) if p.isdigit() else p for p in control_id.split("."))


class Report:
    """The findings of one scan, most severe failures first, with the notes of what it could not read.

    `failed()` and `control(...)` return narrower reports, so filters chain:
    ``report.failed().control("ECS.5")``.
    """

    def __init__(self, findings: Iterable[Finding], notes: Iterable[str] = (), scope: str = ""):
        self.findings: list[Finding] = sorted(findings, key=_order)
        self.notes: list[str] = list(notes)
        self.scope = scope

    # ------------------------------------------------------------- filters
    def failed(self) -> "Report":
        return Report([f for f in self.findings if f.failed], self.notes, self.scope)

    def passed(self) -> "Report":
        return Report([f for f in self.findings if f.status == PASSED], self.notes, self.scope)

    def control(self, *control_ids: str) -> "Report":
        """Only the findings of these controls (ids as "ECS.2"; a prefix such as "MYL.IAM" works)."""
        def wanted(cid: str) -> bool:
            return any(cid == c or cid.startswith(c.rstrip(".") + ".") for c in control_ids)
        return Report([f for f in self.findings if wanted(f.control_id)], self.notes, self.scope)

    def resource(self, arn: str) -> "Report":
        return Report([f for f in self.findings if f.resource == arn], self.notes, self.scope)

    # ------------------------------------------------------------- figures
    def counts(self) -> dict[str, int]:
        """FAILED findings by severity, every severity present (zeros included)."""
        found = Counter(f.severity for f in self.findings if f.failed)
        return {severity: found.get(severity, 0) for severity in SEVERITIES}

    def statuses(self, control_id: str, resource: str) -> set[str]:
        return {f.status for f in self.findings
                if f.control_id == control_id and f.resource == resource}

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self):
        return iter(self.findings)

    # ------------------------------------------------------------- rendering
    def _summary(self) -> str:
        counts = self.counts()
        failed = sum(counts.values())
        parts = ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n)
        text = (f"{len(self.findings)} findings: {failed} FAILED"
                f"{' (' + parts + ')' if parts else ''}, {len(self.findings) - failed} PASSED")
        return text + (f"; scope: {self.scope}" if self.scope else "")

    def __str__(self) -> str:
        lines = [self._summary()]
        for f in self.findings:
            lines.append(f"{f.status:<6} {f.severity:<8} {f.control_id:<10} {f.resource}")
            if f.failed:
                lines.append(f"       {f.title}" + (f": {f.detail}" if f.detail else ""))
                lines.append(f"       why: {f.why}")
                lines.append(f"       fix: {f.fix}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Report {self._summary()}>"

    def _table(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
        rows = []
        for f in self.findings:
            row = f.as_row()
            cells = []
            for c in COLUMNS:
                value = esc(row[c])
                if c == "control":
                    value = f'<a href="{esc(f.control.page, quote=True)}">{value}</a>'
                cells.append(f"<td>{value}</td>")
            rows.append(f'<tr class="{esc(f.status.lower(), quote=True)}">{"".join(cells)}</tr>')
        notes = "".join(f"<li>{esc(n)}</li>" for n in self.notes)
        return (f"<p><b>{esc(self._summary())}</b></p>"
                f"<table class=\"mylearning-scan\"><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>"
                + (f"<p>Not read:</p><ul>{notes}</ul>" if notes else ""))

    def _repr_html_(self) -> str:
        return self._table()

    def to_html(self, path: str | Path, title: str = "MyLearning security scan") -> Path:
        """Write a standalone HTML page (no scripts, no external files) and return its path."""
        path = Path(path)
        style = ("body{font-family:sans-serif}table{border-collapse:collapse}"
                 "td,th{border:1px solid #ccc;padding:4px;vertical-align:top;text-align:left}"
                 "tr.failed td:nth-child(3){color:#b00020;font-weight:bold}"
                 "tr.passed td:nth-child(3){color:#1b5e20}")
        page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(title)}</title><style>{style}</style></head>"
                f"<body><h1>{html.escape(title)}</h1>{self._table()}</body></html>\n")
        path.write_text(page, encoding="utf-8")
        return path
