"""The management service's TLS material (mesh_secrets): what a proxy needs, what its role may have,
and renewals followed. ACM and Private CA are stand-ins here; the end-to-end test reads real ones."""
from __future__ import annotations

import asyncio

from mylearning.dataplane import mesh_secrets
from mylearning.dataplane.mesh.model import Snapshot, VirtualGateway, VirtualNode, VirtualService

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/aaaa"
BACKEND_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/bbbb"
CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/cccc"
DEFAULT_CA = "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/dddd"


def _acm_listener(arn: str) -> dict:
    return {"portMapping": {"port": 8080, "protocol": "http"},
            "tls": {"mode": "STRICT", "certificate": {"acm": {"certificateArn": arn}}}}


def _trust(*arns: str) -> dict:
    return {"tls": {"validation": {"trust": {"acm": {"certificateAuthorityArns": list(arns)}}}}}


def _snapshot(proxy, nodes) -> Snapshot:
    return Snapshot(mesh="m", egress_filter="DROP_ALL", proxy=proxy, routers={}, nodes=nodes,
                    services={"b.local": VirtualService("b.local", "virtualNode", "b")})


def test_a_node_needs_its_listener_certificate_its_policies_cas_and_its_backends_roots():
    backend = VirtualNode.from_api({"virtualNodeName": "b", "spec": {"listeners": [_acm_listener(BACKEND_CERT)]}})
    proxy = VirtualNode.from_api({"virtualNodeName": "a", "spec": {
        "listeners": [_acm_listener(CERT)],
        "backends": [{"virtualService": {"virtualServiceName": "b.local", "clientPolicy": _trust(CA)}}],
        "backendDefaults": {"clientPolicy": _trust(DEFAULT_CA)}}})
    needs = mesh_secrets.needs(_snapshot(proxy, {"a": proxy, "b": backend}))
    assert needs == mesh_secrets.Needs(frozenset({CERT}), frozenset({CA, DEFAULT_CA}), frozenset({BACKEND_CERT}))
    plain = VirtualNode.from_api({"virtualNodeName": "a", "spec": {"listeners": [
        {"portMapping": {"port": 8080, "protocol": "http"}}]}})
    assert not mesh_secrets.needs(_snapshot(plain, {"a": plain}))


def test_a_gateway_needs_its_listener_certificates_and_its_default_policy():
    backend = VirtualNode.from_api({"virtualNodeName": "b", "spec": {"listeners": [_acm_listener(BACKEND_CERT)]}})
    gateway = VirtualGateway.from_api({"virtualGatewayName": "gw", "spec": {
        "listeners": [_acm_listener(CERT)], "backendDefaults": {"clientPolicy": _trust(CA)}}}, [])
    needs = mesh_secrets.needs(_snapshot(gateway, {"b": backend}))
    assert needs == mesh_secrets.Needs(frozenset({CERT}), frozenset({CA}), frozenset({BACKEND_CERT}))


class FakeAws:
    """ACM and Private CA as far as the service reads them; counts the calls."""

    def __init__(self) -> None:
        self.serial = "01"
        self.calls: list[tuple[str, str]] = []
        self.regions: set[str] = set()

    def client(self, service: str, region: str):
        self.regions.add(region)
        fake = self

        class Client:
            def describe_certificate(self, CertificateArn):
                fake.calls.append(("describe", CertificateArn))
                return {"Certificate": {"Serial": fake.serial}}

            def export_certificate(self, CertificateArn, Passphrase):
                fake.calls.append(("export", CertificateArn))
                assert isinstance(Passphrase, bytes) and len(Passphrase) >= 4
                return {"Certificate": f"LEAF {fake.serial}", "CertificateChain": "CA",
                        "PrivateKey": "ENCRYPTED KEY"}

            def get_certificate(self, CertificateArn):
                fake.calls.append(("get", CertificateArn))
                return {"Certificate": "LEAF", "CertificateChain": "-----BEGIN CERTIFICATE-----\nSUB\n"
                                                                   "-----BEGIN CERTIFICATE-----\nROOT\n"}

            def get_certificate_authority_certificate(self, CertificateAuthorityArn):
                fake.calls.append(("ca", CertificateAuthorityArn))
                return {"Certificate": "CA CERT"}
        return Client()


def _service(aws: FakeAws, denied: set[str] = frozenset(), clock=None) -> mesh_secrets.MeshSecrets:
    def refusal(runner, action, arn):
        return f"AccessDeniedException: not authorized to perform: {action} on resource: {arn}" \
            if action in denied else None
    kwargs = {"clock": clock} if clock else {}
    return mesh_secrets.MeshSecrets(aws.client, refusal, **kwargs)


NEEDS = mesh_secrets.Needs(frozenset({CERT}), frozenset({DEFAULT_CA}), frozenset({BACKEND_CERT}))


class _Task:
    def __init__(self, arn):
        self.arn = arn


