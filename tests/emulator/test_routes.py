"""The local EAS emulator, spoken to over real sockets with the standard library's client."""

import base64
import gzip
import hashlib
import hmac
import http.client
import io
import json
import re
import time
import zlib
from email.utils import formatdate
from http import HTTPStatus

import pytest

import emulator as eas_emulator

LIMIT = 1_048_576


def send(emulator, method, path, body=None, headers=None, service="demo-echo", token=None,
         connection=None):
    """(status, headers, body) of one request to a route of a service, with its raw token."""
    headers = dict(headers or {})
    if token is None:
        token = emulator.token(service) if service in emulator.app.services else "x"
    if token:
        headers.setdefault("Authorization", token)
    conn = connection or http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    try:
        conn.request(method, f"/api/predict/{service}{path}", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response, response.read()
    finally:
        if connection is None:
            conn.close()


def sign(token, method, body, path, content_type="application/octet-stream"):
    """The headers Alibaba's eas-prediction SDK sends, written out independently of it."""
    content_md5 = hashlib.md5(body).hexdigest()
    date = formatdate(usegmt=True)
    message = f"{method}\n{content_md5}\n{content_type}\n{date}\n{path}"
    signature = base64.b64encode(hmac.new(token.encode(), message.encode(), "sha1").digest())
    return {"Content-MD5": content_md5, "Date": date, "Content-Type": content_type,
            "Authorization": "EAS " + signature.decode()}


def test_each_token_form_opens_the_service(emulator):
    token = emulator.token("eas-style")
    forms = {
        "raw": {"Authorization": token},
        "bearer": {"Authorization": "Bearer " + token},
        "signed": sign(token, "POST", b"ping", "/api/predict/eas-style/echo"),
    }
    for form, headers in forms.items():
        status, _, body = send(emulator, "POST", "/echo", b"ping", headers, service="eas-style")
        assert (status, json.loads(body)["body"]) == (200, "ping"), form


def test_it_checks_the_signature_over_the_requests_own_method_and_path(emulator):
    token = emulator.token("demo-echo")
    headers = sign(token, "GET", b"", "/api/predict/demo-echo/echo")
    assert send(emulator, "GET", "/echo", headers=headers)[0] == 200
    assert send(emulator, "POST", "/echo", headers=headers)[0] == 401
    assert send(emulator, "GET", "/echo/other", headers=headers)[0] == 401


@pytest.mark.parametrize("headers, reason", [
    ({}, "send the service token"),
    ({"Authorization": "demo-chat-token-0001"}, "the token is wrong"),
    ({"Authorization": "Bearer not-the-token"}, "the token is wrong"),
    ({"Authorization": "EAS bm90IGEgc2lnbmF0dXJl"}, "needs Content-MD5 and Date"),
    (sign("not-the-token", "POST", b"body", "/api/predict/demo-echo/echo"), "does not match"),
])
def test_it_refuses_a_wrong_or_missing_token(emulator, headers, reason):
    status, _, body = send(emulator, "POST", "/echo", b"body", headers, token="")
    assert status == 401
    assert reason in body.decode()


def test_it_checks_that_content_md5_is_the_md5_of_the_body(emulator):
    # Signed correctly, but over another body than the one sent.
    headers = sign("demo-echo-token-0001", "POST", b"signed body", "/api/predict/demo-echo/echo")
    status, _, body = send(emulator, "POST", "/echo", b"sent body", headers)
    assert status == 401
    assert "Content-MD5 is not the hex MD5 of the body" in body.decode()


@pytest.mark.parametrize("url, message", [
    ("/api/predict/no-such-service/v1/models", "there is no service named 'no-such-service'"),
    ("/api/predict/demo-chat/v1/chat", "no interface at /api/predict/demo-chat/v1/chat; the "
                                       "endpoint is a base address; check the interface path"),
    ("/v1/models", "services are served under /api/predict/<service>"),
    ("/api/predict/", "services are served under /api/predict/<service>"),
])
def test_it_answers_404_like_the_gateway(emulator, url, message):
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    conn.request("GET", url, headers={"Authorization": emulator.token("demo-chat")})
    response = conn.getresponse()
    assert response.status == 404
    assert message in response.read().decode()


def test_a_route_answers_405_to_another_method(emulator):
    status, response, _ = send(emulator, "GET", "/v1/chat/completions", service="demo-chat")
    assert (status, response.getheader("Allow")) == (405, "POST")


def test_it_takes_a_body_of_exactly_the_gateway_limit(emulator, emulator_received):
    status, _, body = send(emulator, "POST", "/echo", b"a" * LIMIT)
    assert status == 200
    assert base64.b64decode(json.loads(body)["body_base64"]) == b"a" * LIMIT


def test_it_refuses_one_byte_more_with_413(emulator, emulator_received):
    status, _, body = send(emulator, "POST", "/echo", b"a" * (LIMIT + 1))
    assert status == 413
    assert "at most 1048576 bytes" in body.decode()
    assert (emulator_received[-1]["status"], emulator_received[-1]["body"]) == (413, b"")


def test_it_refuses_a_chunked_body_over_the_limit(emulator):
    pieces = (b"a" * 65536 for _ in range(17))  # a generator has no length: sent chunked
    assert send(emulator, "POST", "/echo", pieces)[0] == 413


def test_without_a_length_it_reads_no_more_than_one_byte_past_the_limit():
    # waitress gives a Content-Length even to a chunked upload; other servers may not.
    stream = io.BytesIO(b"a" * (2 * LIMIT))
    environ = {"wsgi.input": stream, "wsgi.input_terminated": True}
    assert eas_emulator.read_body(environ, LIMIT) is None
    assert stream.tell() == LIMIT + 1


def test_echo_returns_the_exact_bytes_and_the_raw_path(emulator, emulator_received):
    binary = bytes(range(256))
    status, _, body = send(emulator, "PUT", "/echo/a%20b/%E4%B8%AD?x=1&y=a%20b", binary,
                           {"Content-Type": "application/x-thing", "X-Custom": "yes"})
    echoed = json.loads(body)
    assert status == 200
    assert echoed["method"] == "PUT"
    assert echoed["path"] == "/api/predict/demo-echo/echo/a%20b/%E4%B8%AD"
    assert echoed["query"] == "x=1&y=a%20b"
    assert echoed["headers"]["Content-Type"] == "application/x-thing"
    assert echoed["headers"]["X-Custom"] == "yes"
    assert echoed["body"] is None  # not UTF-8
    assert base64.b64decode(echoed["body_base64"]) == binary
    record = emulator_received[-1]
    assert (record["path"], record["body"], record["status"]) == (echoed["path"], binary, 200)


def test_echo_gives_text_bodies_as_text(emulator):
    status, _, body = send(emulator, "DELETE", "/echo", "héllo".encode())
    assert (status, json.loads(body)["body"]) == (200, "héllo")


def test_it_records_refused_requests_too(emulator, emulator_received):
    assert emulator_received == []
    send(emulator, "GET", "/v1/models", service="demo-chat", token="wrong")
    send(emulator, "GET", "/nowhere", service="demo-chat")
    assert [(r["path"], r["status"]) for r in emulator_received] == [
        ("/api/predict/demo-chat/v1/models", 401), ("/api/predict/demo-chat/nowhere", 404)]
    assert emulator_received[0]["headers"]["Authorization"] == "wrong"


def test_it_keeps_the_connection_alive(emulator, emulator_received):
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    assert send(emulator, "POST", "/echo", b"one", connection=conn)[0] == 200
    first_socket = conn.sock
    assert first_socket is not None  # the server did not close it
    client_port = first_socket.getsockname()[1]
    assert send(emulator, "POST", "/echo", b"two", connection=conn)[0] == 200
    assert conn.sock is first_socket
    conn.close()
    assert [record["client_port"] for record in emulator_received] == [client_port] * 2


def test_the_service_root_answers_like_a_string_processor(emulator):
    status, _, body = send(emulator, "POST", "", b"input text", service="eas-style")
    assert (status, body) == (200, b"processed: input text")


def post_json(emulator, path, data, service="demo-chat"):
    status, response, body = send(emulator, "POST", path, json.dumps(data),
                                  {"Content-Type": "application/json"}, service=service)
    return status, response, body


CHAT = {"model": "Qwen3-8B", "messages": [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "hello!"}]}


