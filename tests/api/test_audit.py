"""Reading the audit log through the JSON API (docs/api.md, "Audit log"): who may read what,
the filters, the cursor, bad input, and the CSV export.

alice maintains Acme, bob is a member of it, charlie maintains Globex and should not read
Acme's events; root, a superuser, reads every event, those of no team included."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.test import Client

from services import audit
from services.models import AuditEvent, Membership, Role
from tests.helpers import JSON, detail, logged_in, make_user

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action
KEYS = {"at", "user", "team", "action", "target", "detail"}


def event(user, action, team=None, target="", when=None, **detail):
    made = audit.record(user, action, team=team, target=target, detail=detail)
    if when:
        AuditEvent.objects.filter(pk=made.pk).update(created_at=when)
    return made


@pytest.fixture
def log(acme, globex, alice, bob, charlie):
    """Acme's three events, Globex's one, one of no team, one of the portal; oldest first."""
    return [
        event(alice, Action.SERVICE_CREATED, acme, "chat",
              when=datetime(2025, 3, 1, 9, tzinfo=UTC), name="Chat"),
        event(alice, Action.MEMBER_ADDED, acme, "dave", when=datetime(2025, 3, 2, 9, tzinfo=UTC),
              role="member"),
        event(charlie, Action.SERVICE_DELETED, globex, "gx",
              when=datetime(2025, 3, 2, 10, tzinfo=UTC)),
        event(bob, Action.KEY_CREATED, None, "laptop", when=datetime(2025, 3, 3, 9, tzinfo=UTC)),
        event(None, Action.SERVICE_DOWN, acme, "chat", when=datetime(2025, 3, 4, 9, tzinfo=UTC)),
        event(alice, Action.TOKEN_CHANGED, acme, "chat",
              when=datetime(2025, 3, 5, 23, 59, tzinfo=UTC)),
    ]


def listed(user, query=""):
    response = logged_in(user).get(f"/api/audit{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(JSON)
    return response.json()


def targets(page):
    return [(item["action"], item["target"]) for item in page["items"]]


# Who reads what

def test_a_maintainer_reads_their_teams_events_newest_first(log, alice):
    page = listed(alice)
    assert page["next"] is None
    assert targets(page) == [("token.changed", "chat"), ("service.down", "chat"),
                             ("member.added", "dave"), ("service.created", "chat")]
    assert all(set(item) == KEYS for item in page["items"])
    assert page["items"][2] == {"at": "2025-03-02T09:00:00.000Z", "user": "alice",
                                "team": "acme", "action": "member.added", "target": "dave",
                                "detail": {"role": "member"}}
    assert page["items"][1]["user"] is None  # the portal itself


def test_another_teams_maintainer_reads_only_their_own(log, charlie):
    assert targets(listed(charlie)) == [("service.deleted", "gx")]


def test_a_superuser_reads_every_event_those_of_no_team_too(log, root):
    page = listed(root)
    assert len(page["items"]) == 6
    assert page["items"][2] == {"at": "2025-03-03T09:00:00.000Z", "user": "bob", "team": None,
                                "action": "key.created", "target": "laptop", "detail": {}}


@pytest.mark.parametrize("query", ["", "?team=acme", "?team=nowhere", "?action=nope"])
def test_a_member_who_maintains_no_team_is_refused(log, bob, query):
    for url in (f"/api/audit{query}", f"/api/audit/export{query}"):
        response = logged_in(bob).get(url)
        assert response.status_code == 403
        assert detail(response).startswith("Only maintainers")


def test_a_user_in_no_team_is_refused(log):
    assert logged_in(make_user("erin")).get("/api/audit").status_code == 403


def test_the_team_filter_is_404_to_outsiders_and_403_to_members(log, acme, charlie):
    response = logged_in(charlie).get("/api/audit?team=acme")
    assert response.status_code == 404
    assert "acme" in detail(response)
    Membership.objects.create(team=acme, user=charlie, role=Role.MEMBER)
    response = logged_in(charlie).get("/api/audit?team=acme")
    assert response.status_code == 403
    assert "Only maintainers of the team “acme”" in detail(response)
    assert logged_in(charlie).get("/api/audit/export?team=acme").status_code == 403
    # Nor does the unfiltered list give them: a member of Acme who maintains Globex reads
    # Globex's events only, in the list and in its export.
    assert targets(listed(charlie)) == [("service.deleted", "gx")]
    assert [row[6] for row in exported(charlie)[1:]] == ["gx"]


def test_the_team_filter_keeps_that_teams_events(log, alice, root):
    assert len(listed(alice, "?team=acme")["items"]) == 4
    assert targets(listed(root, "?team=globex")) == [("service.deleted", "gx")]
    assert logged_in(root).get("/api/audit?team=nowhere").status_code == 404


def test_logged_out_is_401(log):
    assert Client().get("/api/audit").status_code == 401
    assert Client().get("/api/audit/export").status_code == 401


# Filters and the cursor

@pytest.mark.parametrize("query, expected", [
    ("?action=service.created", [("service.created", "chat")]),
    ("?action=key.created", [("key.created", "laptop")]),
    ("?user=charlie", [("service.deleted", "gx")]),
    ("?user=alice&action=member.added", [("member.added", "dave")]),
    ("?since=2025-03-03", [("token.changed", "chat"), ("service.down", "chat"),
                           ("key.created", "laptop")]),
    ("?until=2025-03-02", [("service.deleted", "gx"), ("member.added", "dave"),
                           ("service.created", "chat")]),
    ("?since=2025-03-02&until=2025-03-02", [("service.deleted", "gx"),
                                            ("member.added", "dave")]),
    ("?since=2025-03-05&until=2025-03-05", [("token.changed", "chat")]),  # its whole day
    ("?user=nobody", []),
])
def test_the_filters(log, root, query, expected):
    assert targets(listed(root, query)) == expected


def test_the_cursor_walks_the_filtered_log_page_by_page(log, root):
    seen, cursor = [], ""
    for _page in range(3):
        page = listed(root, f"?limit=2&user=alice{cursor}")
        seen += targets(page)
        if page["next"] is None:
            break
        cursor = f"&cursor={page['next']}"
    assert seen == [("token.changed", "chat"), ("member.added", "dave"),
                    ("service.created", "chat")]
    assert page["next"] is None


def test_the_first_page_says_where_the_next_begins(log, root):
    page = listed(root, "?limit=4")
    assert page["next"] == str(log[2].pk)
    assert targets(listed(root, f"?cursor={page['next']}")) == [("member.added", "dave"),
                                                                ("service.created", "chat")]


@pytest.mark.parametrize("query, named", [
    ("action=nope", "Action: Select a valid choice. nope is not one of the available choices."),
    ("team=not%20a%20slug", "Team: "),
    ("since=2025-03-02&until=2025-03-01", "The start date comes after the end date."),
    ("limit=201", "limit: "),
])
def test_a_bad_filter_is_400_naming_it(log, root, query, named):
    for url in (f"/api/audit?{query}", f"/api/audit/export?{query}"):
        response = logged_in(root).get(url)
        assert response.status_code == 400
        assert named in detail(response)


@pytest.mark.parametrize("query", ["cursor=1" + "0" * 30, "cursor=9223372036854775808",
                                   "since=0001-01-01", "until=9999-12-30", "unknown=1",
                                   "user=%E4%B8%AD", "limit=200"])
def test_odd_but_valid_filters_answer(log, root, query):
    response = logged_in(root).get(f"/api/audit?{query}")
    assert response.status_code == 200
    assert set(response.json()) == {"items", "next"}


def test_a_page_is_one_query_of_the_log_whatever_its_length(log, root, alice,
                                                            django_assert_max_num_queries):
    client = logged_in(root)
    client.get("/api/audit")  # the session, warm
    for number in range(30):
        event(alice, Action.MEMBER_REMOVED, log[0].team, f"user{number}")
    # the session, the user, the access check, the events with their teams' slugs
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/audit?limit=200").json()["items"]) == 36


# The CSV export

def exported(user, query=""):
    response = logged_in(user).get(f"/api/audit/export{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="easportal-audit-')
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text)))


def test_the_export_is_the_filtered_log_as_csv(log, alice):
    rows = exported(alice, "?action=member.added")
    assert rows == [["id", "at", "user", "team", "service", "action", "target", "detail"],
                    [str(log[1].pk), "2025-03-02T09:00:00.000Z", "alice", "acme", "",
                     "member.added", "dave", '{"role": "member"}']]
    assert [row[6] for row in exported(alice)[1:]] == ["chat", "chat", "dave", "chat"]


def test_the_export_keeps_the_permissions(log, charlie, root):
    assert [row[6] for row in exported(charlie)[1:]] == ["gx"]
    assert len(exported(root)) == 7
    assert [row[6] for row in exported(root, f"?cursor={log[2].pk}")[1:]] == ["dave", "chat"]


def test_the_export_defuses_formula_cells(acme, root):
    event(root, Action.KEY_CREATED, None, "=HYPERLINK(\"http://x\")", name="@SUM(1)")
    event(root, Action.MEMBER_ADDED, acme, "+1-2")
    rows = exported(root)[1:]
    assert [row[6] for row in rows] == ["'+1-2", "'=HYPERLINK(\"http://x\")"]
    assert rows[1][7] == '{"name": "@SUM(1)"}'


def test_the_export_reads_the_log_in_batches(acme, root, monkeypatch):
    monkeypatch.setattr(audit.batches, "__defaults__", (3,))
    for number in range(8):
        event(root, Action.MEMBER_ADDED, acme, f"user{number}")
    assert [row[6] for row in exported(root)[1:]] == [f"user{n}" for n in range(7, -1, -1)]
