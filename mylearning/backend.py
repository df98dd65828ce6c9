"""`connect()`: one boto3 session for the chosen backend, embedded AWS by default.

MYLEARNING_BACKEND=emulator (default) talks to the learner's embedded AWS, which
is started on first use and shared by all their notebooks. MYLEARNING_ENDPOINT
points at an emulator that already runs (graders and tests use this).
MYLEARNING_BACKEND=aws uses the learner's own credentials, and only after an
explicit opt-in: a course must never spend someone's money by accident.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Any, Iterable

from mylearning import identity
from mylearning.emulator import auth

EMULATOR, AWS = "emulator", "aws"
DEFAULT_REGION = "us-east-1"
#: The value of MYLEARNING_AWS_OPT_IN (or `connect(aws_opt_in=...)`) that allows real AWS.
OPT_IN_PHRASE = "I-UNDERSTAND-THIS-COSTS-MONEY"
#: Dummy credentials for an open emulator; real ones are never sent to it. A grading
#: emulator checks a credential of its own instead (`mylearning.emulator.auth`).
EMULATOR_CREDENTIALS = auth.DUMMY


class BackendError(RuntimeError):
    """The backend cannot be used as asked; the message says what to do."""


class CourseSession:
    """A boto3 Session bound to one backend, plus the learner's naming and tags.

    `client()` and `resource()` behave like boto3's; on the emulator they carry
    its endpoint, so nothing can reach a real account by mistake. Clients are
    cached: creating a boto3 client costs tens of milliseconds, and check cells
    should answer at once.
    """

    def __init__(self, boto_session: Any, backend: str, endpoint: str | None,
                 learner: str, announce: str = ""):
        self.boto_session = boto_session
        self.backend = backend
        self.endpoint = endpoint
        self.learner = learner
        self.prefix = identity.prefix(learner)
        self.announce = announce
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def region_name(self) -> str:
        return self.boto_session.region_name

    region = region_name

    @property
    def is_emulator(self) -> bool:
        return self.backend == EMULATOR

    def _config(self):
        from botocore.config import Config
        if self.is_emulator:
            return _emulator_config()
        return Config(retries={"max_attempts": 5, "mode": "standard"})

    def client(self, service_name: str, **kwargs: Any) -> Any:
        if kwargs:
            return self.boto_session.client(service_name, **self._client_kwargs(kwargs))
        with self._lock:
            if service_name not in self._clients:
                ready = (_PREWARMED.get((self.endpoint, self.region_name, service_name))
                         if self.is_emulator else None)
                self._clients[service_name] = ready or self.boto_session.client(
                    service_name, **self._client_kwargs({}))
            return self._clients[service_name]

    def cached_client(self, service_name: str) -> Any | None:
        """The client `client(service_name)` would return without creating one, or None.

        For a caller that must serialise client creation itself (botocore's is
        not thread-safe when sessions share one boto3 Session, as the batch
        grader's do) but should not wait on that lock for a client that exists.
        It takes no lock: a dict lookup is atomic, and a client is never replaced.
        """
        return self._clients.get(service_name)

    def resource(self, service_name: str, **kwargs: Any) -> Any:
        return self.boto_session.resource(service_name, **self._client_kwargs(kwargs))

    def _client_kwargs(self, kwargs: dict) -> dict:
        if self.is_emulator:
            kwargs.setdefault("endpoint_url", self.endpoint)
        kwargs.setdefault("config", self._config())
        return kwargs

    def tags(self, lab: str | int, *, style: str = "Key", **extra: str) -> list[dict[str, str]]:
        """The course tags for a resource made in `lab` (style "key" for ECS)."""
        return identity.tag_list(lab, self.learner, style=style, extra=extra or None)

    def tag_spec(self, resource_type: str, lab: str | int, name: str | None = None,
                 **extra: str) -> list[dict]:
        """EC2-style TagSpecifications: the course tags, a Name tag, and any extra tags."""
        if name:
            extra = {"Name": name, **extra}
        return [{"ResourceType": resource_type, "Tags": self.tags(lab, **extra)}]

    def name(self, *parts: str) -> str:
        """A resource name under the learner's prefix: name("cluster") -> "ml-alice-cluster"."""
        return "-".join((self.prefix,) + tuple(p for p in parts if p))

    def __repr__(self) -> str:
        where = self.endpoint if self.is_emulator else "real AWS"
        return (f"<CourseSession backend={self.backend} region={self.region_name} "
                f"learner={self.learner} at {where}>")


def _emulator_config():
    from botocore.config import Config
    # One attempt: the emulator is local, and a retried half-done write would
    # repeat its effects.
    # inject_host_prefix=False: an operation whose model prefixes the host (Cloud Map's
    # DiscoverInstances: "data-servicediscovery...") must still reach the emulator's address.
    return Config(retries={"max_attempts": 1, "mode": "standard"},
                  connect_timeout=5, read_timeout=120, inject_host_prefix=False)


#: Emulator clients made ahead of time, by (endpoint, region, service). Clients
#: for the emulator carry only its endpoint and dummy credentials, so any
#: session on that endpoint may use them.
_PREWARMED: dict[tuple[str, str, str], Any] = {}


def prewarm_clients(services: Iterable[str]) -> int:
    """Create the emulator clients a notebook will ask for, before it runs.

    Creating a boto3 client costs tens of milliseconds (EC2's model is large).
    The batch grader calls this while a kernel boots, in parallel with the
    previous submission, so the notebook's first cells find their clients ready.
    Makes no API call; does nothing without MYLEARNING_ENDPOINT.
    """
    endpoint = os.environ.get("MYLEARNING_ENDPOINT")
    if not endpoint:
        return 0
    import boto3
    region = _region(None)
    session = boto3.Session(region_name=region, **auth.client_credentials())
    for name in services:
        key = (endpoint, region, name)
        if key not in _PREWARMED:
            _PREWARMED[key] = session.client(name, endpoint_url=endpoint,
                                             config=_emulator_config())
    return len(_PREWARMED)


_current: CourseSession | None = None
_current_key: tuple | None = None


def _env_key() -> tuple:
    return tuple(os.environ.get(k) for k in (
        "MYLEARNING_BACKEND", "MYLEARNING_ENDPOINT", "MYLEARNING_REGION", "MYLEARNING_LEARNER",
        "MYLEARNING_HOME", "MYLEARNING_AWS_OPT_IN", "AWS_PROFILE", "AWS_DEFAULT_REGION",
        auth.TOKEN_VAR))


def connect(backend: str | None = None, *, region: str | None = None,
            aws_opt_in: str | None = None, quiet: bool = False) -> CourseSession:
    """The learner's session on the chosen backend (emulator unless told otherwise).

    Repeated calls with the same settings return the same session, so every
    cell and every check shares its clients.
    """
    global _current, _current_key
    key = (backend, region, aws_opt_in) + _env_key()
    if _current is not None and _current_key == key and _still_reachable(_current):
        return _current
    chosen = (backend or os.environ.get("MYLEARNING_BACKEND") or EMULATOR).strip().lower()
    if chosen == EMULATOR:
        session = _connect_emulator(region)
    elif chosen == AWS:
        session = _connect_aws(region, aws_opt_in)
    else:
        raise BackendError(
            f"Unknown backend {chosen!r}. Use 'emulator' (the default, no AWS account needed) "
            "or 'aws' (your own account, explicit opt-in).")
    if session.announce and not quiet:
        print(session.announce, file=sys.stderr if session.is_emulator else sys.stdout)
    _current, _current_key = session, key
    return session


def _still_reachable(session: CourseSession) -> bool:
    """False when the session's emulator has died, so the next connect() starts a new one."""
    if not session.is_emulator:
        return True
    from mylearning.emulator import manager
    return manager.health(session.endpoint, timeout=5.0) is not None


def current() -> CourseSession:
    """The session of the last `connect()`, connecting with the defaults if none yet."""
    return _current if _current is not None else connect(quiet=True)


def _region(region: str | None, fallback: str | None = None) -> str:
    return region or os.environ.get("MYLEARNING_REGION") or fallback or DEFAULT_REGION


def _connect_emulator(region: str | None) -> CourseSession:
    import boto3

    from mylearning.emulator import manager

    announce = ""
    endpoint = os.environ.get("MYLEARNING_ENDPOINT")
    if endpoint:
        if manager.health(endpoint, timeout=10.0) is None:
            raise BackendError(
                f"MYLEARNING_ENDPOINT is {endpoint}, but no embedded AWS answers there. "
                "Start one with `mylearning emulator --port PORT`, or unset "
                "MYLEARNING_ENDPOINT to let the course start one for you.")
    else:
        running = manager.ensure_running()
        endpoint = running.record.url
        if running.reset:
            announce = ("Your embedded AWS had stopped, so a new one was started and your "
                        "emulated account is empty again. Run each lab's first cell to rebuild "
                        "what earlier labs created.")
    session = boto3.Session(region_name=_region(region), **auth.client_credentials())
    return CourseSession(session, EMULATOR, endpoint, identity.learner_id(), announce)


def _connect_aws(region: str | None, aws_opt_in: str | None) -> CourseSession:
    opt_in = aws_opt_in or os.environ.get("MYLEARNING_AWS_OPT_IN", "")
    if opt_in != OPT_IN_PHRASE:
        raise BackendError(
            "The 'aws' backend creates resources in YOUR AWS account, and some of them cost "
            "money. It is off unless you opt in explicitly: set "
            f"MYLEARNING_AWS_OPT_IN={OPT_IN_PHRASE} (or pass aws_opt_in=...) and run again. "
            "Without it, use the embedded AWS: unset MYLEARNING_BACKEND.")
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.Session(region_name=region or os.environ.get("MYLEARNING_REGION") or None)
    if not session.region_name:
        raise BackendError("No AWS region is set. Set MYLEARNING_REGION (or AWS_DEFAULT_REGION).")
    try:
        who = session.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        raise BackendError(f"Your AWS credentials did not work: {exc}") from exc
    learner = identity.learner_id()
    announce = (f"REAL AWS: account {who['Account']} in {session.region_name}, as {who['Arn']}. "
                f"The course creates only resources named {identity.prefix(learner)}-* and "
                f"tagged {identity.TAG_COURSE}={identity.COURSE}; each lab ends with a "
                "teardown cell.")
    return CourseSession(session, AWS, None, learner, announce)
