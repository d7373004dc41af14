"""Snippets: which target offers which request, token modes, and the requests they are made
from. tests/snippets/test_quoting.py tests the quoting; tests/snippets/test_run.py proves the
snippets by running them."""

import re
from dataclasses import replace

import pytest
from django.utils.safestring import SafeData

from services import calls, snippets
from services.calls import REDACTED, CallRequest
from services.errors import Refusal
from services.net import client
from services.snippets import SnippetRequest
from services.snippets import python as python_targets
from services.snippets import shell as shell_targets
from services.snippets.quoting import (
    MAX_ARG_BYTES,
)
from tests.helpers import EAS_PUBLIC, EAS_VPC, TOKEN, make_service


def a_request(**changes):
    request = SnippetRequest(
        method="POST", url="http://h.example/api/predict/s/echo",
        headers=[("Content-Type", "application/json")], body=b'{"q": 1}', endpoint="public",
        service_kind="custom", base="http://h.example/api/predict/s", path="/echo",
        timeout_s=60)
    return replace(request, **changes)


def chat(**changes):
    return a_request(**{"url": "http://h.example/api/predict/s/v1/chat/completions",
                        "path": "/v1/chat/completions", "service_kind": "llm",
                        "body": b'{"model": "m", "messages": []}', **changes})


# Availability

def test_python_offers_every_request():
    for request in (a_request(method="HEAD"), a_request(headers=[("X", "Café")]),
                    a_request(body=bytes(range(256)), headers=[])):
        assert snippets.unavailable_reason(request, "python") is None


@pytest.mark.parametrize(("target", "request_", "reason"), [
    ("curl", a_request(method="HEAD"), "curl cannot send a body with a HEAD request."),
    ("curl", a_request(headers=[("X-Name", "Café")]),
     "curl would send the value of the header X-Name as UTF-8"),
    ("curl", a_request(headers=[("X-Big", "x" * MAX_ARG_BYTES)]),
     "The header X-Big is longer than a command-line argument may be"),
    ("httpie", a_request(headers=[("X-Name", "Café")]),
     "HTTPie would send the value of the header X-Name as UTF-8"),
    ("httpie", a_request(headers=[("-X", "1")]), "HTTPie would read the header -X as an option"),
    ("httpie", a_request(headers=[("X-Odd", "a\\:b")]),
     "HTTPie's request items cannot express the value of the header X-Odd"),
    ("httpie", a_request(headers=[("X-Big", "x" * MAX_ARG_BYTES)]),
     "The header X-Big is longer"),
    ("fetch", a_request(method="GET"), "fetch cannot send a body with a GET or HEAD request."),
    ("fetch", a_request(method="HEAD"), "fetch cannot send a body"),
    ("fetch", a_request(url="http://h/api/predict/s/echo?name=o'brien"),
     "fetch would send the ' in the query string as %27"),
    ("openai", chat(service_kind="custom"), "for OpenAI-compatible LLM services only"),
    ("openai", chat(url="http://h.example/api/predict/s/v1/chat/completions?x=1"),
     "The OpenAI SDK calls only POST /v1/chat/completions"),
    ("openai", chat(url="http://h.example/api/predict/s/x/v1/chat/completions"),
     "The OpenAI SDK calls only"),
    ("openai", chat(method="PUT"), "The OpenAI SDK calls only"),
    ("openai", chat(headers=[("Content-Type", "application/json"), ("X-Name", "Café")]),
     "The OpenAI SDK sends only ASCII header values."),
    ("openai", chat(headers=[]), "The OpenAI SDK always sends a Content-Type"),
    ("openai", chat(body=b"[1]"), "The OpenAI SDK sends a JSON object, and this body is not one."),
    ("openai", chat(body=b'{"model": "m", "messages": [], "t": NaN}'), "is not one"),
    ("openai", chat(body=b'{"model": "m", "messages": [], "t": 1e999}'), "is not one"),
    ("openai", chat(body=b"\xff"), "is not one"),
    ("openai", chat(body=b'{"model": "m"}'),
     "The OpenAI SDK needs the keys model, messages in the body of /v1/chat/completions."),
    ("openai", chat(body=b'{"model": "m", "messages": [], "stream": "yes"}'),
     "The OpenAI SDK takes stream as true or false."),
    ("openai", chat(method="GET", url="http://h.example/api/predict/s/v1/models", body=b""),
     "The OpenAI SDK sends GET /v1/models without a body or Content-Type"),
    ("eas_sdk", a_request(method="PUT"), "The eas-prediction SDK sends only POST requests."),
    ("eas_sdk", a_request(url="https://h.example/api/predict/s/echo"),
     "offered for http:// endpoints only"),
    ("eas_sdk", a_request(headers=[]), "The eas-prediction SDK always sends a Content-Type"),
    ("eas_sdk", a_request(headers=[("Content-Type", "")]), "always sends a Content-Type"),
    ("eas_sdk", a_request(headers=[("Content-Type", "text/plain"), ("date", "x")]),
     "The eas-prediction SDK sets the Date header itself"),
])
def test_a_target_says_why_it_cannot_express_a_request(target, request_, reason):
    assert reason in snippets.unavailable_reason(request_, target)
    with pytest.raises(Refusal) as refused:
        snippets.render(request_, target, "env")
    assert (refused.value.status, refused.value.message) == (
        400, snippets.unavailable_reason(request_, target))


