"""Snippets, proven by running them: every request of tests/snippets/corpus.py is sent by the
portal, then by the snippet of each target that offers it (a real curl, python, HTTPie, node,
OpenAI SDK and eas-prediction SDK, in a subprocess with a clean environment), and the emulator
must have received the same request: method, raw path and query, Authorization, Content-Type
(present or absent alike), the request's own headers, and the body bytes (the parsed JSON for
the OpenAI SDK, which serializes it again). For a streamed case, the snippet's output must also
show the whole answer: the events as they came, or (OpenAI SDK) the text they add up to.

In key mode, a case of each target goes through the live portal's gateway with a real personal
key, and the emulator must receive the same request as from the portal itself, with the
service's token the gateway put in."""

import base64
import json
import os
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from emulator import canonical
from services import keys, saved, snippets
from services.calls import CallRequest, call
from services.models import SavedRequest
from tests.helpers import make_service
from tests.snippets.corpus import CORPUS, MARKER, Case

PYTHON = sys.executable
BIN = str(Path(sys.executable).parent)
# What a client may add of its own beside the request's headers.
CLIENT_HEADERS = {"Host", "User-Agent", "Accept", "Accept-Encoding", "Connection",
                  "Content-Length"}
TARGET_HEADERS = {
    "fetch": {"Accept-Language", "Sec-Fetch-Mode"},
    "eas_sdk": {"Date"},
}


def command_for(target, path):
    if target in ("curl", "httpie"):
        return ["bash", str(path)]
    if target == "fetch":
        return ["node", str(path)]
    return [PYTHON, str(path)]


def snippet_command(target, text, directory, token=None, shell=None, key=None):
    """(command, environment) that run a snippet as its user would, with nothing from this
    process's environment: no proxy, no .netrc, no .curlrc, no HTTPie configuration but one
    that turns off its update check (which would reach the internet)."""
    home = directory / "home"
    (home / ".config" / "httpie").mkdir(parents=True, exist_ok=True)
    (home / ".config" / "httpie" / "config.json").write_text(
        '{"disable_update_warnings": true}')
    path = directory / snippets.TARGETS[target].filename
    path.write_text(text, encoding="utf-8")
    command = command_for(target, path)
    if shell:
        command[0] = shell
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home)}
    if token is not None:
        env["EAS_TOKEN"] = token
    if key is not None:
        env["EASPORTAL_KEY"] = key
    return command, env


