"""Snippets, proven by running them: every request of tests/snippets/corpus.py is sent by the
portal, then by the snippet of each target that offers it (a real curl, python, HTTPie, node,
OpenAI SDK and eas-prediction SDK, in a subprocess with a clean environment), and the emulator
must have received the same request: method, raw path and query, Authorization, Content-Type
(present or absent alike), the request's own headers, and the body bytes (the parsed JSON for
the OpenAI SDK, which serializes it again)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulator import canonical
from services import snippets
from services.calls import CallRequest, call
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


def run_snippet(target, text, directory, token=None, shell=None):
    """Runs a snippet as its user would, with nothing from this process's environment: no
    proxy, no .netrc, no .curlrc, no HTTPie configuration but one that turns off its update
    check (which would reach the internet)."""
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


def assert_same_request(arrived, sent, case, target):
    assert arrived["status"] == sent["status"]
    assert (arrived["method"], arrived["path"], arrived["query"]) == (
        sent["method"], sent["path"], sent["query"])
    got, expected = arrived["headers"], sent["headers"]
    token = expected["Authorization"]
    assert got.get("Authorization") == ("Bearer " + token if target == "openai" else token)
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

    text = snippets.render(snippets.from_request(service, request_of(case)), target, "env")
    # History keeps the same request: its snippet is the same text.
    assert snippets.render(snippets.from_call(sent_call), target, "env") == text
    assert sent["headers"]["Authorization"] not in text

    shells = ("bash", "dash") if target == "curl" else (None,)
    for shell in shells:
        emulator.app.clear()
        run_snippet(target, text, tmp_path, token=emulator.token(case.service), shell=shell)
        assert_same_request(the_only(emulator.app.received), sent, case, target)


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
