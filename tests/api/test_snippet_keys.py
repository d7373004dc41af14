"""Snippets in key mode through the API (docs/api.md, "Snippets"): the portal's gateway with a
personal key, for any member, on both routes; nothing secret in them and nothing audited."""

import json

import pytest

from services import snippets
from services.calls import CallRequest
from services.models import AuditEvent
from tests.helpers import ECHO_BODY, TOKEN, detail, logged_in, post_snippet, snippet_of

TEXT = "text/plain; charset=utf-8"


def key_snippet_expected(call_or_request, lang="curl", service=None,
                         portal="http://testserver/"):
    if service is None:
        request = snippets.from_call(call_or_request)
    else:
        request = snippets.from_request(service, call_or_request)
    return snippets.render(request, lang, "key", portal=portal)


@pytest.mark.parametrize("lang", snippets.NAMES)
def test_a_member_gets_every_key_snippet_or_the_reason(call, odd_call, bob, lang):
    for recorded in (call, odd_call):
        response = snippet_of(logged_in(bob), recorded, lang=lang, token="key")
        through = snippets.via_gateway(snippets.from_call(recorded), "http://testserver/")
        reason = snippets.unavailable_reason(through, lang)
        if reason:
            assert response.status_code == 400
            assert response.json() == {"detail": reason, "unavailable": lang}
        else:
            assert response.status_code == 200, response.content
            assert response["Content-Type"] == TEXT
            assert response["Cache-Control"] == "no-store"
            text = response.content.decode()
            assert text == key_snippet_expected(recorded, lang)
            assert "http://testserver/gw/chat/" in text and "EASPORTAL_KEY" in text
        assert TOKEN not in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_the_key_snippet_calls_the_portal_at_the_address_it_was_asked_at(call, bob):
    response = logged_in(bob).get(f"/api/calls/{call.pk}/snippet",
                                  {"lang": "python", "token": "key"}, secure=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert text == key_snippet_expected(call, "python", portal="https://testserver/")
    assert '"https://testserver/gw/chat/v1/chat/completions",' in text
    assert '"Authorization": "Bearer " + os.environ["EASPORTAL_KEY"],' in text


def test_a_key_snippet_of_a_call_whose_service_is_gone_is_400(call, service, bob):
    service.delete()
    response = snippet_of(logged_in(bob), call, token="key")
    assert response.status_code == 400
    assert response.json() == {"detail": (
        "The service of this call no longer exists, so there is no gateway to call with a "
        "personal key: choose token=env or token=placeholder.")}
    assert snippet_of(logged_in(bob), call).status_code == 200  # env still works


def test_another_teams_call_is_404_in_key_mode_too(call, globex, charlie):
    response = snippet_of(logged_in(charlie), call, token="key")
    assert response.status_code == 404


def test_post_answers_the_key_snippet_of_an_invoke_body(service, bob):
    response = post_snippet(logged_in(bob), {"service": "chat", "token": "key",
                                             "endpoint": "vpc", **ECHO_BODY})
    assert response.status_code == 200
    text = response.content.decode()
    assert text == key_snippet_expected(
        CallRequest(endpoint="vpc", path="/echo", method="PUT",
                    headers={"Content-Type": "text/plain"}, body=b"hello"), service=service)
    assert "curl 'http://testserver/gw/chat/echo'" in text
    assert "-H 'X-Easportal-Endpoint: vpc'" in text
    assert '-H "Authorization: Bearer ${EASPORTAL_KEY}"' in text
    assert service.vpc_endpoint not in text and TOKEN not in text
    assert not AuditEvent.objects.exists()


def test_post_in_key_mode_refuses_a_header_the_gateway_does_not_pass_on(service, bob):
    response = post_snippet(logged_in(bob), {"service": "chat", "token": "key",
                                             "headers": {"Cookie": "a=b"}})
    assert response.status_code == 400
    assert "does not pass on the header Cookie" in detail(response)
    assert post_snippet(logged_in(bob), {"service": "chat",
                                         "headers": {"Cookie": "a=b"}}).status_code == 200


def test_the_openapi_document_names_the_key_mode(alice):
    paths = logged_in(alice).get("/api/openapi.json").json()["paths"]
    [token] = [p for p in paths["/api/calls/{id}/snippet"]["get"]["parameters"]
               if p["name"] == "token"]
    assert "key calls the portal's gateway" in json.dumps(token)
