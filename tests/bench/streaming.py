"""`make bench`, streaming (imported by run.py): the figures of the streaming issue, measured
against the emulator's demo-chat service through a portal served as `make run` serves it.

  (d) time to first token through the portal minus direct, median over 50 streams;
  (e) a 20-chunk stream paced 40 ms apart: over how long its pieces reach the client;
  (f) 64 concurrent streams of 2 s each: all complete, with the right token counts, and the
      history page's p95 while they run;
  (g) after the client goes away (what Stop does), when the upstream sees the connection close;
  (i) as (d), through the gateway (/gw/) with a personal key.
"""

import json
import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

PACE = "X-Emulator-Tokens-Per-S"
CONTENT = re.compile(r'"content": "[^"]')
TTFT_STREAMS = 50
CONCURRENT = 64
STOPS = 10


def chat_body(words, max_tokens=None, usage=False):
    """A chat request whose answer ("You said: ...") is words + 2 content chunks."""
    body = {"model": "bench", "stream": True,
            "messages": [{"role": "user", "content": " ".join(f"w{n}" for n in range(words))}]}
    if max_tokens:
        body["max_tokens"] = max_tokens
    if usage:
        body["stream_options"] = {"include_usage": True}
    return json.dumps(body)


def direct_first_token(emulator, body, pace):
    """ms from sending to the first piece of the direct answer that carries content."""
    started = time.perf_counter()
    with requests.post(emulator.chat + "/v1/chat/completions", data=body, stream=True,
                       timeout=30, headers={"Authorization": emulator.chat_token,
                                            "Content-Type": "application/json",
                                            PACE: str(pace)}) as response:
        text = ""
        for piece in response.iter_content(chunk_size=None):
            text += piece.decode()
            if CONTENT.search(text):
                return (time.perf_counter() - started) * 1000
    raise AssertionError("no content in the direct answer")


def portal_events(session, url, body, pace, on_content=None):
    """Streams through the portal; yields (kind, data, arrived) for each event."""
    payload = {"path": "/v1/chat/completions", "body": body, "stream": True,
               "headers": {"Content-Type": "application/json", PACE: str(pace)}}
    with session.post(url, json=payload, stream=True, timeout=60) as response:
        response.raise_for_status()
        buffer = ""
        for piece in response.iter_content(chunk_size=None):
            arrived = time.perf_counter()
            buffer += piece.decode()
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                fields = dict(line.split(": ", 1) for line in block.split("\n")
                              if line and not line.startswith(":"))
                if fields:
                    yield fields["event"], json.loads(fields["data"]), arrived


def portal_first_token(session, url, body, pace):
    started = time.perf_counter()
    for kind, data, arrived in portal_events(session, url, body, pace):
        if kind == "data" and CONTENT.search(data.get("text", "")):
            return (arrived - started) * 1000
    raise AssertionError("no content through the portal")


def first_token_added(target, emulator):
    """(d): pairs, each a direct stream right before one through the portal."""
    body, pace = chat_body(4), 100
    for _ in range(5):  # warm: connections, the compiled queries
        direct_first_token(emulator, body, pace)
        portal_first_token(target.session, target.chat_url, body, pace)
    pairs = []
    for _ in range(TTFT_STREAMS):
        direct = direct_first_token(emulator, body, pace)
        pairs.append((direct, portal_first_token(target.session, target.chat_url, body, pace)))
    return {"ttft direct": f"{statistics.median(d for d, _ in pairs):.2f}",
            "ttft added": f"{statistics.median(p - d for d, p in pairs):.2f} / "
                          f"{max(p - d for d, p in pairs):.2f}"}


def gateway_first_token(target, body, pace):
    """ms from sending to the first piece with content, through the gateway as an SDK sends."""
    started = time.perf_counter()
    with target.gateway.post(target.gateway_url + "/chat/v1/chat/completions", data=body,
                             stream=True, timeout=30,
                             headers={"Content-Type": "application/json",
                                      PACE: str(pace)}) as response:
        text = ""
        for piece in response.iter_content(chunk_size=None):
            text += piece.decode()
            if CONTENT.search(text):
                return (time.perf_counter() - started) * 1000
    raise AssertionError("no content through the gateway")


