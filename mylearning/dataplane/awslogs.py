"""The awslogs log driver: a container's stdout and stderr, shipped to CloudWatch Logs.

Options, as ECS takes them in a container's logConfiguration.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LogConfiguration.html
- awslogs-group (required) and awslogs-region (required);
- awslogs-stream-prefix: required on Fargate, optional on EC2; the stream is then named
  "prefix-name/container-name/ecs-task-id" (without a prefix, on EC2, it is the
  container's runtime id);
- awslogs-create-group: "true" creates the group if missing (default false); the execution
  role then needs logs:CreateLogGroup, which AmazonECSTaskExecutionRolePolicy lacks;
- mode: blocking or non-blocking. ECS's default has been non-blocking since June 2025
  (the defaultLogDriverMode account setting,
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-account-settings.html);
- max-buffer-size (non-blocking only): the buffer of unsent messages, Docker's default 1m
  (https://docs.docker.com/engine/logging/configure/, "Configure the delivery mode").
The option checks word their failures as Docker's awslogs driver does (moby,
daemon/logger/awslogs: "unknown log opt '...' for awslogs log driver", "must specify a
value for log opt 'awslogs-group'"), behind ECS's "ResourceInitializationError: failed to
validate logger args: " as a task's stoppedReason shows them.

A missing group without awslogs-create-group stops the task; the reason ECS gives is
"ResourceInitializationError: failed to validate logger args: create stream has been
retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The
specified log group does not exist. : exit status 1" (the text public reports of stopped
Fargate tasks show; AWS's page on the error:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html).
The part after the exception name is CloudWatch's own message; an AccessDeniedException
in the same place says which logs: action the execution role lacks.

Shipping honours PutLogEvents' limits: at most 10,000 events and 1,048,576 bytes per
batch, counting each message's UTF-8 bytes plus 26 bytes; an event of at most 256 KB;
events in chronological order.
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
Longer lines are split, as Docker's driver splits them. boto3 blocks, so every call runs
in a thread (asyncio.to_thread).
"""
from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from mylearning.dataplane.errors import TaskStartError
from mylearning.dataplane.execution_role import ExecutionRole

DRIVER = "awslogs"
LOGGER_ARGS = "ResourceInitializationError: failed to validate logger args: "
#: PutLogEvents limits (API_PutLogEvents.html).
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_EVENT_BYTES = 262_144 - EVENT_OVERHEAD   # a message's bytes, so that event + overhead <= 256 KB
FLUSH_SECONDS = 1.0
MODES = ("blocking", "non-blocking")
DEFAULT_MODE = "non-blocking"
DEFAULT_MAX_BUFFER = "1m"
#: The options ECS passes on to the driver (ECS's own, then Docker's awslogs driver's and the
#: delivery-mode options every Docker driver takes).
KNOWN_OPTIONS = frozenset({
    "awslogs-group", "awslogs-region", "awslogs-stream-prefix", "awslogs-create-group",
    "awslogs-datetime-format", "awslogs-multiline-pattern", "awslogs-endpoint",
    "awslogs-stream", "awslogs-credentials-endpoint", "awslogs-force-flush-interval-seconds",
    "awslogs-max-buffered-events", "awslogs-format", "tag", "mode", "max-buffer-size"})


def stream_name(prefix: str, container_name: str, task_id: str) -> str:
    """The awslogs stream of a container: prefix-name/container-name/ecs-task-id."""
    return f"{prefix}/{container_name}/{task_id}"


