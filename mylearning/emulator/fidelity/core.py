"""The fidelity layer's machinery: read an AWS request, run our rules, answer like AWS.

A rule sees the operation's parameters the way the AWS API reference names
them and either lets the request through to moto or raises :class:`AwsError`,
which is answered in the wire shape of the service's protocol, so boto3 raises
the same exception class a real account would give (``client.exceptions.X``).

Rules live in one module or package per service (``sts.py``, ``ecs/``, ``iam/``...),
each kept small enough to be offered upstream to moto one by one.
"""
from __future__ import annotations

import functools
import io
import json
import re
import threading
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

Wsgi = Callable[[dict, Callable], Iterable[bytes]]


class AwsError(Exception):
    """An error answer as AWS gives it: error code, message, HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400, sender: bool = True,
                 origin: str = "rule", fields: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender
        #: Members of the error's modelled shape beyond its message (CloudWatch's
        #: DashboardInvalidInputError carries dashboardValidationMessages); JSON protocols only.
        self.fields = fields or {}
        #: Which part of the layer refused: "rule", "model" (validation) or "crash" (moto
        #: failed). Sent as the x-mylearning-refused-by header, which AWS clients ignore,
        #: so tests and the fuzzer can tell a model refusal from a service rule's.
        self.origin = origin


@dataclass
class AwsRequest:
    """One API call, decoded: which service and operation, with its parameters."""

    service: str          # botocore service name, e.g. "ecs", "appmesh", "elbv2"
    operation: str        # e.g. "CreateService"
    protocol: str         # "json", "query", "ec2", "rest-json", ...
    region: str
    method: str
    path: str
    params: dict[str, Any]  # JSON body / flattened query / REST body+path+query
    path_params: dict[str, str] = field(default_factory=dict)
    environ: dict = field(default_factory=dict, repr=False)
    body: bytes = b""
    #: The parameters as the model nests and types them, whatever the protocol; read once
    #: by model validation and shared with the rules (`validation.structured`).
    structured: dict | None = field(default=None, repr=False)


Rule = Callable[[AwsRequest], None]
#: A handler answers the request itself (an operation moto lacks); it returns
#: (status, json-able body) and moto never sees the call.
Handler = Callable[[AwsRequest], "tuple[int, Any]"]
#: An after-hook runs once moto answered successfully (e.g. to advance state).
After = Callable[[AwsRequest, int, bytes], None]

_RULES: dict[tuple[str, str], list[Rule]] = {}
_HANDLERS: dict[tuple[str, str], Handler] = {}
_AFTER: dict[tuple[str, str], list[After]] = {}
_RESETS: list[Callable[[], None]] = []
#: Checks every decoded request goes through before its operation's own rules.
_BEFORE: list[Rule] = []
#: Observers of every decoded request's answer, whatever it was (see `after_every`).
Observer = Callable[[AwsRequest, int, list], None]
_OBSERVERS: list[Observer] = []


def rule(service: str, *operations: str) -> Callable[[Rule], Rule]:
    """Register a validation rule for one or more operations of a service."""
    def deco(fn: Rule) -> Rule:
        for op in operations:
            _RULES.setdefault((service, op), []).append(fn)
        return fn
    return deco


def handler(service: str, operation: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        _HANDLERS[(service, operation)] = fn
        return fn
    return deco


def after(service: str, *operations: str) -> Callable[[After], After]:
    def deco(fn: After) -> After:
        for op in operations:
            _AFTER.setdefault((service, op), []).append(fn)
        return fn
    return deco


def moto_fixes(service: str, *fixes: Callable[[], None], operations: Iterable[str] = ()) -> None:
    """Patch moto with `fixes` once, just before the first call that needs them reaches it.

    Patches wait for a call (not import time) so importing a rule module, e.g.
    for the fidelity table, never loads or changes moto. They run under a lock
    because the server is threaded: no call may see half of them. `operations`
    defaults to every operation of the service.
    """
    lock = threading.Lock()
    done = False

    def apply(req: AwsRequest) -> None:
        nonlocal done
        if done:
            return
        with lock:
            if not done:
                for fix in fixes:
                    fix()
                done = True

    names = tuple(operations)
    if not names:
        model = MODELS.get(service)
        names = tuple(model.operation_names) if model is not None else ()
    rule(service, *names)(apply)


def before_every(fn: Rule) -> Rule:
    """Run `fn` on every request the layer decodes, before the operation's rules."""
    _BEFORE.append(fn)
    return fn


def after_every(fn: Observer) -> Observer:
    """Run `fn(req, status, body_chunks)` once every decoded request was answered, by a rule's
    refusal, a handler or moto alike (CloudTrail records them all). It runs outside the state
    lock and must be cheap; an observer that fails never changes the answer."""
    _OBSERVERS.append(fn)
    return fn