def test_a_backends_root_reaches_callers_once_every_listener_proxy_holds_the_certificate():
    aws, now = FakeAws(), [0.0]
    service = _service(aws, clock=lambda: now[0])
    caller, first, second = _Task("caller"), _Task("backend-1"), _Task("backend-2")
    wants_root = mesh_secrets.Needs(roots=frozenset({BACKEND_CERT}))
    serves = mesh_secrets.Needs(certificates=frozenset({BACKEND_CERT}))
    assert service.answer(caller, wants_root, "us-east-1")["roots"] == {}  # nobody serves it yet: stay plaintext
    assert "certificate_chain" in service.answer(first, serves, "us-east-1")["certificates"][BACKEND_CERT]
    now[0] += mesh_secrets.ROOT_GRACE / 2
    service.answer(second, serves, "us-east-1")
    assert service.answer(caller, wants_root, "us-east-1")["roots"] == {}  # the listeners are turning TLS on
    now[0] += mesh_secrets.ROOT_GRACE / 2
    assert service.answer(caller, wants_root, "us-east-1")["roots"] == {}  # the second one is not there yet
    now[0] += mesh_secrets.ROOT_GRACE / 2
    assert service.answer(caller, wants_root, "us-east-1")["roots"][BACKEND_CERT]["certificate"].endswith("ROOT\n")
    # A proxy refused its certificate never holds it up... once it stopped asking.
    refused = _service(FakeAws(), {mesh_secrets.EXPORT_ACTION}, clock=lambda: now[0])
    refused.answer(first, serves, "us-east-1")
    assert refused.answer(caller, wants_root, "us-east-1")["roots"] == {}
    now[0] += mesh_secrets.WANTING_SECONDS
    assert refused.answer(caller, wants_root, "us-east-1")["roots"] == {}  # nobody serves it at all


def test_the_answer_carries_what_the_role_allows():
    aws = FakeAws()
    now = [0.0]
    service = _service(aws, clock=lambda: now[0])
    service.answer(_Task("backend"), mesh_secrets.Needs(certificates=frozenset({BACKEND_CERT})), "us-east-1")
    now[0] += mesh_secrets.ROOT_GRACE  # the backend's own proxy has had its certificate
    body = service.answer(None, NEEDS, "us-east-1")
    certificate = body["certificates"][CERT]
    assert certificate["certificate_chain"] == "LEAF 01\nCA\n" and certificate["private_key"] == "ENCRYPTED KEY"
    assert len(certificate["passphrase"]) == 32 and certificate["serial"] == "01"
    assert body["authorities"][DEFAULT_CA] == {"certificate": "CA CERT\n"}
    assert body["roots"][BACKEND_CERT] == {"certificate": "-----BEGIN CERTIFICATE-----\nROOT\n"}  # the chain's last
    assert "eu-west-1" in aws.regions  # each ARN is read in its own region
    denied = _service(FakeAws(), {mesh_secrets.EXPORT_ACTION, mesh_secrets.CA_ACTION}).answer(None, NEEDS, "us-east-1")
    assert "acm:ExportCertificate" in denied["certificates"][CERT]["error"]
    assert "acm-pca:GetCertificateAuthorityCertificate" in denied["authorities"][DEFAULT_CA]["error"]
    assert denied["version"] != body["version"]


def test_a_renewed_certificate_is_exported_again_and_changes_the_version():
    aws, now = FakeAws(), [0.0]
    service = _service(aws, clock=lambda: now[0])
    first = service.answer(None, NEEDS, "us-east-1")
    assert service.answer(None, NEEDS, "us-east-1")["version"] == first["version"]  # cached: no new calls
    assert [c for c in aws.calls if c[0] == "export"] == [("export", CERT)]
    now[0] += mesh_secrets.SECRETS_POLL
    assert service.answer(None, NEEDS, "us-east-1")["version"] == first["version"]  # same serial: not re-exported
    assert [c for c in aws.calls if c[0] == "export"] == [("export", CERT)]
    aws.serial = "02"
    now[0] += mesh_secrets.SECRETS_POLL
    renewed = service.answer(None, NEEDS, "us-east-1")
    assert renewed["certificates"][CERT]["certificate_chain"].startswith("LEAF 02")
    assert renewed["version"] != first["version"]


def test_the_long_poll_answers_a_change_or_nothing():
    aws = FakeAws()
    service = _service(aws)
    backend = VirtualNode.from_api({"virtualNodeName": "b", "spec": {"listeners": [_acm_listener(BACKEND_CERT)]}})
    proxy = VirtualNode.from_api({"virtualNodeName": "a", "spec": {"listeners": [_acm_listener(CERT)]}})
    snapshot = _snapshot(proxy, {"a": proxy, "b": backend})

    async def run():
        body = await service.serve(None, lambda: snapshot, "us-east-1", "", 1.0)
        unchanged = await service.serve(None, lambda: snapshot, "us-east-1", body["version"], 0.1)
        return body, unchanged

    body, unchanged = asyncio.run(run())
    assert set(body["certificates"]) == {CERT} and unchanged is None
