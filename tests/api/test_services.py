"""The JSON API's services: list, read, create, edit, delete; the token never comes back.

alice maintains Acme, bob is a member of it, charlie maintains Globex and should have no
access to Acme's services (404, never 403)."""

import pytest

from services.models import Call, Role, Service, Team
from tests.helpers import (
    EAS_PUBLIC,
    NEW_TOKEN,
    OBJECT_ROUTES,
    TOKEN,
    detail,
    logged_in,
    make_service,
    send,
    service_data,
)

SERVICE_KEYS = {
    "slug", "name", "team", "kind", "gateway", "public_endpoint", "vpc_endpoint",
    "default_endpoint", "description", "default_path", "default_method", "default_body",
    "timeout_s", "region", "token_hint", "created_at", "updated_at", "warnings", "probe",
}


def test_the_list_shows_the_services_of_my_teams_only(service, globex, bob):
    make_service(globex, slug="globex-chat", name="Globex Chat")
    response = logged_in(bob).get("/api/services")
    assert response.status_code == 200
    [item] = response.json()
    assert set(item) == SERVICE_KEYS
    assert (item["slug"], item["team"]) == ("chat", "acme")


def test_the_list_costs_the_same_for_one_service_or_many(service, acme, alice,
                                                        django_assert_max_num_queries):
    for index in range(10):
        make_service(acme, slug=f"chat-{index}")
    client = logged_in(alice)
    with django_assert_max_num_queries(3):  # the session, the user, the services with teams
        assert len(client.get("/api/services").json()) == 11


def test_a_service_reads_in_full_without_its_token(service, bob):
    response = logged_in(bob).get("/api/services/chat")
    assert response.status_code == 200
    item = response.json()
    assert set(item) == SERVICE_KEYS
    assert item["team"] == "acme"
    assert item["region"] == "cn-hangzhou"
    assert item["token_hint"] == TOKEN[-4:]
    assert item["created_at"].endswith("Z")
    assert item["warnings"] == []
    assert TOKEN not in response.text and service.token_encrypted not in response.text


@pytest.mark.parametrize("method, url, data", [
    route for route in OBJECT_ROUTES if "/services/chat" in route[1]])
def test_outsiders_get_404_for_another_teams_service(service, globex, charlie, method, url,
                                                    data):
    response = send(logged_in(charlie), method, url, data)
    assert response.status_code == 404
    assert detail(response) == "There is no service “chat”."
    assert Service.objects.get(slug="chat").name == "Chat"


def test_an_unknown_service_is_404(alice):
    assert logged_in(alice).get("/api/services/nope").status_code == 404


def test_a_maintainer_creates_a_service(acme, alice):
    response = send(logged_in(alice), "post", "/api/services", service_data(
        default_path="/v1/rerank", description="Reranks", timeout_s=30))
    assert response.status_code == 201
    item = response.json()
    assert set(item) == SERVICE_KEYS
    assert item["slug"] == "reranker" and item["team"] == "acme"
    assert item["token_hint"] == NEW_TOKEN[-4:]
    assert item["default_endpoint"] == "public" and item["default_method"] == "POST"
    assert item["timeout_s"] == 30 and item["region"] == "cn-hangzhou"
    service = Service.objects.get(slug="reranker")
    assert service.read_token() == NEW_TOKEN
    assert service.created_by == alice and service.updated_by == alice
    assert NEW_TOKEN not in response.text and "token" not in item


def test_a_new_service_carries_its_endpoint_warnings(acme, alice):
    bare_host = "http://1234567890123456.cn-hangzhou.pai-eas.aliyuncs.com"
    response = send(logged_in(alice), "post", "/api/services",
                    service_data(public_endpoint=bare_host))
    assert response.status_code == 201
    assert response.json()["warnings"]
    assert response.json()["warnings"] == Service.objects.get().endpoint_warnings()


def test_members_cannot_create_services(acme, bob):
    response = send(logged_in(bob), "post", "/api/services", service_data())
    assert response.status_code == 403
    assert not Service.objects.exists()


def test_a_service_for_a_team_i_am_not_in_is_400(acme, globex, charlie):
    response = send(logged_in(charlie), "post", "/api/services", service_data(team="acme"))
    assert response.status_code == 400
    assert "team" in detail(response)
    assert not Service.objects.exists()


def test_a_taken_service_slug_is_a_conflict_across_teams(acme, globex, alice):
    make_service(globex, slug="reranker")
    response = send(logged_in(alice), "post", "/api/services", service_data())
    assert response.status_code == 409
    assert detail(response) == "slug: A service with this slug already exists."
    assert Service.objects.count() == 1


@pytest.mark.parametrize("overrides, field", [
    ({"public_endpoint": "http://evil.example.com/api/predict/x"}, "public_endpoint"),
    ({"public_endpoint": "http://169.254.169.254/latest"}, "public_endpoint"),
    ({"public_endpoint": "ftp://1.cn-hangzhou.pai-eas.aliyuncs.com/x"}, "public_endpoint"),
    ({"public_endpoint": ""}, "public_endpoint"),
    ({"default_path": "//evil/x"}, "default_path"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"slug": "x" * 65}, "slug"),
    ({"kind": "database"}, "kind"),
    ({"gateway": None}, "gateway"),
    ({"timeout_s": 0}, "timeout_s"),
    ({"timeout_s": 10**40}, "timeout_s"),
    ({"timeout_s": "soon"}, "timeout_s"),
    ({"token": ""}, "token"),
    ({"token": "   "}, "token"),
    ({"token": "line\nbreak"}, "token"),
    ({"token": None}, "token"),
    ({"name": "nul\x00byte"}, "name"),
    ({"name": "lone \ud800 surrogate"}, "name"),
    ({"region": "cn-beijing"}, "region"),
])
def test_an_invalid_service_is_400_naming_the_field(acme, alice, overrides, field):
    response = send(logged_in(alice), "post", "/api/services", service_data(**overrides))
    assert response.status_code == 400
    assert field in detail(response)
    assert not Service.objects.exists()


