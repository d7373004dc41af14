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
import struct
import threading
import time
import zlib
from collections import deque
from http import HTTPStatus
from urllib.parse import parse_qs, quote, unquote

import waitress

GATEWAY_LIMIT = 1_048_576
PREFIX = "/api/predict/"
KINDS = ("llm", "model_gallery", "processor", "custom")
# waitress buffers a whole request body before the app sees it; past this it answers a 413 of
# its own and closes, so a runaway upload cannot fill the disk.
MAX_BUFFERED_BODY = 16 * GATEWAY_LIMIT
MAX_SECONDS = 120.0
TRICKLE_GAP = 0.2

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


class Refusal(Exception):
    """Ends a request early with a ready response."""

    def __init__(self, response):
        super().__init__(response[0])
        self.response = response


def reply(status, body=b"", content_type="text/plain; charset=utf-8", headers=()):
    if isinstance(body, str):
        body = body.encode()
    return status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                    *headers], [body]


def reply_json(status, data, headers=()):
    return reply(status, json.dumps(data, ensure_ascii=False).encode(), "application/json",
                 headers)


def openai_error(message, param=None, status=400):
    return reply_json(status, {"error": {"message": message, "type": "invalid_request_error",
                                         "param": param, "code": None}})


def bad_request(message):
    return Refusal(reply(400, message + "\n"))


class Request:
    def __init__(self, method, path, query, headers, body, service):
        self.method, self.path, self.query = method, path, query
        self.headers, self.body, self.service = headers, body, service

    def param(self, name, default=None):
        values = parse_qs(self.query, keep_blank_values=True).get(name)
        return values[0] if values else default

    def number(self, name, default, maximum, kind=float):
        text = self.param(name)
        try:
            value = kind(text) if text is not None else default
        except ValueError:
            raise bad_request(f"{name} must be a number, not {text!r}.") from None
        if not 0 <= value < float("inf"):
            raise bad_request(f"{name} must be 0 or more.")
        return min(value, maximum)

    def json(self):
        try:
            data = json.loads(self.body)
        except ValueError:
            raise Refusal(openai_error("The body is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise Refusal(openai_error("The body must be a JSON object."))
        return data


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


def words(text):
    return re.findall(r"\w+", text.lower())


def as_text(content):
    # OpenAI content is a string or a list of parts such as {"type": "text", "text": ...}.
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def usage(prompt, completion):
    prompt_tokens, completion_tokens = len(prompt.split()), len(completion.split())
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def completion_id(prefix, body):
    return prefix + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:24]


def event_stream(events):
    for event in events:
        yield b"data: " + json.dumps(event, ensure_ascii=False).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


def streamed(request, data, kind, text, totals):
    """A reply as server-sent events: one chunk per word, then the stop, then usage if asked."""
    base = {"id": completion_id("chatcmpl-" if kind == "chat" else "cmpl-", request.body),
            "object": "chat.completion.chunk" if kind == "chat" else "text_completion",
            "created": int(time.time()), "model": data.get("model") or request.service["model"]}

    def choice(piece, finish_reason=None):
        if kind != "chat":
            return {"index": 0, "text": piece or "", "logprobs": None,
                    "finish_reason": finish_reason}
        delta = {"content": piece} if piece is not None else {}
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}

    events = []
    if kind == "chat":
        events.append({**base, "choices": [{**choice(""), "delta": {"role": "assistant",
                                                                     "content": ""}}]})
    events += [{**base, "choices": [choice(piece)]}
               for piece in re.split(r"(?<=\s)(?=\S)", text)]
    events.append({**base, "choices": [choice(None, "stop")]})
    if (data.get("stream_options") or {}).get("include_usage"):
        events.append({**base, "choices": [], "usage": totals})
    return 200, [("Content-Type", "text/event-stream; charset=utf-8"),
                 ("Cache-Control", "no-cache")], event_stream(events)


