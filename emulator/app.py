"""The emulator's WSGI app: the gateway's part of a request (service address, body limit,
token check) before a route of emulator.routes answers it, the record of what arrived, and the
one control route outside /api/predict. See docs/emulator.md."""

import base64
import hashlib
import hmac
import re
import threading
import time
from collections import deque
from urllib.parse import parse_qs, quote, unquote

from emulator.config import DEMO_SERVICES, check_pace, check_services
from emulator.replies import (
    Refusal,
    Request,
    bad_request,
    environment_language,
    gateway_says,
    language_of,
    phrase,
    reply,
    reply_json,
)
from emulator.routes import find_route
from emulator.watch import Watch, tracked

GATEWAY_LIMIT = 1_048_576
# How many requests app.received remembers, by default.
DEFAULT_KEEP = 200
PREFIX = "/api/predict/"
CONTROL = "/__emulator__/received"
# What the control route gives of each record: all but the headers and the body.
SUMMARY = ("method", "path", "query", "status", "client_port", "started_at", "finished_at",
           "disconnected", "disconnected_at")


def most_at_once(records):
    """The most of these requests the emulator was answering at the same moment, from their
    started_at and finished_at (a record of app.received, or of the control route): what a
    client's concurrency looked like from the server's side. A request whose client left ends
    when it left; one still being answered has not ended."""
    def end(record):
        return record["finished_at"] or record["disconnected_at"] or float("inf")

    edges = sorted([(record["started_at"], 1) for record in records]
                   + [(end(record), -1) for record in records])
    busy = peak = 0
    for _moment, change in edges:
        busy += change
        peak = max(peak, busy)
    return peak


class Received:
    """The last requests that arrived, newest last; safe to read while the server runs."""

    def __init__(self, keep):
        self._lock = threading.Lock()
        self._items = deque(maxlen=keep)

    def append(self, item):
        with self._lock:
            self._items.append(item)

    def clear(self):
        with self._lock:
            self._items.clear()

    def snapshot(self):
        with self._lock:
            return list(self._items)

    def __len__(self):
        return len(self.snapshot())

    def __iter__(self):
        return iter(self.snapshot())

    def __getitem__(self, index):
        return self.snapshot()[index]

    def __eq__(self, other):
        return self.snapshot() == (other.snapshot() if isinstance(other, Received) else other)

    __hash__ = None


def canonical(environ_key):
    return "-".join(part.capitalize() for part in environ_key.split("_"))


def request_headers(environ):
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[canonical(key[5:])] = value
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers[canonical(key)] = value
    return headers


def raw_target(environ):
    """The path and query as they were on the wire, percent-encoding kept."""
    uri = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if uri is None:  # not waitress or gunicorn: rebuild it
        path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/%:@!$&'()*+,;=~")
        return path, environ.get("QUERY_STRING", "")
    uri = uri.partition("#")[0]
    if "://" in uri.partition("?")[0]:  # absolute-form: drop scheme and host
        uri = "/" + uri.partition("://")[2].partition("/")[2]
    path, _, query = uri.partition("?")
    return path, query


