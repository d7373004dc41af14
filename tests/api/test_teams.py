"""The JSON API's teams and members; logging in, CSRF, the OpenAPI document and docs page.

alice maintains Acme, bob is a member of it, charlie maintains Globex and should have no
access to Acme's things (404, never 403)."""

import re

import pytest
from django.test import Client

from services import access
from services.models import Membership, Role, Team
from tests.helpers import OBJECT_ROUTES, ROUTES, detail, logged_in, make_user, send

# Logging in

@pytest.mark.parametrize("method, url, data", ROUTES)
def test_every_route_answers_401_json_when_logged_out(service, method, url, data):
    response = send(Client(), method, url, data)
    assert response.status_code == 401
    assert "Location" not in response
    assert "log in" in detail(response).lower()


def test_unknown_api_urls_answer_401_logged_out_and_404_logged_in(alice):
    assert Client().get("/api/no/such/route").status_code == 401
    response = logged_in(alice).get("/api/no/such/route")
    assert response.status_code == 404
    assert "/api/docs" in detail(response)


def test_a_wrong_method_is_405_json(alice):
    response = logged_in(alice).put("/api/teams")
    assert response.status_code == 405
    assert "GET" in response["Allow"] and "PUT" in detail(response)


def test_the_docs_page_sends_a_logged_out_browser_to_the_login_form(db):
    response = Client().get("/api/docs")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/api/docs")


