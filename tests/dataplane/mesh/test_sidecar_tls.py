"""TLS between two real sidecars in one process: listener mode x client policy x certificate -> caller and stats.

Each row runs the course's Envoy stand-in (`images.envoy.Sidecar`) twice on their own loopback
addresses, a "gateway" node calling a "colorteller" node, through a real edge proxy (the task
network) with real OpenSSL handshakes; only the management service is a stub (it answers
endpoints; snapshots are built from App Mesh API shapes, ACM material is handed in as the
management service would deliver it). The caller's status and body and both sides' Envoy
statistics are compared with what App Mesh's TLS guide and its mutual TLS walkthrough say for
the same configuration (https://docs.aws.amazon.com/app-mesh/latest/userguide/tls.html,
mutual-tls.html).
"""
from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

import aiohttp
import pytest
from aiohttp import web

from mylearning import pki
from mylearning.dataplane import tls
from mylearning.dataplane.edge import EdgeProxy
from mylearning.dataplane.images.container import Container
from mylearning.dataplane.images.envoy import Sidecar
from mylearning.dataplane.mesh.model import Snapshot, VirtualNode, VirtualService
from mylearning.dataplane.mesh_management import management_host

MESH = "howto-tls"
SERVICE = "colorteller.howto-tls.local"          # the backend's DNS service discovery name
CLUSTER = f"cluster.cds_egress_{MESH}_colorteller_http_8080"
LISTENER = "listener.0.0.0.0_15000"
ENDPOINT = "10.1.0.9"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef"
ENVOY = "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0-prod"
CERTS = "/keys"                                   # where the certificates are in each proxy's container
CA_ARN = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555"
CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/66666666-7777-8888-9999-000000000000"
FAILURE = "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
TERMINATION = "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
VERIFY_FAILED = "TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED"
_addresses = itertools.count(2)


# ------------------------------------------------------------------------------ certificates


@pytest.fixture(scope="module")
def pem():
    """The walkthrough's material: a CA, the backend's certificate, a client certificate,
    and an impostor CA's certificate for the same name."""
    ca, other = pki.create_ca("howto-tls CA"), pki.create_ca("someone else's CA")
    return {"ca": ca.bundle_pem, "other_ca": other.bundle_pem,
            "colorteller": ca.issue(SERVICE), "renewed": ca.issue(SERVICE),
            "wildcard": ca.issue("*.howto-tls.local"), "cloudmap": ca.issue("colorteller.apps.local"),
            "gateway": ca.issue("gateway.howto-tls.local"), "impostor": other.issue(SERVICE)}


def _write(root: Path, name: str, issued: Any) -> None:
    """The walkthrough's files (``<name>_cert_chain.pem``, ``<name>_key.pem``) in a container's /keys."""
    issued.write(root / CERTS.strip("/"), name)


def _file(name: str) -> dict:
    return {"file": {"certificateChain": f"{CERTS}/{name}_cert_chain.pem", "privateKey": f"{CERTS}/{name}_key.pem"}}


def _trust(name: str = "ca") -> dict:
    return {"file": {"certificateChain": f"{CERTS}/{name}.pem"}}


# ------------------------------------------------------------------------------ the mesh


def _listener(tls_spec: Optional[dict]) -> dict:
    listener: dict = {"portMapping": {"port": 8080, "protocol": "http"}}
    if tls_spec is not None:
        listener["tls"] = tls_spec
    return listener


def _node(name: str, tls_spec: Optional[dict] = None, *, backend_policy: Optional[dict] = None,
          defaults: Optional[dict] = None, discovery: Optional[dict] = None) -> VirtualNode:
    spec: dict = {"listeners": [_listener(tls_spec)],
                  "serviceDiscovery": discovery or {"dns": {"hostname": SERVICE if name == "colorteller"
                                                            else f"{name}.howto-tls.local"}}}
    if name == "gateway":
        backend: dict = {"virtualServiceName": SERVICE}
        if backend_policy is not None:
            backend["clientPolicy"] = {"tls": backend_policy}
        spec["backends"] = [{"virtualService": backend}]
        if defaults is not None:
            spec["backendDefaults"] = {"clientPolicy": {"tls": defaults}}
    return VirtualNode.from_api({"virtualNodeName": name, "spec": spec,
                                 "metadata": {"arn": f"arn:aws:appmesh:us-east-1:123456789012:mesh/{MESH}/"
                                                     f"virtualNode/{name}"}})


