"""curl and wget as container images ship them, for health checks and busybox commands.

A health check such as `curl -f http://localhost:8080/health || exit 1` is judged by its
exit code, so the codes are curl's own: 22 for HTTP >= 400 with --fail, 7 when the
connection is refused, 28 on a timeout, 6 when the host cannot be resolved.
https://curl.se/docs/manpage.html (EXIT CODES)
busybox's wget answers every failure with exit code 1 and a one-line reason.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html
("The health check ... connects to the application through the container's loopback
interface at localhost or 127.0.0.1"; exit code 0 is success, anything else failure).

`localhost` and 127.0.0.1 are the task's own address: in awsvpc mode the containers of a
task share one network namespace, so each sees the others on localhost.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html
Connections leave from that address, so whoever answers sees the task as the caller.
Other task addresses (127.x.y.z literals) are dialled directly; host names other than
localhost need the data plane's edge proxy (`proxy`), which resolves them as the VPC would.
These tools use aiohttp's client; they never read the host's proxy settings.

`sh` below is the interpreter's context (mylearning.dataplane.shell): it gives
`address`, `proxy`, `out()`, `err()` and `files` (read/write inside the container).
"""
from __future__ import annotations

import asyncio
import errno
import ipaddress
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "127.0.0.1", "::1"})
CURL_AGENT = "curl/8.7.1"
WGET_AGENT = "Wget"
MAX_REDIRECTS = 50


class FetchError(Exception):
    """Why no HTTP response came: kind is refused, timeout, connect-timeout, resolve,
    tls, empty, proxy or other."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(detail or kind)
        self.kind = kind
        self.detail = detail


@dataclass
class Response:
    status: int
    reason: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    url: URL


@dataclass
class Request:
    method: str
    url: URL
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes | None = None
    total: float | None = None
    connect: float | None = None
    insecure: bool = False
    follow: bool = False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _route(url: URL, address: str, proxy: str | None) -> tuple[URL, str | None]:
    """The URL to dial and the proxy to dial it through, as the task's resolver would."""
    host = (url.host or "").lower()
    if host in LOCAL_NAMES or host == address:
        return url.with_host(address), None
    if proxy:
        return url, proxy
    if _is_ip(host):
        return url, None
    raise FetchError("resolve", host)


async def fetch(sh: Any, req: Request) -> Response:
    """One request (following redirects when asked), as the task makes it."""
    url, method, data = req.url, req.method, req.data
    deadline = time.monotonic() + req.total if req.total else None
    for _ in range(MAX_REDIRECTS + 1):
        response = await _fetch_once(sh, req, url, method, data, deadline)
        location = dict((k.lower(), v) for k, v in response.headers).get("location")
        if not (req.follow and location and response.status in (301, 302, 303, 307, 308)):
            return response
        url = url.join(URL(location))
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method, data = "GET", None
    raise FetchError("other", f"Maximum ({MAX_REDIRECTS}) redirects followed")


async def _fetch_once(sh: Any, req: Request, url: URL, method: str, data: bytes | None,
                      deadline: float | None) -> Response:
    if url.scheme not in ("http", "https"):
        raise FetchError("protocol", url.scheme)
    target, proxy = _route(url, sh.address, sh.proxy)
    headers = dict(req.headers)
    headers.setdefault("Host", url.raw_authority)
    total = None if deadline is None else max(0.001, deadline - time.monotonic())
    timeout = aiohttp.ClientTimeout(total=total, connect=req.connect)
    # From the task's own address, through the edge too: security groups see the task.
    local = (sh.address, 0) if _is_ip(sh.address) else None
    connector = aiohttp.TCPConnector(force_close=True, local_addr=local,
                                     ssl=False if req.insecure else True)
    extra: dict[str, Any] = {}
    if url.scheme == "https" and target.host != url.host:
        extra["server_hostname"] = url.host
    try:
        async with aiohttp.ClientSession(connector=connector, trust_env=False, timeout=timeout,
                                         auto_decompress=False, skip_auto_headers=("User-Agent",),
                                         ) as session:
            async with session.request(method, target, headers=headers, data=data, proxy=proxy,
                                       allow_redirects=False, **extra) as resp:
                body = await resp.read()
                version = f"HTTP/{resp.version.major}.{resp.version.minor}" if resp.version else "HTTP/1.1"
                return Response(resp.status, resp.reason or "", version,
                                _raw_headers(resp), body, url)
    except aiohttp.ConnectionTimeoutError as exc:
        raise FetchError("connect-timeout", str(exc)) from exc
    except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
        raise FetchError("tls", str(exc)) from exc
    except aiohttp.ClientHttpProxyError as exc:
        raise FetchError("proxy", f"{exc.status}") from exc
    except aiohttp.ServerDisconnectedError as exc:
        raise FetchError("empty", str(exc)) from exc
    except aiohttp.ClientConnectorError as exc:
        refused = getattr(exc, "os_error", None) is not None and exc.os_error.errno == errno.ECONNREFUSED
        raise FetchError("refused" if refused else "other", str(exc)) from exc
    except TimeoutError as exc:
        raise FetchError("timeout", str(exc)) from exc
    except aiohttp.ClientError as exc:
        raise FetchError("other", str(exc)) from exc


