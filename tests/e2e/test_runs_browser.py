"""Capacity runs and compares in Chromium, against the live portal, the local EAS emulator and a
real worker process: the builder's "Capacity run…" (what the run will send, a refusal, Start),
the run page watched to its end with both plots drawn, Stop, two runs side by side with the
overlay plot, and a compare's targets side by side with their differences (status, headers,
body). Through the test client: tests/pages/test_runs_pages.py."""

import json
import re
import uuid
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from services.models import Call, Run, SavedRequest
from tests.helpers import log_in, logged_in, make_call, open_builder

# The plots' colours (static/js/run_plots.js): the first series, the second one.
BLUE, ORANGE = (0x24, 0x57, 0xC5), (0xD9, 0x77, 0x06)
RUN_TIMEOUT_MS = 30_000


def painted(page, plot, color):
    """How many pixels of the plot's canvas are about this colour: what uPlot drew."""
    return page.evaluate("""([plot, color]) => {
        const canvas = document.querySelector(plot + " canvas");
        const data = canvas.getContext("2d")
            .getImageData(0, 0, canvas.width, canvas.height).data;
        let found = 0;
        for (let i = 0; i < data.length; i += 4) {
            const off = Math.abs(data[i] - color[0]) + Math.abs(data[i + 1] - color[1]) +
                Math.abs(data[i + 2] - color[2]);
            if (data[i + 3] > 200 && off < 60) found += 1;
        }
        return found;
    }""", [plot, list(color)])


def assert_drawn(page, plot):
    """The plot has one uPlot canvas of a real size."""
    canvas = page.locator(f"{plot} .uplot canvas")
    expect(canvas).to_have_count(1)
    box = canvas.bounding_box()
    assert box["width"] > 200 and box["height"] > 150, box


def figure(page, key, column=1):
    return page.locator(f"#run-figures tr[data-key='{key}'] td").nth(column - 1)