def _snapshot(proxy: VirtualNode, backend: VirtualNode, version: str = "1") -> Snapshot:
    service = VirtualService.from_api({"virtualServiceName": SERVICE,
                                       "spec": {"provider": {"virtualNode": {"virtualNodeName": "colorteller"}}}})
    return Snapshot(mesh=MESH, egress_filter="DROP_ALL", proxy=proxy, services={SERVICE: service}, routers={},
                    nodes={"colorteller": backend, proxy.name: proxy}, version=version)


# ------------------------------------------------------------------------------ the network


class Network:
    """An edge (the task network) that knows the backend's private IP and the management
    service, which answers only the backend's endpoints."""

    def __init__(self) -> None:
        self.backend: tuple[str, int] | None = None
        self.edge = EdgeProxy(self._resolve)
        self.management: Optional[web.AppRunner] = None
        self.management_address: tuple[str, int] | None = None

    async def start(self) -> str:
        async def endpoints(request: web.Request) -> web.Response:
            return web.json_response({"addresses": [ENDPOINT]})

        app = web.Application()
        app.router.add_get("/v1/endpoints", endpoints)
        self.management = web.AppRunner(app, access_log=None)
        await self.management.setup()
        site = web.TCPSite(self.management, "127.0.0.1", 0)
        await site.start()
        self.management_address = site._server.sockets[0].getsockname()[:2]
        return await self.edge.start()

    def _resolve(self, host: str, port: int):
        if host == management_host("us-east-1"):
            return self.management_address
        if host == ENDPOINT and port == 8080:
            return self.backend
        return None

    async def close(self) -> None:
        await self.edge.close()
        if self.management is not None:
            await self.management.cleanup()


async def _sidecar(name: str, snapshot: Snapshot, root: Path, edge: str, secrets: Optional[dict] = None) -> Sidecar:
    """A proxy as its container would run it, configured by `snapshot` (no management stream)."""
    address = f"127.213.{next(_addresses) % 250}.{2 if name == 'colorteller' else 3}"
    container = Container(name="envoy", address=address, ports=[], root=str(root), proxy=edge, task_arn=TASK,
                          image=ENVOY, env={"APPMESH_RESOURCE_ARN": f"mesh/{MESH}/virtualNode/{name}",
                                            "ENVOY_LOG_LEVEL": "error"})
    sidecar = Sidecar(container)
    sidecar.upstream_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)),
                                                  trust_env=False, auto_decompress=False)
    sidecar.local_http = aiohttp.ClientSession(trust_env=False, auto_decompress=False)
    if secrets is not None:  # delivered as the management service would (mesh_secrets)
        sidecar.tls.secrets = secrets
        sidecar.tls._have_secrets.set()
        sidecar.tls._watcher = asyncio.get_running_loop().create_future()
    await sidecar._apply(snapshot)
    return sidecar


async def _stop(sidecar: Sidecar) -> None:
    await sidecar.tls.close()
    for server in sidecar.servers.values():
        await server.cleanup()
    await sidecar.upstream_http.close()
    await sidecar.local_http.close()


async def _app(address: str) -> web.AppRunner:
    """The colorteller app behind the backend's proxy (localhost:8080)."""
    async def color(request: web.Request) -> web.Response:
        return web.Response(text="white")

    app = web.Application()
    app.router.add_get("/", color)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, address, 8080).start()
    return runner


def _ssl_stats(sidecar: Sidecar, prefix: str) -> dict[str, int]:
    out = {}
    for line in sidecar.stats.render().splitlines():
        name, _, value = line.partition(": ")
        if name.startswith(prefix + ".ssl.") and int(value):
            out[name[len(prefix) + 1:]] = int(value)
    return out


