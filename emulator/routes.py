"""The emulator's routes: OpenAI-compatible model routes, a reranker, /echo, /slow, and the
fault routes for testing an HTTP client. emulator.app hands each request that passed the
gateway's checks to find_route(); a handler takes a Request and returns (status, headers, body
iterable). See docs/emulator.md for what each route answers."""

import base64
import hashlib
import json
import re
import struct
import time
import zlib
from http import HTTPStatus
from urllib.parse import parse_qs, quote

MAX_SECONDS = 120.0
TRICKLE_GAP = 0.2


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
    def __init__(self, method, path, query, headers, body, service, client_port=None):
        self.method, self.path, self.query = method, path, query
        self.headers, self.body, self.service = headers, body, service
        self.client_port = client_port

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
                            "body_base64": base64.b64encode(request.body).decode(),
                            # Which connection it came on: one port for many calls is a
                            # kept-alive connection.
                            "client_port": request.client_port})


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
