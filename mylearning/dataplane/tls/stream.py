"""A connection after its handshake: plaintext, or TLS run by OpenSSL over memory buffers.

The sidecar holds the bytes OpenSSL produces until it has judged the peer's certificate
(``handshake``), so TLS runs on ``ssl.SSLObject`` with a pair of ``ssl.MemoryBIO`` and the
socket's asyncio streams, not on asyncio's own TLS transport. Both kinds of stream offer
the same small API: ``read``, ``readexactly``, ``write``, ``drain``, ``close``,
``wait_closed``, ``get_extra_info``.
"""
from __future__ import annotations

import asyncio
import ssl
from typing import Any

CHUNK = 65536


class PlainStream:
    """A plaintext connection; `prefix` is what was read from it before (PERMISSIVE's first byte)."""

    tls = False

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, prefix: bytes = b""):
        self._reader, self._writer, self._prefix = reader, writer, prefix

    async def read(self, n: int = -1) -> bytes:
        if self._prefix:
            data, self._prefix = (self._prefix, b"") if n < 0 or n >= len(self._prefix) else \
                (self._prefix[:n], self._prefix[n:])
            return data
        return await self._reader.read(n if n >= 0 else CHUNK)

    async def readexactly(self, n: int) -> bytes:
        head = await self.read(n) if self._prefix else b""
        rest = n - len(head)
        return head + (await self._reader.readexactly(rest) if rest else b"")

    def write(self, data: bytes) -> None:
        self._writer.write(data)

    async def drain(self) -> None:
        await self._writer.drain()

    def close(self) -> None:
        self._writer.close()

    async def wait_closed(self) -> None:
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._writer.get_extra_info(name, default)


class TlsStream(PlainStream):
    """A TLS connection whose handshake is done: application data in and out through OpenSSL."""

    tls = True

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tls: ssl.SSLObject,
                 incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO):
        super().__init__(reader, writer)
        self._tls, self._incoming, self._outgoing = tls, incoming, outgoing
        self._closed = False

    def _flush(self) -> None:
        pending = self._outgoing.read()
        if pending and not self._writer.is_closing():
            self._writer.write(pending)

    async def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes of application data (b"" once the peer has closed)."""
        while True:
            try:
                data = self._tls.read(n if n > 0 else CHUNK)
                self._flush()
                return data
            except ssl.SSLWantReadError:
                self._flush()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""
            try:
                incoming = await self._reader.read(CHUNK)
            except ConnectionError:
                incoming = b""
            if not incoming:
                self._incoming.write_eof()
            else:
                self._incoming.write(incoming)

    async def readexactly(self, n: int) -> bytes:
        data = bytearray()
        while len(data) < n:
            chunk = await self.read(n - len(data))
            if not chunk:
                raise asyncio.IncompleteReadError(bytes(data), n)
            data += chunk
        return bytes(data)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = self._tls.write(view)
            view = view[written:]
        self._flush()

    def close(self) -> None:
        """Send close_notify, then close the socket."""
        if not self._closed:
            self._closed = True
            try:
                self._tls.unwrap()
            except ssl.SSLError:
                pass
            self._flush()
        super().close()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peercert":
            return self._tls.getpeercert(binary_form=True)
        if name == "ssl_object":
            return self._tls
        if name == "cipher":
            return self._tls.cipher()
        return super().get_extra_info(name, default)
