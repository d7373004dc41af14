"""A call's lookups (services/access.py, read_with_service()): the invoke route and the gateway
read the caller and the service in one query, with the rights the caller has at that moment.

alice maintains Acme, bob is a member; charlie, of Globex, sees none of Acme's services; root is
a superuser in no team."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from services import access, keys
from services.auth import USER_BY_PK, UserBackend
from services.errors import Refusal
from services.models import ApiKey, Call, Membership
from tests.helpers import logged_in

BODY = json.dumps({"path": "/echo"})


def invoke(client, slug="echo"):
    return client.post(f"/api/services/{slug}/invoke", BODY, content_type="application/json")


def keyed(user):
    return Client(HTTP_AUTHORIZATION=f"Bearer {keys.make(user, 'ci', None)[1]}")


def queries_of(request):
    """The answer of request() and the SQL of the queries it made."""
    with CaptureQueriesContext(connection) as captured:
        response = request()
    return response, [query["sql"] for query in captured.captured_queries]


def test_a_session_call_reads_its_session_user_and_service_in_one_query(echo, bob):
    client = logged_in(bob)
    assert invoke(client).status_code == 200  # this process learns the session's user
    response, queries = queries_of(lambda: invoke(client))
    assert response.status_code == 200
    assert response.json()["service"] == "echo"
    assert len(queries) == 2, queries  # the session, its user and the service; the record
    assert all(table in queries[0] for table in ("django_session", "auth_user",
                                                 "services_service", "services_membership"))
    assert queries[1].startswith("INSERT")


@pytest.mark.parametrize("route", ["/api/services/echo/invoke", "/gw/echo/echo"])
def test_a_key_call_reads_its_user_and_service_in_one_query(route, echo, bob):
    client = keyed(bob)
    response, queries = queries_of(lambda: client.post(route, BODY,
                                                       content_type="application/json"))
    assert response.status_code == 200
    assert len(queries) == 3, queries  # the key counted; its user and the service; the record
    assert queries[0].startswith("UPDATE")
    assert "auth_user" in queries[1] and "services_service" in queries[1]
    # Once this process knows the key's user, PostgreSQL also counts the key in that query.
    response, queries = queries_of(lambda: client.post(route, BODY,
                                                       content_type="application/json"))
    assert response.status_code == 200
    if connection.vendor == "postgresql":
        assert len(queries) == 2, queries
        assert queries[0].startswith("WITH lead AS (UPDATE")
        assert "auth_user" in queries[0] and "services_service" in queries[0]
    else:
        assert len(queries) == 3, queries
    assert ApiKey.objects.get().rate_count == 2


def test_the_keys_rate_holds_when_it_is_counted_with_the_lookups(echo, bob, settings):
    settings.EASPORTAL_KEY_RATE_PER_MIN = 3
    client = keyed(bob)
    assert [invoke(client).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert Call.objects.count() == 3


@pytest.mark.parametrize("change", ["revoke", "deactivate"])
def test_a_revoked_key_or_inactive_user_opens_nothing_from_the_next_request(change, echo, bob):
    client = keyed(bob)
    assert [invoke(client).status_code for _ in range(2)] == [200, 200]
    if change == "revoke":
        keys.revoke(ApiKey.objects.get(), bob)
    else:
        bob.is_active = False
        bob.save()
    assert invoke(client).status_code == 401


@pytest.mark.parametrize("way", ["session", "key"])
def test_a_member_removed_from_the_team_cannot_call_from_the_next_request(way, echo, bob):
    client = logged_in(bob) if way == "session" else keyed(bob)
    assert invoke(client).status_code == 200
    assert invoke(client).status_code == 200
    Membership.objects.filter(user=bob).delete()
    response = invoke(client)
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no service “echo”."


@pytest.mark.parametrize("way", ["session", "key"])
def test_a_superuser_calls_the_services_of_teams_they_are_not_in(way, echo, root):
    client = logged_in(root) if way == "session" else keyed(root)
    for _ in range(2):  # the second session request reads the user and service together
        response = invoke(client)
        assert response.status_code == 200
        assert response.json()["user"] == "root"


def test_an_outsider_is_told_the_service_does_not_exist(echo, charlie):
    for client in (logged_in(charlie), logged_in(charlie), keyed(charlie)):
        assert invoke(client).status_code == 404


def test_a_service_read_with_the_user_serves_that_slug_once(echo, bob):
    user = access.read_with_service(USER_BY_PK, "echo", bob.pk)
    assert user == bob and user.services_read["echo"] == echo
    with CaptureQueriesContext(connection) as captured:
        service = access.service_to_call(user, "echo")
    assert (service, service.team.slug, len(captured)) == (echo, "acme", 0)
    with CaptureQueriesContext(connection) as captured:
        assert access.service_to_call(user, "echo") == echo  # taken: read again
    assert len(captured) == 1
    with pytest.raises(Refusal) as refused:
        access.service_to_call(access.read_with_service(USER_BY_PK, "echo", bob.pk), "other")
    assert refused.value.status == 404

    bob.is_active = False
    bob.save()
    assert UserBackend().get_user_reading_service(bob.pk, "echo") is None