@dataclass
class World:
    network: Network
    server: Sidecar
    client: Sidecar
    app: web.AppRunner

    async def call(self, path: str = "/") -> tuple[int, str]:
        """What the gateway's app gets for an HTTP request to the backend (its egress listener)."""
        async with aiohttp.ClientSession(trust_env=False) as session:
            async with session.get(f"http://{SERVICE}:8080{path}", proxy=f"http://{self.client.address}:15001",
                                   timeout=aiohttp.ClientTimeout(total=20)) as answer:
                return answer.status, await answer.text()

    async def admin(self, sidecar: Sidecar, path: str) -> Any:
        class Request:
            def __init__(self, path: str) -> None:
                self.path, self.query = path, {}
        answer = await sidecar._admin(Request(path))
        return json.loads(answer.body)

    async def close(self) -> None:
        for sidecar in (self.client, self.server):
            await _stop(sidecar)
        await self.app.cleanup()
        await self.network.close()


async def _world(tmp_path: Path, pem: dict, server_node: VirtualNode, client_node: VirtualNode, *,
                 client_view: Optional[VirtualNode] = None, secrets: Optional[dict] = None,
                 server_secrets: Optional[dict] = None) -> World:
    """`client_view`: the backend's node as the client's configuration has it (default: as it is)."""
    for side in ("server", "client"):
        root = tmp_path / side
        for name in ("colorteller", "gateway", "wildcard", "cloudmap"):
            _write(root, name, pem[name])
        (root / CERTS.strip("/") / "ca.pem").write_text(pem["ca"])
        (root / CERTS.strip("/") / "other_ca.pem").write_text(pem["other_ca"])
    network = Network()
    edge = await network.start()
    server = await _sidecar("colorteller", _snapshot(server_node, server_node), tmp_path / "server", edge,
                            server_secrets)
    network.backend = (server.address, 15000)
    app = await _app(server.address)
    client = await _sidecar("gateway", _snapshot(client_node, client_view or server_node), tmp_path / "client", edge,
                            secrets)
    return World(network, server, client, app)


# ------------------------------------------------------------------------------ the matrix


@dataclass(frozen=True)
class Row:
    id: str
    listener: Optional[dict]                  # the backend listener's tls
    policy: Optional[dict] = None             # the gateway's backend client policy tls
    status: int = 200
    body: str = "white"
    server: dict = field(default_factory=dict)   # listener.0.0.0.0_15000.ssl.*
    client: dict = field(default_factory=dict)   # cluster.cds_egress_...ssl.*
    client_view: Optional[dict] = "same"      # type: ignore[assignment]  the listener tls the client believes
    discovery: Optional[dict] = None
    secrets: Optional[dict] = None
    server_secrets: Optional[dict] = None
    connect_fail: int = 0


def strict(certificate: str = "colorteller", **more: Any) -> dict:
    return {"mode": "STRICT", "certificate": _file(certificate), **more}


def permissive(certificate: str = "colorteller", **more: Any) -> dict:
    return {"mode": "PERMISSIVE", "certificate": _file(certificate), **more}


def policy(trust: str = "ca", sans: tuple[str, ...] = (), certificate: Optional[str] = None, **more: Any) -> dict:
    validation: dict = {"trust": _trust(trust)}
    if sans:
        validation["subjectAlternativeNames"] = {"match": {"exact": list(sans)}}
    out: dict = {"validation": validation, **more}
    if certificate:
        out["certificate"] = _file(certificate)
    return out


MUTUAL = {"validation": {"trust": _trust()}}
HS, NC, CE = "ssl.handshake", "ssl.no_certificate", "ssl.connection_error"
SAN, NOCERT, VERIFY = "ssl.fail_verify_san", "ssl.fail_verify_no_cert", "ssl.fail_verify_error"
TLS_FAILED = f"{FAILURE}, transport failure reason: {VERIFY_FAILED}"
ACM_LISTENER = {"mode": "STRICT", "certificate": {"acm": {"certificateArn": CERT_ARN}}}