def chat(request):
    data = request.json()
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages or not all(
            isinstance(message, dict) for message in messages):
        raise Refusal(openai_error("'messages' must be a non-empty list of messages.",
                                   "messages"))
    said = next((as_text(m.get("content")) for m in reversed(messages)
                 if m.get("role") == "user"), "")
    text = f"You said: {said}"
    totals = usage(" ".join(as_text(m.get("content")) for m in messages), text)
    if data.get("stream"):
        return streamed(request, data, "chat", text, totals)
    return reply_json(200, {
        "id": completion_id("chatcmpl-", request.body), "object": "chat.completion",
        "created": int(time.time()), "model": data.get("model") or request.service["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": totals,
    })


def completions(request):
    data = request.json()
    prompt = data.get("prompt")
    if isinstance(prompt, list) and all(isinstance(item, str) for item in prompt):
        prompt = " ".join(prompt)
    if not isinstance(prompt, str):
        raise Refusal(openai_error("'prompt' must be a string or a list of strings.", "prompt"))
    text = f"You wrote: {prompt}"
    totals = usage(prompt, text)
    if data.get("stream"):
        return streamed(request, data, "completion", text, totals)
    return reply_json(200, {
        "id": completion_id("cmpl-", request.body), "object": "text_completion",
        "created": int(time.time()), "model": data.get("model") or request.service["model"],
        "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}],
        "usage": totals,
    })


def vector_of(text):
    digest = hashlib.sha256(text.encode()).digest()
    return [round((byte - 127.5) / 127.5, 6) for byte in digest[:8]]


def embeddings(request):
    data = request.json()
    inputs = data.get("input")
    inputs = [inputs] if isinstance(inputs, str) else inputs
    if not isinstance(inputs, list) or not inputs or not all(
            isinstance(item, str) for item in inputs):
        raise Refusal(openai_error("'input' must be a string or a list of strings.", "input"))
    items = []
    for index, text in enumerate(inputs):
        vector = vector_of(text)
        if data.get("encoding_format") == "base64":  # the OpenAI SDK asks for this by default
            vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        items.append({"object": "embedding", "index": index, "embedding": vector})
    tokens = sum(len(text.split()) for text in inputs)
    return reply_json(200, {"object": "list", "data": items,
                            "model": data.get("model") or request.service["model"],
                            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def rerank(request):
    data = request.json()
    query, documents, top_n = data.get("query"), data.get("documents"), data.get("top_n")
    if not isinstance(query, str) or not isinstance(documents, list):
        raise Refusal(openai_error("Send 'query' (a string) and 'documents' (a list)."))
    texts = [doc.get("text") if isinstance(doc, dict) else doc for doc in documents]
    if not all(isinstance(text, str) for text in texts):
        raise Refusal(openai_error("Each document must be a string or {\"text\": ...}.",
                                   "documents"))
    if top_n is not None and (not isinstance(top_n, int) or top_n < 0):
        raise Refusal(openai_error("'top_n' must be a whole number.", "top_n"))
    asked = set(words(query))
    results = [{"index": index,
                "relevance_score": round(len(asked & set(words(text))) / (len(asked) or 1), 6)}
               for index, text in enumerate(texts)]
    results.sort(key=lambda result: -result["relevance_score"])  # stable: ties keep order
    results = results[:top_n] if top_n is not None else results
    if data.get("return_documents", True):
        for result in results:
            result["document"] = {"text": texts[result["index"]]}
    tokens = len(query.split()) + sum(len(text.split()) for text in texts)
    return reply_json(200, {"id": completion_id("rerank-", request.body),
                            "model": data.get("model") or request.service["model"],
                            "results": results, "usage": {"total_tokens": tokens}})


def models(request):
    return reply_json(200, {"object": "list", "data": [
        {"id": request.service["model"], "object": "model", "created": 0,
         "owned_by": "eas-emulator"}]})


def process(request):
    return reply(200, b"processed: " + request.body,
                 request.headers.get("Content-Type", "application/octet-stream"))


def echo(request):
    try:
        text = request.body.decode()
    except UnicodeDecodeError:
        text = None
    return reply_json(200, {"method": request.method, "path": request.path,
                            "query": request.query, "headers": request.headers, "body": text,
                            "body_base64": base64.b64encode(request.body).decode()})


def slow(request):
    seconds = request.number("seconds", 1.0, MAX_SECONDS)
    time.sleep(seconds)
    return reply_json(200, {"slept": seconds})


def status(request, code):
    if not code.isdigit() or not 200 <= int(code) <= 599:
        raise bad_request(f"/status/<code> takes a status from 200 to 599, not {code!r}.")
    code = int(code)
    if code in (204, 304):  # these may not carry a body
        return code, [], []
    return reply_json(code, {"status": code, "reason": phrase(code)})


def large(request):
    size = request.number("bytes", 1024, 1 << 31, int)
    pattern = b"0123456789abcdef" * 4096

    def chunks():
        left = size
        while left:
            yield pattern[:left]
            left -= min(left, len(pattern))

    return 200, [("Content-Type", "application/octet-stream"),
                 ("Content-Length", str(size))], chunks()


def gzip_zeros(request):
    size = request.number("bytes", 1024, 1 << 33, int)

    def chunks():
        # Fed chunk by chunk: N zero bytes are never in memory, only their small compressed form.
        compressor, zeros, left = zlib.compressobj(wbits=31), bytes(65536), size
        while left:
            piece = compressor.compress(zeros[:left])
            left -= min(left, len(zeros))
            if piece:
                yield piece
        yield compressor.flush()

    return 200, [("Content-Type", "application/octet-stream"),
                 ("Content-Encoding", "gzip")], chunks()


def trickle(request):
    seconds = request.number("seconds", 1.0, MAX_SECONDS)

    def chunks():
        # waitress sends the headers with the first non-empty chunk, so one byte goes at once.
        yield b"."
        for _ in range(int(seconds / TRICKLE_GAP + 1e-9)):  # 0.6 / 0.2 is 2.999...
            time.sleep(TRICKLE_GAP)
            yield b"."

    return 200, [("Content-Type", "text/plain; charset=utf-8")], chunks()


def redirect(request):
    target, code = request.param("to"), request.param("status", "302")
    if not target:
        raise bad_request("/redirect needs ?to=<url>.")
    if not code.isdigit() or not 300 <= int(code) <= 399:
        raise bad_request(f"status must be a redirect status (300 to 399), not {code!r}.")
    location = quote(target, safe=":/?#[]@!$&'()*+,;=%~")
    return reply_json(int(code), {"location": location}, headers=[("Location", location)])


# route -> (handler, methods it answers, or None for any)
ROUTES = {
    "": (process, {"POST"}), "/": (process, {"POST"}),
    "/v1/models": (models, {"GET"}),
    "/v1/chat/completions": (chat, {"POST"}),
    "/v1/completions": (completions, {"POST"}),
    "/v1/embeddings": (embeddings, {"POST"}),
    "/v1/rerank": (rerank, {"POST"}),
    "/echo": (echo, None),
    "/slow": (slow, None),
    "/large": (large, None),
    "/gzip": (gzip_zeros, None),
    "/trickle": (trickle, None),
    "/redirect": (redirect, None),
}


def find_route(route):
    if route in ROUTES:
        return ROUTES[route]
    if route.startswith("/echo/"):
        return ROUTES["/echo"]
    if route.startswith("/status/") and route.count("/") == 2:
        code = route.removeprefix("/status/")
        return (lambda request: status(request, code)), None
    return None, None


def phrase(code):
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


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
        request = Request(method, path, record["query"], record["headers"], body, service)
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