@pytest.mark.parametrize(("target", "request_"), [
    ("curl", a_request(method="HEAD", body=b"")),
    ("fetch", a_request(url="http://h/api/predict/s/it's?q=1")),  # a ' in the path stays
    ("openai", chat()),
    ("openai", chat(url="http://h.example/api/predict/s/v1/completions",
                    body=b'{"model": "m", "prompt": "p", "stream": false}')),
    ("openai", chat(url="http://h.example/api/predict/s/v1/embeddings",
                    body=b'{"model": "m", "input": "x"}')),
    ("openai", chat(method="GET", url="http://h.example/api/predict/s/v1/models", body=b"",
                    headers=[("X-Request-Id", "1")])),
    ("eas_sdk", a_request(url="http://h.example/api/predict/s/echo/?a=1")),
])
def test_a_target_offers_what_it_can_send(target, request_):
    assert snippets.unavailable_reason(request_, target) is None
    assert snippets.render(request_, target, "env")


def test_the_reasons_are_translated(monkeypatch):
    monkeypatch.setattr(shell_targets, "_", lambda message: "«" + message + "»")
    monkeypatch.setattr(python_targets, "_", lambda message: "«" + message + "»")
    assert snippets.unavailable_reason(a_request(method="HEAD"), "curl").startswith("«")
    assert snippets.unavailable_reason(a_request(method="GET"), "eas_sdk").startswith("«")


# Token modes

ENV_TOKEN = {"curl": '-H "Authorization: ${EAS_TOKEN}"', "python": 'os.environ["EAS_TOKEN"]',
             "httpie": '"Authorization: ${EAS_TOKEN}"', "fetch": "process.env.EAS_TOKEN",
             "openai": 'api_key=os.environ["EAS_TOKEN"]',
             "eas_sdk": 'client.set_token(os.environ["EAS_TOKEN"])'}


@pytest.mark.parametrize("target", snippets.NAMES)
def test_the_token_modes(target):
    request = chat(body=b'{"model": "m", "messages": []}')
    env = snippets.render(request, target, "env")
    placeholder = snippets.render(request, target, "placeholder")
    real = snippets.render(request, target, "real", token="real-Token-1234")
    assert "Reads the token from the environment variable EAS_TOKEN." in env.splitlines()[0]
    assert ENV_TOKEN[target] in env
    assert "Replace <EAS_TOKEN> with the service's token." in placeholder.splitlines()[0]
    assert placeholder.count("<EAS_TOKEN>") == 2  # the comment and the snippet
    assert "WARNING: this snippet contains the service's real token" in real.splitlines()[0]
    assert "real-Token-1234" in real
    assert "real-Token-1234" not in env + placeholder
    assert "<EAS_TOKEN>" not in env + real.replace("<token>", "")


def test_the_real_mode_needs_the_token():
    with pytest.raises(Refusal) as refused:
        snippets.render(a_request(), "curl", "real")
    assert refused.value.status == 400


def test_a_token_httpie_cannot_express_is_refused():
    with pytest.raises(Refusal, match="cannot express this token"):
        snippets.render(a_request(), "httpie", "real", token="a\\=b")


