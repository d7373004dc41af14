"""Saved requests through the API (docs/api.md, "Saved requests"): the contract's shape, who
may see and change them, the redaction rules and the limits of a call."""

import base64

import pytest

from services.models import AuditEvent, Call, SavedRequest
from tests.helpers import TOKEN, detail, logged_in, make_call, make_service, send

FIELDS = {"id", "service", "name", "description", "endpoint", "method", "path", "headers",
          "created_by", "updated_at"}
CHAT = {"model": "Qwen3-8B", "messages": [{"role": "user", "content": "hello"}]}


def save(client, slug="chat", **data):
    data.setdefault("name", "Hello")
    return send(client, "post", f"/api/services/{slug}/requests", data)


@pytest.fixture
def kept(service, bob):
    """bob's saved request of acme's chat service."""
    response = save(logged_in(bob), name="Say hello", description="The first thing to try.",
                    path="/v1/chat/completions", headers={"Content-Type": "application/json",
                                                          "X-Trace": "t-1"},
                    body='{"messages": []}')
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db
def test_a_member_saves_a_request_and_the_team_reads_it(kept, alice, service):
    assert set(kept) == FIELDS | {"body"}
    assert kept["service"] == "chat"
    assert kept["name"] == "Say hello"
    assert kept["description"] == "The first thing to try."
    assert (kept["endpoint"], kept["method"], kept["path"]) == (
        "public", "POST", "/v1/chat/completions")
    assert kept["headers"] == {"Content-Type": "application/json", "X-Trace": "t-1"}
    assert list(kept["headers"]) == ["Content-Type", "X-Trace"]
    assert kept["body"] == '{"messages": []}'
    assert kept["created_by"] == "bob"
    assert kept["updated_at"].endswith("Z")
    client = logged_in(alice)
    assert send(client, "get", f"/api/requests/{kept['id']}").json() == kept
    assert send(client, "get", "/api/services/chat/requests").json() == [kept]


@pytest.mark.django_db
def test_omitted_fields_take_the_services_defaults(service, bob):
    service.default_body = '{"prompt": "x"}'
    service.save()
    saved = save(logged_in(bob), name="Defaults").json()
    assert (saved["endpoint"], saved["method"], saved["path"]) == (
        service.default_endpoint, service.default_method, service.default_path)
    assert saved["headers"] == {"Content-Type": "application/json"}
    assert saved["body"] == '{"prompt": "x"}'


