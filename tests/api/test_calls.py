"""Invoking a service through the API, against the local EAS emulator, and reading history.

alice maintains Acme, bob is a member; charlie, of Globex, should see none of Acme's calls."""

import base64
import json
import os
import threading
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from services.models import Call, Membership, Role, Team
from tests.helpers import free_port, logged_in, make_service, make_user

CALL_KEYS = {
    "id", "team", "service", "service_name", "user", "created_at", "endpoint", "method", "url",
    "request_headers", "request_body", "request_body_base64", "status", "elapsed_ms",
    "response_headers", "response_body", "response_body_base64", "response_size",
    "response_declared_size", "response_truncated", "error", "error_kind",
    # Streaming and the figures of LLM serving (docs/api.md, "Streaming").
    "streamed", "stopped", "ttft_ms", "tpot_ms", "prompt_tokens", "completion_tokens",
    "tokens_source", "finish_reason", "source", "run",
}
# A call as GET /api/calls lists it: the history page's fields (tests/api/test_call_bodies.py).
LIST_KEYS = {
    "id", "team", "service", "service_name", "user", "created_at", "endpoint", "method", "path",
    "url", "status", "elapsed_ms", "response_size", "response_truncated", "error", "streamed",
    "stopped", "ttft_ms", "tpot_ms", "completion_tokens", "source", "run",
}
LIMIT = 1_048_576


def invoke(client, data, slug="echo"):
    return client.post(f"/api/services/{slug}/invoke", json.dumps(data),
                       content_type="application/json")


@pytest.fixture
def token(emulator):
    return emulator.token("demo-echo")


# Invoking

def test_a_member_invokes_a_service_and_gets_the_recorded_call(echo, bob, emulator_received):
    response = invoke(logged_in(bob), {
        "method": "PUT", "path": "/echo/items?x=1",
        "headers": {"Content-Type": "text/plain", "X-Trace": "t-1"}, "body": "héllo",
    })
    assert response.status_code == 200
    call = response.json()
    assert set(call) == CALL_KEYS
    assert call["id"] == Call.objects.get().pk
    assert (call["team"], call["service"], call["service_name"], call["user"]) == (
        "acme", "echo", "Echo", "bob")
    assert (call["endpoint"], call["method"], call["status"], call["error"]) == (
        "public", "PUT", 200, None)
    assert call["url"] == echo.public_endpoint + "/echo/items?x=1"
    assert call["created_at"].endswith("Z") and call["elapsed_ms"] > 0
    assert call["request_body"] == "héllo"
    assert call["request_headers"]["X-Trace"] == "t-1"
    echoed = json.loads(call["response_body"])
    assert call["response_body_base64"] is None  # text: the body once, as text
    # The size read; the echoed Authorization was redacted after.
    assert call["response_size"] == len(call["response_body"].encode()) + len(
        echo.read_token()) - len("[redacted]")
    assert call["response_truncated"] is False
    # What arrived is what was asked for, plus the token in Authorization.
    [arrived] = emulator_received
    assert (arrived["method"], arrived["path"], arrived["query"]) == (
        "PUT", "/api/predict/demo-echo/echo/items", "x=1")
    assert arrived["body"] == "héllo".encode()
    assert arrived["headers"]["Authorization"] == echo.read_token()
    assert arrived["headers"]["Content-Type"] == "text/plain"
    assert arrived["headers"]["X-Trace"] == "t-1"
    assert echoed["headers"]["X-Trace"] == "t-1"


def test_omitted_fields_take_the_service_defaults(echo, alice, emulator_received):
    echo.default_body = '{"question": "why"}'
    echo.save()
    response = invoke(logged_in(alice), {})
    assert response.status_code == 200
    assert (response.json()["method"], response.json()["request_body"]) == (
        "POST", '{"question": "why"}')
    [arrived] = emulator_received
    assert (arrived["method"], arrived["path"]) == ("POST", "/api/predict/demo-echo/echo")
    assert arrived["headers"]["Content-Type"] == "application/json"
    assert arrived["body"] == b'{"question": "why"}'


def test_given_headers_are_sent_as_given(echo, alice, emulator_received):
    assert invoke(logged_in(alice), {"headers": {}, "method": "get"}).status_code == 200
    [arrived] = emulator_received
    assert arrived["method"] == "GET"
    assert "Content-Type" not in arrived["headers"]
    assert arrived["headers"]["Authorization"] == echo.read_token()


