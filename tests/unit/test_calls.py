"""The one call function: permission, token, validation, send, record."""

import json
from urllib.parse import quote

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from services import access, calls
from services.calls import REDACTED, CallRequest
from services.errors import Refusal
from services.models import Call, Service
from services.net import client
from tests.helpers import make_service


@pytest.fixture
def echo_service(acme, emulator):
    return emulator.service(acme, "eas-style", slug="echo", kind="custom")


def test_it_sends_with_the_stored_token_and_records_the_call(echo_service, bob, emulator):
    emulator.app.clear()
    call = calls.call(bob, echo_service, CallRequest(body=b'{"q": 1}'))
    arrived = emulator.app.received[-1]
    assert arrived["headers"]["Authorization"] == emulator.token("eas-style")
    assert arrived["headers"]["Content-Type"] == "application/json"
    assert arrived["body"] == b'{"q": 1}'
    assert call.status == 200 and call.status_class == "2xx" and call.error == ""
    assert call.username == "bob" and call.service_slug == "echo" and call.team.slug == "acme"
    assert call.url == emulator.base("eas-style") + "/echo"
    assert call.request_headers == {"Content-Type": "application/json", "Authorization": REDACTED}
    assert Call.objects.count() == 1


def test_the_token_is_redacted_wherever_it_was_pasted(echo_service, bob, emulator):
    token = emulator.token("eas-style")
    call = calls.call(bob, echo_service, CallRequest(
        path=f"/echo?t={quote(token, safe='')}&raw={token}",
        headers={"X-Api-Key": "other-secret", "X-Note": f"mine is {token}",
                 "Content-Type": "text/plain"},
        body=f"token={token}".encode(),
    ))
    assert call.status == 200
    stored = json.dumps([call.url, call.path, call.request_headers, call.response_headers])
    stored += bytes(call.request_body).decode() + bytes(call.response_body).decode()
    assert token not in stored and quote(token, safe="") not in stored
    assert call.request_headers["X-Api-Key"] == REDACTED  # its name says it is a secret
    assert call.request_headers["X-Note"] == f"mine is {REDACTED}"
    assert bytes(call.request_body) == f"token={REDACTED}".encode()
    assert "other-secret" not in json.dumps(call.request_headers)
    # The echo in the response body carried the token back: redacted there too.
    assert json.loads(bytes(call.response_body))["headers"]["Authorization"] == REDACTED


def test_outsiders_cannot_call(echo_service, charlie, globex, emulator):
    emulator.app.clear()
    with pytest.raises(Refusal) as refused:
        calls.call(charlie, echo_service, CallRequest())
    assert refused.value.status == 404
    assert list(emulator.app.received) == [] and not Call.objects.exists()


@pytest.mark.parametrize("request_, status", [
    (CallRequest(headers={"Authorization": "Bearer mine"}), 400),
    (CallRequest(headers={"host": "x"}), 400),
    (CallRequest(path="//evil.example.com/x"), 400),
    (CallRequest(path="/../x"), 400),
    (CallRequest(endpoint="vpc"), 400),
    (CallRequest(endpoint="intranet"), 400),
    (CallRequest(method="BREW"), 400),
    (CallRequest(body=b"x" * (client.GATEWAY_BODY_LIMIT + 1)), 413),
])
def test_refused_requests_send_and_record_nothing(echo_service, bob, emulator, request_, status):
    emulator.app.clear()
    with pytest.raises(Refusal) as refused:
        calls.call(bob, echo_service, request_)
    assert refused.value.status == status
    assert list(emulator.app.received) == [] and not Call.objects.exists()


def test_an_undecryptable_token_is_409_and_nothing_is_sent(echo_service, bob, emulator,
                                                            settings):
    settings.EASPORTAL_TOKEN_KEYS = ["b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMDA="]
    emulator.app.clear()
    with pytest.raises(Refusal) as refused:
        calls.call(bob, echo_service, CallRequest())
    assert refused.value.status == 409 and "re-enter the token" in refused.value.message
    assert list(emulator.app.received) == [] and not Call.objects.exists()


def test_an_address_refused_at_send_time_is_403(echo_service, bob, settings):
    settings.EASPORTAL_ALLOWED_ENDPOINT_HOSTS = ["*.pai-eas.aliyuncs.com"]
    with pytest.raises(Refusal) as refused:
        calls.call(bob, echo_service, CallRequest())
    assert refused.value.status == 403
    assert not Call.objects.exists()


def test_a_failed_connection_is_still_recorded(acme, bob):
    service = make_service(acme, slug="down", public_endpoint="http://127.0.0.1:9/api/predict/x",
                           vpc_endpoint="")
    call = calls.call(bob, service, CallRequest())
    assert call.status is None and call.status_class == "failed"
    assert "refused the connection" in call.error


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_the_call_is_in_flight(acme, bob, emulator, monkeypatch):
    service = emulator.service(acme, "demo-echo", slug="echo2")
    seen = []
    real_send = client.send

    def send_and_look(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return real_send(*args, **kwargs)

    monkeypatch.setattr(client, "send", send_and_look)
    call = calls.call(bob, service, CallRequest())
    assert call.status == 200 and seen == [False]


def test_the_compiled_lookup_finds_what_access_finds(service, alice, bob, charlie, globex,
                                                     root):
    for user in (alice, bob, root):
        found = access.service_to_call(user, "chat")
        expected = access.service(user, "chat")
        assert [getattr(found, f.attname) for f in Service._meta.concrete_fields] == [
            getattr(expected, f.attname) for f in Service._meta.concrete_fields]
        assert found.team.slug == "acme" and found.read_token() == expected.read_token()
    for user, slug in ((charlie, "chat"), (bob, "no-such-service"), (AnonymousUser(), "chat")):
        with pytest.raises(Refusal) as refused:
            access.service_to_call(user, slug)
        assert refused.value.status == 404


def test_a_wrong_token_is_sent_and_its_401_recorded(acme, bob, emulator):
    service = emulator.service(acme, "demo-echo", slug="stale", token="an-outdated-token-0000")
    call = calls.call(bob, service, CallRequest())
    assert call.status == 401 and call.status_class == "4xx" and call.error == ""
    assert "Authorization failed" in bytes(call.response_body).decode()


def test_a_wrong_path_is_sent_and_its_404_recorded(echo_service, bob, emulator):
    call = calls.call(bob, echo_service, CallRequest(path="/v1/chat/completion"))
    assert call.status == 404 and call.url.endswith("/api/predict/eas-style/v1/chat/completion")
    assert "base address" in bytes(call.response_body).decode()
