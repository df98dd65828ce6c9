"""Per-request overhead in moto's server that a check cell would feel.

A check makes several API calls and should answer in under 50 ms, and batch
grading sends thousands, so every millisecond per call counts. moto's
dispatcher (moto 5.2.x) repeats pure lookups on every request:

* it lists its service folders on disk to route a request (about 180 `stat`
  calls, 40% of the server's time for a simple call);
* it maps the request's host to a backend by trying URL patterns;
* it lists a response class's methods with `inspect.getmembers`.

None of these can change while the emulator runs, so each is computed once.
Answers are unchanged; only the lookups are cached.
"""
from __future__ import annotations

from typing import Any, Callable


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


def cache_dispatch_lookups() -> None:
    """Memoise moto's host-to-backend and action-name lookups (pure functions of their input)."""
    from moto.core import responses, utils
    from moto.moto_server import werkzeug_app

    dispatcher = werkzeug_app.DomainDispatcherApplication
    if getattr(dispatcher.get_backend_for_host, "_mylearning_cached", False):
        return
    by_host: dict[Any, Any] = {}
    find_backend: Callable = dispatcher.get_backend_for_host

    def get_backend_for_host(self: Any, host: Any) -> Any:
        try:
            return by_host[host]
        except KeyError:
            found = by_host[host] = find_backend(self, host)
            return found

    by_class: dict[Any, list[str]] = {}
    list_methods: Callable = utils.method_names_from_class

    def method_names_from_class(clazz: Any) -> list[str]:
        try:
            return by_class[clazz]
        except KeyError:
            names = by_class[clazz] = list_methods(clazz)
            return names

    get_backend_for_host._mylearning_cached = True  # type: ignore[attr-defined]
    dispatcher.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
    responses.method_names_from_class = method_names_from_class  # type: ignore[assignment]


def apply() -> None:
    cache_module_listing()
    cache_dispatch_lookups()
