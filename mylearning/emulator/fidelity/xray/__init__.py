"""AWS X-Ray: segments checked as X-Ray checks them, and what moto 5.2 lacks or answers with 500.

Parts, each small enough to be offered upstream to moto on its own:

* **Segments** (``segments``, ``@handler``): PutTraceSegments keeps the documents the
  segment document schema allows and lists the others as UnprocessedTraceSegments.
* **Service graph** (``service_graph``, ``@handler``): GetServiceGraph built from the
  segments the account received (moto: always empty).
* **Trace summaries** (``summaries`` and ``filters``, ``@handler``): GetTraceSummaries with a
  FilterExpression, parsed by the developer guide's grammar (moto: HTTP 500), TimeRangeType,
  Sampling, and summaries with Http, Annotations, ServiceIds, EntryPoint and root causes
  (``root_causes``) (moto: guesses).
* **Full traces** (``full_traces``, ``@handler``): BatchGetTraces with separately sent
  subsegments placed under their parents and inferred segments added (moto: raw documents).
* **Trace graph** (``service_graph``, ``@handler``): GetTraceGraph for given trace ids
  (moto: empty).
* **Groups** (``groups``, ``@handler``): Create/Get/Update/DeleteGroup and GetGroups with the
  Default group, so GetServiceGraph's GroupName works (moto: HTTP 404).
* **Sampling rules** (``sampling``, ``@handler``): Create/Get/Update/DeleteSamplingRule with
  the Default rule (moto: HTTP 404), rules named by name or ARN but not both.

Shared by them: ``access`` (the account, the time window, InvalidRequestException),
``store`` (the documents, parsed once, by trace), ``graph`` (one trace's services and calls,
inferred services included) and ``traces`` (what filter keywords read of a trace). The facts
are in ``mylearning.facts.xray``.
moto is imported lazily: importing this package leaves moto untouched.
"""
from __future__ import annotations

from mylearning.emulator.fidelity.xray import segments as _segments  # noqa: F401
from mylearning.emulator.fidelity.xray import service_graph as _service_graph  # noqa: F401
from mylearning.emulator.fidelity.xray import summaries as _summaries  # noqa: F401
from mylearning.emulator.fidelity.xray import sampling as _sampling  # noqa: F401
from mylearning.emulator.fidelity.xray import full_traces as _full_traces  # noqa: F401
from mylearning.emulator.fidelity.xray import groups as _groups  # noqa: F401
from mylearning.emulator.fidelity.xray.service_graph import build_service_graph

__all__ = ["build_service_graph"]
