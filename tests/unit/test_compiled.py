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

    def first(values, more_values):  # the pair's two instances, with no statement before them
        return pair.first_after(None, [], 0, values, more_values)[1:]

    user, service = first({"pk": bob.pk}, {"user_pk": bob.pk, "slug": "echo"})
    assert (user, user.username, user.is_active) == (bob, "bob", True)
    assert (service, service.name, service.team_slug) == (echo, "Echo", "acme")
    assert service.read_token() == echo.read_token()  # every field converted as the ORM does
    assert service.created_at == Service.objects.get().created_at
    # A user who may not call it: the user, and no service; no user: neither.
    assert first({"pk": charlie.pk}, {"user_pk": charlie.pk, "slug": "echo"}) == (
        charlie, None)
    assert first({"pk": 987654}, {"user_pk": bob.pk, "slug": "echo"}) == (None, None)


def test_an_insert_writes_what_the_orm_writes(echo, bob):
    """Values sent as they are (AS_IS) and values Django prepares (JSON, bytes, datetimes,
    enums, lazy text, None), read back from the database as the ORM wrote them."""
    from django.utils.translation import gettext_lazy

    from services.compiled import CompiledInsert
    from services.models import Call

    values = dict(
        team=echo.team, service=echo, service_slug="echo", service_name="Echo", user=bob,
        username="bob", created_at=timezone.now(), endpoint="public", method="POST",
        path="/echo", url="http://127.0.0.1/echo", request_headers={"X-A": "1"},
        request_body=b"\x00\xff", status=200, status_class=Call.StatusClass.SUCCESS,
        elapsed_ms=1.5, response_headers={"Content-Type": "text/plain"},
        response_body=bytearray(b"ok"), response_size=2, response_declared_size=None,
        response_truncated=False, error=gettext_lazy("Not found."), error_kind="",
        ttft_ms=None, prompt_tokens=3, completion_tokens=True, streamed=True)
    compiled = CompiledInsert(Call).create(**values)
    orm = Call.objects.create(**values)
    fields = [f.attname for f in Call._meta.concrete_fields if f.attname != "id"]
    rows = {row["id"]: row for row in Call.objects.filter(
        id__in=[compiled.pk, orm.pk]).values("id", *fields)}
    assert {k: v for k, v in rows[compiled.pk].items() if k != "id"} == {
        k: v for k, v in rows[orm.pk].items() if k != "id"}
    assert rows[compiled.pk]["error"] == "Not found." and rows[compiled.pk]["status"] == 200


def test_an_insert_builds_the_instance_the_orm_builds(echo, bob):
    """The returned Call is the ORM's: every field, the related objects given by name cached
    (no query to reach them), keys given by attname, properties, defaults, None for a key; a
    name the model does not have is refused as Model() refuses it."""
    import pytest
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from services.compiled import CompiledInsert
    from services.models import Call

    def values(**more):
        return dict(service_slug="echo", service_name="Echo", username="", endpoint="public",
                    method="GET", url="http://127.0.0.1/", status_class="failed", elapsed_ms=0.5,
                    request_headers={"X-A": "1"}, **more)

    insert = CompiledInsert(Call)
    for given in (values(team=echo.team, service=echo, user=bob),
                  values(team_id=echo.team_id, service=None, user=None, status=None),
                  values(team=echo.team, service_id=echo.pk, user_id=bob.pk)):
        compiled, orm = insert.create(**given), Call.objects.create(**given)
        for field in Call._meta.concrete_fields:
            if field.attname not in ("id", "created_at"):
                assert getattr(compiled, field.attname) == getattr(orm, field.attname), field
        assert compiled.request_headers == {"X-A": "1"}
        assert (compiled._state.adding, compiled._state.db) == (False, "default")
        with CaptureQueriesContext(connection) as queries:
            cached = [getattr(compiled, name) for name in ("team", "service", "user")
                      if name in given]
        assert len(queries) == 0
        assert cached == [given[name] for name in ("team", "service", "user") if name in given]
        assert Call.objects.get(pk=compiled.pk).request_headers == {"X-A": "1"}
    assert insert.create(**values(team=echo.team, user=None)).user is None
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        insert.create(**values(team=echo.team), colour="red")
