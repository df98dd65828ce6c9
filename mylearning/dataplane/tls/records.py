"""The few TLS record bytes the sidecar reads itself (RFC 5246 and RFC 8446, section 5).

* A TLS connection starts with a handshake record, content type 22 (0x16): PERMISSIVE
  listeners tell TLS from plaintext by that first byte, as Envoy's TLS inspector does
  (https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/listener_filters/tls_inspector).
* In TLS 1.2 the server's Certificate message travels in plaintext before
  ChangeCipherSpec, so a client can read the server's certificate before it sends its own
  flight: that is where the sidecar checks SANs, inside the handshake, as Envoy does.
* A fatal alert is five header bytes and two body bytes; sent before ChangeCipherSpec, it
  needs no keys.
"""
from __future__ import annotations

HANDSHAKE = 22
CHANGE_CIPHER_SPEC = 20
ALERT = 21
CERTIFICATE = 11
#: Alert descriptions (RFC 8446, section 6).
BAD_CERTIFICATE = 42


def looks_like_tls(first_byte: bytes) -> bool:
    """Whether a connection's first byte opens a TLS handshake record (a ClientHello)."""
    return first_byte[:1] == bytes([HANDSHAKE])


def _plaintext_handshake(data: bytes) -> bytes:
    """The handshake messages of the records before the first non-handshake record."""
    out, i = bytearray(), 0
    while i + 5 <= len(data):
        kind, length = data[i], int.from_bytes(data[i + 3:i + 5], "big")
        if kind != HANDSHAKE or i + 5 + length > len(data):
            break
        out += data[i + 5:i + 5 + length]
        i += 5 + length
    return bytes(out)


def first_certificate(data: bytes) -> bytes | None:
    """The DER of the first certificate of a plaintext Certificate message in `data` (the peer's
    bytes so far), or None while there is none (yet, or ever: TLS 1.3 encrypts it)."""
    messages, i = _plaintext_handshake(data), 0
    while i + 4 <= len(messages):
        kind, length = messages[i], int.from_bytes(messages[i + 1:i + 4], "big")
        if i + 4 + length > len(messages):
            return None
        if kind == CERTIFICATE:
            body = messages[i + 4:i + 4 + length]
            size = int.from_bytes(body[3:6], "big") if len(body) >= 6 else 0
            return body[6:6 + size] or None
        i += 4 + length
    return None


def fatal_alert(description: int) -> bytes:
    """A plaintext fatal alert record (TLS 1.2 record version)."""
    return bytes([ALERT, 3, 3, 0, 2, 2, description])