def _raw_headers(resp: aiohttp.ClientResponse) -> list[tuple[str, str]]:
    """The headers as sent: in order, duplicates kept, names in the server's case."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.raw_headers]


def _url(text: str) -> URL:
    return URL(text if "://" in text else "http://" + text)


def _port(url: URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


# ---------------------------------------------------------------- curl

_CURL_FLAGS = {"f": "fail", "s": "silent", "S": "show-error", "I": "head", "L": "location",
               "k": "insecure", "v": "verbose", "i": "include", "q": "disable", "g": "globoff"}
_CURL_VALUED = {"o": "output", "X": "request", "H": "header", "m": "max-time", "d": "data",
                "A": "user-agent", "w": "write-out", "e": "referer", "u": "user"}
_CURL_LONG_FLAGS = {"fail", "silent", "show-error", "head", "location", "insecure", "verbose",
                    "include", "disable", "globoff", "compressed", "http1.1", "fail-with-body",
                    "no-progress-meter", "no-buffer", "retry-connrefused"}
_CURL_LONG_VALUED = {"output", "request", "header", "max-time", "connect-timeout", "data",
                     "data-raw", "data-binary", "json", "user-agent", "write-out", "retry",
                     "retry-delay", "retry-max-time", "referer", "user", "url", "resolve"}


def _curl_options(argv: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """curl's options (each as a list of values, flags as ["1"]) and its URLs."""
    opts: dict[str, list[str]] = {}
    urls: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg.startswith("--") and len(arg) > 2:
            name, _, inline = arg[2:].partition("=")
            if name in _CURL_LONG_FLAGS:
                opts.setdefault(name, []).append("1")
            elif name in _CURL_LONG_VALUED:
                value = inline if "=" in arg else next(args, None)
                if value is None:
                    raise ValueError(f"option {arg}: requires parameter")
                opts.setdefault(name, []).append(value)
            else:
                raise ValueError(f"option {arg}: is unknown")
        elif arg.startswith("-") and len(arg) > 1:
            i = 1
            while i < len(arg):
                letter = arg[i]
                if letter in _CURL_FLAGS:
                    opts.setdefault(_CURL_FLAGS[letter], []).append("1")
                    i += 1
                elif letter in _CURL_VALUED:
                    value = arg[i + 1:] or next(args, None)
                    if value is None:
                        raise ValueError(f"option -{letter}: requires parameter")
                    opts.setdefault(_CURL_VALUED[letter], []).append(value)
                    break
                else:
                    raise ValueError(f"option -{letter}: is unknown")
        else:
            urls.append(arg)
    return opts, urls


def _write_out(template: str, resp: Response | None, elapsed: float) -> str:
    values = {"http_code": f"{resp.status if resp else 0:03d}",
              "response_code": f"{resp.status if resp else 0:03d}",
              "time_total": f"{elapsed:.6f}", "size_download": str(len(resp.body) if resp else 0),
              "url_effective": str(resp.url) if resp else ""}
    text = template.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r")
    for key, value in values.items():
        text = text.replace("%{" + key + "}", value)
    return text


