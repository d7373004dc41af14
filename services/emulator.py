"""A local stand-in for a PAI-EAS gateway and the model services behind it.

Every service is served under /api/predict/<service> and checks its token the three ways real
clients send it: raw (`Authorization: <token>`, curl and requests), `Bearer <token>` (OpenAI
SDKs) and signed `EAS <signature>` (Alibaba's eas-prediction SDK). Every service answers every
route below; a service's kind only says how the portal seeds it.

    POST /                      a string-in, string-out processor ("processed: " + body)
    GET  /v1/models, POST /v1/chat/completions, /v1/completions, /v1/embeddings
                                OpenAI-compatible, deterministic, with usage and streaming
    POST /v1/rerank             {"query", "documents", "top_n"?}: word-overlap scores
    ANY  /echo, /echo/...       what arrived, as JSON (raw path and query kept)
    ANY  /slow?seconds=N        answers after N seconds (at most 120)

Fault routes, for testing an HTTP client (limits, decompression, deadlines, redirects):

    ANY  /status/<code>         that status, with a small JSON body
    ANY  /large?bytes=N         N bytes, streamed, with Content-Length
    ANY  /gzip?bytes=N          gzip that decompresses to N zero bytes; small on the wire
    ANY  /trickle?seconds=N     one byte about every 0.2 s for N seconds
    ANY  /redirect?to=URL&status=302

The app itself is Django-free so that tests can run it in a thread.
"""

import base64
import hashlib
import hmac
import json
import re
import threading
from collections import deque
from urllib.parse import quote, unquote

import waitress

from services.emulator_routes import Refusal, Request, bad_request, find_route, phrase, reply

GATEWAY_LIMIT = 1_048_576
PREFIX = "/api/predict/"
KINDS = ("llm", "model_gallery", "processor", "custom")
# waitress buffers a whole request body before the app sees it; past this it answers a 413 of
# its own and closes, so a runaway upload cannot fill the disk.
MAX_BUFFERED_BODY = 16 * GATEWAY_LIMIT

# Local demo values, not secrets: seed_demo gives the portal's demo services the same tokens.
DEMO_SERVICES = {
    "demo-chat": {"token": "demo-chat-token-0001", "kind": "llm", "model": "Qwen3-8B"},
    "demo-reranker": {"token": "demo-reranker-token-0001", "kind": "model_gallery",
                      "model": "Qwen3-Reranker-8B"},
    "demo-echo": {"token": "demo-echo-token-0001", "kind": "custom", "model": "demo-echo"},
}

SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class ConfigError(ValueError):
    pass


def check_services(services, source="services"):
    """The services as {name: {"token", "kind", "model"}}; ConfigError names what is wrong."""
    if not isinstance(services, dict) or not services:
        raise ConfigError(f"{source}: expected an object of services by name, with at least one.")
    checked = {}
    for name, entry in services.items():
        where = f"{source}.{name}"
        if not SERVICE_NAME.fullmatch(name):
            raise ConfigError(f"{where}: a service name is letters, digits, '-', '_' or '.'.")
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected an object with a token.")
        unknown = set(entry) - {"token", "kind", "model"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}.")
        token, kind = entry.get("token"), entry.get("kind", "custom")
        model = entry.get("model", name)
        if not isinstance(token, str) or not token.strip() or not token.isascii():
            raise ConfigError(f"{where}.token: expected a non-empty ASCII string.")
        if kind not in KINDS:
            raise ConfigError(f"{where}.kind: expected one of {', '.join(KINDS)}.")
        if not isinstance(model, str) or not model:
            raise ConfigError(f"{where}.model: expected a non-empty string.")
        checked[name] = {"token": token.strip(), "kind": kind, "model": model}
    return checked


def load_config(path):
    """Services from a JSON file {"services": {"<name>": {"token", "kind", "model"}}}."""
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}).") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}).") from None
    if not isinstance(data, dict) or "services" not in data:
        raise ConfigError(f'{path}: expected {{"services": {{"<name>": {{"token": ...}}}}}}.')
    return check_services(data["services"], source=f"{path}: services")


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
    """Why the Authorization header does not open this service, or None."""
    value = headers.get("Authorization", "")
    if not value:
        return "Authorization failed: send the service token in the Authorization header."
    expected = token.encode()
    scheme, _, credential = value.partition(" ")
    credential = credential.strip().encode("latin-1")
    if hmac.compare_digest(value.strip().encode("latin-1"), expected):
        return None
    if scheme.lower() == "bearer" and hmac.compare_digest(credential, expected):
        return None
    if scheme != "EAS":
        return "Authorization failed: the token is wrong."
    md5, date = headers.get("Content-Md5"), headers.get("Date")
    if not md5 or not date:
        return "Authorization failed: an EAS-signed request needs Content-MD5 and Date headers."
    # The same five lines the SDK signs, stripped as it strips them; header values are
    # latin-1 in WSGI, so encoding them back gives the bytes on the wire.
    signed = "\n".join([method, md5, headers.get("Content-Type", ""), date, path]).strip()
    digest = hmac.new(expected, signed.encode("latin-1"), hashlib.sha1).digest()
    if not hmac.compare_digest(base64.b64encode(digest), credential):
        return "Authorization failed: the EAS signature does not match this request and token."
    body_md5 = hashlib.md5(body, usedforsecurity=False).hexdigest().encode()
    if not hmac.compare_digest(body_md5, md5.strip().lower().encode("latin-1")):
        return "Authorization failed: Content-MD5 is not the hex MD5 of the body."
    return None