ROWS = [
    # --- no TLS anywhere
    Row("plaintext", None),
    # --- no client policy: the server decides (tls.html, "Without client policies")
    Row("strict-file.no-policy.negotiated-unvalidated", strict(), server={HS: 1, NC: 1}, client={HS: 1}),
    Row("strict-file.no-policy.impostor-still-unvalidated", strict("wildcard"), server={HS: 1, NC: 1},
        client={HS: 1}),
    Row("permissive-file.no-policy.negotiated", permissive(), server={HS: 1, NC: 1}, client={HS: 1}),
    Row("permissive.plaintext-client-accepted", permissive(), client_view=None),
    Row("strict.plaintext-client-refused", strict(), client_view=None, status=503, body=TERMINATION,
        server={CE: 3}),
    # --- client policy: validation against a trust, SANs
    Row("strict.policy.discovery-name-matches", strict(), policy(), server={HS: 1, NC: 1}, client={HS: 1}),
    Row("strict.policy.wildcard-certificate-matches-discovery-name", strict("wildcard"), policy(),
        server={HS: 1, NC: 1}, client={HS: 1}),
    Row("strict.policy.certificate-for-another-name", strict("gateway"), policy(), status=503, body=TLS_FAILED,
        server={CE: 3}, client={SAN: 3}, connect_fail=3),
    Row("strict.policy.san-list-mismatch", strict(), policy(sans=("bogus.howto-tls.local",)), status=503,
        body=TLS_FAILED, server={CE: 3}, client={SAN: 3}, connect_fail=3),
    Row("strict.policy.san-list-match", strict("gateway"), policy(sans=("gateway.howto-tls.local",)),
        server={HS: 1, NC: 1}, client={HS: 1}),
    Row("strict.policy.untrusted-ca", strict(), policy("other_ca"), status=503, body=TLS_FAILED,
        server={CE: 3}, client={VERIFY: 3}, connect_fail=3),
    Row("strict.policy-not-enforced.server-decides", strict(), policy("other_ca", enforce=False),
        server={HS: 1, NC: 1}, client={HS: 1}),
    Row("strict.policy-other-port.server-decides", strict(), policy("other_ca", ports=[9080]),
        server={HS: 1, NC: 1}, client={HS: 1}),
    Row("strict.policy-this-port", strict(), policy("other_ca", ports=[8080]), status=503, body=TLS_FAILED,
        server={CE: 3}, client={VERIFY: 3}, connect_fail=3),
    Row("disabled.policy-enforces-tls", {"mode": "DISABLED"}, policy(), status=503,
        body=f"{FAILURE}, transport failure reason: TLS error: 268435703:SSL routines:OPENSSL_internal:"
             "WRONG_VERSION_NUMBER", client={CE: 3}, connect_fail=3),
    Row("strict.cloud-map-name", strict("cloudmap"), policy(), server={HS: 1, NC: 1}, client={HS: 1},
        discovery={"awsCloudMap": {"namespaceName": "apps.local", "serviceName": "colorteller"}}),
    # --- mutual TLS: the listener's validation asks for a client certificate
    Row("mtls.client-without-certificate", strict(validation=MUTUAL["validation"]), policy(), status=503,
        server={NOCERT: 3}, client={CE: 3}, connect_fail=3,
        body=f"{FAILURE}, transport failure reason: TLS error: 268436496:SSL routines:OPENSSL_internal:"
             "SSLV3_ALERT_HANDSHAKE_FAILURE"),
    Row("mtls.client-certificate", strict(validation=MUTUAL["validation"]), policy(certificate="gateway"),
        server={HS: 1}, client={HS: 1}),
    Row("mtls.listener-san-match", strict(validation={"trust": _trust(), "subjectAlternativeNames": {
        "match": {"exact": ["gateway.howto-tls.local"]}}}), policy(certificate="gateway"),
        server={HS: 1}, client={HS: 1}),
    Row("mtls.listener-san-mismatch", strict(validation={"trust": _trust(), "subjectAlternativeNames": {
        "match": {"exact": ["frontend.howto-tls.local"]}}}), policy(certificate="gateway"), status=503,
        server={SAN: 3}, client={CE: 3}, connect_fail=3,
        body=f"{FAILURE}, transport failure reason: TLS error: 268436498:SSL routines:OPENSSL_internal:"
             "SSLV3_ALERT_BAD_CERTIFICATE"),
    Row("mtls.client-certificate-from-other-ca", strict(validation=MUTUAL["validation"]),
        policy(certificate="impostor_client"), status=503, server={VERIFY: 3}, client={CE: 3}, connect_fail=3,
        body=f"{FAILURE}, transport failure reason: TLS error: 268436504:SSL routines:OPENSSL_internal:"
             "TLSV1_ALERT_UNKNOWN_CA"),
    Row("permissive-mtls.plaintext-client-accepted", permissive(validation=MUTUAL["validation"]), client_view=None),
    # --- ACM: the listener's certificate and the clients' roots come from the management service
    Row("acm.no-policy.validated-against-root", ACM_LISTENER, server={HS: 1, NC: 1}, client={HS: 1},
        secrets={"roots": {CERT_ARN: "ca"}}, server_secrets={"certificates": {CERT_ARN: "colorteller"}}),
    Row("acm.no-policy.root-of-another-ca", ACM_LISTENER, status=503, body=TLS_FAILED, server={CE: 3},
        client={VERIFY: 3}, connect_fail=3, secrets={"roots": {CERT_ARN: "other_ca"}},
        server_secrets={"certificates": {CERT_ARN: "colorteller"}}),
    Row("acm.policy-with-private-ca", ACM_LISTENER, {"validation": {"trust": {"acm": {
        "certificateAuthorityArns": [CA_ARN]}}}}, server={HS: 1, NC: 1}, client={HS: 1},
        secrets={"authorities": {CA_ARN: "ca"}}, server_secrets={"certificates": {CERT_ARN: "colorteller"}}),
    Row("acm.private-ca-not-allowed", ACM_LISTENER, {"validation": {"trust": {"acm": {
        "certificateAuthorityArns": [CA_ARN]}}}}, status=503, body=FAILURE, connect_fail=3,
        secrets={"authorities": {CA_ARN: "AccessDeniedException: not authorized to perform: "
                                          "acm-pca:GetCertificateAuthorityCertificate"}},
        server_secrets={"certificates": {CERT_ARN: "colorteller"}}),
    Row("acm.listener-certificate-not-allowed", ACM_LISTENER, status=503, body=FAILURE, server={CE: 3},
        client={CE: 3}, connect_fail=3, secrets={"roots": {CERT_ARN: "ca"}},
        server_secrets={"certificates": {CERT_ARN: "AccessDeniedException: not authorized to perform: "
                                                   "acm:ExportCertificate"}}),
    # --- what the course's proxy cannot do
    Row("sds-certificate.unsupported", {"mode": "STRICT", "certificate": {"sds": {"secretName": "colorteller"}}},
        status=503, body=FAILURE, server={CE: 3}, client={CE: 3}, connect_fail=3),
    Row("policy-trust-file-missing", strict(), policy("missing"), status=503, body=FAILURE, connect_fail=3),
]


