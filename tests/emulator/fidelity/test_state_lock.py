"""Every AWS request the layer serves holds the state lock that background changes take."""
from __future__ import annotations

import io
import threading

from mylearning.emulator.fidelity import core
from mylearning.emulator.fidelity.ecs import rollout


def _ecs_request(operation: str) -> dict:
    body = b"{}"
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "CONTENT_TYPE": "application/x-amz-json-1.1",
            "HTTP_X_AMZ_TARGET": f"AmazonEC2ContainerServiceV20141113.{operation}",
            "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/ecs/aws4_request, "
                                  "SignedHeaders=host, Signature=0",
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}


def _held_elsewhere() -> bool:
    """True when another thread cannot take the state lock right now."""
    answer = []

    def probe() -> None:
        got = core.STATE.acquire(blocking=False)
        if got:
            core.STATE.release()
        answer.append(not got)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return answer[0]


def test_moto_runs_under_the_lock_the_scheduler_takes():
    seen = []

    def moto(environ, start_response):
        seen.append(_held_elsewhere())
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1")])
        return [b'{"clusterArns": []}']

    app = core.FidelityMiddleware(moto)
    body = b"".join(app(_ecs_request("ListClusters"), lambda status, headers, exc=None: None))
    assert body == b'{"clusterArns": []}'
    assert seen == [True], "moto answered a request without the state lock"
    assert not _held_elsewhere(), "the lock outlived the request"
    assert rollout.LOCK is core.STATE  # the scheduler's changes take the same lock


def test_requests_that_are_not_aws_calls_do_not_wait_for_the_lock():
    seen = []

    def other(environ, start_response):
        seen.append(_held_elsewhere())
        start_response("200 OK", [])
        return [b"ok"]

    app = core.FidelityMiddleware(other)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/moto-api/", "wsgi.input": io.BytesIO(b"")}
    assert b"".join(app(environ, lambda status, headers, exc=None: None)) == b"ok"
    assert seen == [False]