def _bytes(size: str) -> int | None:
    """Docker's size notation (1m, 512k, 2g, 4096; base 1024, optional b)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?", size.strip().lower())
    if not m:
        return None
    return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2) or " "))


@dataclass(frozen=True)
class AwslogsOptions:
    group: str
    region: str
    stream_prefix: str | None = None
    create_group: bool = False
    mode: str = DEFAULT_MODE
    max_buffer_size: int = 1024 * 1024

    @classmethod
    def parse(cls, log_configuration: Mapping[str, Any], *, launch_type: str) -> "AwslogsOptions":
        """A container's awslogs logConfiguration, checked as ECS and the driver check it.

        TaskStartError (stop code TaskFailedToStart) when the task cannot start with it.
        """
        if log_configuration.get("logDriver") != DRIVER:
            raise ValueError(f"not an awslogs configuration: {log_configuration.get('logDriver')!r}")
        options: dict[str, str] = dict(log_configuration.get("options") or {})

        def refuse(message: str) -> TaskStartError:
            return TaskStartError(LOGGER_ARGS + message)

        for key in sorted(options):
            if key not in KNOWN_OPTIONS:
                raise refuse(f"unknown log opt '{key}' for awslogs log driver")
        for key in ("awslogs-group", "awslogs-region"):
            if not options.get(key):
                raise refuse(f"must specify a value for log opt '{key}'")
        prefix = options.get("awslogs-stream-prefix") or None
        if prefix is None and launch_type.upper() == "FARGATE":
            raise refuse("must specify a value for log opt 'awslogs-stream-prefix' "
                         "(required for tasks on Fargate)")
        create = options.get("awslogs-create-group", "false")
        flag = {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}.get(create.lower())
        if flag is None:
            raise refuse(f"must specify valid value for log opt 'awslogs-create-group': "
                         f"strconv.ParseBool: parsing \"{create}\": invalid syntax")
        if options.get("awslogs-datetime-format") and options.get("awslogs-multiline-pattern"):
            raise refuse("you cannot configure log opt 'awslogs-datetime-format' and "
                         "'awslogs-multiline-pattern' at the same time")
        mode = options.get("mode", DEFAULT_MODE)
        if mode not in MODES:
            raise refuse(f"logger: logging mode not supported: {mode}")
        size_text = options.get("max-buffer-size")
        if size_text is not None and mode == "blocking":
            raise refuse("logger: option max-buffer-size is only valid with mode=non-blocking")
        size = _bytes(size_text or DEFAULT_MAX_BUFFER)
        if size is None or size <= 0:
            raise refuse(f"logger: could not parse max-buffer-size: {size_text}")
        return cls(options["awslogs-group"], options["awslogs-region"], prefix, flag, mode, size)

    def stream_for(self, container_name: str, task_id: str, container_id: str = "") -> str:
        """This container's stream: prefixed, or (EC2 without a prefix) its runtime id."""
        if self.stream_prefix:
            return stream_name(self.stream_prefix, container_name, task_id)
        return container_id or task_id

    async def prepare(self, logs_client: Any, *, container_name: str, task_id: str,
                      container_id: str = "", role: ExecutionRole | None = None) -> str:
        """Create the group (with awslogs-create-group) and the stream; the stream's name.

        With `role`, the execution role must allow logs:CreateLogGroup (when creating) and
        logs:CreateLogStream, as on AWS. TaskStartError with ECS's reason otherwise.
        """
        stream = self.stream_for(container_name, task_id, container_id)
        account = role.account if role is not None else "000000000000"
        group_arn = f"arn:aws:logs:{self.region}:{account}:log-group:{self.group}"

        def fail(step: str, detail: str) -> TaskStartError:
            return TaskStartError(f"{LOGGER_ARGS}create stream has been retried 1 times: "
                                  f"failed to create Cloudwatch log {step}: {detail} : exit status 1")

        if self.create_group:
            refused = await _refusal(role, "logs:CreateLogGroup", f"{group_arn}:log-stream:")
            if refused:
                raise fail("group", refused)
            try:
                await asyncio.to_thread(logs_client.create_log_group, logGroupName=self.group)
            except logs_client.exceptions.ResourceAlreadyExistsException:
                pass
        refused = await _refusal(role, "logs:CreateLogStream", f"{group_arn}:log-stream:{stream}")
        if refused:
            raise fail("stream", refused)
        try:
            await asyncio.to_thread(logs_client.create_log_stream, logGroupName=self.group,
                                    logStreamName=stream)
        except logs_client.exceptions.ResourceAlreadyExistsException:
            pass
        except logs_client.exceptions.ResourceNotFoundException as exc:
            message = exc.response.get("Error", {}).get("Message") or "The specified log group does not exist."
            raise fail("stream", f"ResourceNotFoundException: {message}") from None
        return stream


