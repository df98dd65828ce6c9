"""Which names a certificate is for, and whether they are the names a policy trusts.

App Mesh's ``subjectAlternativeNames.match.exact``: "If SANs are provided, Envoy verifies
that the Subject Alternative Name of the presented certificate matches one of the names on
this list"; "App Mesh doesn't support wildcard DNS SANs. You need to provide exact names of
the endpoints". Without a list, on the client side, "the SAN on the certificate provided by
the terminating endpoint must match the mesh endpoint service discovery configuration", and
a certificate "with the wild card ``*.apps.local``" matches ``mesh-endpoint.apps.local``
(https://docs.aws.amazon.com/app-mesh/latest/userguide/tls.html).

Envoy compares an exact matcher with a DNS SAN by DNS rules (case-insensitive, a leftmost
``*`` label in the certificate standing for one label), a URI or IP SAN as a string; the
common name is not consulted.
"""
from __future__ import annotations

import ipaddress
from typing import Iterable


def certificate_names(der: bytes) -> list[tuple[str, str]]:
    """(kind, value) for each SAN of a DER certificate: kind is "DNS", "URI" or "IP"."""
    from cryptography import x509

    certificate = x509.load_der_x509_certificate(der)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return ([("DNS", n) for n in san.get_values_for_type(x509.DNSName)]
            + [("URI", n) for n in san.get_values_for_type(x509.UniformResourceIdentifier)]
            + [("IP", str(n)) for n in san.get_values_for_type(x509.IPAddress)])


def dns_name_match(wanted: str, certificate_name: str) -> bool:
    """`certificate_name` (maybe ``*.domain``) covers `wanted`, by DNS rules."""
    wanted, certificate_name = wanted.lower().rstrip("."), certificate_name.lower().rstrip(".")
    if certificate_name == wanted:
        return True
    if certificate_name.startswith("*.") and "." in wanted:
        return wanted.split(".", 1)[1] == certificate_name[2:]
    return False


def matches(names: Iterable[tuple[str, str]], allowed: Iterable[str]) -> bool:
    """Whether any SAN of a certificate is one of `allowed`."""
    names = list(names)
    for want in allowed:
        for kind, value in names:
            if kind == "DNS" and dns_name_match(want, value):
                return True
            if kind == "URI" and value == want:
                return True
            if kind == "IP" and _same_ip(want, value):
                return True
    return False


def _same_ip(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def describe(names: Iterable[tuple[str, str]]) -> str:
    shown = [value if kind == "DNS" else f"{kind}:{value}" for kind, value in names]
    return ", ".join(shown) or "no SANs"