def _secrets(spec: Optional[dict], pem: dict) -> Optional[dict]:
    """What the management service would deliver: names of test material, or error texts."""
    if spec is None:
        return None
    out: dict = {"version": "v1", "certificates": {}, "authorities": {}, "roots": {}}
    for kind, items in spec.items():
        for arn, what in items.items():
            if what not in pem:
                out[kind][arn] = {"error": what}
            elif kind == "certificates":
                issued = pem[what]
                out[kind][arn] = {"certificate_chain": issued.chain_pem, "passphrase": "p4ss",
                                  "private_key": issued.private_key_pem(b"p4ss"), "serial": "1"}
            else:
                out[kind][arn] = {"certificate": pem[what]}
    return out


@pytest.fixture(scope="module")
def material(pem):
    pem = dict(pem)
    pem["impostor_client"] = pki.create_ca("impostor").issue("gateway.howto-tls.local")
    return pem


async def _run_row(row: Row, tmp_path: Path, pem: dict):
    server_node = _node("colorteller", row.listener, discovery=row.discovery)
    client_node = _node("gateway", backend_policy=row.policy)
    view = None
    if row.client_view is None:
        view = _node("colorteller", None, discovery=row.discovery)
    world = await _world(tmp_path, pem, server_node, client_node, client_view=view,
                         secrets=_secrets(row.secrets, pem), server_secrets=_secrets(row.server_secrets, pem))
    if row.id == "mtls.client-certificate-from-other-ca":
        _write(tmp_path / "client", "impostor_client", pem["impostor_client"])
    try:
        status, body = await world.call()
        return (status, body, _ssl_stats(world.server, LISTENER), _ssl_stats(world.client, CLUSTER),
                world.client.stats.get(f"{CLUSTER}.upstream_cx_connect_fail"))
    finally:
        await world.close()


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_tls_between_sidecars(row, tmp_path, material):
    status, body, server, client, connect_fail = asyncio.run(asyncio.wait_for(_run_row(row, tmp_path, material), 60))
    assert (status, body.strip()) == (row.status, row.body)
    assert server == row.server
    assert client == row.client
    assert connect_fail == row.connect_fail