async def _refusal(role: ExecutionRole | None, action: str, resource: str) -> str | None:
    if role is None:
        return None
    return await asyncio.to_thread(role.refusal, action, resource)


def _split(line: bytes) -> list[bytes]:
    """A line as events of at most MAX_EVENT_BYTES, cut on UTF-8 character boundaries."""
    pieces = []
    while len(line) > MAX_EVENT_BYTES:
        cut = MAX_EVENT_BYTES
        while cut > 0 and (line[cut] & 0xC0) == 0x80:  # never inside a character
            cut -= 1
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


class LogShipper:
    """Tails a container's output file and ships its lines with PutLogEvents.

    Run it as a task (`start()`); call `close()` after the container's process has ended:
    it reads what is left (a last line without a newline included) and flushes, so nothing
    a container wrote is lost. In non-blocking mode, lines beyond `max_buffer_size` bytes of
    unsent messages are dropped (and counted in `dropped`), as the driver's ring buffer
    drops them; in blocking mode nothing is dropped.
    """

    def __init__(self, logs_client: Any, group: str, stream: str, path: Path | str, *,
                 mode: str = "blocking", max_buffer_size: int = 1024 * 1024,
                 flush_seconds: float = FLUSH_SECONDS):
        self.logs = logs_client
        self.group = group
        self.stream = stream
        self.path = Path(path)
        self.mode = mode
        self.max_buffer_size = max_buffer_size
        self.flush_seconds = flush_seconds
        self.pending: list[tuple[int, str, int]] = []  # (timestamp ms, message, its bytes)
        self.pending_bytes = 0
        self.shipped = 0
        self.dropped = 0
        self.batches = 0
        self._offset = 0
        self._partial = b""
        self._last_ms = 0
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    def start(self) -> asyncio.Task:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="awslogs")
        return self._task

    async def _run(self) -> None:
        while True:
            self._read()
            await self.flush()
            await asyncio.sleep(self.flush_seconds)

    async def close(self) -> None:
        """Stop tailing, read the rest, ship everything."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._read(final=True)
        for _ in range(3):
            try:
                await self.flush()
                return
            except Exception:
                await asyncio.sleep(0.2)
        await self.flush()

    def _read(self, final: bool = False) -> None:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            data = b""
        self._offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if final and self._partial:
            lines.append(self._partial)
            self._partial = b""
        for line in lines:
            for piece in _split(line.rstrip(b"\r")):
                if piece:
                    self._add(piece)

    def _add(self, piece: bytes) -> None:
        if self.mode == "non-blocking" and self.pending_bytes + len(piece) > self.max_buffer_size:
            self.dropped += 1
            return
        now = max(int(time.time() * 1000), self._last_ms)  # chronological, never backwards
        self._last_ms = now
        self.pending.append((now, piece.decode("utf-8", "replace"), len(piece)))
        self.pending_bytes += len(piece)

    def _batches(self) -> list[list[tuple[int, str, int]]]:
        batches, batch, size = [], [], 0
        for event in self.pending:
            cost = event[2] + EVENT_OVERHEAD
            if batch and (len(batch) == MAX_BATCH_EVENTS or size + cost > MAX_BATCH_BYTES):
                batches.append(batch)
                batch, size = [], 0
            batch.append(event)
            size += cost
        if batch:
            batches.append(batch)
        return batches

    async def flush(self) -> None:
        """Ship what is pending, batch by batch; a failed batch stays pending."""
        async with self._lock:
            for batch in self._batches():
                await asyncio.to_thread(
                    self.logs.put_log_events, logGroupName=self.group, logStreamName=self.stream,
                    logEvents=[{"timestamp": ts, "message": message} for ts, message, _ in batch])
                del self.pending[:len(batch)]
                self.pending_bytes -= sum(e[2] for e in batch)
                self.shipped += len(batch)
                self.batches += 1