def test_chat_completions_reply_deterministically_with_usage(emulator):
    status, _, body = post_json(emulator, "/v1/chat/completions", CHAT)
    answer = json.loads(body)
    assert status == 200
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"] == {"role": "assistant", "content": "You said: hello!"}
    assert answer["usage"] == {"prompt_tokens": 6, "completion_tokens": 3, "total_tokens": 9}


def test_chat_completions_stream_server_sent_events(emulator):
    request = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    status, response, body = post_json(emulator, "/v1/chat/completions", request)
    assert status == 200
    assert response.getheader("Content-Type").startswith("text/event-stream")
    events = [line.removeprefix("data: ") for line in body.decode().split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "You said: hello!"
    assert chunks[-1]["usage"]["total_tokens"] == 9


@pytest.mark.parametrize("body, message", [
    ("{not json", "not valid JSON"),
    ({"model": "Qwen3-8B"}, "'messages' must be a non-empty list"),
    ({"messages": []}, "'messages' must be a non-empty list"),
])
def test_chat_completions_refuse_bad_input_like_openai(emulator, body, message):
    raw = body if isinstance(body, str) else json.dumps(body)
    status, _, answer = send(emulator, "POST", "/v1/chat/completions", raw, service="demo-chat")
    assert status == 400
    assert message in json.loads(answer)["error"]["message"]


def test_completions_embeddings_and_models(emulator):
    _, _, body = post_json(emulator, "/v1/completions", {"prompt": "Once upon"})
    assert json.loads(body)["choices"][0]["text"] == "You wrote: Once upon"
    _, _, body = post_json(emulator, "/v1/embeddings", {"input": ["a", "b", "a"]})
    vectors = [item["embedding"] for item in json.loads(body)["data"]]
    assert len(vectors[0]) == 8 and vectors[0] == vectors[2] != vectors[1]
    _, _, body = send(emulator, "GET", "/v1/models", service="demo-chat")
    assert [model["id"] for model in json.loads(body)["data"]] == ["Qwen3-8B"]


def test_the_reranker_scores_documents_by_word_overlap(emulator):
    request = {"query": "capital of China", "top_n": 2, "documents": [
        "Gravity pulls apples down.", "Beijing is the capital of China.", "The capital of Peru"]}
    status, _, body = post_json(emulator, "/v1/rerank", request, service="demo-reranker")
    answer = json.loads(body)
    assert status == 200
    assert [(r["index"], r["relevance_score"]) for r in answer["results"]] == [
        (1, 1.0), (2, round(2 / 3, 6))]
    assert answer["results"][0]["document"] == {"text": "Beijing is the capital of China."}
    assert answer["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("code", [200, 201, 204, 400, 404, 429, 500, 502, 503])
def test_status_answers_the_status_it_is_asked_for(emulator, code):
    status, _, body = send(emulator, "GET", f"/status/{code}")
    assert status == code
    if code != 204:  # a 204 may not have a body
        assert json.loads(body) == {"status": code, "reason": HTTPStatus(code).phrase}


def test_large_streams_exactly_the_bytes_it_announces(emulator):
    status, response, body = send(emulator, "GET", "/large?bytes=300000")
    assert (status, response.getheader("Content-Length"), len(body)) == (200, "300000", 300000)


def test_large_breaks_off_after_the_bytes_it_is_told(emulator):
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    conn.request("GET", "/api/predict/demo-echo/large?bytes=300000&break_after=100000",
                 headers={"Authorization": emulator.token("demo-echo")})
    response = conn.getresponse()
    assert (response.status, response.getheader("Content-Length")) == (200, "300000")
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert cut.value.partial == (b"0123456789abcdef" * 6250)  # 100,000 bytes, then nothing
    assert send(emulator, "GET", "/large?bytes=10&break_after=99")[2] == b"0123456789"
    assert send(emulator, "GET", "/large?bytes=10&break_after=x")[0] == 400


def test_gzip_decompresses_to_zeros(emulator):
    status, response, body = send(emulator, "GET", "/gzip?bytes=100000")
    assert (status, response.getheader("Content-Encoding")) == (200, "gzip")
    assert response.getheader("Content-Length") is None
    assert gzip.decompress(body) == bytes(100000)


def test_gzip_stays_small_on_the_wire_however_large_it_inflates(emulator):
    _, _, body = send(emulator, "GET", f"/gzip?bytes={200 * 1024 * 1024}")
    assert len(body) < 512 * 1024
    inflated = zlib.decompressobj(wbits=31).decompress(body, 1024)
    assert inflated == bytes(1024)


def test_trickle_spreads_its_bytes_over_time(emulator):
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    conn.request("GET", "/api/predict/demo-echo/trickle?seconds=0.6",
                 headers={"Authorization": emulator.token("demo-echo")})
    started = time.monotonic()
    response = conn.getresponse()
    reads = []
    while piece := response.read1(64):
        reads.append(piece)
    assert b"".join(reads) == b"...."
    assert len(reads) > 1  # more than one arrival: the bytes did not come together
    assert time.monotonic() - started >= 0.5


def test_trickle_can_announce_its_length(emulator):
    started = time.monotonic()
    status, response, body = send(emulator, "GET", "/trickle?seconds=0.6&length=1")
    assert (status, response.getheader("Content-Length"), body) == (200, "4", b"....")
    assert response.getheader("Transfer-Encoding") is None
    assert time.monotonic() - started >= 0.5
    assert send(emulator, "GET", "/trickle?length=yes")[0] == 400


def test_slow_waits_before_answering(emulator):
    started = time.monotonic()
    status, _, body = send(emulator, "GET", "/slow?seconds=0.3")
    assert (status, json.loads(body)) == (200, {"slept": 0.3})
    assert time.monotonic() - started >= 0.3
    assert send(emulator, "GET", "/slow?seconds=soon")[0] == 400


@pytest.mark.parametrize("query, status, location", [
    ("to=https://example.com/next", 302, "https://example.com/next"),
    ("to=/elsewhere&status=301", 301, "/elsewhere"),
    ("status=302", 400, None),
    ("to=/x&status=200", 400, None),
])
def test_redirect_answers_with_a_location(emulator, query, status, location):
    answered, response, _ = send(emulator, "GET", f"/redirect?{query}")
    assert (answered, response.getheader("Location")) == (status, location)


def test_a_bug_answers_500_rather_than_crashing():
    app = eas_emulator.make_app()
    statuses = []
    # No wsgi.input at all: the app fails inside, and must still answer.
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/predict/demo-echo/echo",
               "CONTENT_LENGTH": "3", "HTTP_AUTHORIZATION": "demo-echo-token-0001"}
    body = b"".join(app(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["500 Internal Server Error"]
    assert b"The EAS emulator failed" in body
    assert app.received[-1]["status"] == 500


def test_load_config_reads_services_from_a_file(tmp_path):
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"services": {"chat": {"token": "t-1", "kind": "llm"},
                                             "thinker": {"token": "t-2", "reasoning": True}}}))
    assert eas_emulator.load_config(path) == {
        "chat": {"token": "t-1", "kind": "llm", "model": "chat", "reasoning": False},
        "thinker": {"token": "t-2", "kind": "custom", "model": "thinker", "reasoning": True}}