def on_reset(fn: Callable[[], None]) -> Callable[[], None]:
    """Register state of our own to clear when the emulator's account is reset."""
    _RESETS.append(fn)
    return fn


def moto_backend(service: str, region: str) -> Any:
    """moto's state for one service (its module name, e.g. "ecs") in one region of the
    emulator's account; "global" for IAM. Imports moto only when a rule first needs it."""
    import importlib

    from moto.core import DEFAULT_ACCOUNT_ID

    backends = getattr(importlib.import_module(f"moto.{service}.models"), f"{service}_backends")
    return backends[DEFAULT_ACCOUNT_ID][region]


#: moto's backends are plain dicts and lists, not safe to change while another thread reads
#: them, and the emulator is threaded: the learner's calls, the data plane's agent and the
#: scheduler's timers all reach the same state. Every request the layer decodes (its rules,
#: moto, its after-hooks) and every background change holds this lock, so a ListTasks never
#: iterates a dict a placement is growing. Long polls (ACS) never take it.
STATE = threading.RLock()


def crash_count() -> int:
    with _CRASH_LOCK:
        return sum(CRASHES.values())


def reset() -> None:
    for fn in _RESETS:
        fn()


# ---------------------------------------------------------------- decoding

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
#: signing name -> botocore service name, where they differ
_SIGNING_TO_SERVICE = {"elasticloadbalancing": "elbv2", "monitoring": "cloudwatch"}
_SERVICE_TO_SIGNING = {service: signing for signing, service in _SIGNING_TO_SERVICE.items()}


def signing_name(service: str) -> str:
    """The name a boto3 client signs its requests with (and moto routes them by), without
    loading the service's model: the client name itself, but for the two that differ."""
    return _SERVICE_TO_SIGNING.get(service, service)


class _Models:
    """botocore service models, loaded once per service on first use."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}
        self._session = None

    def get(self, service: str):
        if service not in self._cache:
            if self._session is None:
                import botocore.session
                self._session = botocore.session.get_session()
            try:
                self._cache[service] = self._session.get_service_model(service)
            except Exception:
                self._cache[service] = None
        return self._cache[service]


MODELS = _Models()


def _rest_routes(model) -> list[tuple[str, re.Pattern, list[str], str, dict, tuple]]:
    """(method, path pattern, label names, operation, query literals, required headers) per
    operation, the most specific first: S3 tells GetObject from GetObjectAcl by the query
    (``/{Bucket}/{Key+}?acl``) and PutObject from CopyObject by a header (x-amz-copy-source)."""
    routes = getattr(model, "_mylearning_routes", None)
    if routes is None:
        routes = []
        for name in model.operation_names:
            operation = model.operation_model(name)
            http = operation.http
            uri, _, literal = http.get("requestUri", "/").partition("?")
            names = re.findall(r"{([^}+]+)\+?}", uri)
            # A greedy label ({Key+}) takes the rest of the path, slashes included (an S3 key
            # "courses/ecs-101.md"); the others one segment.
            path = re.sub(r"{[^}]+\+}", "(.+)", uri.rstrip("/") or "/")
            pattern = "^" + re.sub(r"{[^}]+}", "([^/]+)", path) + "/?$"
            # "x-id=GetObject" only names the operation for logs; a client may leave it out.
            query = {k: v for k, v in urllib.parse.parse_qsl(literal, keep_blank_values=True) if k != "x-id"}
            shape = operation.input_shape
            headers = tuple(sorted(
                "HTTP_" + m.serialization["name"].upper().replace("-", "_")
                for n, m in (shape.members.items() if shape is not None else ())
                if m.serialization.get("location") == "header" and n in shape.required_members))
            routes.append((http.get("method", "POST"), re.compile(pattern), names, name, query, headers))
        # Literal paths first: "/meshes/{m}/virtualNodes" must not match a {param} route; then
        # routes that need query literals or headers before the plain route they refine.
        routes.sort(key=lambda r: (r[1].pattern.count("([^/]+)"), "(.+)" in r[1].pattern, -len(r[4]) - len(r[5])))
        model._mylearning_routes = routes
    return routes


def _route_matches(route: tuple, method: str, path: str, query: dict, environ: dict) -> Any:
    verb, pattern, _, _, literals, headers = route
    if verb != method:
        return None
    m = pattern.match(path)
    if m is None:
        return None
    for key, value in literals.items():
        if key not in query or (value and query[key][-1] != value):
            return None
    if any(h not in environ for h in headers):
        return None
    return m


def _read_body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    if length:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):  # chunked: the server marks the end
        body = stream.read()
    else:  # no Content-Length (a GET or DELETE): reading would wait for the socket to close
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def decode(environ: dict) -> AwsRequest | None:
    """Decode a signed AWS request; None when it is not one we can read (moto handles it)."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        region, signing = match.groups()
        service = _SIGNING_TO_SERVICE.get(signing, signing)
    else:
        found = _unsigned(environ)
        if found is None:
            return None
        region, service = "us-east-1", found
    model = MODELS.get(service)
    if model is None:
        return None
    body = _decoded(environ, _read_body(environ))
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    content_type = environ.get("CONTENT_TYPE", "")
    operation, params, protocol, path_params = None, {}, model.protocol, {}
    if target:
        operation = target.split(".")[-1]
        protocol = "json"
        params = _json(body)
    elif "x-www-form-urlencoded" in content_type or (method == "GET" and environ.get("QUERY_STRING", "").startswith("Action=")):
        raw = body.decode() if body else environ.get("QUERY_STRING", "")
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}
        operation = params.pop("Action", None)
        params.pop("Version", None)
        protocol = "ec2" if service == "ec2" else "query"
    elif model.protocol in ("rest-json", "rest-xml"):
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        for route in _rest_routes(model):
            m = _route_matches(route, method, path.rstrip("/") or "/", query, environ)
            if m:
                operation = route[3]
                path_params = {n: urllib.parse.unquote(v) for n, v in zip(route[2], m.groups())}
                break
        params = _json(body) if model.protocol == "rest-json" else {}
        for key, values in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items():
            params.setdefault(key, values[-1])
        params.update(path_params)
        protocol = model.protocol
    if not operation:
        return None
    return AwsRequest(service=service, operation=operation, protocol=protocol, region=region,
                      method=method, path=path, params=params, path_params=path_params,
                      environ=environ, body=body)


