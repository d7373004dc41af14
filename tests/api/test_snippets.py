"""Snippets through the API: a call in history (GET /api/calls/{id}/snippet) and a request not
sent (POST /api/snippet), as text/plain. The real token goes only to maintainers, and each such
export is recorded.

alice maintains Acme, bob is a member; charlie, of Globex, should get 404 for all of it."""

import base64

import pytest
from django.test import Client

from services import snippets
from services.calls import REDACTED, CallRequest
from services.models import AuditEvent, Call
from tests.helpers import (
    BAD_BODIES,
    ECHO_BODY,
    TOKEN,
    detail,
    logged_in,
    make_call,
    make_service,
    post_snippet,
    snippet_of,
)
from tests.helpers import (
    SNIPPET_TEXT as TEXT,
)
from tests.helpers import (
    expected_snippet as expected,
)


def unavailable_target(request):
    """A target that cannot express the request, and why."""
    for target in snippets.NAMES:
        reason = snippets.unavailable_reason(request, target)
        if reason:
            return target, reason
    pytest.fail("every target can express the request")


# A call in history

def test_a_member_gets_the_curl_snippet_with_the_token_from_the_environment(call, bob):
    response = snippet_of(logged_in(bob), call)
    assert response.status_code == 200
    assert response["Content-Type"] == TEXT
    assert response["Cache-Control"] == "no-store"
    assert response.content.decode() == expected(call)
    assert response.content.decode() == snippet_of(logged_in(bob), call, lang="curl",
                                                   token="env").content.decode()
    assert call.url in response.content.decode()
    assert TOKEN not in response.content.decode()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("mode", ["env", "placeholder"])
@pytest.mark.parametrize("lang", snippets.NAMES)
def test_every_target_answers_a_snippet_or_the_reason_and_never_the_token(call, odd_call, bob,
                                                                          lang, mode):
    for recorded in (call, odd_call):
        response = snippet_of(logged_in(bob), recorded, lang=lang, token=mode)
        reason = snippets.unavailable_reason(snippets.from_call(recorded), lang)
        if reason:
            assert response.status_code == 400
            assert response.json() == {"detail": reason, "unavailable": lang}
        else:
            assert response.status_code == 200, response.content
            assert response["Content-Type"] == TEXT
            assert response.content.decode() == expected(recorded, lang, mode)
        assert TOKEN not in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_a_target_that_cannot_express_the_call_is_400_with_the_reason(odd_call, bob):
    target, reason = unavailable_target(snippets.from_call(odd_call))
    response = snippet_of(logged_in(bob), odd_call, lang=target)
    assert response.status_code == 400
    assert detail(response) == reason


@pytest.mark.parametrize("query, named, choices", [
    ({"lang": "cobol"}, "cobol", snippets.NAMES),
    ({"lang": ""}, "lang", snippets.NAMES),
    ({"lang": "CURL"}, "CURL", snippets.NAMES),
    ({"token": "secret"}, "secret", snippets.TOKEN_MODES),
    ({"lang": "python", "token": "Real"}, "Real", snippets.TOKEN_MODES),
])
def test_an_unknown_lang_or_token_mode_is_400_listing_the_valid_ones(call, alice, query, named,
                                                                     choices):
    for response in (snippet_of(logged_in(alice), call, **query),
                     post_snippet(logged_in(alice), {"service": "chat", **query})):
        assert response.status_code == 400
        message = detail(response)
        assert named in message
        assert "one of: " + ", ".join(choices) in message
    assert not AuditEvent.objects.exists()


def test_another_teams_call_is_404_whatever_the_mode(call, globex, charlie):
    for mode in ("env", "real"):
        response = snippet_of(logged_in(charlie), call, token=mode)
        assert response.status_code == 404
        assert "no call" in detail(response)
    assert snippet_of(logged_in(charlie), Call(pk=call.pk + 1000)).status_code == 404


def test_a_member_may_not_export_the_real_token(call, bob):
    response = snippet_of(logged_in(bob), call, token="real")
    assert response.status_code == 403
    assert "Only maintainers of the team “acme”" in detail(response)
    assert TOKEN not in response.content.decode()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("lang", ["curl", "python"])
def test_a_maintainer_exports_the_real_token_and_it_is_recorded(call, service, alice, lang):
    response = snippet_of(logged_in(alice), call, lang=lang, token="real")
    assert response.status_code == 200
    assert response["Content-Type"] == TEXT
    assert response["Cache-Control"] == "no-store"
    assert TOKEN in response.content.decode()
    assert response.content.decode() == expected(call, lang, "real", token=TOKEN)
    [event] = AuditEvent.objects.all()
    assert (event.user, event.username, event.action, event.team, event.service_slug) == (
        alice, "alice", AuditEvent.Action.TOKEN_REVEALED, service.team, "chat")
    assert event.detail == {"target": lang, "call": call.pk}


