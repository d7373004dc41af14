"""The gateway (docs/api.md, "The gateway"): /gw/<slug>/<path> with a personal key behaves like
the service itself, against the emulator: the request forwarded with the service's token in
place of the key, the answer relayed, the call recorded; what the portal refuses never reaches
the upstream."""

import json
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from services import keys
from services.models import ApiKey, Call, Membership
from tests.helpers import all_table_text, make_service


@pytest.fixture
def key(bob):
    return keys.make(bob, "ci", None)[1]


@pytest.fixture
def gw(key):
    """A test client that sends bob's key."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def portal_refusal(response, status):
    assert response.status_code == status
    assert response["X-Easportal-Error"] == "1"
    data = response.json()
    assert data["detail"] and data["error"] == {"message": data["detail"], "type": "easportal"}
    return data["detail"]


def test_the_request_arrives_with_the_services_token_never_the_key_or_cookie(
        echo, gw, key, emulator, emulator_received):
    response = gw.post("/gw/echo/echo/items?x=1&y=%2F", b'{"q": "hello"}',
                       content_type="application/json", HTTP_X_TRACE="t-1",
                       HTTP_COOKIE="sessionid=abc; csrftoken=def")
    assert response.status_code == 200 and not response.has_header("X-Easportal-Error")
    [arrived] = emulator_received
    assert arrived["headers"]["Authorization"] == emulator.token("demo-echo")
    assert "Cookie" not in arrived["headers"]
    assert key not in json.dumps(arrived["headers"]) and key.encode() not in arrived["body"]
    assert (arrived["method"], arrived["path"], arrived["query"]) == (
        "POST", "/api/predict/demo-echo/echo/items", "x=1&y=%2F")
    assert arrived["body"] == b'{"q": "hello"}'
    assert arrived["headers"]["X-Trace"] == "t-1"
    assert arrived["headers"]["Content-Type"] == "application/json"
    # The answer, relayed: the emulator's own status, type and body (the token taken out).
    echoed = json.loads(response.content)
    assert echoed["headers"]["Authorization"] == "[redacted]"
    assert response["Content-Type"] == "application/json"
    call = Call.objects.get()
    assert (call.source, call.username, call.status, call.streamed) == (
        "gateway", "bob", 200, False)
    assert key not in json.dumps(call.request_headers) + call.url
    assert call.request_headers["Authorization"] == "[redacted]"


def test_the_raw_key_opens_the_gateway_as_eas_clients_send_a_token(echo, key):
    response = Client(HTTP_AUTHORIZATION=key).get("/gw/echo/echo")
    assert response.status_code == 200 and json.loads(response.content)["method"] == "GET"


def test_the_endpoint_header_chooses_and_is_not_forwarded(echo, gw, emulator_received):
    response = gw.get("/gw/echo/echo", HTTP_X_EASPORTAL_ENDPOINT="public")
    assert response.status_code == 200
    assert "X-Easportal-Endpoint" not in emulator_received[-1]["headers"]
    detail = portal_refusal(gw.get("/gw/echo/echo", HTTP_X_EASPORTAL_ENDPOINT="vpc"), 400)
    assert "VPC" in detail or "vpc" in detail


def test_an_upstream_error_is_relayed_as_it_is(echo, gw):
    response = gw.get("/gw/echo/status/418")
    assert response.status_code == 418 and not response.has_header("X-Easportal-Error")
    assert json.loads(response.content)["status"] == 418


def test_a_stream_is_relayed_as_it_arrives_and_recorded(acme, bob, gw, emulator):
    emulator.service(acme, "demo-echo", slug="trickle")
    response = gw.get("/gw/trickle/trickle?seconds=0.8")
    assert response.streaming
    arrivals = []
    for piece in response.streaming_content:
        arrivals.append((time.perf_counter(), piece))
    assert len(arrivals) >= 4 and arrivals[-1][0] - arrivals[0][0] > 0.5
    call = Call.objects.get()
    assert (call.streamed, call.source, call.stopped) == (True, "gateway", False)
    assert bytes(call.response_body) == b"".join(piece for _at, piece in arrivals)


def test_an_openai_stream_has_its_figures(acme, gw, emulator):
    emulator.service(acme, "demo-chat", slug="chat-gw")
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "one two three"}]}
    response = gw.post("/gw/chat-gw/v1/chat/completions", json.dumps(body),
                       content_type="application/json")
    text = b"".join(response.streaming_content)
    assert text.endswith(b"data: [DONE]\n\n")
    call = Call.objects.get()
    assert (call.completion_tokens, call.tokens_source, call.finish_reason) == (
        5, "usage", "stop")
    assert call.ttft_ms is not None


# What the portal refuses: a clear answer, and nothing reaches the upstream

@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer eap_unknown-000000000000000000000000000000000000",
    "eap_short", "Basic dXNlcjpwdw==",
])
def test_no_valid_key_is_401(echo, emulator_received, authorization):
    extra = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    portal_refusal(Client().get("/gw/echo/echo", **extra), 401)
    assert len(emulator_received) == 0 and not Call.objects.exists()


def test_a_revoked_key_is_401(echo, gw, bob, emulator_received):
    keys.revoke(ApiKey.objects.get(), bob)
    portal_refusal(gw.get("/gw/echo/echo"), 401)
    assert len(emulator_received) == 0


def test_an_outsiders_key_is_404_as_if_there_were_no_such_service(echo, charlie, globex,
                                                                   emulator_received):
    outsider = Client(HTTP_AUTHORIZATION=f"Bearer {keys.make(charlie, 'x', None)[1]}")
    assert portal_refusal(outsider.get("/gw/echo/echo"), 404) == portal_refusal(
        outsider.get("/gw/no-such-service/echo"), 404).replace("no-such-service", "echo")
    assert len(emulator_received) == 0


def test_a_member_who_left_loses_the_service_at_once(echo, gw, bob):
    assert gw.get("/gw/echo/echo").status_code == 200
    Membership.objects.filter(user=bob).delete()
    portal_refusal(gw.get("/gw/echo/echo"), 404)


def test_a_body_over_one_megabyte_is_413(echo, gw, emulator_received):
    response = gw.post("/gw/echo/echo", b"x" * 1_048_577, content_type="text/plain")
    portal_refusal(response, 413)
    assert response.json()["limit"] == 1_048_576 and len(emulator_received) == 0


def test_a_refused_address_is_403(echo, gw, settings, emulator_received):
    settings.EASPORTAL_ALLOWED_ENDPOINT_HOSTS = ["*.pai-eas.aliyuncs.com"]
    assert "loopback" in portal_refusal(gw.get("/gw/echo/echo"), 403)
    assert len(emulator_received) == 0


def test_too_many_requests_is_429_with_retry_after(echo, gw, settings, emulator_received):
    settings.EASPORTAL_KEY_RATE_PER_MIN = 2
    if time.time() % 60 > 55:  # keep the three requests in one minute
        time.sleep(6)
    assert gw.get("/gw/echo/echo").status_code == 200
    assert gw.get("/gw/echo/echo").status_code == 200
    response = gw.get("/gw/echo/echo")
    portal_refusal(response, 429)
    assert 1 <= int(response["Retry-After"]) <= 60
    assert len(emulator_received) == 2


def test_a_connection_that_fails_is_502_and_recorded(acme, gw):
    make_service(acme, slug="down", public_endpoint="http://127.0.0.1:9/api/predict/x",
                 vpc_endpoint="")
    assert "refused the connection" in portal_refusal(gw.get("/gw/down/v1/models"), 502)
    call = Call.objects.get()
    assert (call.source, call.error_kind) == ("gateway", "refused")


def test_the_key_is_in_no_table_and_no_log(echo, gw, key, caplog):
    gw.get("/gw/echo/echo")
    Client(HTTP_AUTHORIZATION=f"Bearer {key}x").get("/gw/echo/echo")
    Client().get("/api/services", HTTP_AUTHORIZATION=f"Bearer {key}")
    dump = all_table_text()
    assert keys.digest(key) in dump  # the dump holds the key's record
    assert key not in dump and key not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_key_is_not_in_the_database_file(bob):
    if connection.vendor != "sqlite":
        pytest.skip("a raw file exists only for SQLite; the table dump test covers PostgreSQL")
    record, raw = keys.make(bob, "ci", None)
    path = Path(connection.settings_dict["NAME"])
    data = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    assert record.key_hash.encode() in data  # we are reading the right file
    assert raw.encode() not in data


def test_a_relayed_answer_gets_no_language_headers_and_a_refusal_follows_accept_language(
        echo, gw):
    """Issue 15: the portal's own words follow the caller's language; a service's answer is
    relayed with the headers the service sent, not the portal's Content-Language and Vary."""
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
    relayed = gw.post("/gw/echo/echo", b"{}", content_type="application/json", **chinese)
    assert relayed.status_code == 200 and "Content-Language" not in relayed
    assert "Accept-Language" not in relayed.get("Vary", "")
    english = portal_refusal(gw.get("/gw/nowhere/v1/models"), 404)
    detail = portal_refusal(gw.get("/gw/nowhere/v1/models", **chinese), 404)
    assert detail != english and not any(word in detail for word in english.split() if
                                         word.isalpha() and len(word) > 3)