@functools.lru_cache(maxsize=1)
def _unsigned_index() -> dict[str, str]:
    """Operations AWS takes without a signature (authtype "none", e.g. STS
    AssumeRoleWithWebIdentity) -> their service, for the services the layer covers."""
    from mylearning.emulator import fidelity

    index: dict[str, str] = {}
    for service in fidelity.services():
        model = MODELS.get(service)
        for name in (model.operation_names if model else ()):
            if model.operation_model(name).auth_type == "none":
                index[name] = service
    return index


def _unsigned(environ: dict) -> str | None:
    """The service of an unsigned request, when its operation is one AWS takes unsigned."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return _unsigned_index().get(target.split(".")[-1])
    query = environ.get("QUERY_STRING", "")
    if "Action=" in query:
        action = urllib.parse.parse_qs(query).get("Action", [""])[-1]
        return _unsigned_index().get(action)
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        body = _read_body(environ)
        action = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", [""])[-1]
        return _unsigned_index().get(action)
    return None


def _decoded(environ: dict, body: bytes) -> bytes:
    """The body as the rules read it: botocore gzips large bodies of operations with the
    ``requestcompression`` trait (CloudWatch PutMetricData above 10 KB) and says so in
    Content-Encoding. moto is handed the body as it came."""
    if "gzip" in environ.get("HTTP_CONTENT_ENCODING", "").lower() and body[:2] == b"\x1f\x8b":
        import gzip
        try:
            return gzip.decompress(body)
        except (OSError, EOFError):
            return body
    return body


def _json(body: bytes) -> dict:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------- encoding

_REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error",
            501: "Not Implemented"}


def _status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Error')}"


def error_response(req: AwsRequest, err: AwsError) -> tuple[int, list[tuple[str, str]], bytes]:
    """The error as the service's protocol carries it, so botocore parses the same code."""
    request_id = str(uuid.uuid4())
    if req.protocol in ("json", "rest-json"):
        body = json.dumps({"__type": err.code, "message": err.message,
                           "Message": err.message, **err.fields}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"),
                   ("x-amzn-ErrorType", err.code), ("x-amzn-RequestId", request_id)]
    elif req.protocol == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
                f"<Code>{_xml(err.code)}</Code><Message>{_xml(err.message)}</Message></Error>"
                f"</Errors><RequestID>{request_id}</RequestID></Response>").encode()
        headers = [("Content-Type", "text/xml")]
    else:
        kind = "Sender" if err.sender else "Receiver"
        body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{_xml(err.code)}</Code>"
                f"<Message>{_xml(err.message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml")]
    headers.append(("x-mylearning-refused-by", err.origin))
    headers.append(("Content-Length", str(len(body))))
    return err.status, headers, body


