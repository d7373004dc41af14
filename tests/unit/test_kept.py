"""A logged-in request's row (its session, user and, on a call's route, service) kept by the
process (services/kept.py, services/sessions.py): served without a query while it holds, and
never after a change that Django makes, in this process or another, nor past its bound."""

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from services import kept, sessions
from services.kept import Generations
from services.sessions import SessionStore, prefetched_user
from tests.helpers import NEW_TOKEN, logged_in, make_user

PAGE = reverse("service_list")


def load(key, slug=None):
    """(the session's data, the user read with it or None, the queries made)."""
    with CaptureQueriesContext(connection) as captured, sessions.reading_service(slug):
        data = SessionStore(key).load()
    user = prefetched_user(data["_auth_user_id"]) if "_auth_user_id" in data else None
    return data, user, len(captured.captured_queries)


def kept_session(user, slug=None):
    """A logged-in client and its session key, whose row (with slug's service) is now kept: the
    first load learns the key's user, the second reads the row and keeps it."""
    client = logged_in(user)
    key = client.cookies["sessionid"].value
    load(key, slug)
    load(key, slug)
    return client, key


def test_a_kept_row_serves_the_same_user_and_service_without_a_query(alice, service):
    _client, key = kept_session(alice, "chat")
    data, user, queries = load(key, "chat")
    assert queries == 0
    assert data["_auth_user_id"] == str(alice.pk)
    assert (user.pk, user.username, user.password, user.is_active) == (
        alice.pk, alice.username, alice.password, True)
    assert not hasattr(user, "session_data") and not hasattr(user, "session_expiry")
    found = user.services_read["chat"]
    assert found.pk == service.pk and found.read_token() == service.read_token()
    # Each request builds its own instances: changing one changes no other.
    found.name = "changed here"
    _data, again, queries = load(key, "chat")
    assert queries == 0 and again is not user
    assert again.services_read["chat"].name == service.name


def test_a_page_is_answered_from_a_kept_row(alice, acme):
    client, _key = kept_session(alice)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(PAGE)
    assert response.status_code == 200 and response.context["user"] == alice
    assert not [query for query in captured.captured_queries
                if "django_session" in query["sql"]]


def changes():
    """(what changes, the change, what the next load must see)."""
    return [
        ("logout", lambda alice, acme, service, client: client.logout(),
         lambda data, user: data == {}),
        ("password", lambda alice, acme, service, client: (
            alice.set_password("another-password-1"), alice.save()),
         lambda data, user: not user.check_password("pw-alice")),
        ("deactivated", lambda alice, acme, service, client: (
            setattr(alice, "is_active", False), alice.save()),
         lambda data, user: user.is_active is False),
        ("member removed", lambda alice, acme, service, client: (
            acme.memberships.get(user=alice).delete()),
         lambda data, user: user.services_read["chat"] is None),
        ("token changed", lambda alice, acme, service, client: (
            service.set_token(NEW_TOKEN), service.save()),
         lambda data, user: user.services_read["chat"].read_token() == NEW_TOKEN),
        ("service deleted", lambda alice, acme, service, client: service.delete(),
         lambda data, user: user.services_read["chat"] is None),
        ("team renamed", lambda alice, acme, service, client: (
            setattr(acme, "slug", "acme-2"), acme.save()),
         lambda data, user: user.services_read["chat"].team_slug == "acme-2"),
    ]


@pytest.mark.parametrize("change, seen", [case[1:] for case in changes()],
                         ids=[case[0] for case in changes()])
def test_a_change_made_through_django_is_seen_by_the_next_request(alice, acme, service,
                                                                  change, seen):
    client, key = kept_session(alice, "chat")
    change(alice, acme, service, client)
    data, user, queries = load(key, "chat")
    assert queries >= 1
    assert seen(data, user)


@pytest.mark.parametrize("change", ["password", "deactivated"])
def test_a_user_changed_is_logged_out_at_once(alice, acme, change):
    client, _key = kept_session(alice)
    if change == "password":
        alice.set_password("another-password-1")
    else:
        alice.is_active = False
    alice.save()
    assert client.get(PAGE).status_code == 302


def test_a_member_added_through_the_relation_sees_the_service_at_once(charlie, service, acme):
    _client, key = kept_session(charlie, "chat")
    assert load(key, "chat")[1].services_read["chat"] is None
    acme.members.add(charlie)  # a many-to-many change, not a Membership save
    assert load(key, "chat")[1].services_read["chat"].pk == service.pk


def test_a_change_in_another_process_ends_the_kept_rows(alice, service):
    _client, key = kept_session(alice, "chat")
    assert load(key, "chat")[2] == 0
    script = ("import sys; from services.kept import Generations; "
              "Generations.open(sys.argv[1])[:8] = b'another!'")
    subprocess.run([sys.executable, "-c", script, kept.path_of("default")], check=True,
                   cwd=django_settings.BASE_DIR, timeout=60)
    assert load(key, "chat")[2] == 1