class Emulator:
    """The WSGI app: make_app() builds one."""

    def __init__(self, services, limit, keep):
        self.services = check_services(services)
        self.limit = limit
        self.received = Received(keep)

    def clear(self):
        self.received.clear()

    def __call__(self, environ, start_response):
        path, query = raw_target(environ)
        # client_port tells connections apart: one port for many requests is a kept-alive one.
        record = {"method": environ["REQUEST_METHOD"], "path": path, "query": query,
                  "headers": request_headers(environ), "body": b"", "status": None,
                  "client_port": int(environ.get("REMOTE_PORT") or 0) or None}
        try:
            code, headers, body = self.handle(environ, record)
        except Refusal as refusal:
            code, headers, body = refusal.response
        except Exception as exc:  # a bug answers 500 rather than taking the connection down
            code, headers, body = reply(500, f"The EAS emulator failed: {exc!r}\n")
        record["status"] = code
        self.received.append(record)
        start_response(f"{code} {phrase(code)}", headers)
        return body

    def handle(self, environ, record):
        method, path = record["method"], record["path"]
        name, _, rest = path.removeprefix(PREFIX).partition("/")
        if not path.startswith(PREFIX) or not name:
            return reply(404, f"Not Found: {path} is not a service address; services are "
                              "served under /api/predict/<service>.\n")
        service = self.services.get(unquote(name))
        if service is None:
            return reply(404, f"Not Found: there is no service named {unquote(name)!r} on "
                              "this gateway.\n")
        body = read_body(environ, self.limit)
        if body is None:
            return reply(413, f"Request body too large: the gateway accepts at most "
                              f"{self.limit} bytes.\n")
        record["body"] = body
        problem = token_refusal(service["token"], method, path, record["headers"], body)
        if problem:
            return reply(401, problem + "\n")
        route = "/" + rest if rest or path.endswith("/") else ""
        handler, methods = find_route(unquote(route))
        if handler is None:
            return reply(404, f"Not Found: no interface at {path}; the endpoint is a base "
                              "address; check the interface path.\n")
        if methods and method not in methods:
            return reply(405, f"Method Not Allowed: {route or '/'} answers "
                              f"{', '.join(sorted(methods))}.\n",
                         headers=[("Allow", ", ".join(sorted(methods)))])
        request = Request(method, path, record["query"], record["headers"], body, service,
                          record["client_port"])
        return handler(request)


def make_app(services=None, limit=GATEWAY_LIMIT, keep=200):
    """The WSGI app. app.received keeps the last `keep` requests on any route, refused ones
    too: {"method", "path" and "query" (raw), "headers" (canonical case, so "Content-Md5"),
    "body" (bytes; empty when refused for its size), "status", "client_port"}."""
    return Emulator(DEMO_SERVICES if services is None else services, limit, keep)


def make_server(app, host="127.0.0.1", port=0, threads=16):
    """A waitress server (HTTP/1.1, keep-alive) for app; port 0 picks a free one."""
    return waitress.create_server(
        app, host=host, port=port, threads=threads, channel_timeout=120,
        max_request_body_size=MAX_BUFFERED_BODY, asyncore_use_poll=True,
        # Echo shows what a client sent, X-Forwarded-* included.
        clear_untrusted_proxy_headers=False,
    )


def serve(host, port, services=None, threads=16):
    make_server(make_app(services), host, port, threads).run()


def start_in_thread(host="127.0.0.1", port=0, services=None):
    """(server, thread): server.effective_port is the port, server.application the app."""
    server = make_server(make_app(services), host, port)
    thread = threading.Thread(target=server.run, name="eas-emulator", daemon=True)
    thread.start()
    return server, thread


def stop(server, thread=None, timeout=5.0):
    # Closing every channel, the listening socket and the trigger empties the server's map, and
    # waitress's loop ends on an empty map (webtest's StopableWSGIServer does the same).
    for dispatcher in list(server._map.values()):
        dispatcher.close()
    server.task_dispatcher.shutdown(timeout=timeout)
    if thread is not None:
        thread.join(timeout)
