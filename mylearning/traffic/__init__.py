"""Sending requests to what runs (a package, so the load generator can join it)."""
from __future__ import annotations

from .reach import HEALTH_PATH, Response, Unreachable, get, proxy_url

__all__ = ["HEALTH_PATH", "Response", "Unreachable", "get", "proxy_url"]