# ------------------------------------------------------------------------------ stats, admin, rotation


def test_ssl_stats_are_listed_from_the_start_and_admin_shows_certificates(tmp_path, material):
    async def run():
        world = await _world(tmp_path, material, _node("colorteller", strict(validation=MUTUAL["validation"])),
                             _node("gateway", backend_policy=policy(certificate="gateway")))
        try:
            assert (await world.call())[0] == 200
            stats = world.server.stats.render()
            # App Mesh's "Verify encryption" lists these, zeros included.
            for name in ("connection_error", "fail_verify_cert_hash", "fail_verify_error", "fail_verify_no_cert",
                         "fail_verify_san", "handshake", "no_certificate"):
                assert f"{LISTENER}.ssl.{name}: " in stats
            assert f"{LISTENER}.ssl.no_certificate: 0" in stats  # every client presented a certificate
            certs = await world.admin(world.server, "/certs")
            (context,) = certs["certificates"]
            leaf, = context["cert_chain"]
            assert leaf["path"] == f"{CERTS}/colorteller_cert_chain.pem"
            assert leaf["subject_alt_names"] == [{"dns": SERVICE}]
            assert leaf["serial_number"] == format(material["colorteller"].certificate.serial_number, "x")
            assert 360 <= int(leaf["days_until_expiration"]) <= 366
            assert leaf["valid_from"].endswith("Z") and leaf["expiration_time"].endswith("Z")
            assert [c["path"] for c in context["ca_cert"]] == [f"{CERTS}/ca.pem"]
            client_certs = (await world.admin(world.client, "/certs"))["certificates"]
            assert client_certs[0]["cert_chain"][0]["subject_alt_names"] == [{"dns": "gateway.howto-tls.local"}]
            dump = (await world.admin(world.server, "/config_dump"))["configs"][-1]
            assert dump["@type"] == "type.mylearning/appmesh.Tls"
            (listener,) = dump["listeners"]
            assert listener["mode"] == "STRICT" and listener["validation"]["mutual_tls"] is True
            assert listener["certificate"] == {"source": "file", "path": f"{CERTS}/colorteller_cert_chain.pem"}
            cluster, = (await world.admin(world.client, "/config_dump"))["configs"][-1]["clusters"]
            assert cluster["tls"] == "clientPolicy" and cluster["subject_alternative_names"] == [SERVICE]
            assert cluster["state"] == "active"
        finally:
            await world.close()

    asyncio.run(asyncio.wait_for(run(), 60))


def test_file_certificates_are_read_once_until_the_proxy_restarts(tmp_path, material):
    """tls.html, "Certificate renewal": Envoy does not reload a file certificate that changed."""
    async def run():
        node = _node("colorteller", strict())
        world = await _world(tmp_path, material, node, _node("gateway", backend_policy=policy()))
        try:
            first = (await world.admin(world.server, "/certs"))["certificates"][0]["cert_chain"][0]["serial_number"]
            _write(tmp_path / "server", "colorteller", material["renewed"])
            await world.server._apply(replace(_snapshot(node, node), version="2"))  # any later configuration
            assert (await world.call())[0] == 200
            again = (await world.admin(world.server, "/certs"))["certificates"][0]["cert_chain"][0]["serial_number"]
            assert again == first
            # The proxy restarts: the new file is read.
            await _stop(world.server)
            world.server = await _sidecar("colorteller", _snapshot(node, node), tmp_path / "server",
                                          world.network.edge.url)
            world.network.backend = (world.server.address, 15000)
            await world.app.cleanup()
            world.app = await _app(world.server.address)
            renewed = (await world.admin(world.server, "/certs"))["certificates"][0]["cert_chain"][0]["serial_number"]
            assert renewed == format(material["renewed"].certificate.serial_number, "x") != first
            assert (await world.call())[0] == 200
        finally:
            await world.close()

    asyncio.run(asyncio.wait_for(run(), 60))


