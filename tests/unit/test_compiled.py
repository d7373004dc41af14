"""The lookups every request makes, compiled once: they must find exactly what the ORM finds."""

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from services.auth import USER_BY_PK, UserBackend
from services.compiled import CompiledPair, CompiledQuery
from services.models import Service
from services.sessions import SessionStore
from tests.helpers import logged_in


def logged_in_session(user):
    """A client logged in as user, and its session key."""
    client = logged_in(user)
    return client, client.cookies["sessionid"].value


def test_a_logged_in_session_is_found_and_loads_its_user(alice, acme):
    client, key = logged_in_session(alice)
    assert SessionStore(key).load()["_auth_user_id"] == str(alice.pk)
    assert client.get(reverse("service_list")).status_code == 200


def test_an_expired_or_unknown_session_is_not(alice):
    client, key = logged_in_session(alice)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    assert SessionStore(key).load() == {}
    assert SessionStore("no-such-session-key-0000000000").load() == {}
    assert client.get(reverse("service_list")).status_code == 302  # back to the login page


def test_the_backend_loads_active_users_only(alice, bob):
    assert UserBackend().get_user(alice.pk) == alice
    bob.is_active = False
    bob.save()
    assert UserBackend().get_user(bob.pk) is None
    assert UserBackend().get_user(987654) is None


def test_a_pair_reads_both_rows_or_says_which_is_missing(echo, bob, charlie):
    # The service of a slug, when a team that the user is in holds it.
    theirs = CompiledQuery(Service, lambda user_pk, slug: Service.objects.filter(
        slug=slug, team__memberships__user_id=user_pk).annotate(team_slug=F("team__slug")),
        user_pk=-7301, slug="\x00slug")
    pair = CompiledPair(USER_BY_PK, theirs)
    user, service = pair.first({"pk": bob.pk}, {"user_pk": bob.pk, "slug": "echo"})
    assert (user, user.username, user.is_active) == (bob, "bob", True)
    assert (service, service.name, service.team_slug) == (echo, "Echo", "acme")
    assert service.read_token() == echo.read_token()  # every field converted as the ORM does
    assert service.created_at == Service.objects.get().created_at
    # A user who may not call it: the user, and no service; no user: neither.
    assert pair.first({"pk": charlie.pk}, {"user_pk": charlie.pk, "slug": "echo"}) == (
        charlie, None)
    assert pair.first({"pk": 987654}, {"user_pk": bob.pk, "slug": "echo"}) == (None, None)
