"""The audit log's page, /audit/, and the team pages' member changes recorded in it.

alice maintains Acme, bob is a member of it, charlie maintains Globex and should not read
Acme's events; root, a superuser, reads every event."""

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services import audit
from services.models import AuditEvent, Membership, Role
from tests.helpers import logged_in, make_user

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action
PAGE = "/audit/"


def event(user, action, team=None, target="", day=1, **detail):
    made = audit.record(user, action, team=team, target=target, detail=detail)
    AuditEvent.objects.filter(pk=made.pk).update(
        created_at=datetime(2025, 3, day, 9, 30, tzinfo=UTC))
    return made


@pytest.fixture
def log(acme, globex, alice, bob, charlie):
    return [
        event(alice, Action.SERVICE_CHANGED, acme, "chat", day=1,
              fields=["name", "timeout_s"]),
        event(charlie, Action.SERVICE_DELETED, globex, "gx", day=2),
        event(bob, Action.KEY_CREATED, None, "laptop", day=3),
        event(None, Action.SERVICE_DOWN, acme, "chat", day=4),
        event(alice, Action.MEMBER_ADDED, acme, "dave", day=5, role="member"),
    ]


def rows(response):
    """(action, target) of each row, top to bottom."""
    return re.findall(r'<tr class="audit-row" data-event-id="\d+" data-action="([\w.]+)">.*?'
                      r'<td class="mono">([^<]*)', response.text, re.DOTALL)


def page(user, query=""):
    response = logged_in(user).get(PAGE + query)
    assert response.status_code == 200, response.status_code
    return response


# Who reads what

def test_a_maintainer_reads_their_teams_events(log, alice):
    response = page(alice)
    assert rows(response) == [("member.added", "dave"), ("service.down", "chat"),
                              ("service.changed", "chat")]
    text = unescape(re.sub(r"<[^>]+>", " ", response.text))
    for shown in ("2025-03-05 09:30:00", "Member added", "role: member", "the portal",
                  "Service changed", "fields: name, timeout_s"):
        assert shown in text, shown
    assert 'id="audit-export" href="/api/audit/export">CSV</a>' in response.text


def test_the_header_links_the_log_for_who_may_read_it(log, alice, bob, charlie, root):
    link = f'<a href="{PAGE}">Audit log</a>'
    for user in (alice, charlie, root):
        assert link in logged_in(user).get(reverse("service_list")).text
    assert link not in logged_in(bob).get(reverse("service_list")).text
    assert link not in logged_in(make_user("erin")).get(reverse("service_list")).text


def test_a_member_who_maintains_no_team_gets_403(log, bob):
    response = logged_in(bob).get(PAGE)
    assert response.status_code == 403
    assert "Only maintainers of a team and administrators can read the audit log" in (
        response.text)
    assert logged_in(bob).get(PAGE + "?team=acme").status_code == 403


def test_another_teams_maintainer_reads_only_their_own(log, charlie):
    assert rows(page(charlie)) == [("service.deleted", "gx")]
    assert logged_in(charlie).get(PAGE + "?team=acme").status_code == 404


def test_a_team_of_which_one_is_only_a_member_is_403(log, acme, charlie):
    Membership.objects.create(team=acme, user=charlie, role=Role.MEMBER)
    response = logged_in(charlie).get(PAGE + "?team=acme")
    assert response.status_code == 403
    assert "Only maintainers of the team “acme” can read its audit log." in response.text


def test_a_superuser_reads_everything(log, root):
    assert [action for action, _target in rows(page(root))] == [
        "member.added", "service.down", "key.created", "service.deleted", "service.changed"]


def test_the_page_requires_login(db):
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/audit/")


# Filters, paging and the export link

def test_the_filters_offer_the_actions_and_the_maintained_teams(log, acme, globex, alice):
    Membership.objects.create(team=globex, user=alice, role=Role.MEMBER)
    text = page(alice, "?action=member.added").text
    assert '<option value="member.added" selected>Member added</option>' in text
    assert '<option value="token.changed">Token changed</option>' in text
    teams = re.search(r'<select name="team" id="id_team">(.*?)</select>', text, re.DOTALL)
    assert re.findall(r'<option value="(\w+)"', teams.group(1)) == ["acme"]