def gateway_first_token_added(target, emulator):
    """(i): as (d), through the gateway."""
    body, pace = chat_body(4), 100
    for _ in range(5):
        direct_first_token(emulator, body, pace)
        gateway_first_token(target, body, pace)
    pairs = [(direct_first_token(emulator, body, pace), gateway_first_token(target, body, pace))
             for _ in range(TTFT_STREAMS)]
    return {"gateway ttft added": f"{statistics.median(g - d for d, g in pairs):.2f} / "
                                  f"{max(g - d for d, g in pairs):.2f}"}


def spread(target):
    """(e): 20 content chunks paced 40 ms apart, as they reach the client."""
    arrivals = [arrived for kind, data, arrived in portal_events(
        target.session, target.chat_url, chat_body(18, max_tokens=20), pace=25)
        if kind == "data" and CONTENT.search(data.get("text", ""))]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    return {"spread": f"{len(arrivals)} pieces over {(arrivals[-1] - arrivals[0]) * 1000:.0f} ms"
                      f" (gaps {min(gaps) * 1000:.0f}-{max(gaps) * 1000:.0f} ms)"}


def concurrent_streams(target):
    """(f): 64 streams of 20 tokens at 10 tokens/s, with the history page asked meanwhile."""
    body = chat_body(18, max_tokens=20, usage=True)

    def one_stream(_n):
        session = requests.Session()
        session.cookies.update(target.session.cookies)
        session.headers.update(target.session.headers)
        started = time.perf_counter()
        call = next(data for kind, data, _at in portal_events(
            session, target.chat_url, body, pace=10) if kind == "call")
        return call, time.perf_counter() - started

    page_times, running = [], threading.Event()
    running.set()

    def ask_history():
        session = requests.Session()
        session.cookies.update(target.session.cookies)
        while running.is_set():
            started = time.perf_counter()
            session.get(target.portal.url + "/calls/").raise_for_status()
            page_times.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)

    pager = threading.Thread(target=ask_history)
    pager.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENT) as pool:
        results = list(pool.map(one_stream, range(CONCURRENT)))
    took = time.perf_counter() - started
    running.clear()
    pager.join()
    complete = sum(1 for call, _s in results if call["status"] == 200 and not call["error"]
                   and call["completion_tokens"] == 20 and call["tokens_source"] == "usage")
    ordered = sorted(page_times)
    return {"concurrent": f"{complete} of {CONCURRENT} complete with 20 tokens, all in "
                          f"{took:.1f} s (each {min(s for _c, s in results):.1f}-"
                          f"{max(s for _c, s in results):.1f} s)",
            "history p95": f"{ordered[int(len(ordered) * 0.95) - 1]:.0f} "
                           f"({len(ordered)} pages)"}


def stop_delays(target, emulator):
    """(g): the client leaves after the first token; the upstream notes when its client went."""
    delays = []
    for _ in range(STOPS):
        events = portal_events(target.session, target.chat_url, chat_body(30), pace=5)
        for kind, data, _at in events:
            if kind == "data" and CONTENT.search(data.get("text", "")):
                break
        events.close()  # the response and its connection close: the client has gone
        left = time.monotonic()
        record = None
        while record is None or record["disconnected_at"] is None:
            assert time.monotonic() - left < 5, "the upstream never saw the client go"
            time.sleep(0.02)
            received = requests.get(emulator.control + "?last=5", timeout=5).json()["received"]
            record = next(item for item in reversed(received)
                          if item["path"].endswith("/v1/chat/completions"))
        delays.append((record["disconnected_at"] - left) * 1000)
    return {"stop": f"{statistics.median(delays):.0f} / {max(delays):.0f}"}


def measure(target, emulator):
    return (first_token_added(target, emulator) | gateway_first_token_added(target, emulator)
            | spread(target) | concurrent_streams(target) | stop_delays(target, emulator))


ROWS = [
    ("ttft direct", "(d) time to first token, direct to the emulator, median ms"),
    ("ttft added", "(d) **added by the portal** to the time to first token, median / max ms over "
                   "50 streams (target at most 5 median)"),
    ("gateway ttft added", "(i) the same through the gateway: added to the time to first "
                           "token, median / max ms (target at most 5 median)"),
    ("spread", "(e) a 20-chunk stream paced 40 ms apart, as the client got it (target: over "
               "about 760 ms, not one burst)"),
    ("concurrent", "(f) 64 concurrent streams of 2 s each (target: all complete, right token "
                   "counts)"),
    ("history p95", "(f) history page p95 ms while they run (target < 300)"),
    ("stop", "(g) the client leaves: the upstream sees its connection close after, median / "
             "max ms over 10 (target < 1000)"),
]
