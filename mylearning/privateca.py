"""AWS Private CA and ACM private certificates, the course's way: found before made, tagged, removable.

A private CA signs the certificates that services inside one organisation present to each
other; nobody outside trusts it, and nobody needs to
(https://docs.aws.amazon.com/privateca/latest/userguide/PcaWelcome.html). Making a root CA
is three calls and a wait (https://docs.aws.amazon.com/privateca/latest/userguide/PCACertInstall.html):

1. ``CreateCertificateAuthority`` (type ROOT): the CA's key pair; status PENDING_CERTIFICATE;
2. ``GetCertificateAuthorityCsr`` and ``IssueCertificate`` with the ``RootCACertificate/V1``
   template: the CA signs its own certificate;
3. ``ImportCertificateAuthorityCertificate``: the CA becomes ACTIVE and may issue.

ACM then issues **private certificates** from it (``RequestCertificate`` with
``CertificateAuthorityArn``): no domain validation, issued at once, renewed by ACM, and
exportable with their private key, which App Mesh's Envoy needs
(https://docs.aws.amazon.com/acm/latest/userguide/acm-private-cas.html,
https://docs.aws.amazon.com/acm/latest/userguide/export-private.html). ``export`` decrypts
the key ACM returns under a passphrase and keeps it in memory only.

What it costs on a real account (`COSTS`): a general-purpose CA is billed monthly from its
creation until it is deleted, and each private certificate once when issued
(https://aws.amazon.com/private-ca/pricing/). `removal_actions` disables and deletes a
course CA (AWS keeps it restorable for 7 to 30 days, then deletes it for good) and deletes
the course's certificates.
"""
from __future__ import annotations

import dataclasses
import secrets
import time
from typing import Any

from mylearning import lookup
from mylearning.removals import Action

ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"
KEY_ALGORITHM, SIGNING_ALGORITHM = "EC_prime256v1", "SHA256WITHECDSA"
CA_VALIDITY_YEARS = 10
#: Deleting a CA: it may be restored for this many days (7 to 30, API_DeleteCertificateAuthority).
RESTORE_DAYS = 7

#: AWS Private CA's list prices in US dollars (https://aws.amazon.com/private-ca/pricing/):
#: a general-purpose CA per month, a short-lived-certificate CA per month, and each private
#: certificate of the first 1,000 a month (general-purpose mode).
COSTS = {"general-purpose CA, per month": 400.0, "short-lived certificate CA, per month": 50.0,
         "private certificate, each (first 1,000 a month)": 0.75}


class PrivateCaError(RuntimeError):
    """A CA or certificate the course cannot use, with what to do about it."""


def _tags(session: Any, lab: str) -> list[dict]:
    return session.tags(lab)


def _ca_tags(pca: Any, arn: str) -> list[dict]:
    try:
        return pca.list_tags(CertificateAuthorityArn=arn).get("Tags", [])
    except Exception:  # a CA being deleted
        return []


def certificate_authorities(session: Any, lab: str | None = None) -> list[dict]:
    """The course's CAs (of this learner, and of `lab` if given), not deleted, newest first."""
    pca = session.client("acm-pca")
    found = []
    for page in pca.get_paginator("list_certificate_authorities").paginate():
        for ca in page.get("CertificateAuthorities", []):
            if ca.get("Status") == "DELETED":
                continue
            if lookup.is_course_tagged({"Tags": _ca_tags(pca, ca["Arn"])}, session, lab):
                found.append(ca)
    return sorted(found, key=lambda ca: str(ca.get("CreatedAt", "")), reverse=True)


def find_root_ca(session: Any, lab: str, common_name: str) -> dict | None:
    """The course's root CA with this subject common name, if there is one."""
    for ca in certificate_authorities(session, lab):
        subject = ((ca.get("CertificateAuthorityConfiguration") or {}).get("Subject") or {})
        if ca.get("Type") == "ROOT" and subject.get("CommonName") == common_name:
            return ca
    return None


