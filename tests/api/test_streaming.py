"""Streamed invokes (docs/api.md, "Streaming"): POST /api/services/{slug}/invoke with
"stream": true answers text/event-stream with the events head, data and call, relays each piece
of the upstream's answer as it arrives, and records the call like any other, against the
emulator."""

import base64
import json
import time

import pytest
import requests

from services.models import Call
from tests.helpers import logged_in, make_service

CHAT = {"model": "m", "messages": [{"role": "user", "content": "one two three four five"}]}


def invoke(client, slug, **payload):
    return client.post(f"/api/services/{slug}/invoke", json.dumps({**payload, "stream": True}),
                       content_type="application/json")


def response_bytes(call):
    """The answer's body a Call carries once: as text, or in base64 when it is not text."""
    if call["response_body"] is not None:
        return call["response_body"].encode()
    return base64.b64decode(call["response_body_base64"])


def read_events(response, timed=False):
    """[(event, data)] of a streamed answer (with the time each arrived when timed);
    comment lines (pings) are skipped, as a client of the events would."""
    events, buffer = [], b""
    for piece in response.streaming_content:
        buffer += piece
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            lines = dict(line.split(": ", 1) for line in block.decode().split("\n")
                         if not line.startswith(":"))
            if lines:
                item = (lines["event"], json.loads(lines["data"]))
                events.append((*item, time.perf_counter()) if timed else item)
    assert buffer == b""
    return events


def body_of(events):
    return b"".join(data["text"].encode() if "text" in data else base64.b64decode(data["base64"])
                    for kind, data in events if kind == "data")


@pytest.fixture
def chat(acme, emulator):
    return emulator.service(acme, "demo-chat", slug="chat-stream")


def test_the_answer_comes_as_head_data_and_call(chat, bob, emulator_received):
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    response = invoke(logged_in(bob), chat.slug, body=json.dumps(body))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert (response["Cache-Control"], response["X-Accel-Buffering"]) == ("no-cache", "no")
    events = read_events(response)
    kinds = [kind for kind, _data in events]
    assert kinds[0] == "head" and kinds[-1] == "call" and set(kinds[1:-1]) == {"data"}
    assert len(kinds) > 5  # the emulator sends a chunk a word
    head = events[0][1]
    assert head["status"] == 200 and head["headers"]["Content-Type"].startswith(
        "text/event-stream")
    call = events[-1][1]
    assert call["id"] == int(response["X-Call-Id"]) == Call.objects.get().pk
    assert response_bytes(call) == body_of(events)
    assert body_of(events).endswith(b"data: [DONE]\n\n")
    assert (call["streamed"], call["stopped"], call["status"], call["error"]) == (
        True, False, 200, None)
    assert call["ttft_ms"] > 0 and call["tpot_ms"] is not None
    # "You said: one two three four five": seven words, counted by the upstream's usage.
    assert (call["completion_tokens"], call["tokens_source"]) == (7, "usage")
    assert call["prompt_tokens"] == 5 and call["finish_reason"] == "stop"
    assert json.loads(emulator_received[-1]["body"])["stream"] is True


def test_without_usage_the_content_events_are_counted(chat, bob):
    response = invoke(logged_in(bob), chat.slug, body=json.dumps({**CHAT, "stream": True}))
    call = read_events(response)[-1][1]
    assert (call["completion_tokens"], call["tokens_source"]) == (7, "chunks")
    assert call["prompt_tokens"] is None


def test_each_piece_is_relayed_as_it_arrives(acme, bob, emulator):
    # /trickle sends a byte about every 0.2 s: held back, they would come in one burst.
    echo = emulator.service(acme, "demo-echo", slug="trickle", default_path="/trickle")
    response = invoke(logged_in(bob), echo.slug, path="/trickle?seconds=0.8", method="GET",
                      body="")
    events = read_events(response, timed=True)
    arrivals = [at for kind, _data, at in events if kind == "data"]
    assert len(arrivals) >= 4
    assert arrivals[-1] - arrivals[0] > 0.5
    call = events[-1][1]
    assert call["response_body"] == "." * len(arrivals) and call["ttft_ms"] is not None


def test_a_stream_that_is_not_openai_shaped_is_relayed_as_it_is(acme, bob, emulator):
    echo = emulator.service(acme, "demo-echo", slug="echo-stream")
    response = invoke(logged_in(bob), echo.slug, body='{"stream": true}')
    events = read_events(response)
    call = events[-1][1]
    echoed = json.loads(body_of(events))
    assert echoed["body"] == '{"stream": true}'
    assert call["ttft_ms"] is not None  # the first byte
    assert (call["tpot_ms"], call["completion_tokens"], call["tokens_source"]) == (None,) * 3


