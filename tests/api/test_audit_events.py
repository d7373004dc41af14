"""Every action of the audit log's list is recorded where it happens, through the JSON API, in
the same transaction as the change: one test per action, none when the change is refused or
fails, and no event holding a secret (docs/api.md, "Audit log").

alice maintains Acme, bob is a member of it, charlie maintains Globex."""

import json

import pytest

from services import audit
from services.models import ApiKey, AuditEvent, Membership, Role, Run, Service
from tests.helpers import (
    NEW_TOKEN,
    TOKEN,
    logged_in,
    make_user,
    send,
    service_data,
    snippet_of,
)

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


def events(action=None):
    found = AuditEvent.objects.order_by("id")
    return list(found.filter(action=action) if action else found)


def only_event(action):
    """The one event there is, which is of this action."""
    [event] = events()
    assert event.action == action
    return event


def who_what(event):
    return (event.username, event.action, event.team.slug if event.team else None,
            event.target)


def fail_to_record(monkeypatch):
    """Makes writing an event fail, as a database error would."""
    def broken(*args, **kwargs):
        raise RuntimeError("the audit log could not be written")

    monkeypatch.setattr(audit.AuditEvent.objects, "create", broken)


# Services

def test_a_service_created_is_recorded(acme, alice):
    response = send(logged_in(alice), "post", "/api/services", service_data())
    assert response.status_code == 201
    event = only_event(Action.SERVICE_CREATED)
    assert who_what(event) == ("alice", "service.created", "acme", "reranker")
    assert (event.user, event.service_slug, event.detail) == (alice, "reranker",
                                                             {"name": "Reranker"})


@pytest.mark.parametrize("who, data, status", [
    ("bob", service_data(), 403),
    ("alice", service_data(slug="chat"), 409),
    ("alice", service_data(public_endpoint="ftp://x"), 400),
    ("alice", service_data(token=""), 400),
])
def test_a_refused_creation_records_nothing(service, alice, bob, who, data, status):
    response = send(logged_in({"alice": alice, "bob": bob}[who]), "post", "/api/services", data)
    assert response.status_code == status
    assert events() == []


def test_a_service_changed_names_its_fields_never_their_values(service, alice):
    response = send(logged_in(alice), "patch", "/api/services/chat",
                    {"name": "Renamed", "timeout_s": 90, "description": "new"})
    assert response.status_code == 200
    event = only_event(Action.SERVICE_CHANGED)
    assert who_what(event) == ("alice", "service.changed", "acme", "chat")
    assert event.detail == {"fields": ["description", "name", "timeout_s"]}


def test_a_new_slug_and_team_are_named_with_what_they_were(service, alice, globex, charlie):
    Membership.objects.create(team=globex, user=alice, role=Role.MAINTAINER)
    response = send(logged_in(alice), "patch", "/api/services/chat",
                    {"slug": "chat2", "team": "globex"})
    assert response.status_code == 200
    event = only_event(Action.SERVICE_CHANGED)
    assert who_what(event) == ("alice", "service.changed", "globex", "chat2")
    assert event.detail == {"fields": ["slug", "team"], "slug_was": "chat",
                            "team_was": "acme"}


def test_a_new_token_is_token_changed_and_nothing_else(service, alice):
    response = send(logged_in(alice), "patch", "/api/services/chat", {"token": NEW_TOKEN})
    assert response.status_code == 200
    event = only_event(Action.TOKEN_CHANGED)
    assert who_what(event) == ("alice", "token.changed", "acme", "chat")
    assert event.detail == {}
    assert Service.objects.get().read_token() == NEW_TOKEN


def test_a_new_token_with_other_changes_is_two_events(service, alice):
    response = send(logged_in(alice), "patch", "/api/services/chat",
                    {"token": NEW_TOKEN, "name": "Renamed"})
    assert response.status_code == 200
    assert [event.action for event in events()] == ["service.changed", "token.changed"]
    assert events()[0].detail == {"fields": ["name"]}


