"""How a call goes out (services/net/client.py holds what it guarantees): urllib3's pools,
connecting to the address that was checked rather than the one the host name resolves to now;
the request written byte for byte as requests writes it (a snippet sends it with requests),
without requests' own layer above urllib3 (a third of the client's work on a call, for a
session, cookies, proxies and redirects that a call never has); each connection handed to its
call's deadline as the request goes out."""

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from requests.utils import DEFAULT_CA_BUNDLE_PATH
from urllib3 import BaseHTTPResponse, PoolManager, Retry, Timeout, connectionpool
from urllib3 import connection as urllib3_connection

current = threading.local()


def _watched(connection: urllib3_connection.HTTPConnection) -> None:
    # Hands the connection a request goes out on to that call's deadline.
    deadline = getattr(current, "deadline", None)
    if deadline is not None:
        deadline.connection = connection


def _sent() -> None:
    # The request is on the wire: a thread waiting to do its own work may (stream.Relay).
    deadline = getattr(current, "deadline", None)
    if deadline is not None:
        deadline.sent.set()


# A request's head and a body up to this size go out in one send: urllib3 sends them apart, and
# each send on a connection wakes the server once more (easportal/serving.py does the same for
# the portal's own answers).
COALESCE_BYTES = 64 * 1024


class _Sending:
    """urllib3's request(), with the request's head held back and sent with its body."""

    _held: bytes | None = None

    def send(self, data: Any) -> None:
        held = self._held
        if held is not None and isinstance(data, bytes) and (
                len(held) + len(data) <= COALESCE_BYTES):
            self._held = held + data
            return
        self._flush()
        super().send(data)  # type: ignore[misc]

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held:
            super().send(held)  # type: ignore[misc]

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watched(self)  # type: ignore[arg-type]
        self._held = b""
        try:
            super().request(*args, **kwargs)  # type: ignore[misc]
            self._flush()
        finally:
            self._held = None
        _sent()


class _HTTPConnection(_Sending, urllib3_connection.HTTPConnection):
    pass


class _HTTPSConnection(_Sending, urllib3_connection.HTTPSConnection):
    pass


class _HTTPPool(connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


# One pool manager for the process, shared by every thread (urllib3's pools are thread-safe):
# a pool per pinned address, port and host name, up to 32 pools of up to 32 connections each.
_pools = PoolManager(num_pools=32, maxsize=32, block=False)
_pools.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
# The certificates that requests verifies with (certifi's), so that a call trusts the hosts
# that a snippet run with requests trusts.
_TLS = {"cert_reqs": "CERT_REQUIRED", "ca_certs": DEFAULT_CA_BUNDLE_PATH}
# No retries, no redirects: urllib3 raises what went wrong, as it happened.
_NO_RETRIES = Retry(False)


@dataclass(frozen=True)
class Target:
    """Where a URL's requests go, worked out once per URL."""

    scheme: str
    port: int | None
    host: str  # as requests writes it (IDNA)
    path: str  # the path and query as requests puts them on the request line


@lru_cache(maxsize=1024)
def target(url: str) -> Target:
    """The URL as requests sends it (the host in IDNA, the path quoted again), worked out once
    per URL: a service's calls go to the same few."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    parts = urlsplit(cast(str, prepared.url))
    return Target(parts.scheme, parts.port, cast(str, parts.hostname),
                  prepared.path_url)


def headers_of(method: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
    """The request's headers as requests prepares them: one per name whatever its case (the
    last value, at the first one's place, under the last one's spelling), then Content-Length
    for a body, or 0 for a method other than GET and HEAD without one."""
    merged: dict[str, tuple[str, str]] = {}
    for name, value in headers.items():
        merged[name.lower()] = (name, value)
    if body:
        merged["content-length"] = ("Content-Length", str(len(body)))
    elif method not in ("GET", "HEAD") and "content-length" not in merged:
        merged["content-length"] = ("Content-Length", "0")
    return dict(merged.values())


def send(method: str, url: str, headers: dict[str, str], body: bytes, *, address: str,
         connect_s: float, read_s: float) -> BaseHTTPResponse:
    """Sends a request to address (the host name stays in the URL, the Host header and TLS)
    and returns the answer once its head has arrived, its body still on the wire; raises
    urllib3's errors (urllib3.exceptions.HTTPError) or OSError."""
    where = target(url)
    kwargs = {"server_hostname": where.host, "assert_hostname": where.host, **_TLS} if (
        where.scheme == "https") else None
    pool = _pools.connection_from_host(address, where.port, where.scheme, pool_kwargs=kwargs)
    return pool.urlopen(
        method, where.path, body=body or None, headers=headers_of(method, headers, body),
        retries=_NO_RETRIES, redirect=False, assert_same_host=False, preload_content=False,
        decode_content=False, timeout=Timeout(connect=connect_s, read=read_s), chunked=False)