def run_snippet(target, text, directory, token=None, shell=None, key=None):
    command, env = snippet_command(target, text, directory, token, shell, key)
    result = subprocess.run(command, env=env, cwd=directory, stdin=subprocess.DEVNULL,
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    return result


def service_for(case, team, emulator):
    return make_service(team, slug="s-" + case.name[:60], kind=case.kind,
                        public_endpoint=emulator.base(case.service), vpc_endpoint="",
                        token=emulator.token(case.service), default_path="/echo")


def request_of(case):
    return CallRequest(method=case.method, path=case.path, headers=case.headers,
                       body=case.body)


def the_only(received):
    items = received.snapshot()
    assert len(items) == 1, [(item["method"], item["path"]) for item in items]
    return items[0]


def assert_same_request(arrived, sent, case, target, through_gateway=False):
    """Through the gateway, Authorization is the service's token as the gateway puts it in,
    whatever the client sent the key as."""
    assert arrived["status"] == sent["status"]
    assert (arrived["method"], arrived["path"], arrived["query"]) == (
        sent["method"], sent["path"], sent["query"])
    got, expected = arrived["headers"], sent["headers"]
    token = expected["Authorization"]
    assert got.get("Authorization") == (
        "Bearer " + token if target == "openai" and not through_gateway else token)
    names = {"Content-Type"} | {canonical(name.upper().replace("-", "_"))
                                for name in (case.headers or {})}
    assert {name: got.get(name) for name in names} == {
        name: expected.get(name) for name in names}
    extra = set(got) - set(expected) - CLIENT_HEADERS - TARGET_HEADERS.get(target, set())
    if target == "openai":
        extra = {name for name in extra if not name.startswith("X-Stainless-")}
    assert not extra, f"{target} added headers of its own: {sorted(extra)}"
    if target == "openai":
        assert (json.loads(arrived["body"]) if arrived["body"] else None) == (
            json.loads(sent["body"]) if sent["body"] else None)
    else:
        assert arrived["body"] == sent["body"]


def piece_of(choice):
    return (choice.get("delta") or {}).get("content") or choice.get("text") or ""


def assert_streamed_answer(output, case, target):
    """The snippet printed the whole streamed answer: the OpenAI SDK snippet the text the chunks
    add up to (then the usage, when asked for); the others every event as it came, so the
    chunks parsed from their output add up to it, and [DONE] last."""
    lines = output.decode("utf-8").splitlines()
    usage = b'"include_usage": true' in case.body
    if target == "openai":
        assert lines[0] == case.answer
        assert ("completion_tokens" in json.loads(lines[1])) if usage else lines[1:] == []
        return
    events = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert "".join(piece_of(choice) for chunk in chunks for choice in chunk["choices"]) == (
        case.answer)
    assert any(chunk.get("usage") for chunk in chunks) == usage


@pytest.fixture
def no_marker():
    if os.path.exists(MARKER):
        os.remove(MARKER)
    yield
    assert not os.path.exists(MARKER), "a snippet ran a command substitution"


def test_the_availability_matrix(acme, emulator):
    """Every case is offered by exactly the targets the corpus says: none drops out unseen."""
    matrix, expected = {}, {}
    for case in CORPUS:
        service = service_for(case, acme, emulator)
        request = snippets.from_request(service, request_of(case))
        matrix[case.name] = tuple(target for target in snippets.NAMES
                                  if snippets.unavailable_reason(request, target) is None)
        expected[case.name] = tuple(target for target in snippets.NAMES
                                    if target in case.targets)
    assert matrix == expected


@pytest.mark.parametrize(("case", "target"), [
    pytest.param(case, target, id=f"{case.name}-{target}")
    for case in CORPUS for target in case.targets
])
def test_the_snippet_sends_what_the_portal_sent(case, target, bob, acme, emulator, tmp_path,
                                                no_marker):
    service = service_for(case, acme, emulator)
    emulator.app.clear()
    sent_call = call(bob, service, request_of(case))
    sent = the_only(emulator.app.received)
    assert sent_call.error == ""

    request = snippets.from_request(service, request_of(case))
    assert request.stream == bool(case.answer)
    text = snippets.render(request, target, "env")
    # History keeps the same request: its snippet is the same text.
    assert snippets.render(snippets.from_call(sent_call), target, "env") == text
    # So does a saved request of it.
    kept = SavedRequest(service=service)
    saved.fill(kept, service, request_of(case))
    assert snippets.render(snippets.from_saved(service, saved.call_request(kept)), target,
                           "env") == text
    assert sent["headers"]["Authorization"] not in text

    shells = ("bash", "dash") if target == "curl" else (None,)
    for shell in shells:
        emulator.app.clear()
        result = run_snippet(target, text, tmp_path, token=emulator.token(case.service),
                             shell=shell)
        assert_same_request(the_only(emulator.app.received), sent, case, target)
        if case.answer:
            assert_streamed_answer(result.stdout, case, target)


# Key mode, through the live portal's gateway: a case of each target, with a streamed chat
# (printed as it arrives, or at its end by eas-prediction), binary and large bodies, quotes, a
# query and a Latin-1 header. Not a request without Content-Type: for one, the live server
# (wsgiref, like runserver) gives Django "text/plain", which the gateway passes on; gunicorn
# gives none.
CASES = {case.name: case for case in CORPUS}
KEY_CASES = [("binary", "curl"), ("openai-chat-stream", "curl"), ("large-900k", "curl"),
             ("quotes", "httpie"), ("binary", "python"), ("query", "python"),
             ("latin-1-header", "python"), ("openai-chat-stream-without-usage", "fetch"),
             ("openai-chat-stream", "openai"), ("openai-embeddings", "openai"),
             ("eas-style-token", "eas_sdk"), ("openai-chat-stream", "eas_sdk")]


def snippet_from_the_portal(live_server, key, call_id, target):
    """The key-mode snippet as the live portal's API answers it, asked with the key itself."""
    request = urllib.request.Request(
        f"{live_server.url}/api/calls/{call_id}/snippet?lang={target}&token=key",
        headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode("utf-8")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("name", "target"), KEY_CASES, ids=[f"{name}-{target}"
                                                            for name, target in KEY_CASES])
def test_the_key_snippet_sends_what_the_portal_sent_through_the_gateway(
        name, target, bob, acme, emulator, live_server, tmp_path, no_marker):
    case = CASES[name]
    assert target in case.targets
    service = service_for(case, acme, emulator)
    emulator.app.clear()
    sent_call = call(bob, service, request_of(case))
    sent = the_only(emulator.app.received)
    assert sent_call.error == ""
    _record, key = keys.make(bob, "snippets", None)

    text = snippet_from_the_portal(live_server, key, sent_call.pk, target)
    request = snippets.from_request(service, request_of(case))
    assert text == snippets.render(request, target, "key", portal=live_server.url)
    assert f"{live_server.url}/gw/{service.slug}" in text
    assert key not in text and sent["headers"]["Authorization"] not in text

    emulator.app.clear()
    result = run_snippet(target, text, tmp_path, key=key)  # no EAS_TOKEN in its environment
    arrived = the_only(emulator.app.received)
    assert_same_request(arrived, sent, case, target, through_gateway=True)
    assert key not in json.dumps(arrived["headers"])
    if case.answer:
        if target == "eas_sdk":  # the whole answer at its end: the events, as they came
            assert result.stdout.decode().count("data: ") >= 2
            assert result.stdout.decode().rstrip().endswith("data: [DONE]")
        else:
            assert_streamed_answer(result.stdout, case, target)
    elif target == "openai":
        assert json.loads(result.stdout)["data"][0]["embedding"]
    else:  # the emulator's echo of what arrived
        assert base64.b64encode(arrived["body"]).decode() in result.stdout.decode()


# A token with = padding, through every target in the two modes that write it out; an LLM
# service, so that the OpenAI SDK offers it too (the emulator answers every route for any).
PADDED = Case("padded-token", b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}',
              path="/v1/chat/completions", service="eas-style", kind="llm")