@pytest.mark.parametrize("query, expected", [
    ("?action=member.added", [("member.added", "dave")]),
    ("?user=alice", [("member.added", "dave"), ("service.changed", "chat")]),
    ("?team=globex", [("service.deleted", "gx")]),
    ("?since=2025-03-03&until=2025-03-04", [("service.down", "chat"),
                                            ("key.created", "laptop")]),
])
def test_the_filters_keep_what_they_say(log, root, query, expected):
    assert rows(page(root, query)) == expected


def test_a_bad_filter_says_what_is_wrong(log, alice):
    response = logged_in(alice).get(PAGE + "?since=2025-03-05&until=2025-03-01")
    assert response.status_code == 400
    assert "The start date comes after the end date." in response.text
    assert "Fix the filters above to see events." in response.text
    assert 'id="audit-export"' not in response.text


def test_older_pages_keep_the_filters_and_the_export_link_carries_them(log, root):
    response = page(root, "?user=alice&limit=1")
    assert rows(response) == [("member.added", "dave")]
    older = unescape(re.search(r'<a href="([^"]+)" class="button" rel="next">Older</a>',
                               response.text).group(1))
    assert parse_qs(urlsplit(older).query) == {"user": ["alice"], "limit": ["1"],
                                               "cursor": [str(log[4].pk)]}
    response = page(root, older)
    assert rows(response) == [("service.changed", "chat")]
    assert "rel=\"next\"" not in response.text and ">Newest</a>" in response.text
    export = unescape(re.search(r'id="audit-export" href="([^"]+)"', response.text).group(1))
    assert export == "/api/audit/export?user=alice"
    assert logged_in(root).get(export).status_code == 200


def test_what_users_wrote_is_escaped(acme, alice):
    event(alice, Action.MEMBER_ADDED, acme, "<img src=x onerror=alert(1)>",
          role="<script>alert(2)</script>")
    text = page(alice).text
    assert "<img src=x" not in text and "<script>alert" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "role: &lt;script&gt;alert(2)&lt;/script&gt;" in text


def test_the_page_costs_the_same_queries_whatever_its_length(log, acme, alice):
    client = logged_in(alice)
    for _ in range(2):  # the session: its user learned, then its row kept
        client.get(PAGE)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PAGE + "?limit=200").status_code == 200
        return len(captured)

    few = queries()
    for number in range(40):
        event(alice, Action.MEMBER_REMOVED, acme, f"user{number}")
    assert queries() == few


# The team pages record their member changes

def test_the_team_pages_record_members_added_given_roles_and_removed(acme, alice, bob):
    make_user("dave")
    client = logged_in(alice)
    client.post(reverse("team_member_add", args=["acme"]), {"username": "dave",
                                                            "role": "member"})
    client.post(reverse("team_member_role", args=["acme", "dave"]), {"role": "maintainer"})
    client.post(reverse("team_member_role", args=["acme", "dave"]), {"role": "maintainer"})
    client.post(reverse("team_member_remove", args=["acme", "bob"]))
    recorded = list(AuditEvent.objects.order_by("id").values_list(
        "username", "action", "team__slug", "target", "detail"))
    assert recorded == [
        ("alice", "member.added", "acme", "dave", {"role": "member"}),
        ("alice", "member.role_changed", "acme", "dave", {"role": "maintainer",
                                                          "was": "member"}),
        ("alice", "member.removed", "acme", "bob", {"role": "member"}),
    ]


def test_refused_member_changes_on_the_pages_record_nothing(acme, alice, bob):
    make_user("dave")
    logged_in(bob).post(reverse("team_member_add", args=["acme"]),
                        {"username": "dave", "role": "member"})
    client = logged_in(alice)
    response = client.post(reverse("team_member_role", args=["acme", "alice"]),
                           {"role": "member"}, follow=True)
    assert "A team keeps at least one maintainer" in response.text
    client.post(reverse("team_member_remove", args=["acme", "alice"]))
    assert not AuditEvent.objects.exists()
    assert Membership.objects.get(team=acme, user=alice).role == Role.MAINTAINER
