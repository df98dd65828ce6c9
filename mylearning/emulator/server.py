"""The embedded AWS: moto's server app behind our fidelity layer, on 127.0.0.1.

This module is the only place that imports moto. It runs in its own process
(`mylearning emulator`), never in a learner's kernel, so the kernel stays light
and a kernel restart keeps the learner's emulated account.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from typing import Any, Callable, Iterable

from mylearning.emulator import auth
from mylearning.facts import clock

HEALTH_PATH = "/mylearning/health"
RESET_PATH = "/moto-api/reset"
#: The task agent's ACS and TCS stand-ins (see fidelity/ecs/acs.py).
AGENT_PATHS = ("/mylearning/acs", "/mylearning/tcs")
#: The load balancers' change news and health reports (see fidelity/elbv2/health.py).
ELB_PATH = "/mylearning/elb"

Wsgi = Callable[[dict, Callable], Iterable[bytes]]


def _quiet_logs() -> None:
    """Silence werkzeug's per-request lines and moto's warnings.

    A learner watching a terminal should see the endpoint line and errors, not
    one line per API call.
    """
    for name in ("waitress", "werkzeug", "moto", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


class EmulatorApp:
    """WSGI app: health endpoint, reset hook, fidelity layer, then moto."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from mylearning.emulator import fidelity, speed

        speed.apply()
        self.instance = uuid.uuid4().hex
        self.started = time.time()
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._fidelity = fidelity
        self._app = fidelity.wrap(self._moto)
        #: Answers with HTTP 5xx since start: a valid call must never get one, and
        #: tests read this from the health endpoint to prove it.
        self.server_errors = 0
        self._count_lock = threading.Lock()
        #: The data plane this emulator started (None: control plane only).
        self.dataplane: Any = None
        from mylearning.emulator.fidelity.ecs import acs
        self._acs = acs
        #: The credential every request but the health check must carry (None: any).
        self.token = auth.required_token()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            body = json.dumps({
                "instance": self.instance, "pid": os.getpid(), "started": self.started,
                "server_errors": self.server_errors,
                # Requests moto failed on, answered as validation errors instead of a 500.
                "moto_failures": self._fidelity.core.crash_count(),
                # Model validation: requests checked and refused, and the time it took.
                "validation": self._fidelity.validation.summary(),
                "dataplane": self._dataplane_health(),
                # How much faster than AWS its waits run (mylearning.facts.clock): a kernel
                # whose environment says otherwise still knows this emulator's pace.
                "time_scale": clock.time_scale(),
            }).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        if not auth.allowed(environ, self.token):
            return self._refuse(start_response)
        if path in AGENT_PATHS:
            return self._acs.wsgi(environ, start_response)
        if path == ELB_PATH:
            from mylearning.emulator.fidelity.elbv2 import health
            return health.wsgi(environ, start_response)
        if path == RESET_PATH and environ.get("REQUEST_METHOD") == "POST":
            # moto resets its backends; our layer drops the state it keeps itself. Both
            # under the state lock, so no request sees half an account.
            with self._fidelity.core.STATE:
                self._fidelity.reset()
                return self._serve(environ, start_response)
        return self._serve(environ, start_response)

    def _serve(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """The fidelity layer and moto, counting answers with HTTP 5xx."""
        def counting_start_response(status: str, headers: list, exc_info: Any = None):
            if status[:1] == "5":
                with self._count_lock:
                    self.server_errors += 1
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            return self._app(environ, counting_start_response)
        except NotImplementedError as exc:
            # moto lacks the operation: say so plainly instead of an anonymous 500.
            return self._internal_error(start_response, 501, "NotImplemented",
                                        f"The embedded AWS does not implement this yet: {exc}")
        except Exception as exc:
            logging.getLogger("mylearning.emulator").exception("request failed")
            return self._internal_error(start_response, 500, "InternalFailure",
                                        f"The embedded AWS failed on this request: "
                                        f"{type(exc).__name__}: {exc}")

    def _dataplane_health(self) -> dict | None:
        """The data plane's process, its edge proxy (interface 6) and its last heartbeat."""
        if self.dataplane is None:
            return None
        return {**self.dataplane.describe(), "agent": self._acs.agent_status(),
                "attached": self._acs.attached()}

    def _refuse(self, start_response: Callable) -> list[bytes]:
        """A request without this emulator's credential (see `auth`): AWS's 403."""
        body = auth.refusal_body()
        start_response("403 Forbidden", [("Content-Type", "application/x-amz-json-1.1"),
                                         ("x-amzn-ErrorType", "UnrecognizedClientException"),
                                         ("Content-Length", str(len(body)))])
        return [body]

    def _internal_error(self, start_response: Callable, status: int, code: str,
                        message: str) -> list[bytes]:
        with self._count_lock:
            self.server_errors += 1
        body = json.dumps({"__type": code, "message": message}).encode()
        start_response(f"{status} {'Not Implemented' if status == 501 else 'Internal Server Error'}",
                       [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code),
                        ("Content-Length", str(len(body)))])
        return [body]

    def prewarm(self, region: str = "us-east-1", services: Iterable[str] = ()) -> float:
        """Build moto's app for each service in-process; return seconds spent.

        moto builds a service's Flask app and backend on the first request;
        for EC2 and ECS that is a noticeable pause, which we take at start-up.
        `services` are boto3 client names (the labs' declared services, passed by
        whoever starts the emulator); the fidelity layer's own services are always
        added, so with none given those are warmed. The services' botocore models
        are left to their first request (loading them all here cost about 0.2 s of
        start-up, measured with benchmarks/foundation_bench.py).
        """
        from moto.moto_server.werkzeug_app import create_backend_app

        t0 = time.perf_counter()
        for service in sorted(set(services) | set(self._fidelity.services())):
            backend = self._backend_name(service, region)
            if backend is not None and backend not in self._moto.app_instances:
                self._moto.app_instances[backend] = create_backend_app(backend)
        # Touch the backends the first lab calls hit, so their data is loaded.
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ec2.models import ec2_backends
        from moto.ecs.models import ecs_backends
        from moto.iam.models import iam_backends

        ec2_backends[DEFAULT_ACCOUNT_ID][region].describe_availability_zones()
        ecs_backends[DEFAULT_ACCOUNT_ID][region].list_clusters()
        iam_backends[DEFAULT_ACCOUNT_ID]["global"]
        return time.perf_counter() - t0

    def _backend_name(self, service: str, region: str) -> str | None:
        """moto's backend for a boto3 client name: the one its dispatcher picks for the
        service's requests, by their signing name (elbv2 -> elb, acm-pca -> acmpca);
        None when moto has none."""
        url = f"http://{self._fidelity.core.signing_name(service)}.{region}.amazonaws.com"
        for backend, pattern in self._moto.backend_url_patterns:
            if pattern.match(url):
                return backend
        return None


