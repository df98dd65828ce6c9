"""AWS X-Ray: segments checked as X-Ray checks them, and what moto 5.2 lacks or answers with 500.

Parts, each small enough to be offered upstream to moto on its own:

* **Segments** (``segments``, ``@handler``): PutTraceSegments keeps the documents the
  segment document schema allows and lists the others as UnprocessedTraceSegments.
* **Service graph** (``service_graph``, ``@handler``): GetServiceGraph built from the
  segments the account received (moto: always empty).
* **Trace summaries** (``summaries`` and ``filters``, ``@handler``): GetTraceSummaries with a
  FilterExpression, parsed by the developer guide's grammar (moto: HTTP 500).
* **Sampling rules** (``sampling``, ``@handler``): Create/Get/Update/DeleteSamplingRule with
  the Default rule (moto: HTTP 404), rules named by name or ARN but not both.

Shared by them: ``access`` (moto's X-Ray state, InvalidRequestException).
moto is imported lazily: importing this package leaves moto untouched.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.xray import segments as _segments  # noqa: F401
from mylearning.emulator.fidelity.xray import service_graph as _service_graph  # noqa: F401
from mylearning.emulator.fidelity.xray import summaries as _summaries  # noqa: F401
from mylearning.emulator.fidelity.xray import sampling as _sampling  # noqa: F401
from mylearning.emulator.fidelity.xray.service_graph import build_service_graph

__all__ = ["build_service_graph"]