def test_a_change_no_signal_sees_ends_within_the_bound(alice, acme, monkeypatch, settings):
    """QuerySet.update() sends no signal: the kept row serves until it is
    EASPORTAL_SESSION_CACHE_S old, and not after."""
    settings.EASPORTAL_SESSION_CACHE_S = 2.0
    client, key = kept_session(alice)
    type(alice).objects.filter(pk=alice.pk).update(is_active=False)
    assert load(key)[2] == 0
    later = kept.monotonic() + 2.0
    monkeypatch.setattr(kept, "monotonic", lambda: later)
    assert load(key)[2] >= 1
    assert client.get(PAGE).status_code == 302


def test_nothing_is_kept_at_zero(alice, service, settings):
    settings.EASPORTAL_SESSION_CACHE_S = 0
    _client, key = kept_session(alice, "chat")
    assert [load(key, "chat")[2] for _ in range(3)] == [1, 1, 1]


def test_a_kept_session_past_its_expiry_is_not_served(alice, acme, monkeypatch):
    client, key = kept_session(alice)
    expiry = SessionStore(key).get_expiry_date()
    later = expiry + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    data, user, _queries = load(key)
    assert data == {} and user is None
    assert client.get(PAGE).status_code == 302


def test_a_change_inside_a_transaction_ends_the_rows_again_when_it_commits(
        alice, acme, django_capture_on_commit_callbacks):
    _client, key = kept_session(alice)
    with django_capture_on_commit_callbacks(execute=True):
        alice.first_name = "Alice"
        alice.save()
        # A reader between the change and its commit keeps a row...
        assert load(key)[2] == 1
        assert load(key)[2] == 0
    # ...which the commit ends.
    assert load(key)[2] == 1


def test_rows_of_another_database_are_not_ended(alice, acme, tmp_path):
    _client, key = kept_session(alice)
    Generations.open(str(tmp_path / "another"))[:8] = os.urandom(8)
    assert load(key)[2] == 0


@pytest.mark.parametrize("mode", [0o666, 0o620])
def test_a_generation_file_others_may_write_is_not_trusted(mode, tmp_path):
    path = tmp_path / "generation"
    path.write_bytes(b"\x00" * 8)
    path.chmod(mode)
    assert Generations.open(str(path)) is None
    path.chmod(0o600)
    assert Generations.open(str(path)) is not None


def test_the_rows_kept_are_bounded(alice, acme, monkeypatch):
    monkeypatch.setattr(kept, "MAX_ROWS", 2)
    for name in ("one", "two", "three"):
        kept_session(make_user(name))
    assert len(kept.KEPT._rows) <= 2


def test_a_key_rotation_ends_the_kept_rows(alice, service, settings):
    """rotate_token_keys writes with QuerySet.update(), which sends no signal: it ends the kept
    rows itself, and the next call reads the token's new ciphertext."""
    _client, key = kept_session(alice, "chat")
    before = load(key, "chat")[1].services_read["chat"].token_encrypted
    settings.EASPORTAL_TOKEN_KEYS = [Fernet.generate_key().decode(),
                                     *settings.EASPORTAL_TOKEN_KEYS]
    call_command("rotate_token_keys", stdout=StringIO())
    _data, user, queries = load(key, "chat")
    assert queries == 1
    assert user.services_read["chat"].token_encrypted != before
    assert user.services_read["chat"].read_token() == service.read_token()


def test_a_kept_row_is_not_served_when_the_database_cannot_be_reached(
        transactional_db, alice, echo, emulator_received, monkeypatch):
    """Without its query, a request whose row is kept still finds out that the database went
    away, as the query would have: a call's route answers 503 and sends nothing it could not
    record. (tests/load/test_database_restart.py: the same with a real server stopping.)"""
    client, key = kept_session(alice, "echo")
    client.raise_request_exception = False
    database = connections["default"]

    def unreachable(*_args, **_kwargs):
        raise database.Database.OperationalError("the server is gone")

    database.close()  # as a server that stops ends its connections
    monkeypatch.setattr(database, "get_new_connection", unreachable)
    with pytest.raises(OperationalError):
        load(key, "echo")
    response = client.post("/api/services/echo/invoke", {"body": "hi"},
                           content_type="application/json")
    assert response.status_code == 503 and "cannot reach its database" in response.text
    assert emulator_received == []
    assert client.get(PAGE).status_code == 503
    monkeypatch.undo()
    assert load(key, "echo")[0]["_auth_user_id"] == str(alice.pk)
