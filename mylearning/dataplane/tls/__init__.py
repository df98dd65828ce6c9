"""TLS between mesh sidecars, as App Mesh configures Envoy: real OpenSSL, Envoy's judgement and counters.

* ``policy``: a listener's TLS and a backend's client policy, read from App Mesh's API
  shapes, and the ``ssl.SSLContext`` each needs;
* ``handshake``: accepting and opening connections (STRICT, PERMISSIVE with plaintext told
  apart by the first byte, DISABLED; mutual TLS; SANs checked inside the handshake), each
  ending in an ``Outcome`` counted in Envoy's ``ssl.*`` statistics;
* ``stream``: the connection afterwards, plaintext or TLS; ``names``: SAN matching;
  ``records``: the TLS record bytes read or written by hand.

It differs from Envoy where a Python data plane must: OpenSSL instead of BoringSSL (error
texts are translated to BoringSSL's), no SDS, no session resumption statistics.
"""
from __future__ import annotations

from mylearning.dataplane.tls.handshake import (CONNECTION_ERROR, FAIL_VERIFY_ERROR, FAIL_VERIFY_NO_CERT,
                                                FAIL_VERIFY_SAN, HANDSHAKE, NO_CERTIFICATE, STATS, UPSTREAM_FAILURE,
                                                Connection, Outcome, TlsClient, TlsServer, TlsStats,
                                                open_tls_connection, start_server, tls_error)
from mylearning.dataplane.tls.policy import (Certificate, ClientTls, ListenerTls, client_context, load_certificate,
                                             server_context)
from mylearning.dataplane.tls.stream import PlainStream, TlsStream

__all__ = ["Certificate", "ClientTls", "ListenerTls", "client_context", "server_context", "load_certificate", "TlsServer", "TlsClient",
           "TlsStats", "Outcome", "Connection", "open_tls_connection", "start_server", "tls_error", "PlainStream",
           "TlsStream", "STATS", "HANDSHAKE", "NO_CERTIFICATE", "FAIL_VERIFY_NO_CERT", "FAIL_VERIFY_ERROR",
           "FAIL_VERIFY_SAN", "CONNECTION_ERROR", "UPSTREAM_FAILURE"]