def activate(session: Any, arn: str) -> None:
    """Give a PENDING_CERTIFICATE root CA its self-signed certificate: it becomes ACTIVE."""
    pca = session.client("acm-pca")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    issued = pca.issue_certificate(CertificateAuthorityArn=arn, Csr=csr, SigningAlgorithm=SIGNING_ALGORITHM,
                                   TemplateArn=ROOT_TEMPLATE,
                                   Validity={"Value": CA_VALIDITY_YEARS, "Type": "YEARS"})["CertificateArn"]
    pca.get_waiter("certificate_issued").wait(CertificateAuthorityArn=arn, CertificateArn=issued,
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    certificate = pca.get_certificate(CertificateAuthorityArn=arn, CertificateArn=issued)["Certificate"]
    pca.import_certificate_authority_certificate(CertificateAuthorityArn=arn, Certificate=certificate)


def ensure_root_ca(session: Any, lab: str, common_name: str, *, organization: str = "MyLearning") -> str:
    """The ARN of an ACTIVE course root CA named `common_name`: found, finished (a CA left
    PENDING_CERTIFICATE is activated), or created and activated."""
    pca = session.client("acm-pca")
    found = find_root_ca(session, lab, common_name)
    if found is None:
        arn = pca.create_certificate_authority(
            CertificateAuthorityType="ROOT", Tags=_tags(session, lab),
            CertificateAuthorityConfiguration={
                "KeyAlgorithm": KEY_ALGORITHM, "SigningAlgorithm": SIGNING_ALGORITHM,
                "Subject": {"CommonName": common_name, "Organization": organization}},
            IdempotencyToken=secrets.token_hex(8))["CertificateAuthorityArn"]
        status = "PENDING_CERTIFICATE"
    else:
        arn, status = found["Arn"], found.get("Status")
    if status == "PENDING_CERTIFICATE":
        activate(session, arn)
    elif status == "DISABLED":
        pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="ACTIVE")
    elif status != "ACTIVE":
        raise PrivateCaError(f"The CA {arn} is {status}: it cannot issue certificates. Delete it "
                             "(removal_actions) and run this again.")
    return arn


def ca_certificate_pem(session: Any, arn: str) -> str:
    """The CA's own certificate (and chain, for a subordinate CA), PEM."""
    answer = session.client("acm-pca").get_certificate_authority_certificate(CertificateAuthorityArn=arn)
    return "\n".join(part.strip() for part in (answer["Certificate"], answer.get("CertificateChain")) if part) + "\n"


def certificates(session: Any, lab: str | None = None) -> list[dict]:
    """The course's ACM certificates (described, with "Tags"), of `lab` if given."""
    acm = session.client("acm")
    found = []
    for page in acm.get_paginator("list_certificates").paginate():
        for summary in page.get("CertificateSummaryList", []):
            arn = summary["CertificateArn"]
            tags = acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
            if lookup.is_course_tagged({"Tags": tags}, session, lab):
                detail = acm.describe_certificate(CertificateArn=arn)["Certificate"]
                found.append({**detail, "Tags": tags})
    return found


def find_certificate(session: Any, lab: str, domain: str, ca_arn: str) -> dict | None:
    """The newest course certificate for `domain` issued by `ca_arn` and not failed or revoked."""
    matches = [c for c in certificates(session, lab) if c.get("DomainName") == domain
               and c.get("CertificateAuthorityArn") == ca_arn and c.get("Status") in ("ISSUED", "PENDING_VALIDATION")]
    return max(matches, key=lambda c: str(c.get("CreatedAt", "")), default=None)