def test_it_logs_in_through_the_form_and_posts_with_the_csrf_header(acme, alice):
    make_user("dave")
    browser = Client(enforce_csrf_checks=True)
    form = browser.get("/accounts/login/")
    response = browser.post("/accounts/login/", {
        "username": "alice", "password": "pw-alice",
        "csrfmiddlewaretoken": form.context["csrf_token"],
    })
    assert response.status_code == 302
    assert browser.get("/api/teams").json() == [
        {"slug": "acme", "name": "Acme", "role": "maintainer"}]
    # Logging in rotated the token: the header carries the cookie's current value.
    response = send(browser, "post", "/api/teams/acme/members",
                    {"username": "dave", "role": "member"},
                    HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert response.status_code == 201


@pytest.mark.parametrize("header", [{}, {"HTTP_X_CSRFTOKEN": "x" * 32}])
def test_an_unsafe_method_without_the_right_csrf_header_is_refused(acme, alice, header):
    browser = logged_in(alice, enforce_csrf_checks=True)
    browser.get("/accounts/login/")  # sets the csrftoken cookie
    response = send(browser, "post", "/api/teams/acme/members",
                    {"username": "charlie", "role": "member"}, **header)
    assert response.status_code == 403
    assert "CSRF" in detail(response)
    assert not Membership.objects.filter(user__username="charlie").exists()
    assert browser.get("/api/teams").status_code == 200  # safe methods need no header


# Teams

def test_it_lists_my_teams_with_my_role(acme, globex, alice, bob, charlie):
    assert logged_in(alice).get("/api/teams").json() == [
        {"slug": "acme", "name": "Acme", "role": "maintainer"}]
    assert logged_in(bob).get("/api/teams").json() == [
        {"slug": "acme", "name": "Acme", "role": "member"}]
    assert logged_in(charlie).get("/api/teams").json() == [
        {"slug": "globex", "name": "Globex", "role": "maintainer"}]


def test_a_superuser_sees_every_team_as_maintainer(acme, globex, root):
    teams = logged_in(root).get("/api/teams").json()
    assert [(team["slug"], team["role"]) for team in teams] == [
        ("acme", "maintainer"), ("globex", "maintainer")]


def test_a_superuser_creates_a_team_and_maintains_it(root):
    response = send(logged_in(root), "post", "/api/teams", {"slug": "ops", "name": "Ops"})
    assert response.status_code == 201
    assert response.json() == {"slug": "ops", "name": "Ops", "role": "maintainer"}
    assert access.role(root, Team.objects.get(slug="ops")) == Role.MAINTAINER
    assert Membership.objects.get(team__slug="ops").user == root


def test_only_superusers_create_teams(alice):
    response = send(logged_in(alice), "post", "/api/teams", {"slug": "ops", "name": "Ops"})
    assert response.status_code == 403
    assert detail(response) == "Only administrators can create teams."
    assert not Team.objects.filter(slug="ops").exists()


def test_a_taken_team_slug_is_a_conflict(acme, root):
    response = send(logged_in(root), "post", "/api/teams", {"slug": "acme", "name": "Other"})
    assert response.status_code == 409
    assert "slug" in detail(response)
    assert Team.objects.count() == 1


@pytest.mark.parametrize("data, field", [
    ({"slug": "not a slug", "name": "Ops"}, "slug"),
    ({"slug": "new", "name": "Ops"}, "slug"),
    ({"slug": "ops", "name": ""}, "name"),
    ({"slug": "ops", "name": "x" * 101}, "name"),
    ({"slug": "ops"}, "name"),
    ({"slug": "ops", "name": 7}, "name"),
    ({"slug": "ops", "name": "Ops", "owner": "alice"}, "owner"),
])
def test_an_invalid_team_is_400_naming_the_field(root, data, field):
    response = send(logged_in(root), "post", "/api/teams", data)
    assert response.status_code == 400
    assert field in detail(response)
    assert not Team.objects.exists()


# Members

def test_members_see_the_members_of_their_team(acme, bob):
    response = logged_in(bob).get("/api/teams/acme/members")
    assert response.status_code == 200
    assert response.json() == [{"username": "alice", "role": "maintainer"},
                               {"username": "bob", "role": "member"}]


@pytest.mark.parametrize("method, url, data", [
    route for route in OBJECT_ROUTES if "/teams/acme" in route[1]])
def test_outsiders_get_404_for_another_teams_members(acme, globex, charlie, method, url, data):
    response = send(logged_in(charlie), method, url, data)
    assert response.status_code == 404
    assert "acme" in detail(response)
    assert Membership.objects.filter(team=acme).count() == 2


def test_an_unknown_team_is_404(alice):
    assert logged_in(alice).get("/api/teams/nope/members").status_code == 404


def test_a_maintainer_adds_a_member_then_changes_the_role(acme, alice):
    dave = make_user("dave")
    client = logged_in(alice)
    response = send(client, "post", "/api/teams/acme/members",
                    {"username": "dave", "role": "member"})
    assert (response.status_code, response.json()) == (201, {"username": "dave",
                                                              "role": "member"})
    response = send(client, "post", "/api/teams/acme/members",
                    {"username": "dave", "role": "maintainer"})
    assert (response.status_code, response.json()) == (200, {"username": "dave",
                                                              "role": "maintainer"})
    assert access.role(dave, acme) == Role.MAINTAINER
    # The same role again changes nothing and is not an error.
    response = send(client, "post", "/api/teams/acme/members",
                    {"username": "dave", "role": "maintainer"})
    assert response.status_code == 200


@pytest.mark.parametrize("method, url, data", [
    ("post", "/api/teams/acme/members", {"username": "charlie", "role": "member"}),
    ("post", "/api/teams/acme/members", {"username": "bob", "role": "maintainer"}),
    ("delete", "/api/teams/acme/members/alice", None),
])
def test_members_cannot_manage_members(acme, bob, charlie, method, url, data):
    response = send(logged_in(bob), method, url, data)
    assert response.status_code == 403
    assert detail(response).startswith("Only maintainers of the team “acme”")
    assert sorted(acme.memberships.values_list("user__username", "role")) == [
        ("alice", "maintainer"), ("bob", "member")]


@pytest.mark.parametrize("data, field", [
    ({"username": "nobody", "role": "member"}, "nobody"),
    ({"username": "bob", "role": "owner"}, "role"),
    ({"username": "bob"}, "role"),
    ({"role": "member"}, "username"),
    ({"username": ["bob"], "role": "member"}, "username"),
])
def test_an_invalid_member_is_400(acme, alice, data, field):
    response = send(logged_in(alice), "post", "/api/teams/acme/members", data)
    assert response.status_code == 400
    assert field in detail(response)


def test_a_maintainer_removes_a_member(acme, alice, bob):
    response = logged_in(alice).delete("/api/teams/acme/members/bob")
    assert response.status_code == 204
    assert response.content == b""
    assert access.role(bob, acme) is None


def test_removing_someone_who_is_not_a_member_is_404(acme, alice, charlie):
    response = logged_in(alice).delete("/api/teams/acme/members/charlie")
    assert response.status_code == 404
    assert "charlie" in detail(response)


def test_the_last_maintainer_can_be_neither_removed_nor_demoted(acme, alice):
    client = logged_in(alice)
    response = client.delete("/api/teams/acme/members/alice")
    assert response.status_code == 409
    assert "at least one maintainer" in detail(response)
    response = send(client, "post", "/api/teams/acme/members",
                    {"username": "alice", "role": "member"})
    assert response.status_code == 409
    assert access.role(alice, acme) == Role.MAINTAINER


def test_with_a_second_maintainer_the_first_may_step_down(acme, alice, bob):
    client = logged_in(alice)
    send(client, "post", "/api/teams/acme/members", {"username": "bob", "role": "maintainer"})
    response = send(client, "post", "/api/teams/acme/members",
                    {"username": "alice", "role": "member"})
    assert response.status_code == 200
    assert access.role(alice, acme) == Role.MEMBER


# The OpenAPI document and the docs page

def test_the_openapi_document_lists_every_route(alice):
    response = logged_in(alice).get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {path: sorted(methods) for path, methods in paths.items()} == {
        "/api/teams": ["get", "post"],
        "/api/teams/{slug}/members": ["get", "post"],
        "/api/teams/{slug}/members/{username}": ["delete"],
        "/api/services": ["get", "post"],
        "/api/services/{slug}": ["delete", "get", "patch"],
        "/api/services/{slug}/invoke": ["post"],
        "/api/calls": ["get"],
        "/api/calls/{id}": ["get"],
        "/api/calls/{id}/snippet": ["get", "post"],
        "/api/snippet": ["post"],
        "/api/keys": ["get", "post"],
        "/api/keys/{id}": ["delete"],
        "/api/calls/export": ["get"],
        "/api/services/{slug}/requests": ["get", "post"],
        "/api/requests/{id}": ["delete", "get", "patch"],
        "/api/requests/{id}/invoke": ["post"],
        "/api/requests/{id}/snippet": ["get", "post"],
        "/api/import/curl": ["post"],
        "/api/services/{slug}/runs": ["get", "post"],
        "/api/runs/{id}": ["get"],
        "/api/runs/{id}/stop": ["post"],
        "/api/runs/{id}/samples": ["get"],
        "/api/compare": ["post"],
        "/api/status": ["get"],
        "/api/audit": ["get"],
        "/api/audit/export": ["get"],
    }
    assert "token" not in response.json()["components"]["schemas"]["ServiceOut"]["properties"]


def test_every_operation_of_the_document_declares_its_401(alice):
    # Found by the API's fuzzing (tests/fuzz/): the four lists (teams, services, keys, status)
    # declared only their 200, though logged out they answer 401 like every route.
    paths = logged_in(alice).get("/api/openapi.json").json()["paths"]
    undeclared = [f"{method.upper()} {path}" for path, methods in paths.items()
                  for method, operation in methods.items() if "401" not in operation["responses"]]
    assert undeclared == []
    for url in ("/api/teams", "/api/services", "/api/keys", "/api/status"):
        assert Client().get(url).status_code == 401


def test_the_docs_page_is_served_from_our_static_files(alice):
    response = logged_in(alice).get("/api/docs")
    assert response.status_code == 200
    html = response.text
    assert "/static/ninja/swagger-ui-bundle." in html
    # Every script, style and link the page loads is ours (a path on this site), none from a
    # CDN; the page's random CSRF token may hold any letters, so it is not searched for words.
    loaded = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert loaded and all(url.startswith("/") and not url.startswith("//") for url in loaded)
    assert "https://" not in html and "http://" not in html
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy
