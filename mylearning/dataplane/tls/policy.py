"""A mesh endpoint's TLS settings, as App Mesh's API states them, and the OpenSSL contexts for them.

* A listener's ``tls`` (https://docs.aws.amazon.com/app-mesh/latest/APIReference/API_ListenerTls.html):
  ``mode`` STRICT ("only accepts connections with TLS enabled"), PERMISSIVE ("accepts
  connections with or without TLS enabled") or DISABLED; a ``certificate`` (file, ACM or
  SDS); an optional ``validation`` with a ``trust`` and ``subjectAlternativeNames``. With a
  validation, "App Mesh will configure the Envoy to require a client certificate": that is
  mutual TLS (aws-app-mesh-examples, walkthroughs/howto-mutual-tls-file-provided, step 4,
  where a client without one counts ``ssl.fail_verify_no_cert``).
* A backend's client policy ``tls`` (API_ClientPolicyTls.html): ``validation`` (``trust``,
  ``subjectAlternativeNames``), an optional client ``certificate`` for mutual TLS ("The
  client certificate isn't sent to its backend until after the backend server requests
  it", https://docs.aws.amazon.com/app-mesh/latest/userguide/mutual-tls.html), ``enforce``
  and ``ports``. Without a validation the client negotiates TLS but "the certificate of the
  server is not validated" (userguide/tls.html, file-based certificates).

Envoy's protocol defaults apply: TLS 1.2 to 1.3 for listeners, TLS 1.2 for clients ("By
default, it's TLSv1_2 for clients and TLSv1_3 for servers",
https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/transport_sockets/tls/v3/common.proto,
tls_maximum_protocol_version). Capping clients at TLS 1.2 also means a server's rejection
of the client's certificate arrives during the handshake, as the walkthrough shows it.
"""
from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

MODES = ("STRICT", "PERMISSIVE", "DISABLED")

#: Reads what an ACM certificate ARN stands for: (certificate chain PEM, private key PEM,
#: key passphrase or None); the sidecar answers it with ExportCertificate, as Envoy does.
AcmCertificate = Callable[[str], "tuple[str, str, bytes | None]"]
#: Reads a private CA's certificate PEM by ARN (GetCertificateAuthorityCertificate).
AcmAuthority = Callable[[str], str]


@dataclass(frozen=True)
class Certificate:
    """A certificate chain (the certificate first) and its private key, as PEM text."""

    chain: str
    private_key: str
    password: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ListenerTls:
    """A listener's TLS: its mode, its certificate, and whom it trusts to be its clients."""

    mode: str
    certificate: Certificate | None
    #: PEM bundle of the CAs client certificates must chain to; set: mutual TLS.
    trust: str | None = None
    #: subjectAlternativeNames.match.exact of the listener's validation.
    subject_alternative_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"TLS mode {self.mode!r}: one of {', '.join(MODES)}")
        if self.mode != "DISABLED" and self.certificate is None:
            raise ValueError(f"a {self.mode} listener needs a certificate")

    @property
    def mutual(self) -> bool:
        return self.trust is not None

    @classmethod
    def from_app_mesh(cls, tls: dict, acm_certificate: AcmCertificate | None = None) -> "ListenerTls":
        """From a listener's ``tls`` as DescribeVirtualNode returns it (file or ACM certificate,
        file trust)."""
        validation = tls.get("validation") or {}
        return cls(mode=tls["mode"], certificate=_certificate(tls.get("certificate"), acm_certificate),
                   trust=_trust(validation.get("trust"), None), subject_alternative_names=_sans(validation))


@dataclass(frozen=True)
class ClientTls:
    """A client policy's TLS: whom the client trusts to be the backend, and its own certificate."""

    #: PEM bundle of the CAs a backend's certificate must chain to; None: not validated.
    trust: str | None = None
    #: subjectAlternativeNames.match.exact; empty: the name dialed must match.
    subject_alternative_names: tuple[str, ...] = ()
    certificate: Certificate | None = None
    enforce: bool = True
    ports: tuple[int, ...] = ()

    def applies_to(self, port: int) -> bool:
        """"ports: One or more ports that the policy is enforced for" (all when none are given)."""
        return self.enforce and (not self.ports or port in self.ports)

    @classmethod
    def from_app_mesh(cls, tls: dict, acm_authority: AcmAuthority | None = None) -> "ClientTls":
        """From a client policy's ``tls`` (API_ClientPolicyTls.html): file, ACM or SDS-less trust."""
        validation = tls.get("validation") or {}
        return cls(trust=_trust(validation.get("trust"), acm_authority), subject_alternative_names=_sans(validation),
                   certificate=_certificate(tls.get("certificate"), None),
                   enforce=tls.get("enforce", True), ports=tuple(tls.get("ports") or ()))


