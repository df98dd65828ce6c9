"""AWS Private CA: the CA states, algorithm pairs and validity limits AWS enforces.

moto 5.2 issues certificates from any CA in any state, with any signing algorithm,
for any validity; deletes and updates ACTIVE and PENDING_CERTIFICATE CAs alike;
answers an unknown certificate ARN with HTTP 500; and refuses a malformed CA
certificate with a code AWS doesn't have. Each rule below cites the page that
states it.
"""
from __future__ import annotations

import base64
import binascii
import datetime

from mylearning.emulator.fidelity.acmpca.access import (
    ROOT_TEMPLATES, SERVICE, ca, key_algorithm, key_family, not_after, signing_family, validity_time)
from mylearning.emulator.fidelity.core import AwsError, AwsRequest, rule


def invalid_state(message: str) -> AwsError:
    return AwsError("InvalidStateException", message, 400)


def invalid_args(message: str) -> AwsError:
    return AwsError("InvalidArgsException", message, 400)


# ---------------------------------------------------------------- CA states

@rule(SERVICE, "IssueCertificate")
def issue_from_an_active_ca(req: AwsRequest) -> None:
    """A CA issues certificates only when ACTIVE; a root CA still PENDING_CERTIFICATE issues
    only its own certificate, from a RootCACertificate template.

    https://docs.aws.amazon.com/privateca/latest/APIReference/API_IssueCertificate.html
    (Errors: InvalidStateException, "The state of the private CA does not allow this action
    to occur"); https://docs.aws.amazon.com/privateca/latest/userguide/PCATsExceptions.html
    (InvalidStateException: the CA "is not in the ACTIVE state");
    https://docs.aws.amazon.com/privateca/latest/userguide/PCACertInstall.html (a root CA
    "with status Pending certificate or Active" issues its CA certificate with
    ``--template-arn arn:aws:acm-pca:::template/RootCACertificate/V1``, which is then
    imported; "Your CA will then be ready to use").
    """
    authority = ca(req.region, req.params.get("CertificateAuthorityArn"))
    if authority is None or authority.status == "ACTIVE":
        return
    own_certificate = (authority.status == "PENDING_CERTIFICATE"
                       and authority.certificate_authority_type == "ROOT"
                       and req.params.get("TemplateArn") in ROOT_TEMPLATES)
    if not own_certificate:
        raise invalid_state(f"The certificate authority {authority.arn} is not in a valid state "
                            f"for issuing certificates: it is {authority.status}, not ACTIVE.")


@rule(SERVICE, "DeleteCertificateAuthority")
def delete_only_an_inactive_ca(req: AwsRequest) -> None:
    """An ACTIVE CA must be disabled before it can be deleted.

    https://docs.aws.amazon.com/privateca/latest/APIReference/API_DeleteCertificateAuthority.html
    ("To delete a CA in the ACTIVE state, you must first disable it, or else the delete request
    results in an exception"; Errors: InvalidStateException); the CloudTrail example on
    https://docs.aws.amazon.com/privateca/latest/userguide/CT-DeleteCA.html shows AWS's answer.
    """
    authority = ca(req.region, req.params.get("CertificateAuthorityArn"))
    if authority is not None and authority.status == "ACTIVE":
        raise invalid_state("The certificate authority is not in a valid state for deletion.")


@rule(SERVICE, "UpdateCertificateAuthority")
def update_only_an_active_or_disabled_ca(req: AwsRequest) -> None:
    """Only an ACTIVE or DISABLED CA can be updated (so a PENDING_CERTIFICATE CA can't be
    made ACTIVE without its certificate).

    https://docs.aws.amazon.com/privateca/latest/APIReference/API_UpdateCertificateAuthority.html
    ("Your private CA must be in the ACTIVE or DISABLED state before you can update it";
    Errors: InvalidStateException).
    """
    authority = ca(req.region, req.params.get("CertificateAuthorityArn"))
    if authority is not None and authority.status not in ("ACTIVE", "DISABLED"):
        raise invalid_state(f"The certificate authority {authority.arn} is {authority.status}: only "
                            "an ACTIVE or DISABLED certificate authority can be updated.")


# ---------------------------------------------------------------- algorithms

def _mismatch(signing: object, key: object) -> str | None:
    signs, keys = signing_family(signing), key_family(key)
    if signs is None or keys is None or signs == keys:
        return None
    return (f"The signing algorithm {signing} ({signs}) can't be used with the key algorithm {key} "
            f"({keys}): the signing algorithm family must match the family of the CA's private key.")


@rule(SERVICE, "CreateCertificateAuthority")
def ca_signing_algorithm_matches_its_key(req: AwsRequest) -> None:
    """A CA's SigningAlgorithm is of its KeyAlgorithm's family (RSA with RSA, ECDSA with EC).

    https://docs.aws.amazon.com/privateca/latest/userguide/supported-algorithms.html ("In all
    cases, the specified signing algorithm family (RSA or ECDSA) must match the algorithm family
    of the CA's private key"); API_CreateCertificateAuthority.html, Errors: InvalidArgsException.
    """
    config = req.params.get("CertificateAuthorityConfiguration")
    if isinstance(config, dict):
        problem = _mismatch(config.get("SigningAlgorithm"), config.get("KeyAlgorithm"))
        if problem:
            raise invalid_args(problem)


