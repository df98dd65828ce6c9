"""What the course's programs share to trace a request: ids, the sampling decision, the sender.

The sidecar proxy (`envoy_xray`) and the MyLearning services (`service`) both send X-Ray
segments the way the X-Ray SDKs and Envoy's X-Ray tracer do: a segment document per request,
over UDP to the daemon (``AWS_XRAY_DAEMON_ADDRESS``, default 127.0.0.1:2000, the task's own
address here), each datagram the daemon's header line then one document
(https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-daemon).
UDP is fire and forget: when no daemon listens the segments are lost, as they are on AWS.

The request path only appends a finished document to a queue; the queue is written to the
socket once per turn of the event loop (`Emitter.flush`), so a burst of requests costs one
wake-up, not one system call each on the request's own time.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import time
from typing import Any, Mapping, Optional

from mylearning.facts import xray as facts

_LOCAL = {"127.0.0.1", "localhost", "::1"}
#: Ids must be unique, not secret: Python's own generator, not a system call per id. Not an
#: instance of our own: the containers are forked from a server that imported this module, and
#: only the module's generator is reseeded in each child (random.py, os.register_at_fork), so an
#: instance made here would give every container the same ids.
_random = random


def new_trace_id(at: Optional[float] = None) -> str:
    """``1-<8 hex digits of the epoch second>-<24 hex digits>``
    (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids)."""
    return f"1-{int(time.time() if at is None else at) & 0xFFFFFFFF:08x}-{_random.getrandbits(96):024x}"


def new_id() -> str:
    """A segment or subsegment id: 64 random bits in 16 hexadecimal digits (xray-api-segmentdocuments.html)."""
    return f"{_random.getrandbits(64):016x}"


def daemon_address(env: Mapping[str, str], task_address: str) -> tuple[str, int]:
    """Where an SDK sends its segments: AWS_XRAY_DAEMON_ADDRESS (``host:port``) or 127.0.0.1:2000,
    127.0.0.1 being the task's own address (containers of an awsvpc task share it)."""
    text = str(env.get(facts.ADDRESS_VARIABLE) or "").strip()
    host, port = facts.DEFAULT_ADDRESS
    if text:
        # The SDKs also accept "tcp:host:port udp:host:port"; the UDP part is what segments use.
        for word in text.split():
            if word.startswith("udp:"):
                text = word[4:]
        head, sep, tail = text.rpartition(":")
        if sep and tail.isdigit():
            host, port = head or host, int(tail)
    return (task_address if host in _LOCAL else host), port


class Sampler:
    """A sampling decision: follow the caller's, else a reservoir per second then a fixed rate.

    "If the incoming request has a sampling decision, the SDK uses it; otherwise it applies its
    sampling rule" (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-sampling).
    """

    def __init__(self, rate: float, reservoir_per_second: int = 0, rng: Optional[random.Random] = None) -> None:
        self.rate = min(1.0, max(0.0, rate))
        self.reservoir = reservoir_per_second
        self.rng = rng or random.Random()
        self._second = -1
        self._taken = 0

    def decide(self, incoming: Optional[bool], now: Optional[float] = None) -> bool:
        if incoming is not None:
            return incoming
        second = int(time.monotonic() if now is None else now)
        if second != self._second:
            self._second, self._taken = second, 0
        if self._taken < self.reservoir:
            self._taken += 1
            return True
        return self.rng.random() < self.rate


def http_block(method: str, url: str, status: int, *, user_agent: str = "", client_ip: str = "",
               forwarded: bool = False, length: Optional[int] = None) -> dict:
    """A segment's ``http`` object: request method and url (and client fields), response status
    (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html#api-segmentdocuments-http)."""
    request: dict[str, Any] = {"method": method, "url": url}
    if user_agent:
        request["user_agent"] = user_agent
    if client_ip:
        request["client_ip"] = client_ip
        if forwarded:
            request["x_forwarded_for"] = True
    response: dict[str, Any] = {"status": status}
    if length is not None:
        response["content_length"] = length
    return {"request": request, "response": response}


class Emitter:
    """Sends segment documents to the daemon at `target`, from `local` (the task's address)."""

    def __init__(self, target: tuple[str, int], local: str) -> None:
        self.target = target
        self.local = local
        self.sent = 0
        self.dropped = 0
        self._queue: list[bytes] = []
        self._socket: Optional[socket.socket] = None
        self._scheduled = False

    def _open(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        with contextlib.suppress(OSError):
            sock.bind((self.local, 0))
        self._socket = sock
        return sock

    def send(self, document: dict) -> None:
        """Queue one finished segment; it leaves at the next turn of the event loop."""
        self._queue.append((facts.DATAGRAM_HEADER + "\n" + json.dumps(document, separators=(",", ":"))).encode())
        if not self._scheduled:
            self._scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop (a unit test, a shutdown): send now
                self.flush()

    def flush(self) -> None:
        self._scheduled = False
        queue, self._queue = self._queue, []
        if not queue:
            return
        sock = self._socket or self._open()
        for datagram in queue:
            if len(datagram) > facts.MAX_DATAGRAM:
                self.dropped += 1
                continue
            try:
                sock.sendto(datagram, self.target)
                self.sent += 1
            except OSError:  # nobody listens, or the buffer is full: UDP drops, as on AWS
                self.dropped += 1

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.flush()
        if self._socket is not None:
            self._socket.close()
            self._socket = None
