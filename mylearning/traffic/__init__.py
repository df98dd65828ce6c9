"""Sending requests to what runs: one at a time (`get`), or as load (`send`).

On the embedded AWS every request goes through the data plane's edge proxy, which
stands for the internet (DESIGN.md, interface 6): through it a client reaches tasks by
their private IPs and load balancers by their DNS names. `proxy_url(session)` finds it
by itself; any HTTP client works the same way through it
(``curl -x PROXY http://10.0.1.23:8080/health``). On a real account requests go straight
to the URL, which then has to be reachable from your machine: a load balancer's DNS name
is, a task's private IP is not (it answers only inside its VPC).

* ``get(session, url)`` sends one request and returns its `Response`; HTTP errors are
  answers too, only a request nothing can carry raises `Unreachable`.
* ``send(session, url, requests=200)`` or ``send(session, url, rate=50, duration=30)``
  is the course's load generator: a closed loop of N requests at a `concurrency`, or an
  open loop at a rate for a duration (`mylearning.traffic.plan` says which to use when).
  It returns a `Summary`: counts by status, by the version that answered
  (``X-MyLearning-Version``), by the task that answered (``X-MyLearning-Task``), errors
  by kind, latency percentiles, and a per-second series; it prints as a table, plots
  with ``summary.plot()``, and gives graders ``summary.to_dict()``. In Jupyter a run
  longer than a few seconds shows live: requests per second, error rate, answers by
  version -- a rolling update or a canary is seen as it happens.
* ``start(session, url, rate=20, duration=60)`` sends the same traffic in the background
  and returns a `Running` at once: do something meanwhile (roll out a version), then
  ``run.wait()`` gives the `Summary`.

Importing this package is cheap: aiohttp, matplotlib and ipywidgets load on first use.
"""
from __future__ import annotations

from .load import Running, send, start
from .plan import MAX_IN_FLIGHT
from .reach import HEALTH_PATH, Response, Unreachable, get, proxy_url
from .results import TASK_HEADER, UNKNOWN, VERSION_HEADER, Percentiles, percentile
from .summary import Summary

__all__ = ["HEALTH_PATH", "MAX_IN_FLIGHT", "TASK_HEADER", "UNKNOWN", "VERSION_HEADER", "Percentiles",
           "Response", "Running", "Summary", "Unreachable", "get", "percentile", "proxy_url", "send", "start"]