def json_response(req: AwsRequest, status: int, payload: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps(payload, default=_json_default).encode()
    headers = [("Content-Type", "application/json")]
    headers += [("x-amzn-RequestId", str(uuid.uuid4())), ("Content-Length", str(len(body)))]
    return status, headers, body


def _json_default(value: Any) -> Any:
    import datetime
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- middleware

class FidelityMiddleware:
    """WSGI middleware: rules and handlers before moto, after-hooks once it answered."""

    def __init__(self, app: Wsgi):
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        req = decode(environ)
        if req is None:
            return self.app(environ, start_response)
        if not _OBSERVERS:
            with STATE:
                return self._serve(req, environ, start_response)
        seen: list[str] = []

        def watching(status: str, headers: list, exc_info: Any = None):
            seen.append(status)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        with STATE:
            answer = self._serve(req, environ, watching)
        code = int(seen[-1].split()[0]) if seen else 500
        for fn in _OBSERVERS:
            try:
                fn(req, code, answer)
            except Exception:  # noqa: BLE001 - recording must never break an answer
                import logging
                logging.getLogger("mylearning.emulator").debug("observer failed", exc_info=True)
        return answer

    def _serve(self, req: AwsRequest, environ: dict, start_response: Callable) -> Iterable[bytes]:
        key = (req.service, req.operation)
        try:
            for fn in _BEFORE:
                fn(req)
            for fn in _RULES.get(key, ()):
                fn(req)
            if key in _HANDLERS:
                status, payload = _HANDLERS[key](req)
                return _send(start_response, *json_response(req, status, payload))
        except AwsError as err:
            return _send(start_response, *error_response(req, err))
        except Exception as exc:  # a rule or handler failed on an input it did not expect
            return _send(start_response, *error_response(req, crash_refusal(req, exc)))
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        try:
            body = b"".join(self.app(environ, capture))
        except NotImplementedError:
            # An operation moto lacks: an honest 501 (not the request's fault), in the
            # protocol's shape so the client can read it.
            return _send(start_response, *error_response(req, AwsError(
                "NotImplemented", f"The embedded AWS does not implement {req.operation} yet.", 501)))
        except Exception as exc:  # moto crashed on this request: the request is what AWS refuses
            return _send(start_response, *error_response(req, crash_refusal(req, exc)))
        code = int(captured["status"].split()[0])
        if code >= 500 and code != 501:
            return _send(start_response, *error_response(req, crash_refusal(req, None, body)))
        if code < 300:
            for fn in _AFTER.get(key, ()):
                fn(req, code, body)
        start_response(captured["status"], captured["headers"])
        return [body]


#: Requests moto (or a rule) could not process, answered as validation errors instead of a
#: 500: (service, operation) -> count. The health endpoint reports them; each is a gap to close.
CRASHES: dict[tuple[str, str], int] = {}
_CRASH_LOCK = threading.Lock()


def crash_refusal(req: AwsRequest, exc: BaseException | None, body: bytes = b"") -> AwsError:
    """What a request that crashed moto gets: the service's validation error, naming a parameter.

    AWS never answers a malformed request with a 500; it names what it could not accept.
    The parameter is the one moto's error names when it names one (a KeyError's key, a
    member of the request in its message), else the request's parameters are listed. Each
    crash is counted and logged with its traceback, so it can be fixed properly.
    """
    import logging

    with _CRASH_LOCK:
        CRASHES[(req.service, req.operation)] = CRASHES.get((req.service, req.operation), 0) + 1
    log = logging.getLogger("mylearning.emulator")
    log.warning("moto failed on %s.%s (%s); answered as a validation error", req.service,
                req.operation, type(exc).__name__ if exc is not None else "HTTP 5xx")
    log.debug("moto's failure on %s.%s", req.service, req.operation, exc_info=exc)
    from mylearning.emulator.fidelity.validation.errors import answer_for

    names = sorted(req.params) if isinstance(req.params, dict) else []
    detail = f"{type(exc).__name__}: {exc}" if exc is not None else body[:200].decode(errors="replace")
    named = [n for n in names if n and n in detail] or (
        [str(exc.args[0])] if isinstance(exc, KeyError) and exc.args else [])
    where = (f"the parameter {named[0]}" if named else
             "one of the parameters " + ", ".join(names[:10]) if names else "the request")
    return AwsError(answer_for(req.service, req.protocol).code_for(req.operation),
                    f"Invalid value in {where} for {req.operation} ({detail.strip()[:160]})",
                    origin="crash")


def _send(start_response: Callable, status: int, headers: list, body: bytes) -> list[bytes]:
    start_response(_status_line(status), headers)
    return [body]
