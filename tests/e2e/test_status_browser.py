"""The status board in Chromium: a service whose probe finds the emulator answering 503 shows
down, and up again once its probe finds it answering; each pass is a real `manage.py
run_probes --once` on the live portal's database."""

import pytest
from playwright.sync_api import expect

from services import probes
from services.models import Probe
from tests.helpers import log_in
from tests.processes import on_test_database

pytestmark = pytest.mark.django_db(transaction=True)


def probe_pass():
    process = on_test_database("run_probes", "--once")
    assert process.wait(timeout=60) == 0


def test_the_board_shows_a_service_down_then_up_again(page, live_server, echo, alice):
    probe = probes.probe_of(echo)
    probe.enabled, probe.method, probe.path = True, "GET", "/status/503"
    probes.save(probe)
    probe_pass()
    log_in(page, live_server, "alice")
    page.click("nav >> text=Status")
    page.wait_for_url(f"{live_server.url}/status/")
    row = page.locator('tr.status-row[data-service="demo-echo"]')
    expect(row.locator(".state")).to_have_text("down")
    expect(row).to_contain_text("HTTP 503, where 200 was expected.")
    expect(row).to_contain_text("0%")
    # Its maintainer fixes the probe's path on the service's form; the next pass finds it up.
    page.goto(f"{live_server.url}/services/demo-echo/edit/")
    page.fill("input[name=probe-path]", "/status/200")
    page.click("form.service-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/services/demo-echo/")
    probe_pass()
    page.goto(f"{live_server.url}/status/")
    expect(row.locator(".state")).to_have_text("up")
    expect(row).to_contain_text("50%")  # one check of two found it up
    expect(row.locator("svg.sparkline polyline")).to_have_count(1)
    page.goto(f"{live_server.url}/services/demo-echo/")
    expect(page.locator("#service-status .state")).to_have_text("up")
    assert Probe.objects.get().state == "up"
    assert page.csp_errors == []