def test_fetch_says_a_browser_needs_the_token_pasted():
    assert "In a browser, paste the token" in snippets.render(a_request(), "fetch", "env")
    assert "In a browser" not in snippets.render(a_request(), "fetch", "placeholder")


@pytest.mark.parametrize("target", ["curl", "httpie"])
def test_nothing_expands_in_a_shell_snippet_but_the_token(target):
    request = a_request(headers=[("Content-Type", "text/plain"), ("X-S", "$(id) `id` $HOME")],
                        body=b"$(id) `id` ${HOME} '\"", url="http://h/p?$(id)")
    code = "\n".join(line for line in snippets.render(request, target, "env").splitlines()
                     if not line.startswith("#"))
    unquoted = re.sub(r"'[^']*'", "", code)
    assert unquoted.replace("${EAS_TOKEN}", "").count("$") == 0
    assert "`" not in unquoted


# What each target writes

def curl(**changes):
    return snippets.render(a_request(**changes), "curl", "env")


@pytest.mark.parametrize(("method", "body", "option"), [
    ("GET", b"", None), ("POST", b"x", None), ("POST", b"", "-X POST"),
    ("GET", b"x", "-X GET"), ("PUT", b"", "-X PUT"), ("DELETE", b"x", "-X DELETE"),
    ("HEAD", b"", "--head"), ("OPTIONS", b"", "-X OPTIONS"),
])
def test_curl_names_the_method_only_where_needed(method, body, option):
    text = curl(method=method, body=body)
    assert ("-X " in text or "--head" in text) == (option is not None)
    if option:
        assert f"  {option} \\" in text


def test_curl_sends_the_body_as_it_is():
    text = curl(body=b"@/etc/passwd", headers=[])
    assert "--data-raw '@/etc/passwd'" in text
    assert "-H 'Content-Type:'" in text  # curl's own form type, taken off
    assert "--globoff" in text and "--max-time 60" in text
    assert "-H 'Content-Type:'" not in curl(body=b"x")
    assert "-H 'X-Empty;'" in curl(headers=[("X-Empty", "")])
    large = curl(body=b"x" * (MAX_ARG_BYTES + 1))
    assert large.splitlines()[1].startswith("printf '%s' 'xxx") and "--data-binary @-" in large
    assert "--data-raw 'xxx" in curl(body=b"x" * MAX_ARG_BYTES)
    binary = curl(body=b"\x00\xff'")
    assert binary.splitlines()[1].startswith("printf '\\000\\377\\047' | curl ")


def test_httpie_reads_stdin_only_for_a_piped_body():
    assert "http --ignore-stdin --timeout=60 POST" in snippets.render(a_request(), "httpie", "env")
    assert "--raw" not in snippets.render(a_request(method="GET", body=b""), "httpie", "env")
    piped = snippets.render(a_request(body=b"\x00"), "httpie", "env")
    assert "printf '\\000' | http --timeout=60 POST" in piped
    no_type = snippets.render(a_request(headers=[]), "httpie", "env")
    assert "'Content-Type:'" in no_type  # else HTTPie sends application/json


def test_python_sends_bytes_with_the_timeout():
    text = snippets.render(a_request(timeout_s=7, body=b"\xff"), "python", "env")
    assert 'data=b"\\xff",' in text and "timeout=7," in text
    assert "data=" not in snippets.render(a_request(body=b""), "python", "env")
    assert """'{"q": 1}'.encode("utf-8")""" in snippets.render(a_request(), "python", "env")


def test_fetch_sends_bytes_so_that_it_adds_no_content_type():
    assert """new TextEncoder().encode('{"q": 1}')""" in snippets.render(a_request(), "fetch",
                                                                        "env")
    binary = snippets.render(a_request(body=b"\xff\x00"), "fetch", "env")
    assert 'Uint8Array.from(atob("/wA="), (char) => char.charCodeAt(0))' in binary
    assert "AbortSignal.timeout(60000)" in binary