@pytest.mark.django_db
def test_a_binary_body_comes_back_as_base64_only(service, bob):
    raw = b"\xff\x00\xfe"
    response = save(logged_in(bob), body_base64=base64.b64encode(raw).decode(),
                    headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 201
    saved = response.json()
    assert "body" not in saved
    assert base64.b64decode(saved["body_base64"]) == raw
    assert bytes(SavedRequest.objects.get().body) == raw


@pytest.mark.django_db
def test_the_list_is_by_name_and_only_of_that_service(acme, service, bob):
    other = make_service(acme, slug="other", name="Other")
    client = logged_in(bob)
    for name in ("Zeta", "alpha", "Beta"):
        save(client, name=name)
    save(client, slug="other", name="elsewhere")
    names = [saved["name"] for saved in send(client, "get", "/api/services/chat/requests").json()]
    assert names == ["alpha", "Beta", "Zeta"]
    assert "elsewhere" not in names
    assert [saved["service"] for saved in
            send(client, "get", f"/api/services/{other.slug}/requests").json()] == ["other"]


# Team isolation: an outsider gets 404, as for a request that does not exist.

@pytest.mark.django_db
def test_an_outsider_gets_404_for_everything(kept, globex, charlie):
    client = logged_in(charlie)
    url = f"/api/requests/{kept['id']}"
    answers = [send(client, "get", url), send(client, "patch", url, {"name": "mine"}),
               send(client, "delete", url), send(client, "post", url + "/invoke"),
               send(client, "get", "/api/services/chat/requests"), save(client)]
    assert [answer.status_code for answer in answers] == [404] * 6
    assert detail(answers[0]) == f"There is no saved request {kept['id']}."
    assert detail(answers[4]) == "There is no service “chat”."
    missing = send(client, "get", "/api/requests/999999")
    assert (missing.status_code, detail(missing)) == (404, "There is no saved request 999999.")
    assert SavedRequest.objects.get().name == "Say hello"


@pytest.mark.django_db
def test_logged_out_gets_401(kept, client):
    assert send(client, "get", f"/api/requests/{kept['id']}").status_code == 401
    assert send(client, "get", "/api/services/chat/requests").status_code == 401


# Who may change a saved request

@pytest.mark.django_db
def test_the_creator_changes_and_deletes_it(kept, bob):
    client = logged_in(bob)
    url = f"/api/requests/{kept['id']}"
    changed = send(client, "patch", url, {"name": "Renamed", "path": "/v1/models",
                                          "method": "GET", "body": ""})
    assert changed.status_code == 200, changed.content
    changed = changed.json()
    assert (changed["name"], changed["method"], changed["path"], changed["body"]) == (
        "Renamed", "GET", "/v1/models", "")
    assert changed["description"] == kept["description"]
    assert changed["headers"] == kept["headers"]
    assert send(client, "delete", url).status_code == 204
    assert send(client, "get", url).status_code == 404


@pytest.mark.django_db
def test_a_maintainer_changes_anyones(kept, alice):
    client = logged_in(alice)
    url = f"/api/requests/{kept['id']}"
    assert send(client, "patch", url, {"description": "checked"}).json()["description"] == (
        "checked")
    assert send(client, "delete", url).status_code == 204


@pytest.mark.django_db
def test_another_member_may_read_and_send_but_not_change(kept, acme, charlie):
    acme.memberships.create(user=charlie, role="member")
    client = logged_in(charlie)
    url = f"/api/requests/{kept['id']}"
    assert send(client, "get", url).status_code == 200
    for answer in (send(client, "patch", url, {"name": "mine"}), send(client, "delete", url)):
        assert answer.status_code == 403
        assert "Only the one who saved this request or a maintainer of the team “acme”" in (
            detail(answer))
    assert SavedRequest.objects.get().name == "Say hello"


# Bad input

@pytest.mark.django_db
@pytest.mark.parametrize("data, status, words", [
    ({"name": "  "}, 400, "name: give the request a name"),
    ({"name": "x" * 101}, 400, "“name”"),
    ({"name": "x", "bdy": "typo"}, 400, "“bdy” is not a field here"),
    ({"name": "x", "body": "a", "body_base64": "YQ=="}, 400, "either body or body_base64"),
    ({"name": "x", "body_base64": "not base64!"}, 400, "body_base64"),
    ({"name": "x", "headers": {"Authorization": "Bearer x"}}, 400, "Authorization"),
    ({"name": "x", "path": "//evil.example/x"}, 400, "starts with //"),
    ({"name": "x", "endpoint": "lan"}, 400, "“endpoint”"),
    ({"name": "x", "body": "a" * (1024 * 1024 + 1)}, 413, "1 MB"),
])
def test_bad_input_gets_a_message_and_nothing_is_saved(service, bob, data, status, words):
    response = send(logged_in(bob), "post", "/api/services/chat/requests", data)
    assert response.status_code == status, response.content
    assert words in detail(response)
    assert not SavedRequest.objects.exists()


@pytest.mark.django_db
def test_a_change_that_breaks_the_rules_changes_nothing(kept, bob):
    url = f"/api/requests/{kept['id']}"
    client = logged_in(bob)
    too_large = send(client, "patch", url, {"body": "a" * (1024 * 1024 + 1)})
    assert too_large.status_code == 413
    assert "1 MB" in detail(too_large)
    assert send(client, "patch", url, {"name": ""}).status_code == 400
    assert send(client, "patch", url, {"name": None}).status_code == 400
    assert send(client, "get", url).json() == kept


@pytest.mark.django_db
def test_a_request_to_an_endpoint_the_service_lacks_is_refused(acme, bob):
    make_service(acme, slug="public-only", vpc_endpoint="")
    response = save(logged_in(bob), slug="public-only", endpoint="vpc")
    assert response.status_code == 400
    assert detail(response) == "This service has no VPC endpoint."


# Redaction: no token, and a secret-looking header's value never kept

@pytest.mark.django_db
def test_the_token_and_secret_headers_are_never_kept(service, bob):
    response = save(logged_in(bob), path=f"/v1/models?key={TOKEN}",
                    headers={"X-Api-Key": "abc123", "X-Note": f"has {TOKEN}"},
                    body=f'{{"token": "{TOKEN}"}}')
    saved = response.json()
    assert saved["headers"] == {"X-Api-Key": "[redacted]", "X-Note": "has [redacted]"}
    assert saved["path"] == "/v1/models?key=[redacted]"
    assert saved["body"] == '{"token": "[redacted]"}'
    row = SavedRequest.objects.get()
    stored = f"{row.path} {row.header_pairs} {bytes(row.body)!r} {row.name}"
    assert TOKEN not in stored and "abc123" not in stored


# Saved from a call in history

@pytest.mark.django_db
def test_a_call_in_history_is_saved_as_it_was_sent(service, bob):
    call = make_call(service, bob, method="PUT", path="/v1/x?a=1",
                     url=service.public_endpoint + "/v1/x?a=1",
                     request_headers={"Content-Type": "text/plain", "Authorization": "[redacted]",
                                      "X-Api-Key": "[redacted]"},
                     request_body=b"hello")
    response = save(logged_in(bob), name="From history", call=call.pk)
    assert response.status_code == 201, response.content
    saved = response.json()
    assert (saved["method"], saved["path"], saved["body"]) == ("PUT", "/v1/x?a=1", "hello")
    assert saved["headers"] == {"Content-Type": "text/plain", "X-Api-Key": "[redacted]"}


@pytest.mark.django_db
def test_a_call_of_another_service_or_team_is_refused(acme, service, bob, globex, charlie):
    other = make_service(acme, slug="other")
    call = make_call(other, bob)
    response = save(logged_in(bob), call=call.pk)
    assert response.status_code == 400
    assert "is not a call of “chat”" in detail(response)
    foreign = make_call(make_service(globex, slug="theirs"), charlie)
    assert save(logged_in(bob), call=foreign.pk).status_code == 404
    both = save(logged_in(bob), call=call.pk, path="/x")
    assert both.status_code == 400
    assert "not both" in detail(both)


# Sending a saved request: the call is recorded like any other

@pytest.mark.django_db
def test_a_saved_request_is_sent_at_once(echo, bob, emulator_received):
    client = logged_in(bob)
    saved = save(client, slug="echo", path="/echo", headers={"Content-Type": "text/plain",
                                                              "X-Trace": "saved"},
                 body="from the shelf").json()
    answer = send(client, "post", f"/api/requests/{saved['id']}/invoke")
    assert answer.status_code == 200, answer.content
    call = answer.json()
    assert call["status"] == 200
    assert call["request_body"] == "from the shelf"
    assert Call.objects.get(pk=call["id"]).username == "bob"
    received = emulator_received[-1]
    assert received["body"] == b"from the shelf"
    assert received["headers"]["X-Trace"] == "saved"


@pytest.mark.django_db
def test_a_saved_request_with_a_redacted_value_is_not_sent(echo, bob, emulator_received):
    client = logged_in(bob)
    saved = save(client, slug="echo", headers={"X-Api-Key": "abc"}).json()
    answer = send(client, "post", f"/api/requests/{saved['id']}/invoke")
    assert answer.status_code == 400
    assert "X-Api-Key" in detail(answer)
    assert emulator_received == []
    assert not Call.objects.exists()
    assert not AuditEvent.objects.exists()


# Snippets of a saved request

@pytest.mark.django_db
def test_a_saved_requests_snippet_has_a_named_placeholder_for_a_redacted_header(service, bob):
    client = logged_in(bob)
    saved = save(client, headers={"Content-Type": "application/json", "X-Api-Key": "abc"},
                 body="{}").json()
    response = send(client, "get", f"/api/requests/{saved['id']}/snippet?lang=curl")
    assert response.status_code == 200, response.content
    text = response.content.decode()
    assert "-H 'X-Api-Key: <X_API_KEY>'" in text
    assert '"Authorization: ${EAS_TOKEN}"' in text
    assert "[redacted]" not in text and "abc" not in text and TOKEN not in text
    python = send(client, "get", f"/api/requests/{saved['id']}/snippet?lang=python").content
    assert b"<X_API_KEY>" in python


@pytest.mark.django_db
def test_a_saved_requests_snippet_with_the_real_token_is_for_maintainers(kept, alice, bob,
                                                                        globex, charlie):
    url = f"/api/requests/{kept['id']}/snippet"
    choice = {"lang": "curl", "token": "real"}
    refused = send(logged_in(bob), "post", url, choice)
    assert refused.status_code == 403
    assert TOKEN not in refused.content.decode()
    assert send(logged_in(charlie), "post", url, choice).status_code == 404
    assert not AuditEvent.objects.exists()
    allowed = send(logged_in(alice), "post", url, choice)
    assert allowed.status_code == 200
    assert TOKEN in allowed.content.decode()
    event = AuditEvent.objects.get()
    assert (event.username, event.action, event.service_slug) == ("alice", "token.revealed",
                                                                  "chat")