@pytest.mark.parametrize("text, message", [
    ("{", "not valid JSON"),
    ("[]", 'expected {"services"'),
    ('{"services": {}}', "at least one"),
    ('{"services": {"chat": {"kind": "llm"}}}', "chat.token: expected a non-empty"),
    ('{"services": {"chat": {"token": "t", "kind": "tf"}}}', "chat.kind: expected one of"),
    ('{"services": {"a/b": {"token": "t"}}}', "a service name is letters"),
    ('{"services": {"chat": {"token": "t", "tokn": 1}}}', "unknown key(s) tokn"),
    ('{"services": {"chat": {"token": "t", "reasoning": 1}}}', "chat.reasoning: expected true"),
])
def test_load_config_says_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "services.json"
    path.write_text(text)
    with pytest.raises(eas_emulator.ConfigError, match=re.escape(message)):
        eas_emulator.load_config(path)


def test_most_at_once_counts_the_requests_answered_at_the_same_moment():
    def record(start, finish, left=None):
        return {"started_at": start, "finished_at": finish, "disconnected_at": left}

    assert eas_emulator.most_at_once([]) == 0
    # 0-2 and 1-3 overlap; 3-4 starts as 1-3 ends (an end counts before a start at a tie).
    assert eas_emulator.most_at_once([record(0, 2), record(1, 3), record(3, 4)]) == 2
    # A client that left ends at that moment; one still answered has not ended.
    assert eas_emulator.most_at_once([record(0, None, 1), record(1.5, 2)]) == 1
    assert eas_emulator.most_at_once([record(0, None), record(5, 6), record(7, 8)]) == 2