def test_each_real_export_is_one_event_and_a_refused_one_none(call, odd_call, alice):
    client = logged_in(alice)
    assert snippet_of(client, call, token="real").status_code == 200
    assert snippet_of(client, call, token="real").status_code == 200
    target, _reason = unavailable_target(snippets.from_call(odd_call))
    assert snippet_of(client, odd_call, lang=target, token="real").status_code == 400
    assert AuditEvent.objects.count() == 2


def test_real_for_a_call_whose_service_was_deleted_is_409(call, service, alice):
    service.delete()
    response = snippet_of(logged_in(alice), call, token="real")
    assert response.status_code == 409
    assert "no longer exists" in detail(response)
    assert snippet_of(logged_in(alice), call).status_code == 200  # env still works
    assert not AuditEvent.objects.exists()


def test_real_with_a_token_the_keys_cannot_read_is_409(call, service, alice):
    service.token_encrypted = "not-a-fernet-token"
    service.save()
    response = snippet_of(logged_in(alice), call, token="real")
    assert response.status_code == 409
    assert "re-enter the token" in detail(response)
    assert not AuditEvent.objects.exists()
    assert snippet_of(logged_in(alice), call, token="placeholder").status_code == 200


def test_a_superuser_may_export_the_real_token(call, root):
    response = snippet_of(logged_in(root), call, token="real")
    assert response.status_code == 200
    assert AuditEvent.objects.get().username == "root"


def test_history_redactions_stay_redacted_in_every_mode(service, alice, bob):
    call = make_call(service, bob, url=service.public_endpoint + f"/v1/x?key={REDACTED}",
                     path=f"/v1/x?key={REDACTED}",
                     request_headers={"Content-Type": "application/json",
                                      "Authorization": REDACTED, "X-Api-Key": REDACTED})
    for mode in ("env", "placeholder", "real"):
        text = snippet_of(logged_in(alice), call, token=mode).content.decode()
        assert f"key={REDACTED}" in text
        assert "X-Api-Key" in text


# A request not sent

def test_post_answers_the_snippet_of_an_invoke_body(service, bob):
    response = post_snippet(logged_in(bob), {"service": "chat", **ECHO_BODY})
    assert response.status_code == 200
    assert response["Content-Type"] == TEXT
    text = response.content.decode()
    assert text == expected(CallRequest(path="/echo", method="PUT",
                                        headers={"Content-Type": "text/plain"},
                                        body=b"hello"), service=service)
    assert service.public_endpoint + "/echo" in text
    assert TOKEN not in text
    assert not AuditEvent.objects.exists()


def test_post_takes_the_services_defaults_for_what_is_left_out(service, bob):
    response = post_snippet(logged_in(bob), {"service": "chat"})
    assert response.status_code == 200
    assert response.content.decode() == expected(CallRequest(), service=service)
    assert service.public_endpoint + "/v1/chat/completions" in response.content.decode()


@pytest.mark.parametrize("mode", ["env", "placeholder"])
@pytest.mark.parametrize("lang", snippets.NAMES)
def test_post_answers_every_target_or_its_reason(service, bob, lang, mode):
    body = {"service": "chat", "lang": lang, "token": mode, "path": "/echo", "method": "PUT",
            "headers": {"Content-Type": "application/octet-stream"},
            "body_base64": base64.b64encode(b"\xff\x00").decode()}
    response = post_snippet(logged_in(bob), body)
    request = snippets.from_request(service, CallRequest(
        path="/echo", method="PUT", headers={"Content-Type": "application/octet-stream"},
        body=b"\xff\x00"))
    reason = snippets.unavailable_reason(request, lang)
    if reason:
        assert (response.status_code, detail(response)) == (400, reason)
    else:
        assert response.status_code == 200
        assert response.content.decode() == snippets.render(request, lang, mode)
    assert TOKEN not in response.content.decode()


def test_post_for_another_teams_or_no_service_is_404(service, globex, charlie):
    for slug in ("chat", "nothing"):
        response = post_snippet(logged_in(charlie), {"service": slug, "token": "real"})
        assert response.status_code == 404
        assert "no service" in detail(response)


def test_post_real_is_for_maintainers_and_recorded_without_a_call(service, alice, bob):
    response = post_snippet(logged_in(bob), {"service": "chat", "token": "real"})
    assert response.status_code == 403
    assert not AuditEvent.objects.exists()
    response = post_snippet(logged_in(alice), {"service": "chat", "token": "real",
                                               "lang": "python", **ECHO_BODY})
    assert response.status_code == 200
    assert TOKEN in response.content.decode()
    [event] = AuditEvent.objects.all()
    assert (event.user, event.action, event.team, event.service_slug, event.detail) == (
        alice, AuditEvent.Action.TOKEN_REVEALED, service.team, "chat",
        {"target": "python", "call": None})


