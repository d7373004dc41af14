"""A session this process has read before is read with its user in one query
(services/sessions.py): the same user Django would find, checked as Django checks it, or
nobody."""

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from services import sessions
from services.auth import UserBackend
from services.sessions import SessionStore, prefetched_user
from tests.helpers import logged_in

PAGE = "service_list"


def queries_of(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(PAGE))
    return response, [query["sql"] for query in captured.captured_queries]


def warm(user):
    """A client logged in as user whose session this process has read once."""
    client = logged_in(user)
    assert client.get(reverse(PAGE)).status_code == 200
    return client, client.cookies["sessionid"].value


def test_the_second_request_reads_session_and_user_in_one_query(alice, acme):
    client = logged_in(alice)
    first, cold = queries_of(client)
    second, known = queries_of(client)
    assert first.status_code == second.status_code == 200
    assert first.context["user"] == second.context["user"] == alice
    assert len(known) == len(cold) - 1
    [joined] = [sql for sql in known if "django_session" in sql]
    assert "auth_user" in joined
    assert not any("auth_user" in sql and "django_session" not in sql for sql in known)


def test_a_changed_password_still_ends_the_session(alice, acme):
    client, _key = warm(alice)
    alice.set_password("another-password-1")
    alice.save()
    assert client.get(reverse(PAGE)).status_code == 302


def test_a_deactivated_or_deleted_user_is_nobody(alice, bob, acme):
    client, _key = warm(bob)
    bob.is_active = False
    bob.save()
    assert client.get(reverse(PAGE)).status_code == 302
    client, _key = warm(alice)
    alice.delete()
    assert client.get(reverse(PAGE)).status_code == 302


def test_an_expired_or_ended_session_is_not_read(alice, acme):
    client, key = warm(alice)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    assert client.get(reverse(PAGE)).status_code == 302
    client, key = warm(alice)
    Session.objects.filter(session_key=key).delete()  # as logging out does
    assert client.get(reverse(PAGE)).status_code == 302
    assert SessionStore(key).load() == {}


def test_a_wrong_guess_reads_the_sessions_own_user(alice, bob, acme):
    client, key = warm(alice)
    sessions._users_of_keys[key] = str(bob.pk)
    assert SessionStore(key).load()["_auth_user_id"] == str(alice.pk)
    assert prefetched_user(bob.pk) is None
    response = client.get(reverse(PAGE))
    assert response.status_code == 200 and response.context["user"] == alice
    assert sessions._users_of_keys[key] == str(alice.pk)


def test_the_prefetched_user_serves_its_own_id_once(alice, bob, acme):
    _client, key = warm(alice)
    SessionStore(key).load()
    assert UserBackend().get_user(bob.pk) == bob  # not alice, and alice's is taken
    assert prefetched_user(alice.pk) is None
    SessionStore(key).load()
    user = prefetched_user(alice.pk)
    assert user == alice and user.is_active
    assert not hasattr(user, "session_data")  # the session's data stays out of request.user
    assert prefetched_user(alice.pk) is None


def test_a_session_without_a_user_is_not_guessed(alice):
    store = SessionStore()
    store["django_language"] = "zh-hans"
    store.save()
    assert SessionStore(store.session_key).load() == {"django_language": "zh-hans"}
    assert store.session_key not in sessions._users_of_keys
    assert Client().get(reverse(PAGE)).status_code == 302


def test_a_sessions_data_is_checked_once_per_text_and_key(alice, acme, monkeypatch, settings):
    """The signature of a session's data is checked and its text decoded once per text and
    secret key: a request gets a copy of what was read (changing it changes nothing kept), a
    changed text is read again, and so is every text under another secret key."""
    _client, key = warm(alice)
    text = Session.objects.get(session_key=key).session_data
    reads = []
    real_loads = signing.loads
    monkeypatch.setattr(signing, "loads", lambda *a, **k: reads.append(1) or real_loads(*a, **k))
    first = SessionStore(key).decode(text)
    assert reads == [] and first["_auth_user_id"] == str(alice.pk)
    first["_auth_user_id"] = "someone else"
    assert SessionStore(key).decode(text)["_auth_user_id"] == str(alice.pk)
    store = SessionStore(key)
    store["django_language"] = "zh-hans"
    store.save()
    assert SessionStore(key).load()["django_language"] == "zh-hans" and reads == [1]
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert SessionStore(key).decode(text) == {}  # its signature no longer holds
    assert len(reads) == 2


def test_data_that_a_request_could_change_in_place_is_read_every_time(alice):
    store = SessionStore()
    store["recent"] = ["a", "b"]
    store.save()
    loaded = SessionStore(store.session_key).load()
    loaded["recent"].append("c")
    assert SessionStore(store.session_key).load()["recent"] == ["a", "b"]