async def curl(sh: Any, argv: list[str], stdin: str) -> int:
    """curl [options] URL... with curl's exit codes and messages."""
    try:
        opts, urls = _curl_options(argv[1:])
    except ValueError as exc:
        sh.err(f"curl: {exc}\ncurl: try 'curl --help' or 'curl --manual' for more information\n")
        return 2
    urls += opts.get("url", [])
    if not urls:
        sh.err("curl: no URL specified\ncurl: try 'curl --help' or 'curl --manual' for more information\n")
        return 2
    silent, show = "silent" in opts, "show-error" in opts

    def fail(code: int, message: str) -> int:
        if not silent or show:
            sh.err(f"curl: ({code}) {message}\n")
        return code

    headers = {"User-Agent": (opts.get("user-agent") or [CURL_AGENT])[-1], "Accept": "*/*"}
    data: bytes | None = None
    pieces = opts.get("data", []) + opts.get("data-raw", []) + opts.get("data-binary", [])
    if pieces:
        parts = []
        for piece in pieces:
            if piece.startswith("@") and piece not in opts.get("data-raw", []):
                try:
                    piece = sh.files.read(piece[1:]).decode()
                except OSError:
                    sh.err(f"Warning: Couldn't read data from file \"{piece[1:]}\", this makes an empty POST.\n")
                    piece = ""
            parts.append(piece)
        data = "&".join(parts).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if "json" in opts:
        data = "".join(opts["json"]).encode()
        headers["Content-Type"] = "application/json"
        headers["Accept"] = "application/json"
    for line in opts.get("header", []):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip()] = value.strip()
    method = "HEAD" if "head" in opts else ("POST" if data is not None else "GET")
    method = (opts.get("request") or [method])[-1]
    try:
        total = float(opts["max-time"][-1]) if "max-time" in opts else None
        connect = float(opts["connect-timeout"][-1]) if "connect-timeout" in opts else None
        retries = int((opts.get("retry") or ["0"])[-1])
        delay = float((opts.get("retry-delay") or ["1"])[-1])
    except ValueError:
        sh.err("curl: option: expected a proper numerical parameter\n")
        return 2
    code = 0
    for raw in urls:
        url = _url(raw)
        if not url.host:
            return fail(3, "URL rejected: No host part in the URL")
        req = Request(method, url, headers, data, total, connect, "insecure" in opts, "location" in opts)
        code = await _curl_one(sh, req, opts, fail, retries, delay)
    return code


async def _curl_one(sh: Any, req: Request, opts: dict[str, list[str]], fail: Any,
                    retries: int, delay: float) -> int:
    started = time.monotonic()
    resp: Response | None = None
    for attempt in range(retries + 1):
        try:
            resp = await fetch(sh, req)
        except FetchError as exc:
            transient = exc.kind in ("timeout", "connect-timeout") or (
                exc.kind == "refused" and "retry-connrefused" in opts)
            if attempt < retries and transient:
                await asyncio.sleep(delay)
                continue
            return fail(*_curl_failure(exc, req, started))
        if attempt < retries and resp.status in (408, 429, 500, 502, 503, 504):
            await asyncio.sleep(delay)
            continue
        break
    assert resp is not None
    if resp.status >= 400 and "fail" in opts:
        return fail(22, f"The requested URL returned error: {resp.status}")
    output = b""
    if "head" in opts or "include" in opts:
        lines = [f"{resp.version} {resp.status} {resp.reason}".rstrip()]
        lines += [f"{k}: {v}" for k, v in resp.headers]
        output += ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
    if req.method != "HEAD":
        output += resp.body
    target = (opts.get("output") or [None])[-1]
    if target and target != "-":
        try:
            sh.files.write(target, output)
        except OSError as exc:
            sh.err(f"Warning: Failed to open the file {target}: {exc.strerror}\n")
            return fail(23, "Failure writing output to destination")
    else:
        sh.out(output.decode("utf-8", "replace"))
    if "write-out" in opts:
        sh.out(_write_out(opts["write-out"][-1], resp, time.monotonic() - started))
    if resp.status >= 400 and "fail-with-body" in opts:
        return fail(22, f"The requested URL returned error: {resp.status}")
    return 0


def _curl_failure(exc: FetchError, req: Request, started: float) -> tuple[int, str]:
    ms = int((time.monotonic() - started) * 1000)
    host, port = req.url.host, _port(req.url)
    if exc.kind == "resolve":
        return 6, f"Could not resolve host: {host}"
    if exc.kind == "refused":
        return 7, f"Failed to connect to {host} port {port} after {ms} ms: Couldn't connect to server"
    if exc.kind == "connect-timeout":
        return 28, f"Connection timed out after {ms} milliseconds"
    if exc.kind == "timeout":
        return 28, f"Operation timed out after {ms} milliseconds with 0 bytes received"
    if exc.kind == "empty":
        return 52, "Empty reply from server"
    if exc.kind == "tls":
        return 60, "SSL certificate problem: unable to get local issuer certificate"
    if exc.kind == "proxy":
        return 56, f"CONNECT tunnel failed, response {exc.detail}"
    if exc.kind == "protocol":
        return 1, f'Protocol "{exc.detail}" not supported'
    return 7, f"Failed to connect to {host} port {port} after {ms} ms: Couldn't connect to server"