def test_an_acm_renewal_reaches_the_listener_without_a_restart(tmp_path, material):
    async def run():
        secrets = _secrets({"certificates": {CERT_ARN: "colorteller"}}, material)
        world = await _world(tmp_path, material, _node("colorteller", ACM_LISTENER), _node("gateway"),
                             secrets=_secrets({"roots": {CERT_ARN: "ca"}}, material), server_secrets=secrets)
        try:
            assert (await world.call())[0] == 200
            renewed = _secrets({"certificates": {CERT_ARN: "renewed"}}, material)
            world.server.tls.secrets = renewed  # what the management service's next answer brings
            world.server.tls._build(world.server.snapshot)
            leaf = (await world.admin(world.server, "/certs"))["certificates"][0]["cert_chain"][0]
            assert leaf["serial_number"] == format(material["renewed"].certificate.serial_number, "x")
            assert leaf["path"] == "<inline>"
            assert (await world.call())[0] == 200  # the kept connection goes on, as Envoy drains it
            # A new connection gets the renewed certificate.
            from cryptography import x509
            connection = await tls.open_tls_connection(world.server.address, 15000,
                                                       tls.ClientTls(trust=material["ca"]), server_name=SERVICE)
            assert connection.outcome.ok, connection.outcome.detail
            served = x509.load_der_x509_certificate(connection.outcome.peer_certificate)
            assert served.serial_number == material["renewed"].certificate.serial_number
            connection.stream.close()
            assert _ssl_stats(world.server, LISTENER) == {HS: 2, NC: 2}
        finally:
            await world.close()

    asyncio.run(asyncio.wait_for(run(), 60))


def test_connections_are_kept_alive(tmp_path, material):
    async def run():
        world = await _world(tmp_path, material, _node("colorteller", strict()), _node("gateway",
                                                                                      backend_policy=policy()))
        try:
            for _ in range(5):
                assert await world.call() == (200, "white")
            assert _ssl_stats(world.client, CLUSTER) == {HS: 1}
            assert world.client.stats.get(f"{CLUSTER}.upstream_rq_2xx") == 5
        finally:
            await world.close()

    asyncio.run(asyncio.wait_for(run(), 60))


# ------------------------------------------------------------------------------ virtual gateways


def _gateway(listener_tls: Optional[dict] = None, defaults: Optional[dict] = None) -> Any:
    from mylearning.dataplane.mesh.model import VirtualGateway
    listener: dict = {"portMapping": {"port": 9443, "protocol": "http"}}
    if listener_tls:
        listener["tls"] = listener_tls
    spec: dict = {"listeners": [listener]}
    if defaults:
        spec["backendDefaults"] = {"clientPolicy": {"tls": defaults}}
    route = {"gatewayRouteName": "to-colorteller", "spec": {"httpRoute": {
        "match": {"prefix": "/"}, "action": {"target": {"virtualService": {"virtualServiceName": SERVICE}}}}}}
    return VirtualGateway.from_api({"virtualGatewayName": "ingress-gw", "spec": spec}, [route])


async def _gateway_world(tmp_path: Path, pem: dict, gateway: Any, backend: VirtualNode) -> World:
    world = await _world(tmp_path, pem, backend, _node("gateway"))
    await _stop(world.client)
    snapshot = Snapshot(mesh=MESH, egress_filter="DROP_ALL", proxy=gateway, routers={},
                        services=_snapshot(backend, backend).services, nodes={"colorteller": backend}, version="1")
    address = f"127.213.{next(_addresses) % 250}.4"
    container = Container(name="envoy", address=address, ports=[], root=str(tmp_path / "client"),
                          proxy=world.network.edge.url, task_arn=TASK, image=ENVOY,
                          env={"APPMESH_RESOURCE_ARN": f"mesh/{MESH}/virtualGateway/ingress-gw",
                               "ENVOY_LOG_LEVEL": "error"})
    sidecar = Sidecar(container)
    sidecar.upstream_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)),
                                                  trust_env=False, auto_decompress=False)
    sidecar.local_http = aiohttp.ClientSession(trust_env=False, auto_decompress=False)
    await sidecar._apply(snapshot)
    world.client = sidecar
    return world