def test_the_stored_call_redacts_every_secret(echo, alice, token, emulator_received):
    response = invoke(logged_in(alice), {
        "path": f"/echo?key={token}",
        "headers": {"X-Api-Key": "my-own-key", "X-Copy": f"see {token}"},
        "body": json.dumps({"pasted": token}),
    })
    assert response.status_code == 200
    assert emulator_received[0]["headers"]["X-Api-Key"] == "my-own-key"  # sent as given
    call = Call.objects.get()
    assert call.request_headers["Authorization"] == "[redacted]"
    assert call.request_headers["X-Api-Key"] == "[redacted]"
    assert call.request_headers["X-Copy"] == "see [redacted]"
    assert bytes(call.request_body) == b'{"pasted": "[redacted]"}'
    assert call.url.endswith("/echo?key=[redacted]")
    assert token not in response.text
    assert response.json()["request_headers"]["X-Api-Key"] == "[redacted]"
    assert token.encode() not in bytes(call.response_body)


def test_body_base64_sends_bytes(echo, alice, emulator_received):
    data = b"\x00\xff\xfe binary \x80"
    response = invoke(logged_in(alice), {"body_base64": base64.b64encode(data).decode()})
    assert response.status_code == 200
    assert emulator_received[0]["body"] == data
    call = response.json()
    assert call["request_body"] is None
    assert base64.b64decode(call["request_body_base64"]) == data


@pytest.mark.parametrize("data, words", [
    ({"body": "x", "body_base64": "eA=="}, "not both"),
    ({"body_base64": "not base64!"}, "base64"),
    ({"body_base64": "eA="}, "base64"),
    ({"body_base64": "é"}, "base64"),
    ({"headers": {"Authorization": "mine"}}, "Authorization"),
    ({"headers": {"authorization": "mine"}}, "Authorization"),
    ({"headers": {"Host": "evil.example.com"}}, "Host"),
    ({"headers": {"X-Bad": "line\r\nbreak"}}, "X-Bad"),
    ({"headers": {"Bad Name": "x"}}, "Bad Name"),
    ({"headers": {"X-Number": 7}}, "headers.X-Number"),
    ({"method": "FETCH"}, "method"),
    ({"endpoint": "vpc"}, "VPC"),
    ({"endpoint": "private"}, "endpoint"),
    ({"path": "/" + "p" * 2000}, "path"),
    ({"bdy": "typo"}, "bdy"),
])
def test_an_invalid_invoke_is_400_and_nothing_is_sent(echo, alice, emulator_received, data,
                                                       words):
    response = invoke(logged_in(alice), data)
    assert response.status_code == 400
    assert words in response.json()["detail"]
    assert len(emulator_received) == 0
    assert not Call.objects.exists()


@pytest.mark.parametrize("path", ["//evil/x", "http://x/", "/../x", "/%2e%2e/x", "\\x"])
def test_a_path_that_could_leave_the_endpoint_is_400(echo, alice, emulator_received, path):
    response = invoke(logged_in(alice), {"path": path})
    assert response.status_code == 400
    assert len(emulator_received) == 0
    assert not Call.objects.exists()


def test_a_body_of_exactly_one_megabyte_is_sent(echo, alice, emulator_received):
    response = invoke(logged_in(alice), {"body": "x" * LIMIT})
    assert response.status_code == 200
    assert len(emulator_received[0]["body"]) == LIMIT
    assert Call.objects.get().status == 200


@pytest.mark.parametrize("data, size", [
    ({"body": "x" * (LIMIT + 1)}, LIMIT + 1),
    ({"body": "é" * 524_289}, 1_048_578),
    ({"body_base64": base64.b64encode(b"\x01" * (LIMIT + 1)).decode()}, LIMIT + 1),
])
def test_a_body_over_one_megabyte_is_413_and_nothing_is_sent(echo, alice, emulator_received,
                                                             data, size):
    response = invoke(logged_in(alice), data)
    assert response.status_code == 413
    body = response.json()
    assert (body["size"], body["limit"]) == (size, LIMIT)
    assert "1 MB" in body["detail"]
    assert len(emulator_received) == 0
    assert not Call.objects.exists()