class EmulatorServer:
    """The emulator's HTTP server: waitress, a small production WSGI server.

    Why not werkzeug's development server: it closes the connection after every
    answer and starts a thread per connection, which doubled the latency of a
    simple call (about 6 ms against 2.5 ms, measured with boto3 on one
    machine). A check cell makes several calls and batch grading thousands, so
    the keep-alive connections and worker pool of waitress pay off. The pool is
    sized for the task agent's long poll (it holds one thread) and its reports.

    waitress stops accepting connections once `connection_limit` are open (100 by default)
    and closes idle keep-alive ones only after `channel_timeout` (120 s). The data plane keeps
    a connection pool per client (one per task role session), so a course run with a few
    learners went past 100: every new connection, the health check's included, then waited
    in the listen backlog for minutes while all 16 threads sat idle. The limit here follows
    the open-file limit instead (`connection_limit`).
    """

    def __init__(self, port: int, host: str = "127.0.0.1", threads: int = 16):
        from waitress.server import create_server

        _quiet_logs()
        self.app = EmulatorApp()
        self._server = create_server(self.app, host=host, port=port, threads=threads,
                                     connection_limit=connection_limit(),
                                     ident="mylearning-emulator")
        self.server_port: int = self._server.effective_port

    def serve_forever(self) -> None:
        """Serve until SystemExit or KeyboardInterrupt is raised in this thread."""
        self._server.run()

    def close(self) -> None:
        self._server.close()
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=2)


#: Open files the emulator keeps for itself (moto's files, logs, the data plane's pipes).
RESERVED_FILES = 128
#: Connections are never limited below waitress's default, nor above this.
MAX_CONNECTIONS = 4096


def connection_limit() -> int:
    """How many connections the emulator keeps open at once: as many as the process's
    open-file limit allows (raised to its hard limit, up to what MAX_CONNECTIONS needs), less
    RESERVED_FILES, between waitress's default of 100 and MAX_CONNECTIONS."""
    try:
        import resource
    except ImportError:  # Windows: no RLIMIT_NOFILE; its sockets are not file descriptors
        return MAX_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_CONNECTIONS + RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(100, min(MAX_CONNECTIONS, soft - RESERVED_FILES))


def make_server(port: int, host: str = "127.0.0.1") -> EmulatorServer:
    """Bind the emulator to host:port (0 picks a free port) and return the server."""
    return EmulatorServer(port, host)


def serve(port: int = 0, host: str = "127.0.0.1", state_file: str | None = None,
          prewarm: bool = True, services: Iterable[str] = (), dataplane: bool = True) -> None:
    """Serve until SIGINT/SIGTERM. First line on stdout: the endpoint URL.

    `services` (boto3 client names) are pre-warmed with the fidelity layer's own:
    the entry points pass the course's (`mylearning.course.all_services()`), which
    this layer does not import. With `dataplane` (the default) the emulator starts its
    data plane and prints its URL only once the data plane's task agent is attached, so
    no task is ever placed that nothing will run; the data plane stops with it.
    """
    # moto reads these at import time; set them before anything imports it.
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "mylearning")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "mylearning")
    server = make_server(port, host)
    url = f"http://{host}:{server.server_port}"
    plane = None
    if dataplane:
        from mylearning.emulator.dataplane_process import DataPlaneProcess
        plane = server.app.dataplane = DataPlaneProcess(url)  # from this (main) thread
    if prewarm:
        server.app.prewarm(services=services)

    def announce() -> None:
        if plane is not None and not plane.wait_ready():
            print(f"mylearning emulator: {plane.error}; tasks will not run "
                  f"(see `mylearning emulator status`).", file=sys.stderr, flush=True)
        if state_file:
            from mylearning.emulator.state import EmulatorRecord, write_record
            write_record(state_file, EmulatorRecord(url=url, pid=os.getpid(),
                                                    instance=server.app.instance,
                                                    started=server.app.started))
        print(url, flush=True)

    def stop(signum: int, frame: Any) -> None:
        # Release the agent's held poll first: waitress waits for its threads on the way out.
        server.app._acs.close()
        raise SystemExit(0)  # ends the server loop running in this (main) thread

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=announce, name="announce", daemon=True).start()
    try:
        server.serve_forever()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        if plane is not None:
            plane.stop()
        server.close()
        if state_file:
            from mylearning.emulator.state import clear_record
            clear_record(state_file, os.getpid())
    sys.stdout.flush()
