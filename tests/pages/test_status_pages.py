"""The status board (/status/), a service's status on its page, and its probe on the service's
form: what each shows, the form's refusals, and who sees what."""

import base64
import json
import os
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from services.models import Probe, ProbeHour
from services.models.probes import hour_number
from tests.helpers import logged_in, make_service, module_scripts

pytestmark = pytest.mark.django_db


def edit_data(service, **probe):
    data = {field: getattr(service, field) for field in (
        "name", "slug", "kind", "gateway", "public_endpoint", "vpc_endpoint", "default_endpoint",
        "region", "description", "default_method", "default_path", "default_body", "timeout_s")}
    data.update(team=service.team.pk, token="")
    data.update({f"probe-{name}": value for name, value in probe.items()})
    return data


@pytest.fixture
def down(service):
    Probe.objects.create(service=service, enabled=True, state="down", path="/v1/models",
                         last_checked_at=timezone.now(), last_latency_ms=42.0,
                         last_error="HTTP 503, where 200 was expected.")
    hour = hour_number(timezone.now())
    for hours_ago, ups in ((0, 0), (1, 12)):
        ProbeHour.objects.create(service=service, hour=hour - hours_ago,
                                 checks=12, ups=ups, latency_sum_ms=12 * 30.0 * (hours_ago + 1),
                                 latency_max_ms=60.0)
    return service


def sparkline_data(html):
    """What the page hands static/js/sparkline.js: each service's mean latency by the hour,
    oldest first, None for an hour without checks."""
    found = re.search(r'<script id="sparkline-data" type="application/json">(.*?)</script>',
                      html)
    return json.loads(found.group(1)) if found else None


# The hour before this one: 12 checks of 60 ms; this hour: 12 of 30 ms.
CHAT_SPARKLINE = [None] * 22 + [60.0, 30.0]
UPLOT = re.compile(r'<link rel="preload" as="script" id="uplot-script" '
                   r'href="/static/vendor/uplot/uPlot\.iife\.min\.[0-9a-f]{12}\.js">')


def test_the_board_shows_each_service_of_my_teams(down, globex, bob):
    make_service(globex, slug="theirs", name="Theirs")
    response = logged_in(bob).get(reverse("status_board"))
    assert response.status_code == 200
    html = response.text
    assert 'data-service="chat" data-state="down"' in html
    assert "HTTP 503, where 200 was expected." in html and "42.0 ms" in html
    assert "50%" in html  # 12 of 24 checks up
    assert "theirs" not in html and "0 up, 1 down, 0 unknown" in html


def test_the_board_draws_each_sparkline_with_uplot_over_an_svg_fallback(down, bob):
    response = logged_in(bob).get(reverse("status_board"))
    html = response.text
    # uPlot draws into the row's box from the data the page hands it; until it has (or without
    # JavaScript), the box holds the same line as SVG.
    assert re.search(r'<span class="sparkline-box" data-sparkline="chat" role="img" '
                     r'aria-label="[^"]+"><svg class="sparkline"[^>]*><polyline points="', html)
    assert sparkline_data(html) == {"chat": CHAT_SPARKLINE}
    assert module_scripts(response) == ["sparkline"]
    assert UPLOT.search(html) and "vendor/uplot/uPlot.min." in html


def test_a_board_without_any_latency_loads_no_chart(service, bob):
    Probe.objects.create(service=service, enabled=True, state="unknown")
    response = logged_in(bob).get(reverse("status_board"))
    assert sparkline_data(response.text) is None and "sparkline-box" not in response.text
    assert module_scripts(response) == [] and "uplot" not in response.text.lower()


def test_the_board_escapes_what_it_shows(service, bob):
    Probe.objects.create(service=service, enabled=True, state="down",
                         last_error="<script>alert(1)</script>")
    html = logged_in(bob).get(reverse("status_board")).text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_the_board_needs_a_login(client):
    response = client.get(reverse("status_board"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_service_page_shows_its_status(down, bob, alice):
    response = logged_in(bob).get(reverse("service_detail", args=["chat"]))
    html = response.text
    assert 'id="service-status"' in html and 'data-state="down"' in html
    checked = timezone.localtime(down.probe.last_checked_at).strftime("%Y-%m-%d %H:%M:%S")
    assert f"last checked {checked}" in html
    assert "· 42.0 ms" in html
    assert "50% up over 24 h" in html
    assert "HTTP 503, where 200 was expected." in html
    # Its sparkline: uPlot's, over the SVG fallback, from the data the page hands it.
    assert 'class="sparkline-box" data-sparkline="chat"' in html and "<polyline points=" in html
    assert sparkline_data(html) == {"chat": CHAT_SPARKLINE}
    assert module_scripts(response) == ["saved_list", "sparkline"]
    assert UPLOT.search(html)


def test_without_a_probe_the_service_page_says_so(service, bob, alice):
    assert "No probe is on" in logged_in(bob).get(reverse("service_detail", args=["chat"])).text
    assert "Turn it on" in logged_in(alice).get(reverse("service_detail", args=["chat"])).text


def test_the_form_turns_the_probe_on_with_its_defaults(service, alice):
    response = logged_in(alice).post(reverse("service_edit", args=["chat"]),
                                     edit_data(service, enabled="on", method="GET", path="",
                                               interval_s="60", expect_status="200"))
    assert response.status_code == 302
    probe = Probe.objects.get()
    assert (probe.enabled, probe.method, probe.path, probe.interval_s) == (
        True, "GET", "/v1/models", 60)
    assert probe.next_at is None


def test_a_form_without_the_probe_fields_leaves_the_probe_alone(down, alice):
    data = edit_data(down)
    response = logged_in(alice).post(reverse("service_edit", args=["chat"]), data)
    assert response.status_code == 302
    probe = Probe.objects.get()
    assert probe.enabled and probe.state == "down"


@pytest.mark.parametrize(("probe", "field", "message"), [
    ({"interval_s": "29"}, "interval_s", "30"),
    ({"path": "/../x"}, "path", ".."),
    ({"expect_status": "700"}, "expect_status", "599"),
])
def test_bad_probe_values_get_a_form_error(service, alice, probe, field, message):
    response = logged_in(alice).post(reverse("service_edit", args=["chat"]),
                                     edit_data(service, enabled="on", **probe))
    assert response.status_code == 200
    errors = response.context["probe_form"].errors
    assert message in " ".join(errors[field])
    assert not Probe.objects.exists()


def test_a_token_the_keys_cannot_read_cannot_be_probed(service, alice, settings):
    settings.EASPORTAL_TOKEN_KEYS = [base64.urlsafe_b64encode(os.urandom(32)).decode()]
    response = logged_in(alice).post(reverse("service_edit", args=["chat"]),
                                     edit_data(service, enabled="on"))
    assert response.status_code == 200
    assert "cannot be turned on" in " ".join(response.context["probe_form"].errors["enabled"])
    assert not Probe.objects.exists()