@rule(SERVICE, "IssueCertificate")
def signing_algorithm_matches_the_ca_key(req: AwsRequest) -> None:
    """IssueCertificate's SigningAlgorithm is of the family of the issuing CA's key.

    https://docs.aws.amazon.com/privateca/latest/APIReference/API_IssueCertificate.html
    (SigningAlgorithm: "The specified signing algorithm family (RSA or ECDSA) must match the
    algorithm family of the CA's secret key"); PCATsExceptions.html (InvalidArgsException:
    "make sure that the requested signing algorithm can be used with the CA's key type").
    """
    authority = ca(req.region, req.params.get("CertificateAuthorityArn"))
    if authority is not None:
        problem = _mismatch(req.params.get("SigningAlgorithm"), key_algorithm(authority))
        if problem:
            raise invalid_args(problem)


# ---------------------------------------------------------------- validity

@rule(SERVICE, "IssueCertificate")
def validity_within_the_ca_certificate(req: AwsRequest) -> None:
    """A certificate can't outlive the certificate of the CA that issues it.

    https://docs.aws.amazon.com/privateca/latest/APIReference/API_IssueCertificate.html
    (Validity: "The end of the validity period configured on a certificate must not exceed the
    limit set on its parents in the CA hierarchy"); PCATsExceptions.html (ValidationException:
    "the validity period of the root certificate ends before the validity period of the
    requested certificate"). A root CA's own certificate is not checked: "AWS Private CA does
    not perform validity checks on root CA certificates" (short-lived-certificates.html).
    """
    if req.params.get("TemplateArn") in ROOT_TEMPLATES:
        return
    authority = ca(req.region, req.params.get("CertificateAuthorityArn"))
    limit = not_after(authority) if authority is not None else None
    if limit is None:
        return
    end = validity_time(req.params.get("Validity"), datetime.datetime.now(datetime.timezone.utc))
    if end is not None and end > limit:
        raise AwsError("ValidationException",
                       "The certificate validity specified exceeds the certificate authority "
                       f"validity: it ends {end:%Y-%m-%dT%H:%M:%SZ}, the CA certificate "
                       f"{limit:%Y-%m-%dT%H:%M:%SZ}.", 400)


# ---------------------------------------------------------------- certificates

def _pem_certificates(encoded: object) -> int | None:
    """How many PEM certificates the base64 blob holds; None if any of it is unreadable."""
    from cryptography import x509

    try:
        pem = base64.b64decode(encoded, validate=False)
        return len(x509.load_pem_x509_certificates(pem))
    except (binascii.Error, TypeError, ValueError):
        return None


@rule(SERVICE, "ImportCertificateAuthorityCertificate")
def imported_certificate_well_formed(req: AwsRequest) -> None:
    """The CA certificate and its chain are PEM-encoded certificates.

    https://docs.aws.amazon.com/privateca/latest/APIReference/API_ImportCertificateAuthorityCertificate.html
    (Certificate: "The PEM-encoded certificate for a private CA"; "The chain must be
    PEM-encoded"; Errors: MalformedCertificateException, "One or more fields in the certificate
    are invalid"). moto answers MalformedCertificateAuthorityException, a code AWS doesn't have.
    """
    for key in ("Certificate", "CertificateChain"):
        value = req.params.get(key)
        if isinstance(value, str) and value and _pem_certificates(value) is None:
            raise AwsError("MalformedCertificateException",
                           f"The {key} is not a PEM-encoded certificate.", 400)


@rule(SERVICE, "GetCertificate")
def certificate_issued_by_the_ca(req: AwsRequest) -> None:
    """GetCertificate names a certificate the CA issued.

    https://docs.aws.amazon.com/privateca/latest/APIReference/API_GetCertificate.html
    (Errors: ResourceNotFoundException, "A resource such as a private CA, S3 bucket,
    certificate, audit report, or policy cannot be found"). moto answers HTTP 500.
    """
    authority = ca(req.region, req.params.get("CertificateAuthorityArn"))
    certificate = req.params.get("CertificateArn")
    if authority is not None and isinstance(certificate, str) \
            and certificate not in authority.issued_certificates:
        raise AwsError("ResourceNotFoundException",
                       f"Certificate {certificate} not found for certificate authority "
                       f"{authority.arn}.", 400)



def _public_key_der(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.DER,  # type: ignore[attr-defined]
                            serialization.PublicFormat.SubjectPublicKeyInfo)


@rule(SERVICE, "ImportCertificateAuthorityCertificate")
def imported_certificate_is_for_the_ca_key(req: AwsRequest) -> None:
    """The imported certificate certifies the CA's own key, the one its CSR carries.

    https://docs.aws.amazon.com/privateca/latest/APIReference/API_ImportCertificateAuthorityCertificate.html
    (the CA certificate is the CSR from GetCertificateAuthorityCsr, signed; Errors:
    CertificateMismatchException, "The certificate authority certificate you are importing
    does not comply with conditions specified in the certificate that signed it"). A
    certificate for another key would leave the CA signing with a key nothing chains to.
    """
    from cryptography import x509

    from mylearning.emulator.fidelity.acmpca.issuing import ca_key

    authority = ca(req.region, req.params.get("CertificateAuthorityArn"))
    value = req.params.get("Certificate")
    if authority is None or not isinstance(value, str):
        return
    try:
        certificate = x509.load_pem_x509_certificate(base64.b64decode(value, validate=False))
    except (binascii.Error, ValueError):
        return  # imported_certificate_well_formed names it
    if _public_key_der(certificate.public_key()) != _public_key_der(ca_key(authority).public_key()):
        raise AwsError("CertificateMismatchException",
                       "The certificate's public key is not the key of this certificate authority: "
                       "import the certificate issued for its CSR (GetCertificateAuthorityCsr).", 400)