def test_a_maintainer_previews_starts_and_watches_a_run_to_its_end(live_server, page, echo,
                                                                   alice, emulator, worker):
    worker()
    log_in(page, live_server, "alice")
    open_builder(page, live_server, echo)
    page.select_option("#method", "GET")
    page.fill("#path", "/slow?seconds=0.05")
    page.fill("#body", "")

    # What the run will send, checked by the server before anything is queued.
    page.click("#capacity-run")
    expect(page.locator("#run-dialog")).to_be_visible()
    preview = page.locator("#run-preview")
    expect(page.locator("#run-preview-size")).to_have_text("100 requests, 8 at once")
    expect(page.locator("#run-preview-method")).to_have_text("GET")
    expect(page.locator("#run-preview-url")).to_have_text(
        f"{emulator.base('demo-echo')}/slow?seconds=0.05")
    expect(preview.locator("#run-preview-headers")).to_contain_text(
        "Content-Typeapplication/json")
    expect(preview.locator("#run-preview-headers")).to_contain_text(
        "Authorizationthe service's token, added by the portal")
    expect(page.locator("#run-preview-body")).to_have_text("0 bytes")
    expect(page.locator("#run-preview-limit")).to_have_text("stops after 300 s at most")
    expect(page.locator("#run-start")).to_be_enabled()

    # A refusal of the server is shown, and Start waits for numbers that pass.
    page.fill("#run-total", "20")
    page.fill("#run-concurrency", "30")
    expect(page.locator("#run-error")).to_have_text(
        "concurrency (30) cannot be more than total (20): there would be nothing for the "
        "rest to send.")
    expect(preview).to_be_hidden()
    expect(page.locator("#run-start")).to_be_disabled()
    page.fill("#run-concurrency", "4")
    expect(page.locator("#run-preview-size")).to_have_text("20 requests, 4 at once")
    expect(page.locator("#run-error")).to_be_hidden()
    assert not Run.objects.exists()  # the checks queue nothing

    page.click("#run-start")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    run = Run.objects.get()
    assert page.url == f"{live_server.url}/runs/{run.pk}/"
    assert (run.total, run.concurrency, run.username) == (20, 4, "alice")
    expect(page.locator("h1")).to_contain_text(f"Capacity run #{run.pk}")
    expect(page.locator("#run-request")).to_have_text(
        f"GET {emulator.base('demo-echo')}/slow?seconds=0.05")

    # Watched to its end: the state, the figures, no more progress bar nor Stop.
    expect(page.locator("#run-state")).to_have_text("done", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#run-progress-box")).to_be_hidden()
    expect(page.locator("#run-stop")).to_be_hidden()
    expect(figure(page, "sent")).to_have_text("20 of 20")
    expect(figure(page, "ok")).to_have_text("20")
    expect(figure(page, "statuses")).to_have_text("200 × 20")
    expect(figure(page, "errors")).to_have_text("—")
    expect(figure(page, "elapsed_s")).to_have_text(re.compile(r"^\d+\.\d s$"))
    expect(figure(page, "rps")).to_have_text(re.compile(r"^\d+\.\d$"))
    p50 = float(figure(page, "latency_ms.p50").text_content().removesuffix(" ms"))
    assert p50 >= 50

    # Both plots, drawn from the run's 20 samples: 20 points, and bars that count 20.
    expect(page.locator("#plot-scatter")).to_have_attribute("data-points", "20")
    expect(page.locator("#plot-histogram")).to_have_attribute("data-counted", "20")
    expect(page.locator("#plot-histogram")).to_have_attribute("data-bars", "5")
    for plot in ("#plot-scatter", "#plot-histogram"):
        assert_drawn(page, plot)
        assert painted(page, plot, BLUE) > 20, plot
    expect(page.locator("#plot-scatter .u-legend")).to_contain_text("2xx")
    expect(page.locator("#plot-histogram .u-legend")).to_contain_text("Requests")
    assert page.csp_errors == []

    # Its calls in history, each linking back to the run.
    page.click("#run-calls")
    page.wait_for_url(f"{live_server.url}/calls/?run={run.pk}")
    expect(page.locator("tr.call-row")).to_have_count(20)
    expect(page.locator("tr.call-row a.run-link")).to_have_count(20)
    assert Call.objects.filter(run=run, source="run").count() == 20


def test_stop_ends_a_running_run_and_its_plots_keep_what_was_sent(live_server, page, echo,
                                                                  alice, worker):
    worker()
    started = logged_in(alice).post(
        f"/api/services/{echo.slug}/runs",
        json.dumps({"total": 400, "concurrency": 2,
                    "request": {"method": "GET", "path": "/slow?seconds=0.3", "body": ""}}),
        content_type="application/json")
    assert started.status_code == 202, started.content
    run_id = started.json()["id"]
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/runs/{run_id}/")

    # Progress while it runs; Stop is there for a maintainer.
    expect(page.locator("#run-state")).to_have_text("running", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#run-progress-text")).to_have_text(
        re.compile(r"^[1-9]\d* of 400$"), timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#plot-scatter")).not_to_have_attribute("data-points", "0",
                                                                 timeout=RUN_TIMEOUT_MS)
    assert_drawn(page, "#plot-scatter")
    page.click("#run-stop")

    expect(page.locator("#run-state")).to_have_text("stopped", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#run-reason")).to_have_text("Stopped by a user.")
    expect(page.locator("#run-stop")).to_be_hidden()
    expect(page.locator("#run-progress-box")).to_be_hidden()
    run = Run.objects.get(pk=run_id)
    assert run.state == "stopped" and 0 < run.sent < 400
    # The plots have every request that was sent, the cancelled ones included.
    expect(page.locator("#plot-scatter")).to_have_attribute("data-points", str(run.sent))
    expect(page.locator("#plot-histogram")).to_have_attribute("data-counted", str(run.sent))
    expect(figure(page, "sent")).to_have_text(f"{run.sent} of 400")
    assert page.csp_errors == []


def ended_run(service, user, latencies, **fields):
    """An ended capacity run of the service with one call per latency, 0.1 s apart: what a
    worker would have left, without sending anything."""
    began = timezone.now() - timedelta(minutes=5)
    run = Run.objects.create(
        kind="capacity", team=service.team, service=service, service_slug=service.slug,
        service_name=service.name, user=user, username=user.username, state="done",
        started_at=began, total=len(latencies), concurrency=2, max_seconds=300,
        url=service.public_endpoint + "/slow", request={"method": "GET", "path": "/slow"},
        sent=len(latencies), ok=len(latencies), statuses={"200": len(latencies)},
        rps=10.0, elapsed_s=len(latencies) / 10, **fields)
    for index, latency in enumerate(latencies):
        make_call(service, user, source="run", run=run, method="GET", path="/slow",
                  elapsed_ms=latency, created_at=began + timedelta(seconds=index / 10))
    return run


def test_two_runs_side_by_side_with_the_overlay_plot(live_server, page, echo, chat, bob, alice):
    shared = ended_run(echo, alice, [50 + index for index in range(30)],
                       latency_ms={"mean": 64.5, "p50": 64.5, "p90": 76.1, "p95": 77.55,
                                   "p99": 78.71, "max": 79.0})
    dedicated = ended_run(chat, alice, [100 + 2 * index for index in range(30)],
                          latency_ms={"mean": 129.0, "p50": 129.0, "p90": 152.2,
                                      "p95": 155.1, "p99": 157.42, "max": 158.0})
    log_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/runs/{shared.pk}/")
    expect(page.locator("#plot-scatter")).to_have_attribute("data-points", "30")
    expect(page.locator("#plot-overlay")).to_have_count(0)

    # The choice goes into the URL, which can be shared.
    page.select_option("#compare-with", str(dedicated.pk))
    page.wait_for_url(f"{live_server.url}/runs/{shared.pk}/?with={dedicated.pk}")
    expect(page.locator("#run-figures thead th")).to_have_count(3)
    expect(page.locator("#other-run-head")).to_contain_text(f"Run #{dedicated.pk}")
    expect(figure(page, "latency_ms.p50", 1)).to_have_text("64.5 ms")
    expect(figure(page, "latency_ms.p50", 2)).to_have_text("129.0 ms")
    expect(figure(page, "sent", 2)).to_have_text("30 of 30")

    overlay = page.locator("#plot-overlay")
    expect(overlay).to_have_attribute("data-series", "2")
    expect(overlay).to_have_attribute("data-points", "101")
    assert_drawn(page, "#plot-overlay")
    expect(overlay.locator(".u-legend")).to_contain_text(f"Run #{shared.pk}")
    expect(overlay.locator(".u-legend")).to_contain_text(f"Run #{dedicated.pk}")
    # Both curves are on the chart, each in its colour.
    assert painted(page, "#plot-overlay", BLUE) > 50
    assert painted(page, "#plot-overlay", ORANGE) > 50
    assert page.csp_errors == []

    # Back to the run alone.
    page.select_option("#compare-with", "")
    page.wait_for_url(f"{live_server.url}/runs/{shared.pk}/?with=")
    expect(page.locator("#plot-overlay")).to_have_count(0)


def compare(page, rounds):
    page.click("#compare")
    expect(page.locator("#compare-dialog")).to_be_visible()
    page.check("#compare-targets input[data-service='demo-chat'][data-endpoint='public']")
    page.fill("#compare-rounds", str(rounds))
    page.click("#compare-start")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    expect(page.locator("#compare-targets")).to_have_attribute("data-loaded", "true")


def test_a_compare_shows_two_targets_side_by_side_with_a_diff(live_server, page, echo, chat,
                                                              bob):
    log_in(page, live_server, "bob")  # a member: compares are not only the maintainers'
    open_builder(page, live_server, echo)
    expect(page.locator("#capacity-run")).to_be_disabled()
    page.select_option("#method", "GET")
    page.fill("#path", "/echo?who=both")
    page.fill("#body", "")

    # Too few targets: the dialog says so, nothing is sent.
    page.click("#compare")
    page.uncheck("#compare-targets input[data-service='demo-echo']")
    page.check("#compare-targets input[data-service='demo-chat']")
    page.click("#compare-start")
    expect(page.locator("#compare-error")).to_have_text("Pick from 2 to 4 targets.")
    page.check("#compare-targets input[data-service='demo-echo']")
    page.click("#compare-cancel")

    compare(page, 2)
    run = Run.objects.get(kind="compare")
    assert run.sent == 4 and run.result["same_body"] is False
    targets = page.locator("article.target")
    expect(targets).to_have_count(2)
    expect(targets.nth(0).locator("h2")).to_have_text("demo-echo Public")
    expect(targets.nth(1).locator("h2")).to_have_text("demo-chat Public")
    for index in (0, 1):
        expect(targets.nth(index).locator(".target-status")).to_have_text("200")
        expect(targets.nth(index)).to_contain_text("200 × 2")
    # The same status: not marked.
    expect(targets.nth(1).locator(".target-status-diff")).to_be_hidden()
    expect(page.locator(".target-status.status-differs")).to_have_count(0)
    expect(targets.nth(0).locator(".target-body")).to_contain_text(
        '"path": "/api/predict/demo-echo/echo"')
    expect(targets.nth(1).locator(".target-body")).to_contain_text(
        '"path": "/api/predict/demo-chat/echo"')
    expect(page.locator("#same-body-note")).to_contain_text("first answers differ")

    # The diff, under the second target: its lines against the first's, the rest alike.
    diff = targets.nth(1).locator(".target-diff")
    expect(diff).to_be_visible()
    expect(diff.locator(".target-diff-note")).to_have_text(
        "Differences from demo-echo Public (− its lines, + this target's):")
    removed = diff.locator(".diff-del").all_text_contents()
    added = diff.locator(".diff-add").all_text_contents()
    assert '-   "path": "/api/predict/demo-echo/echo",\n' in removed
    assert '+   "path": "/api/predict/demo-chat/echo",\n' in added
    assert any('"query": "who=both"' in line
               for line in diff.locator(".diff-same").all_text_contents())
    expect(targets.nth(0).locator(".target-diff")).to_have_count(0)

    # The same answer from both: said so, no diff lines.
    open_builder(page, live_server, echo)
    page.select_option("#method", "GET")
    page.fill("#path", "/slow?seconds=0")
    page.fill("#body", "")
    compare(page, 1)
    expect(page.locator("#same-body-note")).to_have_text("Every target answered the same body.")
    second = page.locator("article.target").nth(1)
    expect(second.locator(".target-diff .target-diff-note")).to_have_text(
        "The same body as demo-echo Public.")
    expect(second.locator(".target-diff .diff-line")).to_have_count(0)

    # Another status and other headers (the emulator's /flaky: a new key's first request 200,
    # its second 503 with Retry-After): the status marked, the headers diffed as the body is.
    open_builder(page, live_server, echo)
    page.select_option("#method", "GET")
    page.fill("#path", f"/flaky?every=2&key=compare-{uuid.uuid4().hex[:12]}")
    page.fill("#body", "")
    compare(page, 1)
    first, second = page.locator("article.target").nth(0), page.locator("article.target").nth(1)
    expect(first.locator(".target-status")).to_have_text("200")
    expect(second.locator(".target-status")).to_have_text("503")
    expect(second.locator(".target-status")).to_have_class(re.compile(r"\bstatus-differs\b"))
    expect(second.locator(".target-status-diff")).to_have_text(
        "Another status than demo-echo Public's (200).")
    expect(first.locator(".status-differs, .target-status-diff, .target-headers-diff")
           ).to_have_count(0)
    headers = second.locator(".target-headers-diff")
    expect(headers).to_be_visible()
    expect(headers.locator(".target-diff-note")).to_have_text(
        "Headers: differences from demo-echo Public (− its lines, + this target's):")
    removed = headers.locator(".diff-del").all_text_contents()
    added = headers.locator(".diff-add").all_text_contents()
    assert "+ Retry-After: 1\n" in added, added
    assert any(line.startswith("- Content-Length: ") for line in removed), removed
    assert any(line.startswith("+ Content-Length: ") for line in added), added
    assert "  Content-Type: application/json\n" in (
        headers.locator(".diff-same").all_text_contents())
    expect(second.locator(".target-diff .target-diff-note")).to_have_text(
        "Differences from demo-echo Public (− its lines, + this target's):")
    assert page.csp_errors == []


def test_a_saved_requests_capacity_run_opens_the_builder_with_the_run_dialog(
        live_server, page, echo, alice, emulator):
    kept = SavedRequest.objects.create(
        service=echo, created_by=alice, created_by_name="alice", name="Slow one",
        endpoint="public", method="GET", path="/slow?seconds=0.01",
        header_pairs=[["X-Trace", "t-9"]], body=b"")
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/services/{echo.slug}/")
    page.locator(f"tr.saved-row[data-saved-id='{kept.pk}'] a.saved-run").click()
    page.wait_for_url(f"{live_server.url}/services/{echo.slug}/builder/?saved={kept.pk}&run=1")
    expect(page.locator("#run-dialog")).to_be_visible()
    expect(page.locator("#run-preview-url")).to_have_text(
        f"{emulator.base('demo-echo')}/slow?seconds=0.01")
    expect(page.locator("#run-preview-headers")).to_contain_text("X-Tracet-9")
    expect(page.locator("#run-start")).to_be_enabled()
    page.click("#run-cancel")
    expect(page.locator("#run-dialog")).to_be_hidden()
    assert not Run.objects.exists()