def test_post_real_with_an_unreadable_token_is_409(service, alice):
    service.token_encrypted = "garbage"
    service.save()
    response = post_snippet(logged_in(alice), {"service": "chat", "token": "real"})
    assert response.status_code == 409
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("body, status", [
    ({"body": "x", "body_base64": "eA=="}, 400),
    ({"body_base64": "not base64!"}, 400),
    ({"path": "//evil.example/x"}, 400),
    ({"path": "/../x"}, 400),
    ({"path": "x" * 2001}, 400),
    ({"endpoint": "moon"}, 400),
    ({"headers": {"Authorization": "mine"}}, 400),
    ({"headers": {"X": 1}}, 400),
    ({"bdy": "typo"}, 400),
    ({"service": None}, 400),
    ({"service": "a\u0000b"}, 400),
    ({"lang": ["curl"]}, 400),
    ({"body": "x" * 1_048_577}, (400, 413)),
])
def test_post_refuses_what_it_cannot_make_a_snippet_of(service, alice, body, status):
    response = post_snippet(logged_in(alice), {"service": "chat", **body})
    assert response.status_code in (status if isinstance(status, tuple) else (status,)), (
        response.content[:300])
    assert detail(response)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("name", BAD_BODIES)
def test_a_bad_post_body_is_400(service, alice, name):
    body, content_type = BAD_BODIES[name]
    response = logged_in(alice).post("/api/snippet", body, content_type=content_type)
    assert response.status_code == 400, (name, response.content[:300])
    assert detail(response)


@pytest.mark.parametrize("url", [
    "/api/calls/99999999999999999999999999999/snippet",
    "/api/calls/9223372036854775808/snippet",
    "/api/calls/0/snippet", "/api/calls/-1/snippet", "/api/calls/abc/snippet",
])
def test_odd_call_ids_are_404(service, alice, url):
    response = logged_in(alice).get(url)
    assert response.status_code == 404
    assert detail(response)


@pytest.mark.parametrize("query", [
    "lang=%00", "token=%00", "lang=%ff%fe", "lang=" + "x" * 5000, "lang=curl&lang=python",
    "token=real&token=env", "lang=curl&unknown=1",
])
def test_odd_queries_are_answered_without_a_crash(call, alice, query):
    response = logged_in(alice).get(f"/api/calls/{call.pk}/snippet?{query}")
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert len(detail(response)) < 400


# Logging in, CSRF, the OpenAPI document

def test_logged_out_both_routes_answer_401(call):
    assert Client().get(f"/api/calls/{call.pk}/snippet").status_code == 401
    response = post_snippet(Client(), {"service": "chat"})
    assert response.status_code == 401
    assert "log in" in detail(response).lower()


def test_post_needs_the_csrf_header_and_get_does_not(call, alice):
    browser = logged_in(alice, enforce_csrf_checks=True)
    browser.get("/accounts/login/")  # sets the csrftoken cookie
    response = post_snippet(browser, {"service": "chat", "token": "real"})
    assert response.status_code == 403
    assert "CSRF" in detail(response)
    assert not AuditEvent.objects.exists()
    response = post_snippet(browser, {"service": "chat"},
                            HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert response.status_code == 200
    assert snippet_of(browser, call).status_code == 200


def test_the_openapi_document_lists_both_as_text(alice):
    paths = logged_in(alice).get("/api/openapi.json").json()["paths"]
    for path, method in (("/api/calls/{id}/snippet", "get"), ("/api/snippet", "post")):
        operation = paths[path][method]
        assert list(operation["responses"]["200"]["content"]) == ["text/plain"]
        assert {"400", "401", "403", "404", "409"} <= set(operation["responses"])
    parameters = {p["name"] for p in paths["/api/calls/{id}/snippet"]["get"]["parameters"]}
    assert {"id", "lang", "token"} <= parameters


def test_a_service_of_another_kind_works_too(acme, bob):
    make_service(acme, slug="ranker", kind="model_gallery", vpc_endpoint="",
                 public_endpoint="http://1234567890123456.cn-shanghai.pai-eas.aliyuncs.com"
                                 "/api/predict/ranker", default_path="")
    for lang in snippets.NAMES:
        response = post_snippet(logged_in(bob), {"service": "ranker", "lang": lang})
        assert response.status_code in (200, 400)
        assert response.status_code == 200 or response.json()["unavailable"] == lang
