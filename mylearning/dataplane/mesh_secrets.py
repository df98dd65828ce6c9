"""The TLS material App Mesh hands its Envoys: ACM certificates and private CAs' certificates.

On AWS a sidecar never calls ACM itself: App Mesh's management server exports the listener's
ACM certificate and reads the client policies' private CAs, then streams them to Envoy as SDS
secrets over the same authorized xDS stream
(https://docs.aws.amazon.com/app-mesh/latest/userguide/tls.html, "TLS authentication
certificates": "When you enable proxy authorization for the Envoy Proxy that a mesh endpoint
represents, the IAM role that you use must be assigned the following IAM permissions: For any
certificates configured on a virtual node's listener, the role must have the
``acm:ExportCertificate`` permission. For any CAs configured on a TLS client policy, the role
must have the ``acm-pca:GetCertificateAuthorityCertificate`` permission.")

Here the management service (`mylearning.dataplane.mesh_management`) does that part, in the
data plane process, with the data plane's own credentials, after it has checked the asking
task's role for those two actions the way IAM would:

* ``GET /v1/secrets?task=ARN&resource=ARN&version=V&wait=S`` answers, as JSON, what the
  proxy's current configuration (the same snapshot the proxy streams) needs:
  ``certificates`` (its listeners' ACM certificates: chain, encrypted PKCS #8 key and its
  passphrase), ``authorities`` (its client policies' ``acm.certificateAuthorityArns``: each
  CA's certificate) and ``roots`` (the root CA each ACM certificate of a backend's listener
  chains up to: "When a server has configured TLS termination using an ACM-managed
  certificate, App Mesh automatically configures clients to negotiate TLS and validate the
  certificate against the root CA that the certificate chains up to", same page, "Without
  client policies"). An item the role may not have carries AWS's AccessDenied text instead.
  A long poll, like ``/v1/resources``: 200 when the answer differs from version V, else 304.
* Private keys stay in memory: exported with a random passphrase, kept here only as the
  encrypted PEM ACM gives, sent to the proxy over loopback, never written to a file.
* Renewals are followed: each certificate's serial number (DescribeCertificate) is read
  again every `SECRETS_POLL` seconds while a proxy waits, and a changed one is exported
  again, so a renewed certificate reaches the proxies within seconds. (AWS: "the renewed
  certificate will be automatically distributed to your connected proxies within 35 minutes
  of the renewal completion", tls.html, "Certificate renewal".)

Where it differs from App Mesh: JSON over the long poll instead of SDS over gRPC; file and
SDS sources are not this service's business (the proxy reads its files itself; there is no
SDS provider, see `mylearning.dataplane.images.envoy_tls`).
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional

#: How long an ACM or Private CA answer is trusted before it is read again.
SECRETS_POLL = 2.0
#: How often a waiting proxy's needs are looked at again (its configuration may have changed;
#: ACM and Private CA answers stay cached `SECRETS_POLL` seconds).
CHECK_EVERY = 0.5
#: A backend listener's root CA reaches its callers this long after the listener's own proxy
#: first received the certificate (below).
ROOT_GRACE = 1.0
#: A task that has not asked for a certificate for this long no longer holds it up (it stopped).
WANTING_SECONDS = 10.0
#: The actions a proxy's role needs for each kind of item (tls.html).
EXPORT_ACTION = "acm:ExportCertificate"
CA_ACTION = "acm-pca:GetCertificateAuthorityCertificate"


@dataclass(frozen=True)
class Needs:
    """The ACM and Private CA ARNs one proxy's configuration refers to."""

    certificates: frozenset[str] = frozenset()
    authorities: frozenset[str] = frozenset()
    roots: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.certificates or self.authorities or self.roots)


def _acm_certificate(tls: Optional[Mapping]) -> Optional[str]:
    return (((tls or {}).get("certificate") or {}).get("acm") or {}).get("certificateArn")


def _acm_authorities(tls: Optional[Mapping]) -> Iterable[str]:
    trust = (((tls or {}).get("validation") or {}).get("trust") or {})
    return tuple((trust.get("acm") or {}).get("certificateAuthorityArns") or ())


