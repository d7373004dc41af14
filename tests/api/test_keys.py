"""Personal keys (docs/api.md, "Personal keys and the gateway"): made, listed and revoked through
/api/keys, stored only as a hash, and accepted by every /api/ route as a Bearer token with
exactly the rights their owner has at the time."""

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from services import keys
from services.models import ApiKey, AuditEvent, Membership
from tests.helpers import detail, logged_in, send


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def make_key(user, name="ci", expires_at=None):
    return keys.make(user, name, expires_at)[1]


def test_a_key_is_made_shown_once_and_kept_as_a_hash(bob):
    client = logged_in(bob)
    response = send(client, "post", "/api/keys", {"name": "laptop", "expires_at": None})
    assert response.status_code == 201
    made = response.json()
    raw = made["key"]
    assert raw.startswith("eap_") and len(raw) >= 36
    assert made["prefix"] == raw[:12] and made["name"] == "laptop"
    stored = ApiKey.objects.get()
    assert stored.key_hash == keys.digest(raw) and raw not in stored.key_hash
    listed = send(client, "get", "/api/keys").json()
    assert listed == [{key: made[key] for key in made if key != "key"}]
    event = AuditEvent.objects.get()
    assert (event.action, event.username, event.detail["key"]) == ("key.created", "bob",
                                                                   raw[:12])
    assert raw not in json.dumps(event.detail)


def test_a_key_authenticates_the_api_without_csrf(bob, acme, service):
    raw = make_key(bob)
    client = Client(enforce_csrf_checks=True)
    assert client.get("/api/services", **bearer(raw)).json()[0]["slug"] == "chat"
    response = client.patch("/api/services/chat", json.dumps({"name": "X"}),
                            content_type="application/json", **bearer(raw))
    assert response.status_code == 403  # bob is a member, not a maintainer: his rights
    assert "maintainers" in response.json()["detail"]
    assert ApiKey.objects.get().last_used_at is not None


def test_a_key_has_its_owners_rights_at_the_time_of_the_call(bob, acme, service):
    raw = make_key(bob)
    assert Client().get("/api/services/chat", **bearer(raw)).status_code == 200
    Membership.objects.filter(user=bob).delete()
    assert Client().get("/api/services/chat", **bearer(raw)).status_code == 404


@pytest.mark.parametrize("header", [
    "Bearer eap_unknown-key-000000000000000000000000000000000",
    "Bearer not-a-key",
    "Bearer ",
])
def test_a_key_that_does_not_open_is_401(bob, header):
    response = Client().get("/api/services", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "unknown, revoked or expired" in response.json()["detail"] or header == "Bearer "


def test_a_revoked_or_expired_key_is_401(bob):
    revoked, expired = make_key(bob, "old"), make_key(
        bob, "short", expires_at=timezone.now() + timedelta(seconds=1))
    client = logged_in(bob)
    key_id = ApiKey.objects.get(name="old").pk
    assert send(client, "delete", f"/api/keys/{key_id}").status_code == 204
    ApiKey.objects.filter(name="short").update(expires_at=timezone.now() - timedelta(1))
    for raw in (revoked, expired):
        response = Client().get("/api/services", **bearer(raw))
        assert response.status_code == 401
        assert raw not in response.content.decode()
    assert AuditEvent.objects.filter(action="key.revoked").count() == 1
    assert [key["name"] for key in send(client, "get", "/api/keys").json()] == ["short"]


def test_a_key_cannot_make_keys(bob):
    raw = make_key(bob)
    response = Client().post("/api/keys", json.dumps({"name": "more"}),
                             content_type="application/json", **bearer(raw))
    assert response.status_code == 403 and ApiKey.objects.count() == 1


def test_only_ones_own_keys_are_listed_and_revoked(bob, alice):
    make_key(alice, "alice's")
    assert send(logged_in(bob), "get", "/api/keys").json() == []
    key_id = ApiKey.objects.get().pk
    assert send(logged_in(bob), "delete", f"/api/keys/{key_id}").status_code == 404
    assert ApiKey.objects.get().revoked_at is None


@pytest.mark.parametrize(("payload", "message"), [
    ({"name": " "}, "give the key a name"),
    ({"name": "x", "expires_at": "2020-01-01T00:00:00Z"}, "in the future"),
    ({"name": "x", "expires_at": "2099-01-01T00:00:00"}, "time zone"),
    ({"name": "x", "expires_at": "soon"}, "expires_at"),
    ({"name": "x" * 101}, "name"),
])
def test_a_bad_key_request_is_400(bob, payload, message):
    response = send(logged_in(bob), "post", "/api/keys", payload)
    assert response.status_code == 400 and message in response.json()["detail"]
    assert not ApiKey.objects.exists()


def test_an_expiry_is_kept(bob):
    when = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    response = send(logged_in(bob), "post", "/api/keys",
                    {"name": "ci", "expires_at": when.isoformat()})
    assert response.json()["expires_at"].startswith(when.strftime("%Y-%m-%dT%H:%M:%S"))
    assert ApiKey.objects.get().expires_at == when


def test_logged_out_and_keyless_is_401():
    assert Client().get("/api/keys").status_code == 401


def test_with_a_key_an_unknown_route_or_method_is_404_or_405_not_401(bob):
    raw = make_key(bob)
    assert Client().get("/api/no/such/route", **bearer(raw)).status_code == 404
    assert Client().put("/api/keys", **bearer(raw)).status_code == 405
    assert Client().get("/api/no/such/route").status_code == 401


@pytest.fixture
def spent_key(bob, settings):
    """A key of bob's that has made the one request its rate allows this minute."""
    settings.EASPORTAL_KEY_RATE_PER_MIN = 1
    raw = make_key(bob)
    if time.time() % 60 > 50:  # keep the test's requests in one minute
        time.sleep(11)
    assert Client().get("/api/keys", **bearer(raw)).status_code == 200
    return raw


def test_a_key_past_its_rate_is_a_429_that_the_document_declares(bob, spent_key):
    # Found by the API's fuzzing (tests/fuzz/): every route answered a key past its rate with
    # 429, and the OpenAPI document declared it on none.
    response = Client().get("/api/keys", **bearer(spent_key))
    assert response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 60
    paths = logged_in(bob).get("/api/openapi.json").json()["paths"]
    undeclared = [f"{method.upper()} {path}" for path, methods in paths.items()
                  for method, operation in methods.items() if "429" not in operation["responses"]]
    assert undeclared == []


def test_a_key_past_its_rate_is_429_on_an_unknown_route_or_method_too(spent_key):
    # Found by the API's fuzzing (tests/fuzz/): there such a key was told to log in (401).
    for response in (Client().get("/api/no/such/route", **bearer(spent_key)),
                     Client().put("/api/keys", **bearer(spent_key)),
                     Client().get("/api/calls/not-a-number", **bearer(spent_key))):
        assert response.status_code == 429, response.content
        assert "limit" in detail(response) and 1 <= int(response["Retry-After"]) <= 60
