"""The status board in Chromium: a service whose probe finds the emulator answering 503 shows
down, and up again once its probe finds it answering, its latency sparkline drawn by the
vendored uPlot on the board and on the service's page; each pass is a real `manage.py
run_probes --once` on the live portal's database."""

import re

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
    vendored = []
    page.on("request", lambda request: "/static/vendor/" in request.url
            and vendored.append(request.url.split("/static/")[1]))
    page.click("nav >> text=Status")
    page.wait_for_url(f"{live_server.url}/status/")
    row = page.locator('tr.status-row[data-service="demo-echo"]')
    expect(row.locator(".state")).to_have_text("down")
    expect(row).to_contain_text("HTTP 503, where 200 was expected.")
    expect(row).to_contain_text("0%")
    # The sparkline is uPlot's, drawn in place of the server's SVG.
    expect(row.locator(".sparkline-box .uplot canvas")).to_have_count(1)
    expect(row.locator("svg.sparkline")).to_have_count(0)
    assert sorted(re.sub(r"\.[0-9a-f]{12}\.", ".<hash>.", url) for url in vendored) == [
        "vendor/uplot/uPlot.iife.min.<hash>.js", "vendor/uplot/uPlot.min.<hash>.css"]
    # Its maintainer fixes the probe's path on the service's form; the next pass finds it up.
    page.goto(f"{live_server.url}/services/demo-echo/edit/")
    page.fill("input[name=probe-path]", "/status/200")
    page.click("form.service-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/services/demo-echo/")
    probe_pass()
    page.goto(f"{live_server.url}/status/")
    expect(row.locator(".state")).to_have_text("up")
    expect(row).to_contain_text("50%")  # one check of two found it up
    expect(row.locator(".sparkline-box .uplot canvas")).to_have_count(1)
    expect(row.locator("svg.sparkline")).to_have_count(0)
    page.goto(f"{live_server.url}/services/demo-echo/")
    expect(page.locator("#service-status .state")).to_have_text("up")
    expect(page.locator("#service-status .sparkline-box .uplot canvas")).to_have_count(1)
    expect(page.locator("#service-status svg.sparkline")).to_have_count(0)
    assert page.evaluate("typeof window.uPlot") == "function"
    assert Probe.objects.get().state == "up"
    assert page.csp_errors == []