@pytest.mark.parametrize("data", [{}, {"name": "Chat"}, {"token": ""}, {"token": None},
                                  {"token": "   ", "timeout_s": 60}])
def test_a_change_that_changes_nothing_records_nothing(service, alice, data):
    assert send(logged_in(alice), "patch", "/api/services/chat", data).status_code == 200
    assert events() == []


@pytest.mark.parametrize("who, data, status", [
    ("bob", {"name": "Mine"}, 403),
    ("charlie", {"name": "Mine"}, 404),
    ("alice", {"public_endpoint": "http://169.254.169.254/x"}, 400),
    ("alice", {"token": "bad\ntoken"}, 400),
    ("alice", {"team": "globex"}, 400),
])
def test_a_refused_change_records_nothing(service, alice, bob, charlie, globex, who, data,
                                          status):
    user = {"alice": alice, "bob": bob, "charlie": charlie}[who]
    assert send(logged_in(user), "patch", "/api/services/chat", data).status_code == status
    assert events() == []
    assert Service.objects.get().name == "Chat"


def test_a_probes_changes_are_named_apart_from_its_defaults(service, alice):
    client = logged_in(alice)
    response = send(client, "patch", "/api/services/chat",
                    {"probe": {"enabled": True, "interval_s": 60}})
    assert response.status_code == 200, response.content
    event = only_event(Action.SERVICE_CHANGED)
    # GET /v1/models was its probe's default already: only what was set is named.
    assert event.detail == {"fields": ["probe.enabled", "probe.interval_s"]}
    assert send(client, "patch", "/api/services/chat",
                {"probe": {"enabled": True, "interval_s": 60}}).status_code == 200
    assert len(events()) == 1


def test_a_service_deleted_is_recorded(service, alice):
    assert send(logged_in(alice), "delete", "/api/services/chat").status_code == 204
    event = only_event(Action.SERVICE_DELETED)
    assert who_what(event) == ("alice", "service.deleted", "acme", "chat")
    assert event.detail == {"name": "Chat"}


def test_a_refused_deletion_records_nothing(service, bob, charlie, globex):
    assert send(logged_in(bob), "delete", "/api/services/chat").status_code == 403
    assert send(logged_in(charlie), "delete", "/api/services/chat").status_code == 404
    assert events() == [] and Service.objects.exists()


# Members

def test_a_member_added_is_recorded(acme, alice):
    make_user("dave")
    response = send(logged_in(alice), "post", "/api/teams/acme/members",
                    {"username": "dave", "role": "member"})
    assert response.status_code == 201
    event = only_event(Action.MEMBER_ADDED)
    assert who_what(event) == ("alice", "member.added", "acme", "dave")
    assert event.detail == {"role": "member"}


def test_a_members_new_role_is_recorded_and_the_same_role_is_not(acme, alice):
    client = logged_in(alice)
    assert send(client, "post", "/api/teams/acme/members",
                {"username": "bob", "role": "member"}).status_code == 200
    assert events() == []
    assert send(client, "post", "/api/teams/acme/members",
                {"username": "bob", "role": "maintainer"}).status_code == 200
    event = only_event(Action.MEMBER_ROLE_CHANGED)
    assert who_what(event) == ("alice", "member.role_changed", "acme", "bob")
    assert event.detail == {"role": "maintainer", "was": "member"}


def test_a_member_removed_is_recorded(acme, alice):
    assert send(logged_in(alice), "delete", "/api/teams/acme/members/bob").status_code == 204
    event = only_event(Action.MEMBER_REMOVED)
    assert who_what(event) == ("alice", "member.removed", "acme", "bob")
    assert event.detail == {"role": "member"}


def test_refused_member_changes_record_nothing(acme, alice, bob, charlie, globex):
    make_user("dave")
    assert send(logged_in(bob), "post", "/api/teams/acme/members",
                {"username": "dave", "role": "member"}).status_code == 403
    assert send(logged_in(charlie), "delete", "/api/teams/acme/members/bob").status_code == 404
    # The last maintainer stays, unrecorded.
    assert send(logged_in(alice), "post", "/api/teams/acme/members",
                {"username": "alice", "role": "member"}).status_code == 409
    assert send(logged_in(alice), "delete", "/api/teams/acme/members/alice").status_code == 409
    assert events() == []
    assert Membership.objects.get(user=alice).role == Role.MAINTAINER


