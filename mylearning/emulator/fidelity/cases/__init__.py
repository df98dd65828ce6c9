"""The fidelity table: calls a learner makes, each with what real AWS answers.

Each `Case` is one call (with whatever set-up it needs) and the expected
outcome: "ok", or the AWS error code. The same table drives the fidelity tests
(against our emulator) and the fidelity report (plain moto vs. our emulator, in
one run), so the gap between them is measured, not claimed.

Case modules (one or more per AWS service, e.g. ``ecs`` and ``ecs_placement``) define
`CASES`; `all_cases()` discovers every module in this package and gathers them, so
adding a service's cases adds a file and edits none.
"""
from __future__ import annotations

import importlib
import pkgutil
import uuid
from dataclasses import dataclass
from typing import Any, Callable

OK = "ok"


class BehaviourMismatch(AssertionError):
    """A call succeeded but what it did differs from AWS (e.g. a service never stabilises)."""


@dataclass(frozen=True)
class Case:
    id: str
    service: str
    call: Callable[["Env"], Any]
    expect: str  # OK or the AWS error code
    doc: str     # the AWS documentation page that states the rule
    kind: str = "validation"  # "validation" or "behaviour"


@dataclass
class CaseResult:
    case: Case
    outcome: str  # OK, an error code, "HTTP 500", or "crash: ..."

    @property
    def passed(self) -> bool:
        return self.outcome == self.case.expect


class Env:
    """What a case may use: boto3 clients on one endpoint and unique names."""

    def __init__(self, endpoint: str, region: str = "us-east-1"):
        import boto3
        from botocore.config import Config

        self.endpoint = endpoint
        self.region = region
        self._session = boto3.Session(aws_access_key_id="fidelity", aws_secret_access_key="fidelity",
                                      region_name=region)
        # No host prefix: DiscoverInstances would go to "data-127.0.0.1" (as mylearning's clients).
        self._config = Config(retries={"max_attempts": 1}, read_timeout=60, inject_host_prefix=False)
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service, endpoint_url=self.endpoint, config=self._config)
        return self._clients[service]

    @staticmethod
    def name(stem: str = "f") -> str:
        return f"{stem}-{uuid.uuid4().hex[:8]}"


def outcome_of(case: Case, env: Env) -> str:
    """Run one case; return OK or the error code AWS-style clients would see."""
    from botocore.exceptions import ClientError

    try:
        case.call(env)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status and status >= 500:
            return f"HTTP {status}"
        return code or f"HTTP {status}"
    except BehaviourMismatch as exc:
        return f"behaviour: {exc}"
    except Exception as exc:  # a crash in the emulator or a client-side parse failure
        return f"crash: {type(exc).__name__}: {str(exc)[:120]}"
    return OK


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", []))
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate fidelity case ids: {sorted(duplicates)}")
    return cases


def run(endpoint: str, cases: list[Case] | None = None) -> list[CaseResult]:
    env = Env(endpoint)
    return [CaseResult(case, outcome_of(case, env)) for case in (cases or all_cases())]
