"""The AWS call a helper makes, written out as the boto3 code a learner would type."""
from __future__ import annotations

import datetime
import pprint
from typing import Any, Iterator

#: Long values (a dashboard body, a policy) are cut in what is shown, never in what is sent.
MAX_SHOWN = 400


def _value(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return f"datetime.fromisoformat({value.isoformat(timespec='seconds')!r})"
    text = pprint.pformat(value, width=100, compact=True, sort_dicts=False)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + " ...(cut)"


def render(service: str, operation: str, **arguments: Any) -> str:
    """``service.operation(Name=value, ...)`` as boto3 code, one argument a line."""
    if not arguments:
        return f"{service}.{operation}()"
    lines = [f"    {name}={_value(value)}," for name, value in arguments.items()]
    return "\n".join([f"{service}.{operation}("] + lines + [")"])


def call(client: Any, operation: str, show: bool = True, **arguments: Any) -> dict:
    """Make `operation` (boto3's snake_case name) on `client`, after printing it when `show`."""
    if show:
        print(render(client.meta.service_model.service_name, operation, **arguments))
    return getattr(client, operation)(**arguments)


def pages(client: Any, operation: str, show: bool = True, **arguments: Any) -> Iterator[dict]:
    """Every page of `operation`, following NextToken; only the first call is shown."""
    token = None
    while True:
        page = call(client, operation, show and token is None, **arguments, **({"NextToken": token} if token else {}))
        yield page
        token = page.get("NextToken")
        if not token:
            return
