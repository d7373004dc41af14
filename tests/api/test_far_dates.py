"""Dates at the ends of the calendar in the history's and the audit log's since and until, with
TIME_ZONE east of UTC (Asia/Shanghai, and +14), west of it, and UTC: 0001-01-01 begins before
the first UTC instant there is east of UTC, and is still a valid filter, as is 9999-12-30 (the
last day whose end exists). Every list, export and filter answers, and keeps the right calls:
a day is the portal's day (TIME_ZONE), not UTC's."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from services import audit
from services.models import AuditEvent
from tests.helpers import logged_in, make_call

ZONES = ["Asia/Shanghai", "Pacific/Kiritimati", "America/Los_Angeles", "Etc/GMT+12", "UTC"]
FAR = [{"since": "0001-01-01"}, {"until": "9999-12-30"},
       {"since": "0001-01-01", "until": "9999-12-30"}]
NONE = [{"until": "0001-01-01"}, {"since": "9999-12-30"},
        {"since": "0001-01-01", "until": "0001-01-02"}]


@pytest.fixture(params=ZONES)
def zone(request, settings):
    settings.TIME_ZONE = request.param
    return request.param


@pytest.fixture
def history(service, bob):
    return [make_call(service, bob, created_at=datetime(2025, 6, 9, 17, tzinfo=UTC)),
            make_call(service, bob, created_at=datetime(2025, 6, 10, 3, tzinfo=UTC))]


def ids(query, client):
    response = client.get("/api/calls", query)
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def exported(query, client):
    lines = {}
    for format in ("csv", "jsonl"):
        response = client.get("/api/calls/export", {**query, "format": format})
        assert response.status_code == 200, response.content
        text = b"".join(response.streaming_content).decode()
        lines[format] = ({int(row["id"]) for row in csv.DictReader(io.StringIO(text))}
                         if format == "csv" else
                         {json.loads(line)["id"] for line in text.splitlines()})
    assert lines["csv"] == lines["jsonl"]
    return lines["csv"]


@pytest.mark.parametrize("query", FAR)
def test_the_ends_of_the_calendar_keep_every_call(zone, history, bob, query):
    client = logged_in(bob)
    everything = {call.pk for call in history}
    assert ids(query, client) == everything
    assert exported(query, client) == everything


@pytest.mark.parametrize("query", NONE)
def test_days_before_or_after_every_call_keep_none(zone, history, bob, query):
    client = logged_in(bob)
    assert ids(query, client) == set()
    assert exported(query, client) == set()


def test_a_day_is_the_portals_day(settings, history, bob):
    evening, morning = history  # 2025-06-09 17:00 UTC and 2025-06-10 03:00 UTC
    client = logged_in(bob)
    settings.TIME_ZONE = "Asia/Shanghai"  # both are on 2025-06-10 there (01:00, 11:00)
    assert ids({"since": "2025-06-10", "until": "2025-06-10"}, client) == {evening.pk, morning.pk}
    settings.TIME_ZONE = "America/Los_Angeles"  # both on 2025-06-09 (10:00, 20:00)
    assert ids({"until": "2025-06-09"}, client) == {evening.pk, morning.pk}
    settings.TIME_ZONE = "UTC"
    assert ids({"since": "2025-06-10"}, client) == {morning.pk}


@pytest.fixture
def log(acme, alice):
    made = audit.record(alice, AuditEvent.Action.SERVICE_CREATED, team=acme, target="chat")
    AuditEvent.objects.filter(pk=made.pk).update(created_at=datetime(2025, 3, 1, tzinfo=UTC))
    return made


@pytest.mark.parametrize("query", FAR)
def test_the_audit_logs_filters_take_the_ends_of_the_calendar(zone, log, alice, query):
    client = logged_in(alice)
    response = client.get("/api/audit", query)
    assert response.status_code == 200, response.content
    assert [item["target"] for item in response.json()["items"]] == ["chat"]
    export = client.get("/api/audit/export", query)
    assert export.status_code == 200
    assert b"chat" in b"".join(export.streaming_content)


@pytest.mark.parametrize("query", NONE)
def test_the_audit_log_keeps_nothing_outside_its_days(zone, log, alice, query):
    response = logged_in(alice).get("/api/audit", query)
    assert response.status_code == 200, response.content
    assert response.json()["items"] == []