def _sans(validation: dict) -> tuple[str, ...]:
    return tuple(((validation.get("subjectAlternativeNames") or {}).get("match") or {}).get("exact") or ())


def _certificate(spec: dict | None, acm: AcmCertificate | None) -> Certificate | None:
    if not spec:
        return None
    if "file" in spec:
        return Certificate(Path(spec["file"]["certificateChain"]).read_text(),
                           Path(spec["file"]["privateKey"]).read_text())
    if "acm" in spec:
        if acm is None:
            raise ValueError("an ACM certificate needs a way to export it (acm_certificate=...)")
        chain, key, password = acm(spec["acm"]["certificateArn"])
        return Certificate(chain, key, password)
    raise ValueError(f"certificate source {sorted(spec)} is not supported here (file and acm are)")


def _trust(spec: dict | None, acm: AcmAuthority | None) -> str | None:
    if not spec:
        return None
    if "file" in spec:
        return Path(spec["file"]["certificateChain"]).read_text()
    if "acm" in spec:
        if acm is None:
            raise ValueError("an ACM trust needs a way to read its CAs (acm_authority=...)")
        return "".join(acm(arn) for arn in spec["acm"]["certificateAuthorityArns"])
    raise ValueError(f"trust source {sorted(spec)} is not supported here (file and acm are)")


def load_certificate(context: ssl.SSLContext, certificate: Certificate) -> None:
    """Load a certificate chain and key given as text into `context`. OpenSSL reads keys from
    files only: on Linux they go to anonymous memory files (``memfd_create``, never on a disk);
    elsewhere to a private temporary folder, mode 0600, removed after the load."""
    descriptors: list[int] = []
    try:
        if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
            for text in (certificate.chain, certificate.private_key):
                descriptor = os.memfd_create("mylearning-tls", getattr(os, "MFD_CLOEXEC", 0))
                descriptors.append(descriptor)
                with os.fdopen(os.dup(descriptor), "w") as out:
                    out.write(text)
    except OSError:  # no memory files here (a sandbox may refuse them): the folder below
        for descriptor in descriptors:
            os.close(descriptor)
        descriptors = []
    if descriptors:
        try:
            chain, key = (f"/proc/self/fd/{d}" for d in descriptors)
            context.load_cert_chain(chain, key, password=certificate.password)
            return
        finally:
            for descriptor in descriptors:
                os.close(descriptor)
    with tempfile.TemporaryDirectory(prefix="mylearning-tls-") as folder:
        chain, key = os.path.join(folder, "chain.pem"), os.path.join(folder, "key.pem")
        for path, text in ((chain, certificate.chain), (key, certificate.private_key)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as out:
                out.write(text)
        context.load_cert_chain(chain, key, password=certificate.password)


def server_context(listener: ListenerTls) -> ssl.SSLContext:
    """The OpenSSL server context for a listener (its certificate; client certificates
    required and verified against its trust when it has one)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version, context.maximum_version = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    if listener.certificate is not None:
        load_certificate(context, listener.certificate)
    if listener.trust:
        context.load_verify_locations(cadata=listener.trust)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(policy: ClientTls) -> ssl.SSLContext:
    """The OpenSSL client context for a backend: TLS 1.2, the policy's trust (names are checked
    by the sidecar itself, see ``handshake``), its client certificate if any."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    if policy.trust:
        context.load_verify_locations(cadata=policy.trust)
        context.verify_mode = ssl.CERT_REQUIRED
    else:
        context.verify_mode = ssl.CERT_NONE
    if policy.certificate is not None:
        load_certificate(context, policy.certificate)
    return context


__all__ = ["Certificate", "ListenerTls", "ClientTls", "server_context", "client_context", "load_certificate", "MODES"]
