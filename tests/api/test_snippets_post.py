"""The real token only by POST (issue 14, defect 9): the snippet routes export it to a
maintainer's POST with the session's CSRF header, or a personal key, never to a GET."""

import json

from django.test import Client

from services import keys
from services.models import AuditEvent
from tests.helpers import (
    JSON,
    TOKEN,
    detail,
    logged_in,
    send,
)
from tests.helpers import (
    SNIPPET_TEXT as TEXT,
)
from tests.helpers import (
    expected_snippet as expected,
)

# The real token only by POST: a link, an image or a form of another site makes a maintainer's
# browser send a GET, or a POST without the X-CSRFToken header; neither may export it or
# write token.revealed in their name.

def saved_request_id(client):
    response = send(client, "post", "/api/services/chat/requests", {"name": "Ask"})
    assert response.status_code == 201
    return response.json()["id"]


def test_a_get_for_the_real_token_is_refused_and_says_to_post(call, alice):
    client = logged_in(alice)
    saved = saved_request_id(client)
    for url in (f"/api/calls/{call.pk}/snippet", f"/api/requests/{saved}/snippet"):
        response = client.get(url, {"lang": "curl", "token": "real"})
        assert response.status_code == 400
        assert f"POST {url}" in detail(response)
        assert TOKEN not in response.content.decode()
        # The harmless modes stay a GET.
        assert client.get(url, {"token": "env"}).status_code == 200
        assert client.get(url, {"token": "placeholder"}).status_code == 200
    assert not AuditEvent.objects.exists()


def test_a_cross_site_request_exports_nothing_and_records_nothing(call, alice):
    browser = logged_in(alice, enforce_csrf_checks=True)
    url = f"/api/calls/{call.pk}/snippet"
    assert browser.get(url, {"token": "real"}).status_code == 400  # <img src=...>
    forged = browser.post(url, json.dumps({"token": "real"}), content_type=JSON)
    assert forged.status_code == 403 and "CSRF" in detail(forged)
    assert browser.post(url + "?token=real&lang=curl").status_code == 403  # <form method=post>
    assert not AuditEvent.objects.exists()
    # The portal's own page has the CSRF cookie, and sends its value in the header.
    browser.get(f"/calls/{call.pk}/")
    csrf = browser.cookies["csrftoken"].value
    response = browser.post(url, json.dumps({"token": "real"}), content_type=JSON,
                            HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200 and TOKEN in response.content.decode()
    assert AuditEvent.objects.get().detail == {"target": "curl", "call": call.pk}


def test_post_takes_lang_and_token_from_the_body_or_else_the_query(call, alice):
    client = logged_in(alice)
    url = f"/api/calls/{call.pk}/snippet"
    by_body = send(client, "post", url, {"lang": "python", "token": "real"})
    by_query = send(client, "post", url + "?lang=python&token=real", {})
    assert by_body.status_code == by_query.status_code == 200
    assert by_body["Content-Type"] == TEXT and by_body["Cache-Control"] == "no-store"
    assert by_body.content.decode() == by_query.content.decode() == expected(
        call, "python", "real", token=TOKEN)
    assert [event.detail for event in AuditEvent.objects.order_by("id")] == [
        {"target": "python", "call": call.pk}] * 2
    # The body wins over the query; the harmless modes answer by POST too, unrecorded.
    assert send(client, "post", url + "?token=real", {"token": "env"}).content.decode() == (
        expected(call))
    assert send(client, "post", url, {}).content.decode() == expected(call)
    assert AuditEvent.objects.count() == 2
    for bad in ({"token": "Real"}, {"lang": "cobol"}, {"tokn": "real"}):
        assert send(client, "post", url, bad).status_code == 400
    assert AuditEvent.objects.count() == 2


def test_post_exports_a_saved_requests_real_token_for_maintainers_only(service, alice, bob,
                                                                       globex, charlie):
    url = f"/api/requests/{saved_request_id(logged_in(bob))}/snippet"
    assert send(logged_in(bob), "post", url, {"token": "real"}).status_code == 403
    assert send(logged_in(charlie), "post", url, {"token": "real"}).status_code == 404
    assert not AuditEvent.objects.exists()
    response = send(logged_in(alice), "post", url, {"token": "real", "lang": "httpie"})
    assert response.status_code == 200 and TOKEN in response.content.decode()
    [event] = AuditEvent.objects.all()
    assert (event.username, event.action, event.detail) == (
        "alice", AuditEvent.Action.TOKEN_REVEALED, {"target": "httpie", "call": None})


def test_a_personal_key_posts_for_the_real_token_without_a_csrf_header(call, alice):
    raw = keys.make(alice, "ci", None)[1]
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/api/calls/{call.pk}/snippet"
    assert client.get(url, {"token": "real"}).status_code == 400
    response = send(client, "post", url, {"token": "real"})
    assert response.status_code == 200 and TOKEN in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVEALED).count() == 1
