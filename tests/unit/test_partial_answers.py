"""An answer that ends early keeps what arrived: an upstream that drops the connection mid-body,
or trickles past the call's deadline, leaves its bytes in the Response and in the Call, with
the error that ended it. Against the emulator: /large?break_after= (a body of announced length
that breaks off), /trickle (chunked, or with length=1 a Content-Length), and a streamed chat
answer cut by X-Emulator-Break-After."""

import json
import time

import pytest

from services import calls
from services.calls import CallRequest
from services.net import client
from services.net.endpoints import HostPolicy

POLICY = HostPolicy("127.0.0.1")
PATTERN = b"0123456789abcdef"
CHAT = {"model": "m", "stream": True,
        "messages": [{"role": "user", "content": "one two three four five six"}]}


def send(emulator, path, method="GET", headers=None, body=b"", deadline_s=10):
    request = client.OutboundRequest(
        method, emulator.base("demo-echo") + path,
        {"Authorization": emulator.token("demo-echo"), **(headers or {})}, body)
    return client.send(request, policy=POLICY, deadline_s=deadline_s,
                       max_response_bytes=5 * 1024 * 1024)


@pytest.mark.parametrize("path", ["/large?bytes=300000&break_after=100000",
                                  "/large?bytes=300000&break_after=70000"])
def test_a_body_of_known_length_that_breaks_off_keeps_what_arrived(emulator, path):
    arrived = int(path.rpartition("=")[2])
    response = send(emulator, path)
    assert (response.status, response.declared_size) == (200, 300000)
    assert response.error_kind == "broken" and "connection broke" in response.error
    assert response.size == arrived
    assert response.body == (PATTERN * 20000)[:arrived]


@pytest.mark.parametrize("length", ["0", "1"])
def test_a_trickle_cut_at_the_deadline_keeps_what_arrived(emulator, length):
    started = time.monotonic()
    response = send(emulator, f"/trickle?seconds=10&length={length}", deadline_s=1.5)
    assert time.monotonic() - started < 4
    assert response.error_kind == "timeout" and "deadline" in response.error
    assert 3 <= response.size < 20  # a byte about every 0.2 s for 1.5 s
    assert response.body == b"." * response.size


@pytest.fixture
def echo(acme, emulator):
    return emulator.service(acme, "demo-echo", slug="echo", timeout_s=2)


@pytest.mark.parametrize("path, kind, body", [
    ("/large?bytes=300000&break_after=100000", "broken", (PATTERN * 6250)),
    ("/trickle?seconds=10&length=1", "timeout", None),
    ("/trickle?seconds=10", "timeout", None),
])
def test_the_call_records_what_arrived(echo, bob, path, kind, body):
    call = calls.call(bob, echo, CallRequest(method="GET", path=path, body=b""))
    call.refresh_from_db()
    assert (call.status, call.error_kind) == (200, kind)
    assert call.response_size > 0 and call.response_size == len(bytes(call.response_body))
    if body is not None:
        assert bytes(call.response_body) == body
    else:
        assert bytes(call.response_body) == b"." * call.response_size


def test_a_whole_call_of_a_stream_that_breaks_records_what_arrived(acme, bob, emulator):
    chat = emulator.service(acme, "demo-chat", slug="chat")
    call = calls.call(bob, chat, CallRequest(
        body=json.dumps(CHAT).encode(),
        headers={"Content-Type": "application/json", "X-Emulator-Break-After": "2"}))
    call.refresh_from_db()
    assert (call.status, call.error_kind) == (200, "broken")
    body = bytes(call.response_body)
    assert call.response_size == len(body) > 0
    assert b'"content": "You "' in body and b"[DONE]" not in body
    assert (call.completion_tokens, call.tokens_source) == (2, "chunks")
