"""The status board's figures (services/status.py, GET /api/status): uptime over the last 24
hours and the hourly latency sparkline from the probes' hourly counts, and who sees what."""

import pytest
from django.utils import timezone

from services import status
from services.models import Probe, ProbeHour
from services.models.probes import hour_number
from tests.helpers import logged_in, make_service

pytestmark = pytest.mark.django_db


def this_hour(hours_ago=0):
    return hour_number(timezone.now()) - hours_ago


@pytest.fixture
def probed(service):
    Probe.objects.create(service=service, enabled=True, state="down", path="/v1/models",
                         last_checked_at=timezone.now(), last_latency_ms=12.5,
                         last_error="HTTP 503, where 200 was expected.")
    for hours_ago, checks, ups, latency in ((0, 12, 9, 120.0), (5, 12, 12, 240.0),
                                           (23, 4, 0, 400.0), (24, 12, 0, 999.0),
                                           (30, 12, 0, 999.0)):
        ProbeHour.objects.create(service=service, hour=this_hour(hours_ago), checks=checks,
                                 ups=ups, latency_sum_ms=latency, latency_max_ms=latency)
    return service


def test_uptime_is_the_share_of_the_last_24_hours_checks_that_found_it_up(probed, bob):
    [row] = status.board(bob)
    # The hours 0, 5 and 23 ago are the last 24; 24 and 30 hours ago are not.
    assert (row.checks, row.ups) == (28, 21)
    assert row.uptime_24h == 0.75
    assert row.sparkline[23] == 10.0 and row.sparkline[18] == 20.0 and row.sparkline[0] == 100.0
    assert row.sparkline.count(None) == 21


def test_the_api_gives_each_service_of_your_teams(probed, bob, charlie, globex, client):
    make_service(globex, slug="theirs", name="Theirs")
    [row] = logged_in(bob).get("/api/status").json()
    assert row == {"service": "chat", "state": "down",
                   "last_checked_at": row["last_checked_at"], "last_latency_ms": 12.5,
                   "uptime_24h": 0.75, "last_error": "HTTP 503, where 200 was expected."}
    assert row["last_checked_at"].endswith("Z")
    assert [item["service"] for item in logged_in(charlie).get("/api/status").json()] == [
        "theirs"]
    assert client.get("/api/status").status_code == 401


def test_a_service_without_a_probe_on_is_unknown(service, bob):
    row = logged_in(bob).get("/api/status").json()[0]
    assert (row["state"], row["uptime_24h"], row["last_checked_at"]) == ("unknown", None, None)
    Probe.objects.create(service=service, enabled=False, state="up")
    assert logged_in(bob).get("/api/status").json()[0]["state"] == "unknown"


def test_sparkline_points_scale_to_the_largest_value():
    assert status.sparkline_points([None, None]) == ""
    points = status.sparkline_points([10.0, None, 20.0], width=100, height=22)
    assert points == "0.0,11.0 100.0,1.0"
