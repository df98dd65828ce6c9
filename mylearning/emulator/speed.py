"""Per-request overhead in moto's server that a check cell would feel.

A check makes several API calls and should answer in under 50 ms, so every
millisecond per call counts. moto's dispatcher (moto 5.2.x) lists its service
folders on disk on every request to route it (about 180 `stat` calls, 40% of
the server's time for a simple call). The list cannot change while the
emulator runs, so we compute it once.
"""
from __future__ import annotations


def cache_module_listing() -> None:
    """Make moto's `list_of_moto_modules()` return a list computed once."""
    from moto import backends

    original = backends.list_of_moto_modules
    if getattr(original, "_mylearning_cached", False):
        return
    modules = tuple(original())

    def listing() -> tuple[str, ...]:
        return modules

    listing._mylearning_cached = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = listing  # type: ignore[assignment]


def apply() -> None:
    cache_module_listing()