def test_openai_passes_what_it_does_not_know_in_extra_body():
    text = snippets.render(chat(
        body=b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true,'
             b' "top_k": 3, "seed": null, "ok": false}',
        headers=[("Content-Type", "application/json"), ("X-Id", "1")]), "openai", "env")
    assert 'base_url="http://h.example/api/predict/s/v1",' in text
    assert 'messages=[{"role": "user", "content": "hi"}],' in text
    assert "stream=True," in text and "for chunk in response:" in text
    assert 'extra_body={"top_k": 3, "seed": None, "ok": False},' in text
    assert 'extra_headers={"X-Id": "1"},' in text and "max_retries=0," in text
    embeddings = snippets.render(chat(url="http://h.example/api/predict/s/v1/embeddings",
                                      body=b'{"model": "m", "input": "x"}'), "openai", "env")
    assert "from openai import OpenAI, omit" in embeddings
    assert 'extra_body={"encoding_format": omit},' in embeddings
    models = snippets.render(chat(method="GET", url="http://h.example/api/predict/s/v1/models",
                                  body=b"", headers=[]), "openai", "env")
    assert "for model in client.models.list():" in models


def test_the_eas_sdk_sets_the_content_type_and_adds_the_other_headers():
    text = snippets.render(a_request(headers=[("content-type", "text/plain"), ("X-Id", "1")]),
                           "eas_sdk", "env")
    assert 'PredictClient(custom_url="http://h.example/api/predict/s/echo")' in text
    assert 'client.set_content_type("text/plain")' in text
    assert 'client.add_extra_headers({"X-Id": "1"})' in text
    assert "client.set_retry_count(1)" in text and "client.set_timeout(60000)" in text


def test_a_snippet_is_not_html_escaped():
    text = snippets.render(a_request(body=b'<a href="x">&amp;</a>'), "curl", "env")
    assert '<a href="x">&amp;</a>' in text


def test_unknown_targets_and_modes_name_the_valid_ones():
    with pytest.raises(Refusal) as refused:
        snippets.render(a_request(), "wget", "env")
    assert refused.value.status == 400
    assert "curl, python, httpie, fetch, openai, eas_sdk" in refused.value.message
    with pytest.raises(Refusal) as refused:
        snippets.unavailable_reason(a_request(), "wget")
    assert "curl, python, httpie, fetch, openai, eas_sdk" in refused.value.message
    with pytest.raises(Refusal) as refused:
        snippets.render(a_request(), "curl", "secret")
    assert (refused.value.status, "env, placeholder, real" in refused.value.message) == (400, True)


def test_the_interface_lists_every_target():
    assert snippets.NAMES == ("curl", "python", "httpie", "fetch", "openai", "eas_sdk")
    assert all(snippets.TARGETS[name].name == name for name in snippets.NAMES)
    assert str(snippets.TARGETS["python"].label) == "Python (requests)"
    assert snippets.TARGETS["fetch"].filename == "request.mjs"
    assert snippets.TARGETS["fetch"].language == "javascript"


# The requests snippets are made from

def test_from_request_is_the_request_a_call_would_send(acme):
    service = make_service(acme, default_body='{"hi": 1}', timeout_s=9)
    request = snippets.from_request(service, CallRequest())
    assert request == SnippetRequest(
        method="POST", url=EAS_PUBLIC + "/v1/chat/completions",
        headers=[("Content-Type", "application/json")], body=b'{"hi": 1}', endpoint="public",
        service_kind="llm", base=EAS_PUBLIC, path="/v1/chat/completions", timeout_s=9,
        service_slug="chat", default_endpoint="public")
    vpc = snippets.from_request(service, CallRequest(
        endpoint="vpc", method="get", path="v1/models?a=[1]", headers={"X-A": "b"}, body=b""))
    assert (vpc.method, vpc.url, vpc.base, vpc.endpoint, vpc.headers, vpc.path) == (
        "GET", EAS_VPC + "/v1/models?a=%5B1%5D", EAS_VPC, "vpc", [("X-A", "b")],
        "v1/models?a=[1]")


def test_from_request_never_reads_the_token(acme):
    service = make_service(acme)
    service.token_encrypted = "not-a-ciphertext"
    assert snippets.from_request(service, CallRequest()).method == "POST"