# No change without its record

@pytest.mark.parametrize("method, url, data", [
    ("post", "/api/services", service_data()),
    ("patch", "/api/services/chat", {"name": "Renamed"}),
    ("patch", "/api/services/chat", {"token": NEW_TOKEN}),
    ("delete", "/api/services/chat", None),
    ("post", "/api/teams/acme/members", {"username": "bob", "role": "maintainer"}),
    ("delete", "/api/teams/acme/members/bob", None),
    ("post", "/api/keys", {"name": "ci"}),
])
def test_a_change_whose_record_fails_is_rolled_back(service, alice, monkeypatch, method, url,
                                                    data):
    fail_to_record(monkeypatch)
    assert send(logged_in(alice), method, url, data).status_code == 500
    service = Service.objects.get()
    assert (service.slug, service.name, service.read_token()) == ("chat", "Chat", TOKEN)
    assert Membership.objects.get(user__username="bob").role == Role.MEMBER
    assert not ApiKey.objects.exists()
    assert events() == []


# Keys, tokens revealed, runs: recorded where they happen

def test_a_key_made_and_revoked_is_recorded_for_no_team(bob):
    client = logged_in(bob)
    made = send(client, "post", "/api/keys", {"name": "laptop"}).json()
    assert send(client, "delete", f"/api/keys/{made['id']}").status_code == 204
    created, revoked = events()
    assert who_what(created) == ("bob", "key.created", None, "laptop")
    assert who_what(revoked) == ("bob", "key.revoked", None, "laptop")
    assert revoked.detail == {"key": made["prefix"], "name": "laptop", "id": made["id"]}
    assert made["key"] not in json.dumps([created.detail, revoked.detail])


def test_a_real_token_revealed_is_recorded(call, alice, bob):
    assert snippet_of(logged_in(bob), call, lang="curl", token="real").status_code == 403
    assert events() == []
    assert snippet_of(logged_in(alice), call, lang="curl", token="real").status_code == 200
    event = only_event(Action.TOKEN_REVEALED)
    assert who_what(event) == ("alice", "token.revealed", "acme", "chat")
    assert TOKEN not in json.dumps(event.detail)


def test_a_run_started_is_recorded_with_its_number(echo, alice, bob):
    body = {"total": 4, "concurrency": 2}
    assert send(logged_in(bob), "post", "/api/services/echo/runs", body).status_code == 403
    assert events() == []
    response = send(logged_in(alice), "post", "/api/services/echo/runs", body)
    assert response.status_code == 202
    event = only_event(Action.RUN_STARTED)
    assert who_what(event) == ("alice", "run.started", "acme", str(response.json()["id"]))
    assert Run.objects.get().pk == response.json()["id"]


# Never a secret

def test_no_event_holds_a_token_or_a_key(service, call, alice, root):
    client = logged_in(alice)
    send(client, "post", "/api/services", service_data())
    send(client, "patch", "/api/services/chat", {"token": "another-Token-value-1234",
                                                 "default_body": TOKEN})
    snippet_of(client, call, lang="curl", token="real")
    raw = send(client, "post", "/api/keys", {"name": "ci"}).json()["key"]
    send(client, "delete", "/api/services/reranker")
    assert len(events()) == 6
    secrets = [TOKEN, NEW_TOKEN, "another-Token-value-1234", raw, TOKEN[-4:]]
    stored = json.dumps([list(AuditEvent.objects.values_list(
        "username", "action", "service_slug", "target", "detail"))])
    listed = logged_in(root).get("/api/audit").content.decode()
    exported = b"".join(logged_in(root).get("/api/audit/export").streaming_content).decode()
    for text in (stored, listed, exported):
        assert not [secret for secret in secrets if secret in text]

