"""The emulator's routes: the model routes (emulator.openai), a string processor, /echo, /slow,
/flaky (a share of errors, for a client's error rate) and the fault routes for testing an HTTP
client. emulator.app hands each request that passed the gateway's checks to find_route(); a
handler takes a Request (emulator.replies) and returns (status, headers, body iterable). See
docs/emulator.md for what each route answers."""

import base64
import threading
import time
import zlib
from urllib.parse import quote

from emulator.openai import chat, completions, embeddings, models, rerank
from emulator.replies import bad_request, phrase, reply, reply_json
from emulator.watch import Broken

MAX_SECONDS = 120.0
TRICKLE_GAP = 0.2
MAX_FLAKY_KEY = 64

# /flaky's counts in this process: {key: requests received}, under the lock (waitress answers
# many requests at once).
flaky_counts = {}
flaky_lock = threading.Lock()


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
    request.watch.wait(seconds)  # cut short when the client leaves; nobody reads the answer
    return reply_json(200, {"slept": seconds})


def status(request, code):
    if not code.isdigit() or not 200 <= int(code) <= 599:
        raise bad_request(f"/status/<code> takes a status from 200 to 599, not {code!r}.")
    code = int(code)
    if code in (204, 304):  # these may not carry a body
        return code, [], []
    return reply_json(code, {"status": code, "reason": phrase(code)})


def flaky(request):
    """503 (with Retry-After: 1) on every `every`-th request of a key, 200 otherwise."""
    every = request.number("every", 10, 1 << 31, int)
    if every < 1:
        raise bad_request(f"every must be 1 or more, not {every}.")
    key = request.param("key", "")
    if len(key) > MAX_FLAKY_KEY:
        raise bad_request(f"key may be at most {MAX_FLAKY_KEY} characters.")
    with flaky_lock:
        count = flaky_counts[key] = flaky_counts.get(key, 0) + 1
    if count % every == 0:
        return reply_json(503, {"status": 503, "reason": phrase(503), "request": count,
                                "every": every}, headers=[("Retry-After", "1")])
    return reply_json(200, {"request": count, "every": every})


def large(request):
    size = request.number("bytes", 1024, 1 << 31, int)
    # break_after=M: the answer still announces N bytes, but the connection drops after M.
    sent = request.number("break_after", size, size, int)
    pattern = b"0123456789abcdef" * 4096

    def chunks():
        left = sent
        while left:
            yield pattern[:left]
            left -= min(left, len(pattern))
        if sent < size:
            raise Broken

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
    gaps = int(seconds / TRICKLE_GAP + 1e-9)  # 0.6 / 0.2 is 2.999...
    length = request.param("length", "0")
    if length not in ("0", "1"):
        raise bad_request(f"length must be 0 or 1, not {length!r}.")

    def chunks():
        # waitress sends the headers with the first non-empty chunk, so one byte goes at once.
        started = time.monotonic()
        yield b"."
        for count in range(1, gaps + 1):
            if not request.watch.wait_until(started + count * TRICKLE_GAP):
                return  # the client left: stop
            yield b"."

    headers = [("Content-Type", "text/plain; charset=utf-8")]
    if length == "1":  # announced up front, as a whole answer is, rather than chunked
        headers.append(("Content-Length", str(gaps + 1)))
    return 200, headers, chunks()


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
    "/flaky": (flaky, None),
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