def test_the_token_never_reaches_the_caller(acme, bob, emulator):
    echo = emulator.service(acme, "demo-echo", slug="echo-token")
    response = invoke(logged_in(bob), echo.slug, body="{}")
    raw = b"".join(response.streaming_content)
    assert emulator.token("demo-echo").encode() not in raw
    assert b"[redacted]" in raw  # the echoed Authorization header


def test_bytes_that_are_not_utf8_come_as_base64(acme, bob, emulator):
    processor = emulator.service(acme, "demo-echo", slug="processor", default_path="/")
    sent = b"\xff\x00\xfe binary"
    response = invoke(logged_in(bob), processor.slug, headers={"Content-Type": "x/y"},
                      body_base64=base64.b64encode(sent).decode())
    events = read_events(response)
    assert any("base64" in data for kind, data in events if kind == "data")
    assert body_of(events) == b"processed: " + sent


def test_a_whole_openai_answer_still_has_its_tokens(chat, bob):
    response = invoke(logged_in(bob), chat.slug, body=json.dumps(CHAT))
    call = read_events(response)[-1][1]
    assert (call["completion_tokens"], call["prompt_tokens"], call["tokens_source"]) == (
        7, 5, "usage")
    assert call["finish_reason"] == "stop" and call["tpot_ms"] is None


# What goes wrong is recorded, and told in the call event

def test_a_refused_connection_is_a_call_event_with_the_error(acme, bob):
    down = make_service(acme, slug="down", public_endpoint="http://127.0.0.1:9/api/predict/x",
                        vpc_endpoint="")
    response = invoke(logged_in(bob), down.slug)
    events = read_events(response)
    assert [kind for kind, _data in events] == ["call"]
    call = events[0][1]
    assert (call["status"], call["error_kind"], call["streamed"]) == (None, "refused", True)
    assert "refused the connection" in call["error"]


def test_a_host_that_does_not_resolve_is_recorded(service, bob):
    response = invoke(logged_in(bob), service.slug)
    events = read_events(response)
    assert [kind for kind, _data in events] == ["call"]
    assert events[0][1]["error_kind"] == "dns"
    assert Call.objects.get().error_kind == "dns"


def test_an_upstream_that_never_ends_is_cut_at_the_deadline(acme, bob, emulator):
    slow = emulator.service(acme, "demo-echo", slug="slow", timeout_s=1)
    started = time.monotonic()
    response = invoke(logged_in(bob), slow.slug, path="/trickle?seconds=30", method="GET",
                      body="")
    events = read_events(response)
    assert time.monotonic() - started < 5
    call = events[-1][1]
    assert (call["status"], call["error_kind"]) == (200, "timeout")
    assert call["response_body"].startswith(".")


def test_the_response_cap_holds(acme, bob, emulator, settings):
    settings.EASPORTAL_MAX_RESPONSE_BYTES = 1000
    large = emulator.service(acme, "demo-echo", slug="large")
    response = invoke(logged_in(bob), large.slug, path="/large?bytes=200000", method="GET",
                      body="")
    events = read_events(response)
    assert len(body_of(events)) == 1000
    call = events[-1][1]
    assert call["response_truncated"] is True and call["response_size"] > 1000
    assert len(response_bytes(call)) == 1000


def portal_session(live_server, username):
    """A requests session logged in to the live server through its login form."""
    session = requests.Session()
    session.get(f"{live_server.url}/accounts/login/")
    session.post(f"{live_server.url}/accounts/login/", data={
        "username": username, "password": f"pw-{username}",
        "csrfmiddlewaretoken": session.cookies["csrftoken"]})
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


@pytest.mark.django_db(transaction=True)
def test_a_caller_that_goes_away_stops_the_call(live_server, acme, bob, emulator,
                                                emulator_received):
    slow = emulator.service(acme, "demo-echo", slug="slow-stop")
    session = portal_session(live_server, "bob")
    response = session.post(f"{live_server.url}/api/services/{slow.slug}/invoke", json={
        "path": "/trickle?seconds=20", "method": "GET", "body": "", "stream": True},
        stream=True, timeout=10)
    assert response.status_code == 200
    lines = response.iter_lines()
    assert next(line for line in lines if line == b"event: data")
    response.close()  # the caller goes away in the middle of the answer
    closed = time.monotonic()
    while not Call.objects.filter(stopped=True).exists():
        assert time.monotonic() - closed < 1.5, "the call was not stopped"
        time.sleep(0.05)
    call = Call.objects.get()
    assert (call.streamed, call.status, call.error) == (True, 200, "")
    assert bytes(call.response_body).startswith(b".") and call.elapsed_ms < 10_000
    # And the upstream saw its connection close within a second.
    [upstream] = [item for item in emulator_received if item["path"].endswith("/trickle")]
    while upstream["disconnected_at"] is None:
        assert time.monotonic() - closed < 2, "the upstream never saw the call stop"
        time.sleep(0.02)
    assert upstream["disconnected_at"] - closed < 1.0