@pytest.mark.parametrize("mode", ["placeholder", "real"])
@pytest.mark.parametrize("target", snippets.NAMES)
def test_the_token_modes_send_the_token(mode, target, bob, acme, emulator, tmp_path):
    service = service_for(PADDED, acme, emulator)
    token = emulator.token("eas-style")
    assert token.endswith("==")
    emulator.app.clear()
    call(bob, service, request_of(PADDED))
    sent = the_only(emulator.app.received)

    request = snippets.from_request(service, request_of(PADDED))
    if mode == "real":
        text = snippets.render(request, target, "real", token=token)
        assert token in text
    else:
        text = snippets.render(request, target, "placeholder")
        assert token not in text
        text = text.replace(snippets.TOKEN_PLACEHOLDER, token)
    emulator.app.clear()
    run_snippet(target, text, tmp_path)  # no EAS_TOKEN in its environment
    assert_same_request(the_only(emulator.app.received), sent, PADDED, target)


SECRET_HEADER = Case("secret-header", PADDED.body, path="/v1/chat/completions",
                     service="demo-chat", kind="llm",
                     headers={"Content-Type": "application/json", "X-Api-Key": "key-123"})


@pytest.mark.parametrize("target", snippets.NAMES)
def test_a_redacted_header_is_a_placeholder_to_fill_in(target, bob, acme, emulator, tmp_path):
    service = service_for(SECRET_HEADER, acme, emulator)
    emulator.app.clear()
    sent_call = call(bob, service, request_of(SECRET_HEADER))
    sent = the_only(emulator.app.received)
    assert sent_call.request_headers["X-Api-Key"] == "[redacted]"

    text = snippets.render(snippets.from_call(sent_call), target, "env")
    assert "key-123" not in text
    assert "replace <X_API_KEY> with its value" in text
    emulator.app.clear()
    run_snippet(target, text.replace("<X_API_KEY>", "key-123"), tmp_path,
                token=emulator.token("demo-chat"))
    assert_same_request(the_only(emulator.app.received), sent, SECRET_HEADER, target)


# Printed as it arrives, proven without timing: a server on loopback sends the first chunk of a
# streamed answer and holds the rest back until the snippet's output shows that chunk. A snippet
# that waited for the end of the answer would show nothing until the server gave up waiting.

def gate_event(content=None, finish_reason=None):
    delta = {} if content is None else {"content": content}
    chunk = {"id": "chatcmpl-gate", "object": "chat.completion.chunk", "created": 0,
             "model": "m", "choices": [{"index": 0, "delta": delta,
                                        "finish_reason": finish_reason}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


class GateHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        for name, value in (("Content-Type", "text/event-stream"),
                            ("Transfer-Encoding", "chunked"), ("Connection", "close")):
            self.send_header(name, value)
        self.end_headers()
        self.write_chunk(gate_event("FIRST "))
        self.server.shown_early = self.server.shown.wait(self.server.hold_s)
        for event in (gate_event("LAST"), gate_event(None, "stop"), b"data: [DONE]\n\n"):
            self.write_chunk(event)
        self.wfile.write(b"0\r\n\r\n")

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def log_message(self, *args):
        pass


@pytest.fixture
def gate():
    server = ThreadingHTTPServer(("127.0.0.1", 0), GateHandler)
    server.shown, server.shown_early, server.hold_s = threading.Event(), None, 30
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.parametrize("target", snippets.NAMES)
def test_a_streamed_answer_is_shown_as_it_arrives(target, gate, tmp_path):
    # The eas-prediction SDK reads the whole answer first (services/snippets/python.py).
    streams = target != "eas_sdk"
    gate.hold_s = 30 if streams else 2
    base = f"http://127.0.0.1:{gate.server_port}/api/predict/gate"
    request = snippets.SnippetRequest(
        method="POST", url=base + "/v1/chat/completions",
        headers=[("Content-Type", "application/json")],
        body=b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true}',
        endpoint="public", service_kind="llm", base=base, path="/v1/chat/completions",
        timeout_s=60, stream=True)
    command, env = snippet_command(target, snippets.render(request, target, "env"), tmp_path,
                                   token="gate-token")
    with (tmp_path / "stderr").open("wb") as stderr:
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=stderr)
    watchdog = threading.Timer(90, process.kill)
    watchdog.start()
    output = b""
    try:
        while piece := os.read(process.stdout.fileno(), 4096):
            output += piece
            if b"FIRST" in output:
                gate.shown.set()
        assert process.wait() == 0, (tmp_path / "stderr").read_text(errors="replace")[-3000:]
    finally:
        watchdog.cancel()
        process.stdout.close()
    assert gate.shown_early is streams
    assert (b"FIRST LAST" if target == "openai" else b"[DONE]") in output
