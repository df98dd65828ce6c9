"""An app's AWS calls, as an AWS SDK makes them inside a task.

The credentials come from the container credentials endpoint, ``http://169.254.170.2`` plus
``$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI``, which ECS sets only in tasks with a task role
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html); they are
fetched again before they expire. Calls go to the service's regional endpoint
(``https://s3.us-east-1.amazonaws.com``, https://docs.aws.amazon.com/general/latest/gr/rande.html)
through the task's network, signed with SigV4 by botocore, exactly as the SDK signs them. What
IAM refuses comes back as the service's own error (``AccessDenied``), which the app logs.

Without a task role there is no credential: the call fails as the SDKs fail,
"Unable to locate credentials".

botocore blocks, so `call` runs it in a thread; clients are made once per service and
credential set.
"""
from __future__ import annotations

import asyncio
import datetime
import json
import threading
from typing import Any

from .container import Container

CREDENTIALS_URL = "http://169.254.170.2"
RELATIVE_URI_VAR = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
#: Fetch new credentials when these have less than this many seconds left.
REFRESH_SECONDS = 5 * 60


class NoCredentials(Exception):
    """The task has no task role, or its credentials could not be had."""


class Sdk:
    """The AWS SDK as an app in a task uses it (module docstring)."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.region = (container.env.get("AWS_REGION") or container.env.get("AWS_DEFAULT_REGION")
                       or _region_of(container.task_arn) or "us-east-1")
        self._credentials: dict[str, Any] | None = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    async def credentials(self) -> dict[str, Any]:
        uri = self.container.env.get(RELATIVE_URI_VAR)
        if not uri:
            raise NoCredentials("Unable to locate credentials: the task has no task role "
                                f"({RELATIVE_URI_VAR} is not set)")
        current = self._credentials
        if current is not None and _seconds_left(current) > REFRESH_SECONDS:
            return current
        url = CREDENTIALS_URL + uri
        try:
            async with self.container.http(timeout=10) as http:
                async with http.get(url) as answer:
                    text = await answer.text()
                    if answer.status != 200:
                        raise NoCredentials(f"Error retrieving credentials from the container credentials "
                                            f"endpoint ({answer.status}): {text[:300]}")
                    self._credentials = json.loads(text)
        except (OSError, asyncio.TimeoutError, ValueError) as error:
            raise NoCredentials(f"Error retrieving credentials from {url}: {error}") from None
        return self._credentials

    def _client(self, service: str, credentials: dict[str, Any]) -> Any:
        key = (service, credentials["AccessKeyId"])
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                import boto3
                from botocore.config import Config
                endpoint = f"http://{service}.{self.region}.amazonaws.com"
                proxy = self.container.proxy_for(endpoint)
                session = boto3.session.Session(
                    aws_access_key_id=credentials["AccessKeyId"],
                    aws_secret_access_key=credentials["SecretAccessKey"],
                    aws_session_token=credentials.get("Token"), region_name=self.region)
                found = self._clients[key] = session.client(service, endpoint_url=endpoint, config=Config(
                    proxies={"http": proxy} if proxy else None, s3={"addressing_style": "path"},
                    retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=20))
        return found

    async def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """`operation` (boto3's snake_case name) on `service`; botocore's ClientError when AWS
        refuses it, NoCredentials without a task role."""
        credentials = await self.credentials()
        client = self._client(service, credentials)

        def run() -> dict[str, Any]:
            answer = getattr(client, operation)(**params)
            body = answer.get("Body")
            if body is not None and hasattr(body, "read"):
                answer = {**answer, "Body": body.read()}
            return answer
        return await asyncio.to_thread(run)


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ClientError, else the exception's name."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Code") or type(error).__name__)
    return type(error).__name__


def _region_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 4 and parts[3] else None


def _seconds_left(credentials: dict[str, Any]) -> float:
    try:
        expires = datetime.datetime.fromisoformat(str(credentials["Expiration"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