# Refused before sending: JSON, and nothing recorded

@pytest.mark.parametrize(("payload", "status"), [
    ({"path": "//evil/x"}, 400),
    ({"headers": {"Authorization": "x"}}, 400),
    ({"body": "x" * 1_048_577}, 413),
])
def test_refusals_stay_json(chat, bob, payload, status):
    response = invoke(logged_in(bob), chat.slug, **payload)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert not Call.objects.exists()


def test_another_teams_service_is_404(chat, charlie, globex):
    response = invoke(logged_in(charlie), chat.slug)
    assert response.status_code == 404 and not Call.objects.exists()


def test_an_unreadable_token_is_409(chat, bob):
    Call.objects.all().delete()
    chat.token_encrypted = "not-a-ciphertext"
    chat.save()
    response = invoke(logged_in(bob), chat.slug)
    assert response.status_code == 409 and not Call.objects.exists()


def test_a_refused_address_is_403(chat, bob, settings):
    settings.EASPORTAL_ALLOWED_ENDPOINT_HOSTS = ["*.pai-eas.aliyuncs.com"]
    response = invoke(logged_in(bob), chat.slug)
    assert response.status_code == 403 and "loopback" in response.json()["detail"]
    assert not Call.objects.exists()


def test_logged_out_is_401(chat):
    from django.test import Client

    assert invoke(Client(), chat.slug).status_code == 401


# History

def test_the_history_filters_streamed_calls(chat, bob):
    client = logged_in(bob)
    read_events(invoke(client, chat.slug, body=json.dumps(CHAT)))
    client.post(f"/api/services/{chat.slug}/invoke", json.dumps({"body": json.dumps(CHAT)}),
                content_type="application/json")
    streamed = client.get("/api/calls?streamed=true").json()["items"]
    whole = client.get("/api/calls?streamed=false").json()["items"]
    assert [call["streamed"] for call in streamed] == [True]
    assert [call["streamed"] for call in whole] == [False]
    assert whole[0]["completion_tokens"] == 7  # a whole OpenAI answer's usage
    assert client.get("/api/calls?streamed=maybe").status_code == 400


def test_nothing_compresses_the_stream(chat, bob):
    # Compressing an event stream buffers it: the client would get pieces in bursts.
    response = logged_in(bob).post(
        f"/api/services/{chat.slug}/invoke",
        json.dumps({"body": json.dumps({**CHAT, "stream": True}), "stream": True}),
        content_type="application/json", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.streaming and not response.has_header("Content-Encoding")
    assert read_events(response)[-1][0] == "call"


def test_a_stream_that_breaks_midway_is_recorded_with_what_arrived(chat, bob):
    response = invoke(logged_in(bob), chat.slug, body=json.dumps({**CHAT, "stream": True}),
                      headers={"Content-Type": "application/json",
                               "X-Emulator-Break-After": "2"})
    events = read_events(response)
    call = events[-1][1]
    assert (call["status"], call["error_kind"]) == (200, "broken")
    assert "connection broke" in call["error"]
    assert b'"content": "You ' in body_of(events) and b"[DONE]" not in body_of(events)
    assert response_bytes(call) == body_of(events)
    assert call["completion_tokens"] == 2 and call["tokens_source"] == "chunks"


def test_the_openapi_document_describes_each_event_as_sent(chat, bob):
    # Found by the API's fuzzing (tests/fuzz/): the document called the stream one string, so
    # every event it sends broke the schema a client reads events against.
    client = logged_in(bob)
    answers = client.get("/api/openapi.json").json()["paths"][
        "/api/services/{slug}/invoke"]["post"]["responses"]["200"]["content"]
    event = answers["text/event-stream"]["schema"]
    assert event["type"] == "object" and set(event["required"]) == {"event", "data"}
    kinds = event["properties"]["event"]["enum"]
    sent = read_events(invoke(client, chat.slug, body=json.dumps(CHAT)))
    assert [kind for kind, _data in sent if kind not in kinds] == []
    assert {kind for kind, _data in sent} == set(kinds)
