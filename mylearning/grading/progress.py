"""A progress bar on stderr, without a dependency.

On a terminal it redraws one line; in a log (not a tty) it prints one line
per finished submission, which is what a CI log or `tee` wants.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool = True):
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = time.monotonic()

    def advance(self, label: str, detail: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate else 0.0
        if self.tty:
            width = 24
            filled = int(width * self.done / max(self.total, 1))
            bar = "#" * filled + "." * (width - filled)
            line = (f"\r[{bar}] {self.done}/{self.total}  {rate:.2f}/s  ETA {eta:4.0f}s  "
                    f"{label[:30]}: {detail}")
            self.stream.write(line[:120].ljust(120))
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{self.done}/{self.total}] {label}: {detail}\n")
        self.stream.flush()