def test_a_wrong_upstream_path_records_the_404(echo, alice):
    response = invoke(logged_in(alice), {"path": "/v1/no-such-route"})
    assert response.status_code == 200
    call = response.json()
    assert call["status"] == 404 and call["error"] is None
    assert "check the interface path" in call["response_body"]
    assert Call.objects.get().status_class == "4xx"


def test_an_upstream_that_refuses_the_connection_records_a_failed_call(acme, alice):
    make_service(acme, slug="down", public_endpoint=f"http://127.0.0.1:{free_port()}/x",
                 vpc_endpoint="", token="down-token-0001")
    client = logged_in(alice)
    response = invoke(client, {"path": "/"}, slug="down")
    assert response.status_code == 200
    call = response.json()
    assert call["status"] is None and call["error"]
    assert Call.objects.get().status_class == "failed"
    assert [item["id"] for item in client.get("/api/calls?status=failed").json()["items"]] == [
        call["id"]]


def test_an_endpoint_the_host_policy_no_longer_allows_is_403(echo, alice, settings,
                                                            emulator_received):
    settings.EASPORTAL_ALLOWED_ENDPOINT_HOSTS = ["*.pai-eas.aliyuncs.com"]
    response = invoke(logged_in(alice), {})
    assert response.status_code == 403
    assert "127.0.0.1" in response.json()["detail"]
    assert len(emulator_received) == 0
    assert not Call.objects.exists()


def test_an_undecryptable_token_is_409_and_nothing_is_sent(echo, alice, settings,
                                                         emulator_received):
    settings.EASPORTAL_TOKEN_KEYS = [base64.urlsafe_b64encode(os.urandom(32)).decode()]
    response = invoke(logged_in(alice), {})
    assert response.status_code == 409
    assert response.json()["detail"]
    assert len(emulator_received) == 0
    assert not Call.objects.exists()


# History

@pytest.fixture
def history(echo, acme, alice, bob, emulator):
    """Five calls: alice's two 200s, bob's 404, alice's 200 and bob's 200, oldest first."""
    calls = []
    for user, path in [(alice, "/echo"), (alice, "/echo"), (bob, "/nowhere"), (alice, "/echo"),
                       (bob, "/echo")]:
        calls.append(invoke(logged_in(user), {"path": path}).json()["id"])
    return calls


def test_the_list_is_newest_first_with_the_history_pages_fields(history, bob):
    response = logged_in(bob).get("/api/calls")
    assert response.status_code == 200
    page = response.json()
    assert set(page) == {"items", "next"}
    assert [call["id"] for call in page["items"]] == history[::-1]
    assert all(set(call) == LIST_KEYS for call in page["items"])
    assert page["next"] is None


def test_pages_follow_the_cursor_without_duplicates_or_gaps(history, alice):
    client, seen, cursor = logged_in(alice), [], ""
    while True:
        page = client.get(f"/api/calls?limit=2&cursor={cursor}").json()
        seen += [call["id"] for call in page["items"]]
        if page["next"] is None:
            break
        assert isinstance(page["next"], str)
        cursor = page["next"]
    assert seen == history[::-1]


@pytest.mark.parametrize("query, expected", [
    ("status=4xx", [2]),
    ("status=2xx", [4, 3, 1, 0]),
    ("user=bob", [4, 2]),
    ("service=echo&user=alice", [3, 1, 0]),
    ("service=other", []),
    ("path=nowhere", [2]),
])
def test_the_list_filters(history, alice, query, expected):
    items = logged_in(alice).get(f"/api/calls?{query}").json()["items"]
    assert [call["id"] for call in items] == [history[index] for index in expected]


def test_the_list_filters_by_day(history, alice):
    client, today = logged_in(alice), timezone.localdate()
    assert len(client.get(f"/api/calls?since={today}&until={today}").json()["items"]) == 5
    yesterday = today - timedelta(days=1)
    assert client.get(f"/api/calls?until={yesterday}").json()["items"] == []


def test_the_list_costs_the_same_for_one_call_or_many(history, globex, alice, emulator,
                                                      django_assert_max_num_queries):
    # Calls of two teams: the teams' slugs come in one query, not one per call.
    globex.memberships.create(user=alice, role=Role.MEMBER)
    make_service(globex, slug="globex-echo", public_endpoint=emulator.base("demo-echo"),
                 vpc_endpoint="", token=emulator.token("demo-echo"), default_path="/echo")
    client = logged_in(alice)
    invoke(client, {}, slug="globex-echo")
    with django_assert_max_num_queries(5):  # session, user, teams, calls, the teams' slugs
        items = client.get("/api/calls").json()["items"]
    assert [item["team"] for item in items] == ["globex"] + ["acme"] * 5


