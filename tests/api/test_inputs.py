"""No input makes the API answer 500: malformed bodies, wrong types, odd bytes, huge numbers,
odd paths and queries all get a 4xx with one readable sentence."""

import pytest

from services.models import Service, Team
from tests.helpers import BAD_BODIES, JSON, logged_in

BODY_ROUTES = [
    ("post", "/api/teams"),
    ("post", "/api/teams/acme/members"),
    ("post", "/api/services"),
    ("patch", "/api/services/chat"),
    ("post", "/api/services/chat/invoke"),
    ("post", "/api/snippet"),
    ("post", "/api/calls/1/snippet"),
    ("post", "/api/requests/1/snippet"),
    ("post", "/api/services/chat/requests"),
    ("patch", "/api/requests/1"),
    ("post", "/api/services/chat/runs"),
    ("post", "/api/compare"),
]


@pytest.fixture
def client(service, root):
    # A superuser passes every permission check, so the input itself is what gets judged.
    return logged_in(root)


def assert_refused(response, statuses=(400,)):
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith(JSON)
    assert response.json()["detail"].strip()


@pytest.mark.parametrize("method, url", BODY_ROUTES)
@pytest.mark.parametrize("name", BAD_BODIES)
def test_a_bad_body_is_400(client, method, url, name):
    body, content_type = BAD_BODIES[name]
    response = getattr(client, method)(url, body, content_type=content_type)
    assert_refused(response)
    assert Team.objects.count() == 1
    assert Service.objects.get().name == "Chat"


def test_an_unparseable_body_is_told_to_send_json(client):
    response = client.post("/api/teams", b"{", content_type=JSON)
    assert response.json() == {
        "detail": "The request body is not valid JSON: send one JSON object, in UTF-8."}


@pytest.mark.parametrize("method, url", BODY_ROUTES)
def test_a_body_over_the_upload_limit_is_413(client, method, url, settings):
    body = b'{"body": "' + b"x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    response = getattr(client, method)(url, body, content_type=JSON)
    assert_refused(response, (413,))
    assert response.json()["size"] == len(body)
    assert response.json()["limit"] == 1_048_576


def test_too_many_form_fields_before_the_csrf_check_is_400(service, root):
    browser = logged_in(root, enforce_csrf_checks=True)
    body = "&".join(f"f{number}=1" for number in range(2000))
    response = browser.post("/api/teams", body,
                            content_type="application/x-www-form-urlencoded")
    assert_refused(response, (400, 403))


@pytest.mark.parametrize("query", [
    "limit=0", "limit=201", "limit=-1", "limit=1" + "0" * 40, "limit=x",
    "cursor=abc", "cursor=0", "cursor=-5", "status=7xx", "status=%ff",
    "since=2024-13-01", "since=tomorrow", "since=2025-02-01&until=2025-01-01",
    "since=9999-12-31&until=9999-12-31", "user=%00", "path=%00", "service=not%20a%20slug",
    "user=" + "u" * 151, "source=x", "source=RUN", "run=0", "run=abc", "run=-1",
])
def test_a_bad_filter_is_400(client, query):
    assert_refused(client.get(f"/api/calls?{query}"))
    assert_refused(client.get(f"/api/calls/export?{query}"))


@pytest.mark.parametrize("query", [
    "limit=0", "limit=201", "limit=-1", "limit=1" + "0" * 40, "limit=x",
    "cursor=abc", "cursor=0", "cursor=-5", "action=nope", "action=SERVICE.CREATED",
    "action=%ff", "action=%00", "team=not%20a%20slug", "team=%00", "team=" + "t" * 5000,
    "since=2024-13-01", "since=tomorrow", "since=2025-02-01&until=2025-01-01",
    "since=9999-12-31&until=9999-12-31", "until=2025-02-30", "user=%00", "user=" + "u" * 151,
])
def test_a_bad_audit_filter_is_400(client, query):
    assert_refused(client.get(f"/api/audit?{query}"))
    assert_refused(client.get(f"/api/audit/export?{query}"))


@pytest.mark.parametrize("query", [
    "cursor=1" + "0" * 30, "cursor=9223372036854775808", "since=0001-01-01",
    "until=9999-12-30", "unknown=1", "limit=200", "status=failed&user=nobody&path=%E4%B8%AD",
])
def test_odd_but_valid_filters_answer_an_empty_page(client, query):
    response = client.get(f"/api/calls?{query}")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next": None}


@pytest.mark.parametrize("query", [
    "cursor=1" + "0" * 30, "cursor=9223372036854775808", "since=0001-01-01",
    "until=9999-12-30", "unknown=1", "limit=200", "user=nobody&action=token.changed",
    "user=%E4%B8%AD",
])
def test_odd_but_valid_audit_filters_answer_an_empty_page(client, query):
    response = client.get(f"/api/audit?{query}")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next": None}


@pytest.mark.parametrize("method, url", [
    ("get", "/api/calls/99999999999999999999999999999"),
    ("get", "/api/calls/9223372036854775808"),
    ("get", "/api/calls/0"),
    ("get", "/api/calls/-1"),
    ("get", "/api/calls/abc"),
    ("get", "/api/requests/99999999999999999999999999999"),
    ("get", "/api/requests/9223372036854775808"),
    ("delete", "/api/requests/0"),
    ("post", "/api/requests/-1/invoke"),
    ("get", "/api/requests/1e3/snippet"),
    ("post", "/api/requests/1e3/snippet"),
    ("post", "/api/calls/-1/snippet"),
    ("get", "/api/services/%00"),
    ("get", "/api/services/%ff%fe"),
    ("get", "/api/services/" + "s" * 5000),
    ("patch", "/api/services/%E4%B8%AD"),
    ("get", "/api/teams/%00/members"),
    ("delete", "/api/teams/acme/members/%00"),
    ("delete", "/api/teams/acme/members/%ff"),
    ("delete", "/api/teams/acme/members/" + "u" * 5000),
    ("get", "/api/services/chat/"),
    ("get", "/api/audit/"),
    ("get", "/api/audit/%00"),
    ("get", "/api/audit/export/1"),
])
def test_odd_paths_are_404(client, method, url):
    assert_refused(getattr(client, method)(url), (404,))