@pytest.mark.parametrize(("request_", "status"), [
    (CallRequest(path="//evil/x"), 400),
    (CallRequest(headers={"Authorization": "x"}), 400),
    (CallRequest(method="TRACE"), 400),
    (CallRequest(body=b"x" * (client.GATEWAY_BODY_LIMIT + 1)), 413),
])
def test_from_request_refuses_what_a_call_refuses(acme, request_, status):
    service = make_service(acme)
    with pytest.raises(Refusal) as refused:
        snippets.from_request(service, request_)
    with pytest.raises(Refusal) as call_refused:
        calls.prepare(service, request_)
    assert (refused.value.status, refused.value.message) == (status, call_refused.value.message)
    if status == 413:
        assert refused.value.extra == {"size": client.GATEWAY_BODY_LIMIT + 1,
                                       "limit": client.GATEWAY_BODY_LIMIT}


def recorded_call(user, service, path="/echo", headers=None, body=b"{}"):
    """A call as calls.call() records it, without sending it."""
    kind, path, outbound = calls.prepare(service, CallRequest(path=path, headers=headers,
                                                              body=body))
    outbound.headers = {**outbound.headers, "Authorization": TOKEN}
    response = client.Response(status=200, reason="OK", headers={}, body=b"", size=0,
                               declared_size=None, truncated=False, elapsed_ms=1.0)
    return calls.record(user, service, kind, path, outbound, TOKEN, response)


def test_from_call_is_the_request_history_kept(acme, bob):
    service = make_service(acme, timeout_s=9)
    call = recorded_call(bob, service, path="/v1/chat/completions?x=[1]",
                         headers={"X-A": "b", "Content-Type": "application/json"})
    request = snippets.from_call(call)
    assert request == snippets.from_request(service, CallRequest(
        path="/v1/chat/completions?x=[1]", headers={"X-A": "b", "Content-Type": "application/json"},
        body=b"{}"))
    assert request.redacted_headers == () and not request.token_in_url_or_body


def test_from_call_makes_redacted_headers_placeholders(acme, bob):
    service = make_service(acme)
    call = recorded_call(bob, service, headers={"X-Api-Key": "k-1", "Content-Type": "text/plain",
                                                "X-Note": f"mine: {TOKEN}"})
    request = snippets.from_call(call)
    assert [name for name, _value in request.headers] == ["X-Api-Key", "Content-Type", "X-Note"]
    assert request.redacted_headers == ("X-Api-Key",)
    assert request.token_in_url_or_body  # in X-Note
    for target in ("curl", "python", "httpie", "fetch", "eas_sdk"):
        text = snippets.render(request, target, "env")
        assert "History redacted the header X-Api-Key: replace <X_API_KEY> with its value." in text
        assert "<X_API_KEY>" in text.split("\n", 3)[-1]  # in the code, not only the comment
        assert "k-1" not in text and TOKEN not in text


def test_from_call_keeps_a_redacted_token_in_the_url_or_body(acme, bob):
    service = make_service(acme)
    call = recorded_call(bob, service, path=f"/echo?t={TOKEN}", body=f"t={TOKEN}".encode())
    request = snippets.from_call(call)
    assert request.token_in_url_or_body
    assert request.url.endswith(f"/echo?t={REDACTED}") and request.body == b"t=[redacted]"
    text = snippets.render(request, "python", "real", token=TOKEN)
    assert "History replaced the service's token with [redacted] in the request" in text
    assert f"t={REDACTED}" in text


def test_from_call_still_works_once_the_service_changed_or_went(acme, bob):
    service = make_service(acme, timeout_s=9)
    call = recorded_call(bob, service, path="v1/chat/completions",
                         body=b'{"model": "m", "messages": []}')
    service.public_endpoint = "http://other.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/x"
    service.save()
    call.refresh_from_db()
    assert snippets.from_call(call).base == EAS_PUBLIC
    assert snippets.unavailable_reason(snippets.from_call(call), "openai") is None
    service.delete()
    call.refresh_from_db()
    call.request_body = memoryview(bytes(call.request_body))  # as PostgreSQL returns it
    request = snippets.from_call(call)
    assert (request.base, request.service_kind, request.timeout_s) == (EAS_PUBLIC, "", 60)
    assert request.body == b'{"model": "m", "messages": []}'
    assert "LLM services only" in snippets.unavailable_reason(request, "openai")
    assert snippets.unavailable_reason(request, "curl") is None


def test_a_snippet_is_plain_text_that_a_page_must_escape(acme):
    request = snippets.from_request(make_service(acme), CallRequest(body=b"<script>x</script>"))
    text = snippets.render(request, "curl", "env")
    assert type(text) is str and not isinstance(text, SafeData)