# ---------------------------------------------------------------- wget (busybox)

async def wget(sh: Any, argv: list[str], stdin: str) -> int:
    """busybox wget [-q] [-O FILE] [--spider] [-T SEC] [--header H] URL: exit 0 or 1."""
    quiet = spider = show_headers = insecure = False
    output: str | None = None
    timeout = 900.0  # busybox's default network timeout
    headers = {"User-Agent": WGET_AGENT}
    data: bytes | None = None
    urls: list[str] = []
    args = iter(argv[1:])
    try:
        for arg in args:
            if arg in ("-q", "--quiet"):
                quiet = True
            elif arg == "--spider":
                spider = True
            elif arg in ("-S", "--server-response"):
                show_headers = True
            elif arg == "--no-check-certificate":
                insecure = True
            elif arg in ("-O", "--output-document"):
                output = next(args)
            elif arg.startswith("-O") and len(arg) > 2:
                output = arg[2:]
            elif arg in ("-T", "--timeout"):
                timeout = float(next(args))
            elif arg.startswith("-T") and len(arg) > 2:
                timeout = float(arg[2:])
            elif arg.startswith("--timeout="):
                timeout = float(arg.split("=", 1)[1])
            elif arg in ("--header",):
                name, _, value = next(args).partition(":")
                headers[name.strip()] = value.strip()
            elif arg in ("-U", "--user-agent"):
                headers["User-Agent"] = next(args)
            elif arg == "--post-data":
                data = next(args).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            elif arg in ("-t", "--tries", "-P"):
                next(args)
            elif arg in ("-c", "--continue", "-s"):
                continue
            elif arg.startswith("-"):
                sh.err(f"wget: unrecognized option '{arg}'\nUsage: wget [-cqS] [--spider] [-O FILE] [-T SEC] URL...\n")
                return 1
            else:
                urls.append(arg)
    except (StopIteration, ValueError):
        sh.err("wget: option requires an argument\n")
        return 1
    if not urls:
        sh.err("Usage: wget [-cqS] [--spider] [-O FILE] [-T SEC] URL...\n")
        return 1
    for raw in urls:
        url = _url(raw)
        host, port = url.host or "", _port(url)
        try:
            target, _ = _route(url, sh.address, sh.proxy)
        except FetchError:
            sh.err(f"wget: bad address '{host}'\n")
            return 1
        if not quiet:
            sh.err(f"Connecting to {host}:{port} ({target.host}:{port})\n")
        method = "HEAD" if spider else ("POST" if data is not None else "GET")
        try:
            resp = await fetch(sh, Request(method, url, headers, data, timeout, None, insecure, True))
        except FetchError as exc:
            if exc.kind in ("timeout", "connect-timeout"):
                sh.err("wget: download timed out\n")
            elif exc.kind == "refused":
                sh.err(f"wget: can't connect to remote host ({target.host}): Connection refused\n")
            elif exc.kind == "resolve":
                sh.err(f"wget: bad address '{host}'\n")
            else:
                sh.err(f"wget: error getting response: {exc.detail or exc.kind}\n")
            return 1
        if show_headers:
            sh.err(f"  {resp.version} {resp.status} {resp.reason}\n"
                   + "".join(f"  {k}: {v}\n" for k, v in resp.headers))
        if not 200 <= resp.status < 300:
            sh.err(f"wget: server returned error: {resp.version} {resp.status} {resp.reason}\n")
            return 1
        if spider:
            if not quiet:
                sh.err("remote file exists\n")
            continue
        name = output or (url.name or "index.html")
        if name == "-":
            if not quiet:
                sh.err("writing to stdout\n")
            sh.out(resp.body.decode("utf-8", "replace"))
            if not quiet:
                sh.err("written to stdout\n")
            continue
        if not quiet:
            sh.err(f"saving to '{name}'\n")
        try:
            sh.files.write(name, resp.body)
        except OSError as exc:
            sh.err(f"wget: can't open '{name}': {exc.strerror}\n")
            return 1
        if not quiet:
            sh.err(f"'{name}' saved\n")
    return 0
