"""No answer of the API grows with the bodies of more than one call (docs/api.md, "Call"):
GET /api/calls lists the history page's fields and reads no body; GET /api/calls/{id}, the
invoke answer and each line of the JSON Lines export carry each body once, as text when it is
UTF-8 text and in base64 otherwise. The calls are real ones, sent through the call path to the
emulator: 5 MiB answers, as text and as zero bytes (gzip, inflated)."""

import base64
import json
import tracemalloc

import pytest

from services import calls
from services.calls import CallRequest
from tests.helpers import logged_in

MIB = 1024 * 1024
SIZE = 5 * MIB
PATTERN = b"0123456789abcdef"
ITEM_KEYS = {"id", "team", "service", "service_name", "user", "created_at", "endpoint",
             "method", "path", "url", "status", "elapsed_ms", "response_size",
             "response_truncated", "error", "streamed", "stopped", "ttft_ms", "tpot_ms",
             "completion_tokens", "source", "run"}


@pytest.fixture
def echo(acme, emulator):
    return emulator.service(acme, "demo-echo", slug="echo")


@pytest.fixture
def large(echo, bob):
    """Twelve calls with 5 MiB answers: six of text, six of zero bytes."""
    made = []
    for n in range(12):
        path = f"/large?bytes={SIZE}" if n % 2 else f"/gzip?bytes={SIZE}"
        call = calls.call(bob, echo, CallRequest(method="GET", path=path, body=b""))
        assert (call.status, call.response_size) == (200, SIZE)
        made.append(call)
    return made


def measured(client, url):
    """The answer to a GET, and the peak of the memory the request allocated meanwhile (after
    a first request, which sets up what every request reuses)."""
    client.get("/api/teams")
    tracemalloc.start()
    try:
        response = client.get(url)
        content = b"".join(response.streaming_content) if response.streaming else (
            response.content)
        return response, content, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_list_reads_and_answers_no_body(large, bob):
    response, content, peak = measured(logged_in(bob), "/api/calls?limit=200")
    assert response.status_code == 200
    items = json.loads(content)["items"]
    assert [item["id"] for item in items] == [call.pk for call in reversed(large)]
    assert all(set(item) == ITEM_KEYS for item in items)
    assert items[0]["response_size"] == SIZE and items[0]["path"].startswith("/large")
    assert len(content) < 16 * 1024  # twelve calls of 5 MiB each: no body in it
    assert peak < 4 * MIB, peak  # nor in the server's memory


@pytest.mark.parametrize("which", ["text", "zeros"])
def test_a_call_carries_each_body_once(large, bob, which):
    call = large[1] if which == "text" else large[0]
    response, content, peak = measured(logged_in(bob), f"/api/calls/{call.pk}")
    assert response.status_code == 200
    answer = json.loads(content)
    assert answer["request_body"] == "" and answer["request_body_base64"] is None
    if which == "text":
        assert answer["response_body"] == (PATTERN * (SIZE // 16)).decode()
        assert answer["response_body_base64"] is None
        assert len(content) < SIZE + 4096
    else:  # zero bytes are UTF-8, but JSON would write each as six characters (\u0000)
        assert answer["response_body"] is None
        assert base64.b64decode(answer["response_body_base64"]) == bytes(SIZE)
        assert len(content) < SIZE * 4 / 3 + 4096
    assert peak < 6 * SIZE, peak  # one body, in a few forms, never twice each


def test_a_body_that_is_not_utf8_comes_in_base64_only(echo, bob):
    body = bytes(range(256)) * 4
    call = calls.call(bob, echo, CallRequest(method="POST", path="/", body=body,
                                             headers={"Content-Type": "application/x"}))
    answer = logged_in(bob).get(f"/api/calls/{call.pk}").json()
    assert answer["request_body"] is None
    assert base64.b64decode(answer["request_body_base64"]) == body
    assert answer["response_body"] is None
    assert base64.b64decode(answer["response_body_base64"]) == b"processed: " + body


def test_text_stays_text_in_utf8(echo, bob):
    client = logged_in(bob)
    response = client.post(f"/api/services/{echo.slug}/invoke", json.dumps(
        {"method": "POST", "path": "/", "body": "中文 tab\tand\r\nlines",
         "headers": {"Content-Type": "text/plain"}}), content_type="application/json")
    assert response.status_code == 200
    assert "中文".encode() in response.content  # not \u4e2d\u6587
    answer = response.json()
    assert answer["request_body"] == "中文 tab\tand\r\nlines"
    assert answer["request_body_base64"] is None
    assert answer["response_body"] == "processed: 中文 tab\tand\r\nlines"
    assert answer["response_body_base64"] is None
    assert client.get(f"/api/calls/{answer['id']}").json() == answer


def test_each_line_of_the_export_is_one_call_as_get_answers_it(large, bob):
    client = logged_in(bob)
    response = client.get("/api/calls/export?format=jsonl")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == len(large)
    for line, call in zip(lines, reversed(large), strict=True):
        assert json.loads(line) == client.get(f"/api/calls/{call.pk}").json()