async def _https_get(address: str, port: int, policy: Any, server_name: str) -> tuple[Any, bytes]:
    """An outside client of the gateway: TLS (maybe with its certificate), then one HTTP request."""
    connection = await tls.open_tls_connection(address, port, policy, server_name=server_name)
    if connection.stream is None:
        return connection.outcome, b""
    connection.stream.write(b"GET / HTTP/1.1\r\nHost: gw.howto-tls.local\r\nConnection: close\r\n\r\n")
    await connection.stream.drain()
    answer = b""
    while chunk := await connection.stream.read():
        answer += chunk
    connection.stream.close()
    return connection.outcome, answer


def test_a_gateway_originates_tls_by_its_backend_defaults(tmp_path, material):
    """mutual-tls.html: "Virtual Gateways can only be configured with a default client policy"."""
    async def run():
        world = await _gateway_world(tmp_path, material, _gateway(defaults=policy(certificate="gateway")),
                                     _node("colorteller", strict(validation=MUTUAL["validation"])))
        try:
            async with aiohttp.ClientSession(trust_env=False) as session:
                async with session.get(f"http://{world.client.address}:9443/") as answer:
                    assert (answer.status, await answer.text()) == (200, "white")
            assert _ssl_stats(world.client, CLUSTER) == {HS: 1}
            assert _ssl_stats(world.server, LISTENER) == {HS: 1}  # with the gateway's certificate
        finally:
            await world.close()

    asyncio.run(asyncio.wait_for(run(), 60))


def test_a_gateway_listener_terminates_mutual_tls_for_outside_clients(tmp_path, material):
    """Trust outside a mesh (mutual-tls.html): the gateway's listener asks outside clients for a
    certificate from its trusted CA; its stats are rooted at its own port."""
    gateway_tls = {"mode": "STRICT", "certificate": _file("wildcard"), "validation": {"trust": _trust()}}

    async def run():
        world = await _gateway_world(tmp_path, material, _gateway(gateway_tls), _node("colorteller"))
        try:
            address, stats = world.client.address, "listener.0.0.0.0_9443"
            client = tls.Certificate(material["gateway"].chain_pem, material["gateway"].private_key_pem())
            outcome, answer = await _https_get(address, 9443, tls.ClientTls(trust=material["ca"], certificate=client),
                                               "gw.howto-tls.local")
            assert outcome.ok and answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"white"), answer
            outcome, answer = await _https_get(address, 9443, tls.ClientTls(trust=material["ca"]),
                                               "gw.howto-tls.local")
            assert not outcome.ok and answer == b""
            # A plaintext client is refused too.
            reader, writer = await asyncio.open_connection(address, 9443)
            writer.write(b"GET / HTTP/1.1\r\nHost: gw\r\n\r\n")
            assert await reader.read() == b""
            writer.close()
            assert _ssl_stats(world.client, stats) == {HS: 1, NOCERT: 1, CE: 1}
        finally:
            await world.close()

    asyncio.run(asyncio.wait_for(run(), 60))


def test_a_new_acm_certificate_on_its_way_leaves_the_listener_in_service(tmp_path, material):
    """Envoy warms a listener whose secret has not arrived; the one in service goes on meanwhile."""
    async def run():
        secrets = _secrets({"certificates": {CERT_ARN: "colorteller"}}, material)
        node = _node("colorteller", ACM_LISTENER)
        world = await _world(tmp_path, material, node, _node("gateway"),
                             secrets=_secrets({"roots": {CERT_ARN: "ca"}}, material), server_secrets=secrets)
        try:
            other = CERT_ARN.replace("6666", "7777")
            moved = _node("colorteller", {"mode": "STRICT", "certificate": {"acm": {"certificateArn": other}}})
            await world.server._apply(_snapshot(moved, moved, version="2"))  # its certificate not delivered yet
            state = world.server.tls.listener_state(15000)
            assert state.certificate.where == CERT_ARN and state.server is not None
            world.client.tls._drop_plans()  # a new connection
            assert await world.call() == (200, "white")
        finally:
            await world.close()

    asyncio.run(asyncio.wait_for(run(), 60))