@pytest.mark.parametrize("field", ["slug", "name", "team", "kind", "gateway", "token"])
def test_each_required_field_is_required(acme, alice, field):
    data = service_data()
    del data[field]
    response = send(logged_in(alice), "post", "/api/services", data)
    assert response.status_code == 400
    assert detail(response) == f"“{field}” is required."


def test_a_maintainer_edits_a_service(service, alice, bob):
    service.updated_by = bob
    service.save()
    response = send(logged_in(alice), "patch", "/api/services/chat",
                    {"name": "Chat v2", "default_endpoint": "vpc", "timeout_s": 90})
    assert response.status_code == 200
    item = response.json()
    assert set(item) == SERVICE_KEYS
    assert (item["name"], item["default_endpoint"], item["timeout_s"]) == ("Chat v2", "vpc", 90)
    service.refresh_from_db()
    assert service.name == "Chat v2" and service.updated_by == alice
    assert service.kind == "llm"  # what was not given stays


@pytest.mark.parametrize("token", [None, "", "  "])
def test_an_omitted_or_empty_token_keeps_the_token(service, alice, token):
    data = {"description": "kept"} if token is None else {"description": "kept", "token": token}
    response = send(logged_in(alice), "patch", "/api/services/chat", data)
    assert response.status_code == 200
    service.refresh_from_db()
    assert service.read_token() == TOKEN
    assert response.json()["token_hint"] == TOKEN[-4:]


def test_a_new_token_replaces_the_old_one(service, alice):
    response = send(logged_in(alice), "patch", "/api/services/chat", {"token": NEW_TOKEN})
    assert response.status_code == 200
    assert response.json()["token_hint"] == NEW_TOKEN[-4:]
    service.refresh_from_db()
    assert service.read_token() == NEW_TOKEN
    assert NEW_TOKEN not in response.text and TOKEN not in response.text


def test_members_cannot_edit_or_delete_services(service, bob):
    client = logged_in(bob)
    assert send(client, "patch", "/api/services/chat", {"name": "Mine"}).status_code == 403
    assert client.delete("/api/services/chat").status_code == 403
    assert Service.objects.get().name == "Chat"


def test_a_maintainer_moves_a_service_only_to_a_team_they_maintain(service, globex, alice):
    labs = Team.objects.create(slug="labs", name="Labs")
    labs.memberships.create(user=alice, role=Role.MAINTAINER)
    guests = Team.objects.create(slug="guests", name="Guests")
    guests.memberships.create(user=alice, role=Role.MEMBER)
    client = logged_in(alice)
    assert send(client, "patch", "/api/services/chat", {"team": "globex"}).status_code == 400
    assert send(client, "patch", "/api/services/chat", {"team": "guests"}).status_code == 403
    response = send(client, "patch", "/api/services/chat", {"team": "labs"})
    assert (response.status_code, response.json()["team"]) == (200, "labs")
    assert Service.objects.get().team == labs


def test_renaming_a_service_to_a_taken_slug_is_a_conflict(service, acme, alice):
    make_service(acme, slug="other")
    response = send(logged_in(alice), "patch", "/api/services/chat", {"slug": "other"})
    assert response.status_code == 409
    assert Service.objects.filter(slug="chat").exists()


@pytest.mark.parametrize("data, field", [
    ({"name": None}, "name"),
    ({"public_endpoint": "", "vpc_endpoint": ""}, "public_endpoint"),
    ({"default_method": "FETCH"}, "default_method"),
    ({"token": "tab\tinside"}, "token"),
    ({"token_hint": "abcd"}, "token_hint"),
])
def test_an_invalid_edit_is_400_and_changes_nothing(service, alice, data, field):
    response = send(logged_in(alice), "patch", "/api/services/chat", data)
    assert response.status_code == 400
    assert field in detail(response)
    service.refresh_from_db()
    assert (service.name, service.read_token()) == ("Chat", TOKEN)


def test_deleting_a_service_keeps_its_calls(service, alice):
    Call.objects.create(
        team=service.team, service=service, service_slug="chat", service_name="Chat",
        user=alice, username="alice", endpoint="public", method="POST", url=EAS_PUBLIC,
        status=200, status_class="2xx", elapsed_ms=1.0)
    response = logged_in(alice).delete("/api/services/chat")
    assert response.status_code == 204
    assert not Service.objects.exists()
    call = Call.objects.get()
    assert (call.service, call.service_slug) == (None, "chat")
    assert logged_in(alice).get(f"/api/calls/{call.pk}").json()["service"] == "chat"


def test_no_response_ever_carries_a_token(service, acme, alice):
    client = logged_in(alice)
    responses = [
        client.get("/api/services"), client.get("/api/services/chat"),
        send(client, "post", "/api/services", service_data()),
        send(client, "patch", "/api/services/reranker", {"token": NEW_TOKEN + "-2"}),
        send(client, "post", "/api/services", service_data()),  # the 409
        send(client, "post", "/api/services", service_data(slug="r2", kind="nope")),  # a 400
    ]
    for response in responses:
        assert TOKEN not in response.text and NEW_TOKEN not in response.text
        body = response.json()
        for item in body if isinstance(body, list) else [body]:
            assert "token" not in item and "token_encrypted" not in item