def request_certificate(session: Any, lab: str, domain: str, ca_arn: str) -> str:
    """A new ACM private certificate for `domain` from the CA (ISSUED when this returns)."""
    acm = session.client("acm")
    arn = acm.request_certificate(DomainName=domain, CertificateAuthorityArn=ca_arn, KeyAlgorithm=KEY_ALGORITHM,
                                  Tags=_tags(session, lab), IdempotencyToken=secrets.token_hex(8))["CertificateArn"]
    # A private certificate needs no domain validation, so the certificate_validated waiter,
    # which reads DomainValidationOptions, does not apply: wait for ISSUED itself.
    deadline = time.monotonic() + 60
    while True:
        status = acm.describe_certificate(CertificateArn=arn)["Certificate"].get("Status")
        if status == "ISSUED":
            return arn
        if status in ("FAILED", "REVOKED") or time.monotonic() > deadline:
            raise PrivateCaError(f"ACM did not issue the certificate for {domain} ({status}).")
        time.sleep(0.5)


def ensure_certificate(session: Any, lab: str, domain: str, ca_arn: str) -> str:
    """The ARN of an ISSUED course certificate for `domain` from the CA: found or requested."""
    found = find_certificate(session, lab, domain, ca_arn)
    return found["CertificateArn"] if found else request_certificate(session, lab, domain, ca_arn)


@dataclasses.dataclass(frozen=True)
class Exported:
    """An exported private certificate: the leaf, the chain up to the root, the key (PEM,
    unencrypted, in memory only: store it in Secrets Manager, never in a file or output)."""
    certificate: str
    chain: str
    private_key: str = dataclasses.field(repr=False)

    @property
    def certificate_chain(self) -> str:
        """Leaf then chain, as a ``certificateChain`` file holds them."""
        return self.certificate.strip() + "\n" + self.chain.strip() + "\n"


def export(session: Any, arn: str) -> Exported:
    """ExportCertificate with a one-off passphrase; the key is decrypted here
    (https://docs.aws.amazon.com/acm/latest/APIReference/API_ExportCertificate.html)."""
    from cryptography.hazmat.primitives import serialization

    passphrase = secrets.token_urlsafe(24).encode()
    answer = session.client("acm").export_certificate(CertificateArn=arn, Passphrase=passphrase)
    key = serialization.load_pem_private_key(answer["PrivateKey"].encode(), password=passphrase)
    plain = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode()
    return Exported(answer["Certificate"], answer.get("CertificateChain", ""), plain)


def serial_hex(certificate: dict) -> str:
    """A described certificate's serial as Envoy's /certs writes it (lower-case hex, no
    leading zeros): ACM writes "0a:1b:...", the embedded AWS's moto a decimal number."""
    text = str(certificate.get("Serial", ""))
    value = int(text.replace(":", ""), 16) if ":" in text else int(text or 0)
    return format(value, "x")


def removal_actions(session: Any, lab: str) -> list[Action]:
    """Delete the lab's ACM certificates, then disable and delete its CAs (restorable for
    `RESTORE_DAYS` days, as AWS keeps them; billing stops at deletion)."""
    acm, pca = session.client("acm"), session.client("acm-pca")
    actions = [Action("ACM certificate", f"{c.get('DomainName')} {c['CertificateArn'].rsplit('/', 1)[-1]}",
                      lambda arn=c["CertificateArn"]: acm.delete_certificate(CertificateArn=arn))
               for c in certificates(session, lab)]

    def delete_ca(arn: str, status: str) -> None:
        if status == "ACTIVE":
            pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="DISABLED")
        pca.delete_certificate_authority(CertificateAuthorityArn=arn, PermanentDeletionTimeInDays=RESTORE_DAYS)

    for ca in certificate_authorities(session, lab):
        name = ((ca.get("CertificateAuthorityConfiguration") or {}).get("Subject") or {}).get("CommonName", "")
        actions.append(Action("private CA", f"{name} ({ca.get('Status')})",
                              lambda arn=ca["Arn"], status=ca.get("Status", ""): delete_ca(arn, status)))
    return actions
