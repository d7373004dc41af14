"""The one way out: every outbound call goes through send(); with transport.py, the only
user of urllib3 and requests.

What it guarantees, whoever calls it:
- the host is resolved once, every address is checked against the host policy, and the
  connection goes to the address that was checked (TLS still verifies the host name);
- no redirects followed, no proxies, no .netrc, no cookies, no retries (a retried LLM
  generation is paid twice);
- a connect timeout and a total deadline: a watchdog shuts the socket when the deadline
  passes, so a server trickling its headers or body one byte at a time is cut off on time;
- the response is read in chunks and kept up to a limit counted after decompression;
- every failure is a CallError with a readable message (services/net/errors.py).
"""

import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from urllib3 import BaseHTTPResponse
from urllib3 import exceptions as urllib3_errors

from services.net import endpoints, transport
from services.net.deadline import Deadline
from services.net.errors import CallError, EndpointError, Refused, gettext_noop
from services.net.limits import GATEWAY_BODY_LIMIT

_ = gettext_noop

CONNECT_TIMEOUT_S = 5.0
CHUNK_BYTES = 64 * 1024
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# Headers the transport owns: a user-supplied value would contradict what is sent.
TRANSPORT_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}
DEFAULT_HEADERS = {"User-Agent": "easportal", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass
class Response:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    size: int
    declared_size: int | None
    truncated: bool
    elapsed_ms: float
    error: str = ""
    error_kind: str = ""


@dataclass
class OutboundRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def check_request(request: OutboundRequest) -> None:
    """Refuse, before anything is sent, what must never go out."""
    if request.method not in METHODS:
        raise Refused(400, _("The method must be one of %(methods)s."), methods=", ".join(METHODS))
    for name, value in request.headers.items():
        if not _TOKEN.fullmatch(name):
            raise Refused(400, _("The header name “%(name)s” is not valid: use letters, digits "
                                 "and - only."), name=name[:80])
        if name.lower() in TRANSPORT_HEADERS:
            raise Refused(400, _("The %(name)s header is set by the portal and cannot be given."),
                          name=name)
        if value[:1] in (" ", "\t"):
            raise Refused(400, _("The value of the header %(name)s starts with a space; remove "
                                 "it."), name=name)
        if _BAD_VALUE.search(value):
            raise Refused(400, _("The value of the header %(name)s contains a line break or "
                                 "control character."), name=name)
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise Refused(400, _("The value of the header %(name)s has characters HTTP headers "
                                 "cannot carry; percent-encode or base64 it."), name=name) from None
    if len(request.body) > GATEWAY_BODY_LIMIT:
        raise Refused(413, _("The body is %(size)s bytes; the EAS gateway accepts at most "
                             "%(limit)s bytes (1 MB)."),
                      size=len(request.body), limit=GATEWAY_BODY_LIMIT)


@lru_cache(maxsize=1024)
def _endpoint_of(url: str) -> endpoints.Endpoint:
    """The scheme, host and port of a URL as parse_endpoint reads them (an Endpoint is
    immutable), worked out once per URL: a service's calls go to the same few, and parsing took
    30 µs of each call (raises EndpointError, which is not kept)."""
    parts = urlsplit(url)
    return endpoints.parse_endpoint(f"{parts.scheme}://{parts.netloc}")


# The name lookups of the process: the system's resolver has no timeout of its own, so each
# lookup runs here and the call waits for it no longer than its time allows (a lookup that
# overruns finishes in its thread, unwaited for; the pool bounds how many such threads exist).
_resolver = ThreadPoolExecutor(max_workers=16, thread_name_prefix="dns")


def resolve(url: str, policy: endpoints.HostPolicy,
            timeout: float = CONNECT_TIMEOUT_S) -> tuple[endpoints.Endpoint, str]:
    """The address to connect to, after checking every address the host resolves to; the
    lookup takes at most timeout seconds (a CallError "dns" past it)."""
    try:
        endpoint = _endpoint_of(url)
        # The endpoint passed this check when saved; the policy may have changed since.
        policy.check_endpoint(endpoint)
    except EndpointError as exc:
        raise Refused(403, exc.message, **exc.params) from None
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    if endpoint.address is not None:
        return endpoint, str(endpoint.address)
    started = time.perf_counter()
    lookup = _resolver.submit(socket.getaddrinfo, endpoint.host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=max(timeout, 0.001))
    except FutureTimeout:
        raise CallError("dns", _("Could not resolve the host %(host)s within %(seconds)s s."),
                        (time.perf_counter() - started) * 1000, host=endpoint.host,
                        seconds=round(timeout, 3)) from None
    except (socket.gaierror, UnicodeError):
        hint = _(" A VPC address only resolves inside its VPC.") if (
            endpoint.eas and endpoint.eas.vpc) else ""
        raise CallError("dns", _("Could not resolve the host %(host)s.%(hint)s"),
                        host=endpoint.host, hint=hint) from None
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    for address in addresses:
        try:
            policy.check_address(endpoint.host, address)
        except EndpointError as exc:
            raise Refused(403, exc.message, **exc.params) from None
    return endpoint, addresses[0]


@dataclass
class Opened:
    """An answer whose status and headers have arrived; its body is still on the wire."""

    response: BaseHTTPResponse
    method: str
    endpoint: endpoints.Endpoint
    deadline: Deadline
    deadline_s: float
    started: float  # time.perf_counter() when the call began

    @property
    def raw(self) -> Any:
        return self.response

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def head(self) -> tuple[int, str, dict[str, str], int | None]:
        """(status, reason, headers, declared size)."""
        declared = self.response.headers.get("Content-Length")
        return (self.response.status, self.response.reason or "",
                dict(self.response.headers),
                int(declared) if declared and declared.isdigit() else None)

    def failure(self, exc: BaseException) -> tuple[str, str]:
        """(error kind, error text) for a read of the body that raised exc."""
        if self.deadline.expired:
            return "timeout", _("The call was cut off at its deadline of %(seconds)s s.") % {
                "seconds": self.deadline_s}
        return "broken", _("The connection broke while reading the response: %(reason)s") % {
            "reason": exc.__class__.__name__}

    def release(self, reusable: bool) -> None:
        """Gives the connection back to the pool, or closes it when unread data is still on
        the wire (a cut or broken answer)."""
        # The deadline first: once finished it shuts nothing, so it cannot shut this
        # connection after the pool has handed it to another call.
        self.deadline.finish()
        if not reusable:
            self.raw.close()
        self.raw.release_conn()


def open_answer(request: OutboundRequest, target: tuple[endpoints.Endpoint, str], *,
                deadline: Deadline, deadline_s: float, started: float) -> Opened:
    """Sends a request to the address resolve() checked and waits for the answer's status and
    headers; raises CallError. The deadline shuts the connection when it passes."""
    endpoint, address = target
    # The connection goes to an address, so the Host header must name the host (and a port
    # other than the default: parse_endpoint already dropped a default one).
    host = endpoint.url.split("://", 1)[1]
    headers = {**DEFAULT_HEADERS, **request.headers, "Host": host}
    transport.current.deadline = deadline
    # The connect phase, the name lookup included, within CONNECT_TIMEOUT_S of the start.
    connect_s = min(CONNECT_TIMEOUT_S - (time.perf_counter() - started), deadline.remaining())
    try:
        upstream = transport.send(request.method, request.url, headers, request.body,
                                  address=address, connect_s=max(connect_s, 0.001),
                                  read_s=deadline.remaining())
    except (urllib3_errors.HTTPError, OSError) as exc:
        deadline.finish()
        raise _call_error(exc, endpoint, deadline, deadline_s, started) from None
    finally:
        transport.current.deadline = None
    if deadline.expired or deadline.cancelled:
        # The watchdog cut the headers short; what http.client parsed of them is not an answer.
        upstream.close()
        deadline.finish()
        raise _call_error(None, endpoint, deadline, deadline_s, started)
    return Opened(upstream, request.method, endpoint, deadline, deadline_s, started)


def send(request: OutboundRequest, *, policy: endpoints.HostPolicy, deadline_s: float,
         max_response_bytes: int) -> Response:
    """Send a checked request; returns a Response, raises Refused or CallError."""
    check_request(request)
    started = time.perf_counter()
    # The deadline starts before the name lookup: the whole call ends by deadline_s.
    deadline = Deadline(deadline_s)
    try:
        target = resolve(request.url, policy, timeout=min(CONNECT_TIMEOUT_S, deadline_s))
    except (Refused, CallError):
        deadline.finish()
        raise
    opened = open_answer(request, target, deadline=deadline, deadline_s=deadline_s,
                         started=started)
    return _read(opened, max_response_bytes)


def _read(opened: Opened, limit: int) -> Response:
    """The whole answer, kept up to limit bytes. Each read returns what has arrived (read1)
    rather than wait to fill a buffer, which a connection that breaks, or the deadline's
    shutdown, would throw away with the bytes gathered: an answer that ends early keeps every
    byte that arrived."""
    chunks: list[bytes] = []
    size, truncated, error, error_kind = 0, False, "", ""
    try:
        if opened.method != "HEAD":
            while chunk := opened.raw.read1(CHUNK_BYTES, decode_content=True):
                size += len(chunk)
                room = limit - (size - len(chunk))
                chunks.append(chunk[:room] if room < len(chunk) else chunk)
                if size > limit:
                    truncated = True
                    break
                if time.monotonic() >= opened.deadline.ends_at:
                    opened.deadline.expired = True
                    break
        if opened.deadline.expired:
            error_kind, error = opened.failure(TimeoutError())
    except Exception as exc:  # every way a body read can fail is recorded, not raised
        error_kind, error = opened.failure(exc)
    finally:
        opened.release(reusable=not (truncated or error))
    status, reason, headers, declared = opened.head()
    return Response(
        status=status, reason=reason, headers=headers, body=b"".join(chunks), size=size,
        declared_size=declared, truncated=truncated, elapsed_ms=opened.elapsed_ms(),
        error=error, error_kind=error_kind,
    )


def _call_error(exc: BaseException | None, endpoint: endpoints.Endpoint, deadline: Deadline,
                deadline_s: float, started: float) -> CallError:
    elapsed_ms = (time.perf_counter() - started) * 1000
    host = endpoint.host
    if deadline.cancelled:
        return CallError("stopped", _("The call was stopped before %(host)s answered."),
                         elapsed_ms, host=host)
    if deadline.expired:
        return CallError("timeout", _("No complete answer from %(host)s within the deadline of "
                                      "%(seconds)s s."), elapsed_ms, host=host, seconds=deadline_s)
    if isinstance(exc, urllib3_errors.ConnectTimeoutError) and not isinstance(
            exc, urllib3_errors.NewConnectionError):  # which urllib3 makes a ConnectTimeoutError
        return CallError("timeout", _("Could not connect to %(host)s within %(seconds)s s."),
                         elapsed_ms, host=host, seconds=min(CONNECT_TIMEOUT_S, deadline_s))
    if isinstance(exc, urllib3_errors.ReadTimeoutError):
        return CallError("timeout", _("%(host)s did not answer within %(seconds)s s."),
                         elapsed_ms, host=host, seconds=deadline_s)
    if isinstance(exc, urllib3_errors.SSLError):
        return CallError("tls", _("The TLS connection to %(host)s failed: %(reason)s"),
                         elapsed_ms, host=host, reason=_tls_reason(exc))
    if _caused_by(exc, ConnectionRefusedError):
        return CallError("refused", _("%(host)s refused the connection (nothing listens on "
                                      "port %(port)s)."), elapsed_ms, host=host,
                         port=endpoint.port or (443 if endpoint.scheme == "https" else 80))
    return CallError("connection", _("The connection to %(host)s failed: %(reason)s"),
                     elapsed_ms, host=host, reason=_root(exc).__class__.__name__)


def _causes(exc: BaseException | None) -> list[BaseException]:
    """The exception and what caused it: urllib3 wraps the socket's."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        reason = getattr(exc, "reason", None)
        nested = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        exc = exc.__cause__ or (reason if isinstance(reason, BaseException) else None) or nested
    return seen


def _caused_by(exc: BaseException | None, kind: type[BaseException]) -> bool:
    return any(isinstance(cause, kind) for cause in _causes(exc))


def _root(exc: BaseException | None) -> BaseException:
    return _causes(exc)[-1]


def _tls_reason(exc: BaseException) -> str:
    text = str(_root(exc))
    return "certificate verify failed" if "CERTIFICATE_VERIFY_FAILED" in text else text[:200]
