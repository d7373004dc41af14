"""Snippets of a streamed request: when a request counts as streamed (from_request, from_call),
and what each target writes to print the answer as it arrives. tests/snippets/test_run.py runs
them: the same request as the portal's, the whole answer shown, and shown as it arrives."""

from dataclasses import replace

import pytest

from services import snippets
from services.calls import CallRequest
from services.snippets import SnippetRequest
from tests.helpers import make_call, make_service

CHAT_BODY = b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true}'
USAGE_BODY = CHAT_BODY[:-1] + b', "stream_options": {"include_usage": true}}'


def streamed(**changes):
    request = SnippetRequest(
        method="POST", url="http://h.example/api/predict/s/v1/chat/completions",
        headers=[("Content-Type", "application/json")], body=CHAT_BODY, endpoint="public",
        service_kind="llm", base="http://h.example/api/predict/s", path="/v1/chat/completions",
        timeout_s=60, stream=True)
    return replace(request, **changes)


def both(target, **changes):
    """(the streamed snippet, the same request's snippet read whole)."""
    request = streamed(**changes)
    return (snippets.render(request, target, "env"),
            snippets.render(replace(request, stream=False), target, "env"))


# When a request is streamed

@pytest.mark.parametrize(("call_request", "stream"), [
    (CallRequest(), False),
    (CallRequest(stream=True), True),
    (CallRequest(body=CHAT_BODY), True),
    (CallRequest(body=USAGE_BODY), True),
    (CallRequest(body=b'{"model": "m", "messages": [], "stream": false}'), False),
    (CallRequest(body=b'{"stream": "true"}'), False),
    (CallRequest(body=b'{"stream": 1}'), False),
    (CallRequest(body=b'[{"stream": true}]'), False),
    (CallRequest(body=b'{"options": {"stream": true}}'), False),
    (CallRequest(body=b'{"stream": true'), False),
    (CallRequest(body=b'\xff{"stream": true}'), False),
    (CallRequest(body=b'{"stream": false}', stream=True), True),
])
def test_from_request_is_streamed_when_the_call_or_the_body_asks(acme, call_request, stream):
    service = make_service(acme, default_body='{"model": "m", "messages": []}')
    assert snippets.from_request(service, call_request).stream is stream


@pytest.mark.parametrize(("fields", "stream"), [
    ({}, False),
    ({"streamed": True}, True),
    ({"request_body": CHAT_BODY}, True),
    ({"request_body": memoryview(CHAT_BODY)}, True),  # as PostgreSQL returns it
    ({"request_body": b'{"stream": false}'}, False),
])
def test_from_call_is_streamed_when_it_was_or_its_body_asks(acme, bob, fields, stream):
    call = make_call(make_service(acme), bob, **fields)
    call.refresh_from_db()
    if isinstance(fields.get("request_body"), memoryview):
        call.request_body = fields["request_body"]
    assert snippets.from_call(call).stream is stream


def test_a_deleted_services_streamed_call_is_still_streamed(acme, bob):
    service = make_service(acme)
    call = make_call(service, bob, streamed=True)
    service.delete()
    call.refresh_from_db()
    assert snippets.from_call(call).stream is True


# What each target writes

def test_curl_does_not_buffer_a_streamed_answer():
    text, whole = both("curl")
    assert "\n  -N \\\n" in text and "# -N (--no-buffer) prints the answer as it arrives." in text
    assert "-N" not in whole
    assert text.replace("  -N \\\n", "").replace(
        "# -N (--no-buffer) prints the answer as it arrives.\n", "") == whole


def test_httpie_streams_a_streamed_answer():
    text, whole = both("httpie")
    assert "http --ignore-stdin --stream --timeout=60 POST" in text
    assert "--stream" not in whole
    assert text.replace("# --stream prints the answer line by line as it arrives.\n",
                        "").replace(" --stream", "") == whole
    piped, _whole = both("httpie", body=b"\x00")
    assert "printf '\\000' | http --stream --timeout=60 POST" in piped