def test_the_default_page_is_fifty_and_the_limit_at_most_two_hundred(echo, alice):
    template = Call.objects.create(
        team=echo.team, service=echo, service_slug="echo", service_name="Echo", user=alice,
        username="alice", endpoint="public", method="POST", url=echo.public_endpoint,
        status=200, status_class="2xx", elapsed_ms=1.0)
    Call.objects.bulk_create([
        Call(**{field.attname: getattr(template, field.attname)
                for field in Call._meta.concrete_fields if field.attname != "id"})
        for _ in range(204)])
    client = logged_in(alice)
    page = client.get("/api/calls").json()
    assert len(page["items"]) == 50 and page["next"] == str(page["items"][-1]["id"])
    assert len(client.get("/api/calls?limit=200").json()["items"]) == 200
    response = client.get("/api/calls?limit=201")
    assert response.status_code == 400
    assert "limit" in response.json()["detail"]


def test_members_see_only_their_teams_calls(history, globex, charlie, emulator):
    make_service(globex, slug="globex-echo", public_endpoint=emulator.base("demo-echo"),
                 vpc_endpoint="", token=emulator.token("demo-echo"), default_path="/echo")
    client = logged_in(charlie)
    own = invoke(client, {}, slug="globex-echo").json()
    assert [call["id"] for call in client.get("/api/calls").json()["items"]] == [own["id"]]
    assert client.get(f"/api/calls/{history[0]}").status_code == 404
    assert client.get("/api/calls?service=echo").json()["items"] == []


def test_a_superuser_sees_every_call(history, root):
    assert len(logged_in(root).get("/api/calls").json()["items"]) == 5


def test_one_call_reads_in_full(history, bob):
    response = logged_in(bob).get(f"/api/calls/{history[2]}")
    assert response.status_code == 200
    call = response.json()
    assert set(call) == CALL_KEYS
    assert (call["id"], call["user"], call["status"]) == (history[2], "bob", 404)


def test_an_unknown_call_is_404(alice):
    response = logged_in(alice).get("/api/calls/424242")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no call 424242."}


# Many at once, through a real server

@pytest.mark.django_db(transaction=True)
def test_twenty_invokes_at_once_record_twenty_calls(live_server, emulator, settings):
    # Twenty of one person's calls at once: the in-flight limit (tests/api/test_inflight.py)
    # would refuse some of them whenever the server overlaps more than eight, which is not
    # what this test is about.
    settings.EASPORTAL_CALLS_PER_USER = 20
    alice = make_user("alice")
    team = Team.objects.create(slug="acme", name="Acme")
    Membership.objects.create(team=team, user=alice, role=Role.MAINTAINER)
    make_service(team, slug="echo", public_endpoint=emulator.base("demo-echo"), vpc_endpoint="",
                 token=emulator.token("demo-echo"), default_path="/echo")
    login = requests.Session()
    login.get(f"{live_server.url}/accounts/login/", timeout=10)
    response = login.post(f"{live_server.url}/accounts/login/", timeout=10, data={
        "username": "alice", "password": "pw-alice",
        "csrfmiddlewaretoken": login.cookies["csrftoken"]}, allow_redirects=False)
    assert response.status_code == 302

    start, results = threading.Barrier(20), [None] * 20

    def one(index):
        session = requests.Session()
        session.cookies.update(login.cookies)
        start.wait(timeout=10)
        results[index] = session.post(
            f"{live_server.url}/api/services/echo/invoke", json={"body": f"call {index}"},
            headers={"X-CSRFToken": login.cookies["csrftoken"]}, timeout=60)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert [result.status_code for result in results] == [200] * 20, [
        result.text[:200] for result in results if result.status_code != 200]
    assert Call.objects.count() == 20
    assert sorted(bytes(body).decode() for body in
                  Call.objects.values_list("request_body", flat=True)) == sorted(
        f"call {index}" for index in range(20))
    assert not Call.objects.exclude(status=200).exists()
    assert not Call.objects.exclude(error="").exists()
