"""The history page's and the audit log page's date filters at the ends of the calendar, with
TIME_ZONE east of UTC (Asia/Shanghai), west of it and UTC: 0001-01-01 begins before the first
instant UTC can write east of UTC, and is still a valid filter (tests/api/test_far_dates.py
has the API's side and the export)."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from services import audit
from services.models import AuditEvent
from tests.helpers import logged_in, make_call

QUERIES = [({"since": "0001-01-01"}, True), ({"until": "9999-12-30"}, True),
           ({"since": "0001-01-01", "until": "9999-12-30"}, True),
           ({"since": "0001-01-01", "until": "0001-01-02"}, False),
           ({"since": "9999-12-30"}, False)]


@pytest.fixture(params=["Asia/Shanghai", "America/Los_Angeles", "UTC"])
def zone(request, settings):
    settings.TIME_ZONE = request.param
    return request.param


@pytest.mark.parametrize("query, kept", QUERIES)
def test_the_history_page_takes_the_ends_of_the_calendar(zone, service, bob, query, kept):
    call = make_call(service, bob, created_at=datetime(2025, 6, 10, 3, tzinfo=UTC))
    response = logged_in(bob).get(reverse("call_list"), query)
    assert response.status_code == 200
    assert [row.pk for row in response.context["calls"]] == ([call.pk] if kept else [])


@pytest.mark.parametrize("query, kept", QUERIES)
def test_the_audit_page_takes_the_ends_of_the_calendar(zone, acme, alice, query, kept):
    made = audit.record(alice, AuditEvent.Action.SERVICE_CREATED, team=acme, target="chat")
    AuditEvent.objects.filter(pk=made.pk).update(created_at=datetime(2025, 3, 1, tzinfo=UTC))
    response = logged_in(alice).get(reverse("audit_list"), query)
    assert response.status_code == 200
    assert [event["id"] for event in response.context["events"]] == ([made.pk] if kept else [])
