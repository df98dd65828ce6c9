"""Shared by the App Mesh modules: the service's names, lazy access to moto's App Mesh
state, the request body, and the virtual services we keep ourselves (moto 5.2 has none)."""
from __future__ import annotations

import io
import json
import threading

from mylearning.emulator.fidelity.core import AwsRequest, on_reset
from mylearning.emulator.fidelity.appmesh.errors import not_found

SERVICE = "appmesh"
API = "https://docs.aws.amazon.com/app-mesh/latest/APIReference"
ROUTE_KINDS = ("httpRoute", "http2Route", "grpcRoute", "tcpRoute")
GATEWAY_ROUTE_KINDS = ("httpRoute", "http2Route", "grpcRoute")


# ---------------------------------------------------------------- moto access

def _account() -> str:
    from moto.core import DEFAULT_ACCOUNT_ID
    return DEFAULT_ACCOUNT_ID


def _backend(region: str):
    from moto.appmesh.models import appmesh_backends
    return appmesh_backends[_account()][region]


def _mesh(req: AwsRequest):
    return _backend(req.region).meshes.get(req.params.get("meshName", ""))


def _mesh_or_404(req: AwsRequest):
    mesh = _mesh(req)
    if mesh is None:
        raise not_found(f"Mesh {req.params.get('meshName')} is not present for account {_account()}.")
    return mesh


# ---------------------------------------------------------------- the request body

def _body(req: AwsRequest) -> dict:
    try:
        value = json.loads(req.body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _replace_body(req: AwsRequest, body: dict) -> None:
    raw = json.dumps(body).encode()
    req.environ["wsgi.input"] = io.BytesIO(raw)
    req.environ["CONTENT_LENGTH"] = str(len(raw))
    req.body = raw


# ---------------------------------------------------------------- virtual services we keep
# Missing from moto 5.2 (see `virtual_services`); the rules look them up too.

_SERVICES: dict[tuple[str, str], dict[str, dict]] = {}
_SERVICES_LOCK = threading.Lock()


@on_reset
def _forget_services() -> None:
    with _SERVICES_LOCK:
        _SERVICES.clear()
