"""The AWS X-Ray daemon image, as an ECS sidecar: segments in over UDP, PutTraceSegments out.

From the daemon's documentation (https://docs.aws.amazon.com/xray/latest/devguide/xray-daemon.html,
xray-daemon-configuration.html, xray-daemon-ecs.html):

* It listens for segment documents on UDP port 2000 (``-b``/``--bind`` host:port, or
  ``AWS_XRAY_DAEMON_ADDRESS``, change it); in an awsvpc task the SDKs and Envoy reach it at
  127.0.0.1:2000, the task's own network namespace, which is the task's address here.
* Each datagram is the header line ``{"format": "json", "version": 1}`` then one segment document
  (xray-api-sendingdata.html, "Sending segment documents to the X-Ray daemon"); a datagram
  without that header is not a segment and is dropped.
* It buffers the documents and uploads them in batches with ``PutTraceSegments``, signed with the
  task role's credentials, which must allow ``xray:PutTraceSegments`` (the
  AWSXRayDaemonWriteAccess managed policy). The region is ``-n``/``--region``, else ``AWS_REGION``,
  else the task's. Here the call goes through the task's network to ``xray.<region>.amazonaws.com``,
  which the data plane serves (`mylearning.dataplane.monitoring`); a refusal is logged as the
  daemon logs it, and the batch is lost.

Where it differs from the daemon: it sends a batch every second or when 50 documents are waiting
(the daemon's batch size), keeps no more than `MAX_BUFFERED` documents (the daemon's buffer is
sized in megabytes, ``-m``), and neither proxies the sampling API on TCP 2000 nor sends telemetry
records.
"""
from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import time
from typing import Any, Optional

import aiohttp

from mylearning.facts import xray as facts

#: Documents per PutTraceSegments call, and how long a document waits for its batch.
BATCH_SIZE = 50
SEND_INTERVAL = 1.0
MAX_BUFFERED = 10_000


def bind_address(argv: list[str], env: Any, task_address: str) -> tuple[str, int]:
    """The UDP address to listen on: ``-b``/``--bind`` in the command, else AWS_XRAY_DAEMON_ADDRESS,
    else port 2000 on the task's address."""
    text = ""
    for n, word in enumerate(argv):
        if word in ("-b", "--bind") and n + 1 < len(argv):
            text = argv[n + 1]
        elif word.startswith("--bind="):
            text = word.split("=", 1)[1]
    text = text or str(env.get(facts.ADDRESS_VARIABLE) or "")
    host, _, port = text.rpartition(":")
    if not port.isdigit():
        return task_address, facts.DAEMON_PORT
    if host in ("", "0.0.0.0", "127.0.0.1", "localhost"):
        host = task_address  # all of the task's network namespace is its one address here
    return host, int(port)


def region_of(argv: list[str], env: Any, task_arn: str) -> str:
    for n, word in enumerate(argv):
        if word in ("-n", "--region") and n + 1 < len(argv):
            return argv[n + 1]
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region and str(task_arn).startswith("arn:"):
        region = task_arn.split(":")[3]
    return region or "us-east-1"


def document_of(datagram: bytes) -> Optional[str]:
    """The segment document a datagram carries, or None when it lacks the daemon's header."""
    text = datagram.decode("utf-8", errors="replace")
    head, sep, body = text.partition("\n")
    try:
        header = json.loads(head)
    except ValueError:
        return None
    if not sep or not isinstance(header, dict) or header.get("format") != "json" or header.get("version") != 1:
        return None
    body = body.strip()
    return body or None


class _Listener(asyncio.DatagramProtocol):
    def __init__(self, daemon: "Daemon") -> None:
        self.daemon = daemon

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.daemon.receive(data)


class Daemon:
    def __init__(self, container: Any) -> None:
        self.container = container
        argv = list(container.argv or [])
        self.address = bind_address(argv, container.env, container.address)
        self.region = region_of(argv, container.env, container.task_arn)
        self.buffer: list[str] = []
        self.received = self.dropped = 0
        self.wake = asyncio.Event()

    def log(self, level: str, message: str) -> None:
        """The daemon's log line: ``2024-01-01T00:00:00Z [Info] message``."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        sys.stdout.write(f"{stamp} [{level}] {message}\n")
        sys.stdout.flush()

    def receive(self, datagram: bytes) -> None:
        document = document_of(datagram)
        if document is None:
            self.dropped += 1
            return
        if len(self.buffer) >= MAX_BUFFERED:
            self.dropped += 1
            return
        self.received += 1
        self.buffer.append(document)
        if len(self.buffer) >= BATCH_SIZE:
            self.wake.set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(self.address)
        except OSError as error:
            self.log("Error", f"Unable to bind to UDP address {self.address[0]}:{self.address[1]}: {error}")
            return 1
        transport, _ = await loop.create_datagram_endpoint(lambda: _Listener(self), sock=sock)
        self.log("Info", f"Initializing AWS X-Ray daemon {facts.DAEMON_TAGS[0]}")
        self.log("Info", f"Using region: {self.region}")
        self.log("Info", f"Starting proxy http server on {self.address[0]}:{self.address[1]}")
        http = self.container.http(timeout=10.0)
        try:
            while not stop.is_set():
                with_stop = asyncio.ensure_future(stop.wait())
                with_full = asyncio.ensure_future(self.wake.wait())
                await asyncio.wait({with_stop, with_full}, timeout=SEND_INTERVAL,
                                   return_when=asyncio.FIRST_COMPLETED)
                for waiter in (with_stop, with_full):
                    waiter.cancel()
                self.wake.clear()
                await self.send_all(http)
            self.log("Info", "Shutdown initiated. Sending the segments left in the buffer")
            await self.send_all(http)
        finally:
            transport.close()
            await http.close()
        return 0

    async def send_all(self, http: Any) -> None:
        while self.buffer:
            batch, self.buffer = self.buffer[:BATCH_SIZE], self.buffer[BATCH_SIZE:]
            await self.send(http, batch)

    async def send(self, http: Any, batch: list[str]) -> None:
        url = (f"http://xray.{self.region}.amazonaws.com:443/v1/put-trace-segments"
               f"?task={self.container.task_arn}")
        try:
            async with http.post(url, data=json.dumps({"TraceSegmentDocuments": batch})) as answer:
                text = await answer.text()
                if answer.status >= 300:
                    self.log("Error", f"Sending segment batch failed with: {text[:500]}")
                    return
                unprocessed = (json.loads(text or "{}").get("UnprocessedTraceSegments") or [])
                for item in unprocessed:
                    self.log("Warn", f"Unprocessed segment: {json.dumps(item)}")
                self.log("Info", f"Successfully sent batch of {len(batch)} segments")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as error:
            self.log("Error", f"Sending segment batch failed with: {error}")


def main(container: Any) -> int:
    """The image's entry point."""
    return asyncio.run(Daemon(container).run())
