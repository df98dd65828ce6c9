"""How a run ends when asked to: a stop request is handled like Ctrl-C.

`asyncio.run` turns the first Ctrl-C into a cancellation of the main task; the
batch catches it, lets each stage clean up, and reports what was graded. A
SIGTERM (or SIGHUP, a closed terminal) from a scheduler or `kill` deserves the
same orderly end, so while the batch runs they cancel the main task too. The
handlers are removed before the stages clean up: a second request then ends the
process at once, and its kernels and emulators notice their parent is gone.
"""
from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Iterator


@contextlib.contextmanager
def stop_requests_cancel(task: asyncio.Task) -> Iterator[None]:
    """While inside: SIGTERM and SIGHUP cancel `task` (where the platform allows handlers)."""
    loop = asyncio.get_running_loop()
    stop_signals = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    for signum in stop_signals:
        with contextlib.suppress(RuntimeError, NotImplementedError, ValueError):
            loop.add_signal_handler(signum, task.cancel)
    try:
        yield
    finally:
        for signum in stop_signals:
            with contextlib.suppress(RuntimeError, NotImplementedError, ValueError):
                loop.remove_signal_handler(signum)