def test_python_writes_each_piece_as_it_arrives():
    text, whole = both("python")
    assert "import os\nimport sys\n\nimport requests\n" in text
    assert "    stream=True,\n    timeout=60,\n)\n" in text
    assert "print(response.status_code, response.reason, flush=True)\n" in text
    assert ("for piece in response.iter_content(chunk_size=None):  # each piece as it arrives\n"
            "    sys.stdout.buffer.write(piece)\n"
            "    sys.stdout.buffer.flush()\n") in text
    assert "response.text" not in text
    assert "stream=True" not in whole and "import sys" not in whole
    assert whole.endswith("print(response.status_code, response.reason)\nprint(response.text)\n")
    placeholder = snippets.render(streamed(), "python", "placeholder")
    assert "import os" not in placeholder and "import sys\n\nimport requests\n" in placeholder
    compile(text, "request.py", "exec")
    compile(placeholder, "request.py", "exec")


def test_fetch_writes_each_piece_as_it_arrives():
    text, whole = both("fetch")
    assert ("const decoder = new TextDecoder();\n"
            "for await (const piece of response.body ?? []) {  // each piece as it arrives\n"
            "  process.stdout.write(decoder.decode(piece, { stream: true }));\n"
            "}\n"
            'process.stdout.write(decoder.decode() + "\\n");\n') in text
    assert "await response.text()" not in text and "process.stdout" not in whole
    assert "// In a browser, show each piece some other way than process.stdout" in text
    assert whole.endswith("console.log(await response.text());\n")


def test_openai_prints_each_delta_of_a_streamed_chat():
    text = snippets.render(streamed(), "openai", "env")
    assert "    stream=True,\n)\nfor chunk in response:\n" in text
    assert ("    if chunk.choices:  # a chunk may have none\n"
            '        print(chunk.choices[0].delta.content or "", end="", flush=True)\n'
            "print()\n") in text
    assert "usage" not in text and "model_dump_json" not in text
    compile(text, "request.py", "exec")


def test_openai_prints_the_usage_when_the_body_asks_for_it():
    text = snippets.render(streamed(body=USAGE_BODY), "openai", "env")
    assert 'extra_body={"stream_options": {"include_usage": True}},' in text
    assert text.endswith("usage = None\nfor chunk in response:\n"
                         "    if chunk.choices:  # the usage chunk, the last, has none\n"
                         '        print(chunk.choices[0].delta.content or "", end="", '
                         "flush=True)\n"
                         "    usage = chunk.usage or usage\n"
                         "print()\n"
                         "if usage:\n"
                         "    print(usage.model_dump_json())\n")
    compile(text, "request.py", "exec")


def test_openai_prints_each_text_of_streamed_completions():
    text = snippets.render(streamed(
        url="http://h.example/api/predict/s/v1/completions", path="/v1/completions",
        body=b'{"model": "m", "prompt": "p", "stream": true}'), "openai", "env")
    assert 'print(chunk.choices[0].text, end="", flush=True)' in text
    assert "delta" not in text
    compile(text, "request.py", "exec")


def test_openai_streams_as_the_body_says():
    # The body decides whether the server streams, and the SDK must be told the same.
    text = snippets.render(streamed(body=b'{"model": "m", "messages": []}'), "openai", "env")
    assert "stream=" not in text and "print(response.model_dump_json(indent=2))" in text
    text = snippets.render(streamed(body=b'{"model": "m", "messages": [], "stream": false}',
                                    stream=False), "openai", "env")
    assert "stream=False," in text and "print(response.model_dump_json(indent=2))" in text


def test_openai_embeddings_take_stream_in_the_body():
    # embeddings.create() has no stream argument: the key goes with the body's others.
    text = snippets.render(streamed(
        url="http://h.example/api/predict/s/v1/embeddings", path="/v1/embeddings",
        body=b'{"model": "m", "input": "x", "stream": true}'), "openai", "env")
    assert "    stream=" not in text
    assert 'extra_body={"stream": True, "encoding_format": omit},' in text
    assert "print(response.model_dump_json(indent=2))" in text


def test_the_eas_sdk_says_it_waits_for_the_whole_answer():
    text, whole = both("eas_sdk")
    note = ("# The eas-prediction SDK cannot read an answer as it arrives: this waits for the "
            "whole streamed answer, then prints it at once.\n")
    assert note in text and "cannot read an answer" not in whole
    assert text.replace(note, "") == whole
    assert snippets.unavailable_reason(streamed(), "eas_sdk") is None


@pytest.mark.parametrize("target", snippets.NAMES)
def test_every_target_offers_a_streamed_request_it_offers_whole(target):
    request = streamed(body=USAGE_BODY)
    assert snippets.unavailable_reason(request, target) is None
    assert snippets.unavailable_reason(replace(request, stream=False), target) is None
