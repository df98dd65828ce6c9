"""Who may talk to an emulator: one credential per emulator, checked on every request.

A learner's own emulator takes any dummy credentials (interface 3: it is an
ordinary AWS endpoint). A grading emulator must not: its port is on a shared
loopback, and a submission that finds another worker's port must not be able to
build or wipe resources in that worker's account. So the grader starts each
emulator with a fresh random credential in `TOKEN_VAR`; the emulator then
refuses every request (reset included) that is not signed with it, and every
process that is meant to talk to it (the one kernel of the worker, the grader's
own checks, the emulator's data plane, which inherits the variable) signs with
`client_credentials()`.

How a request proves it: boto3 puts the access key id in clear in its SigV4
`Authorization` header (or in `X-Amz-Credential` of a presigned URL), so the
credential is the access key id and the secret alike; requests that are not
AWS API calls (the reset hook) send it in `TOKEN_HEADER`. It is a bearer
credential on loopback, not a signature check: that is enough because a
confined kernel can neither sniff loopback traffic nor read another kernel's
environment. The health endpoint stays open (it says only whether the emulator
runs, and where its data plane's proxy is), so `connect()` and the grader's
watchdog can ask it without a credential.

No moto import here: the learner's kernel imports this module.
"""
from __future__ import annotations

import hmac
import os
import re
import secrets
from typing import Mapping

#: Environment variable holding an emulator's credential (absent: no check).
TOKEN_VAR = "MYLEARNING_EMULATOR_TOKEN"
#: Header carrying the credential on requests that are not AWS API calls.
TOKEN_HEADER = "X-MyLearning-Token"
_WSGI_TOKEN_HEADER = "HTTP_" + TOKEN_HEADER.upper().replace("-", "_")
#: The credential of an emulator without a token (as `backend` has always used).
DUMMY = {"aws_access_key_id": "mylearning", "aws_secret_access_key": "mylearning"}

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
_QUERY_CREDENTIAL = re.compile(r"(?:^|&)X-Amz-Credential=([^%/&]+)(?:%2F|/)", re.I)


def new_token() -> str:
    """A fresh credential: letters and digits only, so it is a valid access key id."""
    return "MLG" + secrets.token_hex(16).upper()


def required_token(env: Mapping[str, str] | None = None) -> str | None:
    """The credential this emulator process must check, or None for an open emulator."""
    value = (os.environ if env is None else env).get(TOKEN_VAR, "").strip()
    return value or None


def client_credentials(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """boto3 keyword arguments for a client of the emulator this process belongs to.

    Processes the emulator starts (its data plane), the kernel the grader starts
    for it and the grader itself call this; without a token it is the dummy pair.
    """
    token = required_token(env)
    if token is None:
        return dict(DUMMY)
    return {"aws_access_key_id": token, "aws_secret_access_key": token}


def request_headers(token: str | None) -> dict[str, str]:
    """Headers for a plain HTTP request (the reset hook) to an emulator with `token`."""
    return {TOKEN_HEADER: token} if token else {}


def presented(environ: Mapping[str, object]) -> str | None:
    """The credential a WSGI request presents, however it carries it."""
    header = environ.get(_WSGI_TOKEN_HEADER)
    if isinstance(header, str) and header:
        return header
    auth = environ.get("HTTP_AUTHORIZATION")
    if isinstance(auth, str):
        match = _CREDENTIAL.search(auth)
        if match:
            return match.group(1)
    query = environ.get("QUERY_STRING")
    if isinstance(query, str) and query:
        match = _QUERY_CREDENTIAL.search(query)
        if match:
            return match.group(1)
    return None


#: Access key ids this emulator's STS handed out (AssumeRole) to a caller that held the
#: credential: the data plane signs as a task's execution role with them, as ECS does.
_ISSUED: set[str] = set()


def issued(access_key_id: str) -> None:
    """Accept `access_key_id` from now on: STS issued it to an authenticated caller."""
    _ISSUED.add(access_key_id)


def allowed(environ: Mapping[str, object], token: str | None) -> bool:
    """True if the request may proceed: no token required, the right one presented, or
    credentials this emulator's STS issued to someone who presented it."""
    if token is None:
        return True
    given = presented(environ)
    if given is None:
        return False
    return hmac.compare_digest(given.encode(), token.encode()) or given in _ISSUED


def refusal_body() -> bytes:
    """The answer to a request without the credential, in AWS's own words and shape."""
    return (b'{"__type": "UnrecognizedClientException", "message": "The security token '
            b'included in the request is invalid."}')
