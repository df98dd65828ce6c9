"""Rows of dicts shown as a table: HTML in Jupyter, aligned text elsewhere."""
from __future__ import annotations

import html
from typing import Any, Iterable, Sequence


class Table(list):
    """A list of row dicts (what the helpers return) that Jupyter shows as a table."""

    def __init__(self, rows: Iterable[dict], columns: Sequence[str] | None = None, title: str = "") -> None:
        super().__init__(rows)
        self.title = title
        self.columns = list(columns) if columns else _columns(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_text(r.get(c)))}</td>" for c in self.columns) + "</tr>"
                       for r in self)
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __str__(self) -> str:
        cells = [[str(c) for c in self.columns]] + [[_text(r.get(c)) for c in self.columns] for r in self]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
        return "\n".join(([self.title] if self.title else []) + lines) if self.columns else self.title

    def __repr__(self) -> str:
        return str(self)


def _columns(rows: Sequence[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