def read_body(environ, limit):
    """The body, or None when it is over the limit; never reads more than limit + 1 bytes."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            size = int(length)
        except ValueError:
            raise bad_request("Content-Length is not a number.") from None
        return None if size > limit else stream.read(size)
    if not environ.get("wsgi.input_terminated"):
        return b""
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > limit else b"".join(chunks)


def token_refusal(token, method, path, headers, body):
    """Why the Authorization header does not open this service (a key of GATEWAY_WORDS), or
    None."""
    value = headers.get("Authorization", "")
    if not value:
        return "auth_missing"
    expected = token.encode()
    scheme, _, credential = value.partition(" ")
    credential = credential.strip().encode("latin-1")
    if hmac.compare_digest(value.strip().encode("latin-1"), expected):
        return None
    if scheme.lower() == "bearer" and hmac.compare_digest(credential, expected):
        return None
    if scheme != "EAS":
        return "auth_wrong"
    md5, date = headers.get("Content-Md5"), headers.get("Date")
    if not md5 or not date:
        return "auth_md5_date"
    # The same five lines the SDK signs, stripped as it strips them; header values are
    # latin-1 in WSGI, so encoding them back gives the bytes on the wire.
    signed = "\n".join([method, md5, headers.get("Content-Type", ""), date, path]).strip()
    digest = hmac.new(expected, signed.encode("latin-1"), hashlib.sha1).digest()
    if not hmac.compare_digest(base64.b64encode(digest), credential):
        return "auth_signature"
    body_md5 = hashlib.md5(body, usedforsecurity=False).hexdigest().encode()
    if not hmac.compare_digest(body_md5, md5.strip().lower().encode("latin-1")):
        return "auth_md5"
    return None


class Emulator:
    """The WSGI app: make_app() builds one."""

    def __init__(self, services, limit, keep, tokens_per_s=0.0):
        self.services = check_services(services)
        self.limit = limit
        self.received = Received(keep)
        self.tokens_per_s = check_pace(tokens_per_s)
        self.language = environment_language()

    def clear(self):
        self.received.clear()

    def __call__(self, environ, start_response):
        started = time.monotonic()
        path, query = raw_target(environ)
        if path == CONTROL:  # not recorded: polling it must not push out what it looks for
            code, headers, body = self.control(environ["REQUEST_METHOD"], query)
            start_response(f"{code} {phrase(code)}", headers)
            return body
        # client_port tells connections apart: one port for many requests is a kept-alive one.
        record = {"method": environ["REQUEST_METHOD"], "path": path, "query": query,
                  "headers": request_headers(environ), "body": b"", "status": None,
                  "client_port": int(environ.get("REMOTE_PORT") or 0) or None,
                  "started_at": started, "finished_at": None, "disconnected": False,
                  "disconnected_at": None}
        watch = Watch(environ, record)
        try:
            code, headers, body = self.handle(environ, record, watch)
        except Refusal as refusal:
            code, headers, body = refusal.response
        except Exception as exc:  # a bug answers 500 rather than taking the connection down
            code, headers, body = reply(500, f"The EAS emulator failed: {exc!r}\n")
        record["status"] = code
        self.received.append(record)
        start_response(f"{code} {phrase(code)}", headers)
        return tracked(body, watch)

    def control(self, method, query):
        """GET /__emulator__/received?last=N: the last N records (all kept, without last),
        without headers and bodies, for tests and benchmarks in another process."""
        if method != "GET":
            return reply(405, "Method Not Allowed: /__emulator__/received answers GET.\n",
                         headers=[("Allow", "GET")])
        last = parse_qs(query, keep_blank_values=True).get("last", [None])[0]
        if last is not None and not re.fullmatch(r"[0-9]{1,9}", last):
            return reply(400, f"last must be a whole number, 0 or more, not {last!r}.\n")
        records = self.received.snapshot()
        if last is not None:
            records = records[len(records) - min(int(last), len(records)):]
        return reply_json(200, {"received": [{key: record[key] for key in SUMMARY}
                                             for record in records]})

    def handle(self, environ, record, watch):
        method, path = record["method"], record["path"]
        language = language_of(environ.get("HTTP_ACCEPT_LANGUAGE"), self.language)
        name, _, rest = path.removeprefix(PREFIX).partition("/")
        if not path.startswith(PREFIX) or not name:
            return reply(404, gateway_says(language, "not_service_address", path=path))
        service = self.services.get(unquote(name))
        if service is None:
            return reply(404, gateway_says(language, "no_service", name=unquote(name)))
        body = read_body(environ, self.limit)
        if body is None:
            return reply(413, gateway_says(language, "too_large", limit=self.limit))
        record["body"] = body
        problem = token_refusal(service["token"], method, path, record["headers"], body)
        if problem:
            return reply(401, gateway_says(language, problem))
        route = "/" + rest if rest or path.endswith("/") else ""
        handler, methods = find_route(unquote(route))
        if handler is None:
            return reply(404, gateway_says(language, "no_interface", path=path))
        if methods and method not in methods:
            return reply(405, gateway_says(language, "method", route=route or "/",
                                           methods=", ".join(sorted(methods))),
                         headers=[("Allow", ", ".join(sorted(methods)))])
        request = Request(method, path, record["query"], record["headers"], body, service,
                          record["client_port"], watch=watch, tokens_per_s=self.tokens_per_s)
        return handler(request)


def make_app(services=None, limit=GATEWAY_LIMIT, keep=DEFAULT_KEEP, tokens_per_s=0.0):
    """The WSGI app. app.received keeps the last `keep` requests on any route, refused ones
    too: {"method", "path" and "query" (raw), "headers" (canonical case, so "Content-Md5"),
    "body" (bytes; empty when refused for its size), "status", "client_port", and
    time.monotonic() times: "started_at", "finished_at" (None until all of the answer went
    out), "disconnected" (bool) and "disconnected_at" (None unless the client left first)}.
    tokens_per_s is the default pace of streamed answers (0: as fast as possible); ConfigError
    when it is not a number, 0 or more."""
    return Emulator(DEMO_SERVICES if services is None else services, limit, keep, tokens_per_s)
