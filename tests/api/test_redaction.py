"""The service's token never reaches the history, whatever way it was written (docs/api.md,
"Call"): as typed, percent-encoded in either case, "+" for a space, JSON-escaped (\\/,
\\uXXXX) or as base64 at each alignment; in the path as typed, the URL, the headers and the
bodies of the request and of the answer. Each writing goes end to end through the API's invoke
(whole and streamed) and the gateway to the emulator's /echo, which sends back everything it
received, and /redirect, which sends a Location header.

The writings are computed here on their own, and looked for in what was stored and answered,
also once percent-decoded, JSON-decoded and base64-decoded."""

import base64
import contextlib
import json
import re
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import pytest
from django.test import Client

from services import calls, keys, streams
from services.models import Call
from tests.helpers import logged_in, make_service

# "/" for \/, " " for "+", and "=", "+", "&", "~" that encoders treat differently.
ODD = "Ab/Cd ef+Gh=Ij&Kl~9"
# The emulator's EAS-like token (tests/conftest.py): base64 with "=" padding.
EAS_STYLE = "ZGVtby1lYXMtc3R5bGUtdG9rZW4tMDAwMDAwMDE5OTk5OQ=="


def lower_hex(text):
    return re.sub(r"%[0-9A-F]{2}", lambda match: match[0].lower(), text)


def every_char_escaped(token, template):
    return "".join(template.format(ord(char)) for char in token)


def base64_at(token, skip, urlsafe=False):
    """The token's base64 inside a longer base64 text: skip bytes before it."""
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode(b"u:"[:skip] + token.encode() + b"!").decode()


WRITINGS = {
    "as typed": lambda t: t,
    "percent-encoded": lambda t: quote(t, safe=""),
    "lowercase percent-encoding": lambda t: lower_hex(quote(t, safe="")),
    "some characters percent-encoded, lowercase": lambda t: "".join(
        f"%{ord(char):02x}" if index % 2 else char for index, char in enumerate(t)),
    "every character percent-encoded": lambda t: every_char_escaped(t, "%{:02X}"),
    "plus for space": lambda t: quote_plus(t, safe=""),
    "plus for space, lowercase": lambda t: lower_hex(quote_plus(t, safe="")),
    "JSON with \\/": lambda t: json.dumps(t)[1:-1].replace("/", "\\/"),
    "JSON \\uXXXX": lambda t: every_char_escaped(t, "\\u{:04x}"),
    "JSON \\uXXXX, upper case, some": lambda t: "".join(
        f"\\u{ord(char):04X}" if not char.isalnum() else char for char in t),
    "base64": lambda t: base64_at(t, 0),
    "base64 after one byte": lambda t: base64_at(t, 1),
    "base64 after two bytes": lambda t: base64_at(t, 2),
    "URL-safe base64 after one byte": lambda t: base64_at(t, 1, urlsafe=True),
}


def looked_for(token):
    """What betrays the token: each writing, and the base64 characters the token alone decides
    at each alignment (kept short of the edges), of the token and of its JSON writing."""
    found = {name: write(token) for name, write in WRITINGS.items()
             if not name.startswith(("base64", "URL-safe"))}
    for text in (token, WRITINGS["JSON with \\/"](token), quote(token, safe="")):
        for skip in range(3):
            for urlsafe in (False, True):
                found[f"base64 of {text[:6]}... at {skip}"] = base64_at(text, skip, urlsafe)[4:-4]
    return found


# The writings whose base64 is redacted too: a writing of some characters only, then encoded
# as base64, is not looked for (docs/api.md, "Call").
ENCODED_WHOLE = ("as typed", "percent-encoded", "lowercase percent-encoding", "plus for space",
                 "JSON with \\/")


def as_text(value):
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def views(text):
    """text, also percent-decoded and JSON-decoded: where every writing is looked for."""
    found = [text, unquote(text), unquote_plus(text)]
    with contextlib.suppress(ValueError):
        found.append(json.dumps(json.loads(text), ensure_ascii=False))
    return found


def base64_decoded(text):
    """What the base64 runs of text decode to."""
    found = []
    for encoded in re.findall(r"[A-Za-z0-9+/=_-]{12,}", text):
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            with contextlib.suppress(ValueError):
                found.append(decode(encoded + "==").decode("utf-8", "replace"))
    return found


def leaks(token, *values):
    """The names of the writings of token found in values, [] when there are none."""
    wanted = looked_for(token)
    found = set()
    for value in values:
        for text in views(as_text(value)):
            found |= {name for name, writing in wanted.items() if writing in text}
            found |= {name for decoded in base64_decoded(text) for name in ENCODED_WHOLE
                      if wanted[name] in decoded}
    return sorted(found)


def stored(call):
    return [call.path, call.url, call.request_headers, bytes(call.request_body),
            call.response_headers, bytes(call.response_body), call.error]


@pytest.fixture(params=[ODD, EAS_STYLE], ids=["odd", "eas-style"])
def odd_service(request, acme, start_emulator):
    """A service of Acme on an emulator of its own whose token is the parameter."""
    emulated = start_emulator(services={"odd": {"token": request.param, "kind": "custom"}})
    return make_service(acme, token=request.param, slug="odd", name="Odd", kind="custom",
                        public_endpoint=emulated.base("odd"), vpc_endpoint="",
                        default_path="/echo")