def needs(snapshot: Any) -> Needs:
    """What a snapshot needs from ACM and Private CA: its own listeners' certificates, the CAs
    of its client policies (each backend's and ``backendDefaults``), and the root of every
    ACM certificate a backend's listener serves (for clients without a matching policy)."""
    proxy = snapshot.proxy
    certificates = {arn for li in proxy.listeners if (arn := _acm_certificate(li.tls))}
    # A listener's validation trust is file or SDS only (API_ListenerTlsValidationContextTrust.html);
    # an ACM one, should the API ever give one, is read like a client policy's.
    authorities = {a for li in proxy.listeners for a in _acm_authorities(li.tls)}
    policies = [b.client_policy for b in getattr(proxy, "backends", ())]
    policies.append((proxy.backend_defaults or {}).get("clientPolicy"))
    authorities |= {a for p in policies if p for a in _acm_authorities(p.get("tls"))}
    roots = {arn for name, node in snapshot.nodes.items() if name != proxy.name or snapshot.is_gateway
             for li in node.listeners if (arn := _acm_certificate(li.tls))}
    return Needs(frozenset(certificates), frozenset(authorities), frozenset(roots))


def _region(arn: str, default: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else default


@dataclass
class _Item:
    """One ACM or Private CA answer: its content (or error) and when it was read."""

    value: dict
    read_at: float
    serial: Optional[str] = None


@dataclass
class MeshSecrets:
    """Exports and reads, cached `SECRETS_POLL` seconds, shared by every proxy that needs them.

    `client(service, region)` gives a boto3 client (the data plane's credentials);
    `refusal(runner, action, arn)` says why a task's role may not, or None."""

    client: Callable[[str, str], Any]
    refusal: Callable[[Any, str, str], Optional[str]]
    clock: Callable[[], float] = time.monotonic
    _certificates: dict[str, _Item] = field(default_factory=dict)
    _authorities: dict[str, _Item] = field(default_factory=dict)
    _roots: dict[str, _Item] = field(default_factory=dict)
    #: certificate ARN -> task -> when it last asked for it / when it was first given it.
    _wanting: dict[str, dict[Any, float]] = field(default_factory=dict)
    _given: dict[str, dict[Any, float]] = field(default_factory=dict)

    # ---------------------------------------------------------------- reading (blocking)

    def _fresh(self, cache: dict[str, _Item], arn: str) -> Optional[_Item]:
        item = cache.get(arn)
        return item if item is not None and self.clock() - item.read_at < SECRETS_POLL else None

    def _certificate(self, arn: str, region: str) -> dict:
        """An ACM certificate exported (again only when its serial number changed)."""
        item = self._fresh(self._certificates, arn)
        if item is not None:
            return item.value
        acm = self.client("acm", _region(arn, region))
        previous = self._certificates.get(arn)
        try:
            serial = acm.describe_certificate(CertificateArn=arn)["Certificate"].get("Serial")
            if previous is not None and previous.serial == serial and "error" not in previous.value:
                previous.read_at = self.clock()
                return previous.value
            passphrase = secrets.token_hex(16)
            exported = acm.export_certificate(CertificateArn=arn, Passphrase=passphrase.encode())
            value = {"certificate_chain": exported["Certificate"].strip() + "\n" +
                     (exported.get("CertificateChain") or "").strip() + "\n",
                     "private_key": exported["PrivateKey"], "passphrase": passphrase, "serial": serial}
        except Exception as error:  # the API's own answer (not found, not issued, not exportable)
            serial, value = None, {"error": _error_text(error)}
        self._certificates[arn] = _Item(value, self.clock(), serial)
        return value

    def _served(self, arn: str) -> bool:
        """Whether every proxy that serves certificate `arn` (every task that asked for it in the
        last `WANTING_SECONDS`) has had it for `ROOT_GRACE` seconds.

        A caller starts TLS towards a listener with an ACM certificate as soon as it holds
        the root CA (tls.html, "Without client policies"); handing it the root only once the
        listener's own proxy holds the certificate keeps the caller in plaintext (Envoy keeps
        a cluster warming until its secrets arrive) while the listener turns TLS on, so that
        PERMISSIVE, the mode AWS documents for turning TLS on without downtime, drops nothing."""
        now = self.clock()
        # Stopped tasks are forgotten here, so the data plane's memory does not grow with them.
        wanting = self._wanting[arn] = {task: seen for task, seen in self._wanting.get(arn, {}).items()
                                        if now - seen < WANTING_SECONDS}
        given = self._given[arn] = {task: at for task, at in self._given.get(arn, {}).items() if task in wanting}
        return bool(wanting) and all(task in given and now - given[task] >= ROOT_GRACE for task in wanting)

    def _authority(self, arn: str, region: str) -> dict:
        item = self._fresh(self._authorities, arn)
        if item is not None:
            return item.value
        try:
            got = self.client("acm-pca", _region(arn, region)).get_certificate_authority_certificate(
                CertificateAuthorityArn=arn)
            value = {"certificate": got["Certificate"].strip() + "\n"}
        except Exception as error:
            value = {"error": _error_text(error)}
        self._authorities[arn] = _Item(value, self.clock())
        return value

    def _root(self, arn: str, region: str) -> dict:
        """The last certificate of an ACM certificate's chain: the root CA it chains up to."""
        item = self._fresh(self._roots, arn)
        if item is not None:
            return item.value
        try:
            got = self.client("acm", _region(arn, region)).get_certificate(CertificateArn=arn)
            chain = got.get("CertificateChain") or got["Certificate"]
            marker = "-----BEGIN CERTIFICATE-----"
            value = {"certificate": marker + chain.rsplit(marker, 1)[1].rstrip() + "\n"}
        except Exception as error:
            value = {"error": _error_text(error)}
        self._roots[arn] = _Item(value, self.clock())
        return value

    def answer(self, runner: Any, wanted: Needs, region: str) -> dict:
        """The secrets of `wanted` this task's role may have, with a version of their content
        (blocking: ACM, Private CA and IAM reads)."""
        body: dict[str, dict] = {"certificates": {}, "authorities": {}, "roots": {}}
        task, now = getattr(runner, "arn", None) or id(runner), self.clock()
        for arn in sorted(wanted.certificates):
            refused = self.refusal(runner, EXPORT_ACTION, arn)
            body["certificates"][arn] = {"error": refused} if refused else self._certificate(arn, region)
            self._wanting.setdefault(arn, {})[task] = now
            if "error" not in body["certificates"][arn]:
                self._given.setdefault(arn, {}).setdefault(task, now)
        for arn in sorted(wanted.authorities):
            refused = self.refusal(runner, CA_ACTION, arn)
            body["authorities"][arn] = {"error": refused} if refused else self._authority(arn, region)
        for arn in sorted(wanted.roots):
            if self._served(arn):
                body["roots"][arn] = self._root(arn, region)
        body["version"] = _version(body)
        return body

    # ---------------------------------------------------------------- the long poll

    async def serve(self, runner: Any, snapshot_of: Callable[[], Any], region: str, known: str,
                    wait: float) -> Optional[dict]:
        """The answer once it differs from version `known`, or None after `wait` seconds."""
        deadline = time.monotonic() + wait
        while True:
            snapshot = snapshot_of()
            wanted = needs(snapshot) if snapshot is not None else Needs()
            body = await asyncio.to_thread(self.answer, runner, wanted, region)
            if body["version"] != known:
                return body
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            await asyncio.sleep(min(CHECK_EVERY, left))


def _version(body: Mapping) -> str:
    """A hash of what the proxy would load: serials, CA certificates and errors (not the
    passphrases, which change with every export)."""
    import hashlib

    visible = {kind: {arn: {k: v for k, v in item.items() if k not in ("private_key", "passphrase")}
                      for arn, item in items.items()}
               for kind, items in body.items() if kind != "version"}
    return hashlib.sha256(json.dumps(visible, sort_keys=True).encode()).hexdigest()[:16]


def _error_text(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        return f"{response['Error'].get('Code')}: {response['Error'].get('Message')}"
    return f"{type(error).__name__}: {error}"


__all__ = ["CA_ACTION", "EXPORT_ACTION", "MeshSecrets", "Needs", "SECRETS_POLL", "needs"]
