"""The pieces of services/streams.py: the token taken out of a stream as it passes, pieces as
text or base64, and a streamed call that its caller drops before reading it."""

import base64
import json
import time

import pytest

from services import streams
from services.calls import CallRequest
from services.models import Call

TOKEN = "tok-Secret-123"


def redacted(pieces):
    redactor = streams.Redactor(TOKEN)
    out = [redactor.feed(piece) for piece in pieces]
    return out, b"".join(out) + redactor.flush()


@pytest.mark.parametrize("split", range(1, len(TOKEN)))
def test_a_token_split_between_pieces_is_still_redacted(split):
    body = f'{{"auth": "{TOKEN}"}}'.encode()
    at = body.index(TOKEN.encode()) + split
    _out, whole = redacted([body[:at], body[at:]])
    assert whole == b'{"auth": "[redacted]"}'


def test_its_percent_encoded_forms_too():
    _out, whole = redacted([b"?t=tok-Secr", b"et-123&x", b"=1 tok%2DSecret%2D123"])
    assert TOKEN.encode() not in whole and b"tok-Secret" not in whole
    # "%2D" is "-" percent-encoded, which a server decodes: a writing of the token too.
    assert whole == b"?t=[redacted]&x=1 [redacted]"


def test_a_piece_that_ends_with_a_line_end_is_not_held():
    out, whole = redacted([b"data: {}\n\n", b"data: t\n\n"])
    assert out == [b"data: {}\n\n", b"data: t\n\n"] and whole == b"data: {}\n\ndata: t\n\n"


def test_only_the_start_of_the_token_is_held_and_given_back():
    out, whole = redacted([b"hello to", b"day"])
    assert out == [b"hello ", b"today"] and whole == b"hello today"


def pieces_of(data, size):
    encoder = streams.TextPieces()
    events = [encoder.encode(data[i:i + size]) for i in range(0, len(data), size)]
    events.append(encoder.encode(b"", final=True))
    return [event for event in events if event]


def joined(events):
    return b"".join(event["text"].encode() if "text" in event else
                    base64.b64decode(event["base64"]) for event in events)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_text_split_inside_a_character_comes_whole(size):
    data = "你好, 世界 🙂 ok".encode()
    events = pieces_of(data, size)
    assert all("text" in event for event in events)
    assert joined(events) == data


def test_bytes_that_are_not_utf8_come_as_base64_and_join_back():
    data = b"ok \xff\xfe\x00 bytes \xc3"  # ends with the start of a character that never ends
    events = pieces_of(data, 4)
    assert any("base64" in event for event in events)
    assert joined(events) == data


def test_a_streamed_call_dropped_unread_stops_the_upstream(acme, bob, emulator,
                                                          emulator_received):
    chat = emulator.service(acme, "demo-chat", slug="unread")
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "a b c"}]}
    streamed = streams.start(bob, chat.slug, CallRequest(
        body=json.dumps(body).encode(), stream=True,
        headers={"Content-Type": "application/json", "X-Emulator-Tokens-Per-S": "2"}))
    time.sleep(0.3)  # the request went out at start()
    dropped = time.monotonic()
    streamed.close()  # what the server does with a response whose client went away
    call = Call.objects.get()
    assert (call.streamed, call.stopped) == (True, True)
    [upstream] = [item for item in emulator_received if item["path"].endswith("/completions")]
    while upstream["disconnected_at"] is None:
        assert time.monotonic() - dropped < 2, "the upstream never saw the call stop"
        time.sleep(0.02)
    assert upstream["disconnected_at"] - dropped < 1.0
    streamed.close()  # again: nothing more happens
    assert Call.objects.get().stopped is True