def token_of(service):
    return service.read_token()


def request_with(writing, path="/echo"):
    """An invoke body that carries the writing in the path (where a path may hold it), a
    header and the body."""
    payload = {"headers": {"Content-Type": "text/plain", "X-Note": f"mine is {writing}"},
               "body": f'{{"pasted": "{writing}"}}', "method": "POST"}
    if "\\" not in writing:
        payload["path"] = f"{path}?t={writing}"
    return payload


@pytest.mark.parametrize("name", WRITINGS)
def test_every_writing_is_redacted_in_the_stored_call_and_the_answer(odd_service, alice, name):
    token = token_of(odd_service)
    writing = WRITINGS[name](token)
    client = logged_in(alice)
    response = client.post(f"/api/services/{odd_service.slug}/invoke",
                           json.dumps(request_with(writing)), content_type="application/json")
    assert response.status_code == 200, response.content
    call = Call.objects.get(pk=response.json()["id"])
    assert call.status == 200
    echoed = json.loads(bytes(call.response_body))
    assert "[redacted]" in echoed["headers"]["X-Note"]  # it arrived, and was sent back
    assert leaks(token, *stored(call), echoed, response.content) == []
    assert leaks(token, client.get(f"/api/calls/{call.pk}").content) == []


@pytest.mark.parametrize("name", WRITINGS)
def test_every_writing_is_redacted_in_the_answers_headers(odd_service, alice, name):
    token = token_of(odd_service)
    writing = WRITINGS[name](token)
    response = logged_in(alice).post(
        f"/api/services/{odd_service.slug}/invoke",
        json.dumps({"method": "GET", "path": "/redirect?to=" + quote(writing, safe="")}),
        content_type="application/json")
    call = Call.objects.get(pk=response.json()["id"])
    assert call.status == 302 and "[redacted]" in call.response_headers["Location"]
    assert leaks(token, *stored(call), response.content) == []


def read_events(response):
    events, buffer = [], b"".join(response.streaming_content)
    for block in buffer.split(b"\n\n"):
        lines = dict(line.split(": ", 1) for line in block.decode().split("\n")
                     if line and not line.startswith(":"))
        if lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


@pytest.mark.parametrize("name", WRITINGS)
def test_every_writing_is_redacted_in_a_streamed_call(odd_service, alice, name):
    token = token_of(odd_service)
    writing = WRITINGS[name](token)
    response = logged_in(alice).post(
        f"/api/services/{odd_service.slug}/invoke",
        json.dumps({**request_with(writing), "stream": True}), content_type="application/json")
    events = read_events(response)
    relayed = b"".join(data["text"].encode() if "text" in data else
                       base64.b64decode(data["base64"]) for kind, data in events if kind == "data")
    assert b"[redacted]" in relayed
    call = Call.objects.get(pk=events[-1][1]["id"])
    assert call.streamed and bytes(call.response_body) == relayed
    assert leaks(token, *stored(call), relayed, events) == []


@pytest.mark.parametrize("name", WRITINGS)
def test_every_writing_is_redacted_through_the_gateway(odd_service, bob, name):
    token = token_of(odd_service)
    writing = WRITINGS[name](token)
    client = Client(HTTP_AUTHORIZATION="Bearer " + keys.make(bob, "ci", None)[1])
    path = f"/gw/{odd_service.slug}/echo" + (
        "" if "\\" in writing else "?t=" + writing.replace(" ", "%20"))
    response = client.post(path, f'{{"pasted": "{writing}"}}', content_type="text/plain",
                           HTTP_X_NOTE=f"mine is {writing}")
    assert response.status_code == 200
    relayed = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"[redacted]" in relayed
    call = Call.objects.get(source="gateway")
    assert leaks(token, *stored(call), relayed) == []


@pytest.mark.parametrize("name", WRITINGS)
@pytest.mark.parametrize("token", [ODD, EAS_STYLE], ids=["odd", "eas-style"])
def test_a_stream_split_anywhere_is_still_redacted(token, name):
    writing = WRITINGS[name](token).encode()
    data = b'data: {"x": "' + writing + b'"}\n\n'
    for at in range(1, len(data)):
        redactor = streams.Redactor(token)
        out = [redactor.feed(data[:at]), redactor.feed(data[at:])]
        assert redactor.flush() == b""  # a piece that ends with a line end holds nothing back
        # As if it had come whole: the writing redacted (base64: what the token decides).
        whole = b"".join(out)
        assert whole == calls.redact_bytes(data, token), (name, at)
        assert b"[redacted]" in whole and leaks(token, whole) == [], (name, at)


def test_the_checks_of_this_module_find_what_they_look_for():
    # A writing not redacted is caught, once decoded as it must be.
    for name, write in WRITINGS.items():
        assert leaks(ODD, f"x {write(ODD)} y"), name
        assert leaks(EAS_STYLE, f"x {write(EAS_STYLE)} y"), name
    assert leaks(ODD, "nothing here", "[redacted]") == []
