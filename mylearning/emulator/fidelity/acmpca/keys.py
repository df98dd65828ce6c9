"""AWS Private CA: a CA's own key of its KeyAlgorithm, and signatures by its SigningAlgorithm.

moto gives every CA an RSA 2048 key and signs everything with SHA-512, so an EC_prime256v1
CA "signs" with RSA and a SHA256WITHRSA_PSS request gets PKCS #1 v1.5. Here the key is of
the algorithm the CA was created with (API_CertificateAuthorityConfiguration.html,
KeyAlgorithm: RSA_2048, RSA_3072, RSA_4096, EC_prime256v1, EC_secp384r1, EC_secp521r1),
made on first use (an RSA 4096 key takes a while and most CAs of the fidelity table never
sign), and a signature uses the hash and padding its SigningAlgorithm names
(API_IssueCertificate.html, SigningAlgorithm). SM2 and ML-DSA, which cryptography can't
make here, keep moto's RSA key.
"""
from __future__ import annotations

from typing import Any

_CURVES = {"EC_prime256v1": "SECP256R1", "EC_secp384r1": "SECP384R1", "EC_secp521r1": "SECP521R1"}


def generate(key_algorithm: Any) -> Any | None:
    """A new private key for a KeyAlgorithm value; None for one cryptography can't make."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if key_algorithm in _CURVES:
        return ec.generate_private_key(getattr(ec, _CURVES[key_algorithm])())
    if isinstance(key_algorithm, str) and key_algorithm.startswith("RSA_"):
        try:
            return rsa.generate_private_key(public_exponent=65537, key_size=int(key_algorithm[4:]))
        except ValueError:
            return None
    return None


def _hash(signing_algorithm: Any, key: Any) -> Any:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    for prefix, algorithm in (("SHA256", hashes.SHA256), ("SHA384", hashes.SHA384), ("SHA512", hashes.SHA512)):
        if isinstance(signing_algorithm, str) and signing_algorithm.startswith(prefix):
            return algorithm()
    if isinstance(key, ec.EllipticCurvePrivateKey):  # the curve's own size, as AWS pairs them
        return {256: hashes.SHA256, 384: hashes.SHA384}.get(key.curve.key_size, hashes.SHA512)()
    return hashes.SHA256()


def sign(builder: Any, key: Any, signing_algorithm: Any) -> Any:
    """builder.sign with the hash (and, for *_PSS, the RSASSA-PSS padding) the algorithm names."""
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    algorithm = _hash(signing_algorithm, key)
    if isinstance(key, rsa.RSAPrivateKey) and str(signing_algorithm).endswith("_PSS"):
        return builder.sign(key, algorithm, rsa_padding=padding.PSS(
            mgf=padding.MGF1(algorithm), salt_length=padding.PSS.DIGEST_LENGTH))
    return builder.sign(key, algorithm)
