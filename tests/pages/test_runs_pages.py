"""The pages of capacity runs and compares (issue 12), through Django's test client: the run page
(who sees it, Stop for maintainers, the figures, ?with=<id> side by side, a compare's targets),
the builder's run and compare dialogs, the service page's runs and its saved requests' "Capacity
run…", and the history's source filter. In Chromium: tests/e2e/test_runs_browser.py."""

import json
import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services.models import Run, SavedRequest
from tests.helpers import logged_in, make_call, make_service

FIGURES = {"mean": 61.25, "p50": 58.0, "p90": 71.5, "p95": 80.0, "p99": 95.25, "max": 101.0}


def make_run(service, user, **fields):
    """An ended capacity run of the service, as a worker would leave it: nothing is sent."""
    values = {
        "kind": Run.Kind.CAPACITY, "team": service.team, "service": service,
        "service_slug": service.slug, "service_name": service.name, "user": user,
        "username": user.username, "state": Run.State.DONE, "total": 20, "concurrency": 4,
        "max_seconds": 300, "url": service.public_endpoint + "/v1/chat/completions",
        "request": {"endpoint": "public", "method": "POST", "path": "/v1/chat/completions",
                    "headers": [["Content-Type", "application/json"]], "body_base64": ""},
        "sent": 20, "ok": 18, "statuses": {"200": 18, "503": 2}, "errors": {"http_5xx": 2},
        "elapsed_s": 1.25, "rps": 16.0, "latency_ms": FIGURES,
        "created_at": datetime(2025, 6, 10, 12, 30, tzinfo=UTC),
    }
    values.update(fields)
    return Run.objects.create(**values)


def run_page(client, run, **query):
    return client.get(reverse("run_detail", args=[run.pk]), query)


def script_json(response, element_id):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>',
                      response.text, re.DOTALL)
    return json.loads(match.group(1)) if match else None


def figures(response):
    """{row label: [its values]} of the page's figures table."""
    rows = {}
    for row in response.context["rows"]:
        rows[row["label"]] = None if row["hidden"] else row["values"]
    return rows


# The run page

def test_a_member_sees_the_run_its_request_and_figures(service, bob, alice):
    run = make_run(service, alice)
    response = run_page(logged_in(bob), run)
    assert response.status_code == 200
    text = unescape(response.text)
    for shown in (f"Capacity run #{run.pk}", "POST " + run.url, "N = 20 requests, C = 4 at once",
                  "(stops after 300 s at most)", "done", "alice, 2025-06-10 12:30:00 UTC",
                  f'href="/calls/?run={run.pk}"'):
        assert shown in text, shown
    rows = figures(response)
    assert rows["Sent"] == ["20 of 20"] and rows["OK (2xx)"] == ["18"]
    assert rows["Requests/s"] == ["16.0"] and rows["Duration"] == ["1.2 s"]
    assert [rows[f"Latency {name}"][0] for name in ("mean", "p50", "p90", "p95", "p99", "max")] \
        == ["61.2 ms", "58.0 ms", "71.5 ms", "80.0 ms", "95.2 ms", "101.0 ms"]
    assert rows["Statuses"] == ["200 × 18, 503 × 2"] and rows["Errors"] == ["HTTP 5xx × 2"]
    # A model that does not stream has no TTFT, TPOT nor tokens/s: those rows are hidden.
    assert rows["TTFT p50"] is None and rows["Output tokens/s"] is None
    # The plots are drawn by the page's module with the vendored uPlot, from the samples.
    assert 'id="plot-scatter"' in text and 'id="plot-histogram"' in text
    assert re.search(r'<link rel="preload" as="script" id="uplot-script" '
                     r'href="/static/vendor/uplot/uPlot\.iife\.min\.[0-9a-f]{12}\.js">', text)
    config = script_json(response, "run-config")
    assert config["samplesUrl"] == f"/api/runs/{run.pk}/samples"
    assert config["runUrl"] == f"/api/runs/{run.pk}" and config["active"] is False
    assert re.findall(r'<script type="module" src="/static/js/(\w+)\.[0-9a-f]{12}\.js">',
                      text) == ["run"]


def test_streaming_figures_show_when_the_run_has_them(service, bob):
    run = make_run(service, bob, ttft_ms={**FIGURES, "p50": 12.5}, tpot_ms=FIGURES,
                   output_tokens_per_s=321.04)
    rows = figures(run_page(logged_in(bob), run))
    assert rows["TTFT p50"] == ["12.5 ms"] and rows["TPOT max"] == ["101.0 ms"]
    assert rows["Output tokens/s"] == ["321.0"]


def test_an_outsider_gets_404_and_a_stranger_the_login_page(service, alice, charlie, client):
    run = make_run(service, alice)
    assert run_page(logged_in(charlie), run).status_code == 404
    response = run_page(client, run)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/runs/999999/").status_code == 302
    assert logged_in(alice).get("/runs/999999/").status_code == 404


@pytest.mark.parametrize("state", ["queued", "running"])
def test_stop_is_shown_to_maintainers_while_the_run_is_active(service, alice, bob, state):
    run = make_run(service, alice, state=state, sent=3, ok=3, latency_ms=None, rps=None)
    as_alice = run_page(logged_in(alice), run).text
    assert re.search(r'<button type="button" id="run-stop" class="danger">Stop</button>',
                     as_alice)
    assert '<progress id="run-progress" max="20" value="3">' in as_alice
    assert 'id="run-stop"' not in run_page(logged_in(bob), run).text
    config = script_json(run_page(logged_in(bob), run), "run-config")
    assert config["active"] is True


def test_an_ended_run_has_no_stop_and_no_progress_bar(service, alice):
    text = run_page(logged_in(alice), make_run(service, alice, state="stopped",
                                                reason="Stopped by a user.")).text
    assert '<button type="button" id="run-stop" class="danger" hidden>' in text
    assert 'id="run-progress-box" class="run-progress" hidden' in text
    assert "Stopped by a user." in text


def test_what_users_wrote_is_escaped(acme, alice):
    service = make_service(acme, slug="odd", name='<img src=x onerror="alert(1)">')
    run = make_run(service, alice, reason="<b>stop</b>")
    other = make_run(service, alice)
    text = run_page(logged_in(alice), run, **{"with": str(other.pk)}).text
    assert "<img src=x" not in text and "<b>stop</b>" not in text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in text
    assert "&lt;b&gt;stop&lt;/b&gt;" in text
    service_page = logged_in(alice).get(reverse("service_detail", args=["odd"])).text
    assert "<img src=x" not in service_page


# Side by side

def test_compare_with_lists_the_teams_other_ended_capacity_runs(service, acme, alice, globex,
                                                                 charlie):
    other_service = make_service(acme, slug="dedicated", name="Dedicated")
    run = make_run(service, alice)
    older = make_run(other_service, alice, latency_ms={**FIGURES, "p50": 33.0})
    make_run(other_service, alice, state="running")  # not ended: not offered
    make_run(service, alice, kind=Run.Kind.COMPARE)  # a compare: not offered
    make_run(make_service(globex, slug="theirs"), charlie)  # another team's
    response = run_page(logged_in(alice), run)
    assert [choice.pk for choice in response.context["choices"]] == [older.pk]
    assert f"#{older.pk} · Dedicated · 20×4 · p50 33.0 ms · 2025-06-10 12:30" in response.text
    assert 'id="plot-overlay"' not in response.text


def test_with_another_run_shows_both_figures_and_the_overlay_plot(service, acme, alice, bob):
    other_service = make_service(acme, slug="dedicated", name="Dedicated")
    run = make_run(service, alice)
    other = make_run(other_service, alice, total=40, sent=40, ok=40, statuses={"200": 40},
                     errors={}, rps=32.5, latency_ms={**FIGURES, "p50": 33.0})
    response = run_page(logged_in(bob), run, **{"with": str(other.pk)})
    assert response.status_code == 200
    rows = figures(response)
    assert rows["Sent"] == ["20 of 20", "40 of 40"]
    assert rows["Latency p50"] == ["58.0 ms", "33.0 ms"]
    assert rows["Requests/s"] == ["16.0", "32.5"] and rows["Errors"] == ["HTTP 5xx × 2", None]
    text = unescape(response.text)
    assert f'<option value="{other.pk}" selected>' in text
    assert 'id="plot-overlay"' in text and f'href="/runs/{other.pk}/"' in text
    config = script_json(response, "run-config")
    assert config["other"] == {"id": other.pk, "samplesUrl": f"/api/runs/{other.pk}/samples"}


@pytest.mark.parametrize("wanted", ["self", "compare", "other team", "missing", "junk"])
def test_with_a_run_that_cannot_be_compared_says_so(service, alice, globex, charlie, wanted):
    run = make_run(service, alice)
    ids = {"self": run.pk, "compare": make_run(service, alice, kind="compare").pk,
           "other team": make_run(make_service(globex, slug="theirs"), charlie).pk,
           "missing": 999999, "junk": "1x"}
    response = run_page(logged_in(alice), run, **{"with": str(ids[wanted])})
    assert response.status_code == 200
    assert "cannot be shown beside this one" in response.text
    assert response.context["other"] is None and 'id="plot-overlay"' not in response.text


# A compare

def test_a_compare_shows_its_targets_side_by_side(service, alice, bob):
    first = make_call(service, alice, source="run")
    second = make_call(service, alice, source="run", endpoint="vpc")
    run = make_run(service, alice, kind=Run.Kind.COMPARE, total=2, concurrency=1,
                   max_seconds=0, result={"same_body": False, "targets": [
                       {"service": "chat", "endpoint": "public", "calls": [first.pk],
                        "statuses": {"200": 1}, "latency_ms": FIGURES},
                       {"service": "chat", "endpoint": "vpc", "calls": [second.pk],
                        "statuses": {"502": 1}, "latency_ms": None}]})
    response = run_page(logged_in(bob), run)
    assert response.status_code == 200
    text = unescape(response.text)
    assert f"Compare #{run.pk}" in text and 'id="run-stop"' not in text
    assert 'id="plot-scatter"' not in text and "uplot" not in text
    assert 'id="run-figures"' not in text  # each target has its own
    assert re.search(r'<dd id="run-ok">\d+ of 20</dd>', text)
    targets = re.findall(r'<article class="card target" data-index="(\d)">\s*<h2>(.*?)</h2>',
                         text)
    assert targets == [("0", 'chat <span class="muted">Public</span>'),
                       ("1", 'chat <span class="muted">VPC</span>')]
    assert "200 × 1" in text and "502 × 1" in text and "58.0 ms" in text
    assert "The targets' first answers differ" in text
    assert text.count('class="target-diff" hidden') == 1  # under the second target only
    config = script_json(response, "run-config")
    assert config["compare"]["targets"][1]["calls"] == [second.pk]
    assert config["callUrl"] == "/api/calls/"


# The builder

def test_the_builder_offers_a_capacity_run_to_maintainers_only(service, acme, alice, bob):
    make_service(acme, slug="dedicated", name="Dedicated")
    text = logged_in(alice).get(reverse("service_builder", args=["chat"])).text
    assert '<button type="button" id="capacity-run">Capacity run…</button>' in text
    assert 'id="run-dialog"' in text and 'value="100"' in text and 'value="8"' in text
    response = logged_in(bob).get(reverse("service_builder", args=["chat"]))
    assert re.search(r'<button type="button" id="capacity-run" disabled title="Only maintainers '
                     r'of the team “Acme” can start capacity runs.">', response.text)
    config = script_json(response, "runs-config")
    assert config["mayRun"] is False and config["runsUrl"] == "/api/services/chat/runs"
    assert config["compareUrl"] == "/api/compare" and config["runPageUrl"] == "/runs/"
    # Compare is every member's: this service's two endpoints, then the team's others.
    assert [(t["service"], t["endpoint"], t["own"]) for t in config["targets"]] == [
        ("chat", "public", True), ("chat", "vpc", True), ("dedicated", "public", False),
        ("dedicated", "vpc", False)]
    assert config["limits"] == {"total": 1000, "concurrency": 64, "maxSeconds": 300}


def test_compare_is_disabled_with_one_target(acme, alice):
    service = make_service(acme, vpc_endpoint="")
    text = logged_in(alice).get(reverse("service_builder", args=[service.slug])).text
    assert re.search(r'<button type="button" id="compare" disabled title="A compare needs two',
                     text)


# The service page

def test_the_service_page_lists_its_runs_in_one_query(service, acme, alice, bob):
    done = make_run(service, alice)
    running = make_run(service, alice, state="running", sent=5, rps=None, latency_ms=None)
    compared = make_run(service, bob, kind=Run.Kind.COMPARE, sent=10, total=10)
    make_run(make_service(acme, slug="other", name="Other"), alice)  # another service's
    client = logged_in(bob)
    client.get(reverse("service_detail", args=["chat"]))  # the session and user, warmed up
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("service_detail", args=["chat"]))
    assert len([query for query in queries if "services_run" in query["sql"]]) == 1
    rows = re.findall(r'<tr class="run-row" data-run-id="(\d+)">(.*?)</tr>', response.text,
                      re.DOTALL)
    assert [int(pk) for pk, _row in rows] == [compared.pk, running.pk, done.pk]
    text = " ".join(unescape(re.sub(r"<[^>]+>|\s+", " ", row)) for _pk, row in rows)
    for shown in ("compare", "capacity run", "running", "done", "20×4", "58.0 ms", "16.0",
                  "2025-06-10 12:30"):
        assert shown in text, shown


def test_a_saved_request_offers_a_capacity_run_to_maintainers(service, alice, bob):
    kept = SavedRequest.objects.create(
        service=service, created_by=bob, created_by_name="bob", name="Hello",
        endpoint="public", method="POST", path="/v1/chat/completions",
        header_pairs=[["Content-Type", "application/json"]], body=b"{}")
    url = f"/services/chat/builder/?saved={kept.pk}&amp;run=1"
    assert f'<a class="button saved-run" href="{url}">Capacity run…</a>' in logged_in(
        alice).get(reverse("service_detail", args=["chat"])).text
    assert "saved-run" not in logged_in(bob).get(reverse("service_detail", args=["chat"])).text


# History

@pytest.fixture
def run_calls(service, alice, bob):
    """bob's everyday call, and a run's two calls."""
    run = make_run(service, alice)
    return {"everyday": make_call(service, bob),
            "run": [make_call(service, alice, source="run", run=run) for _ in range(2)],
            "run_id": run.pk}


def listed(client, **query):
    response = client.get(reverse("call_list"), query)
    assert response.status_code == 200, response.text
    return response, [call.pk for call in response.context["calls"]]


def test_history_hides_run_calls_unless_asked(run_calls, bob):
    everyday, run_ids = run_calls["everyday"].pk, sorted(c.pk for c in run_calls["run"])
    client = logged_in(bob)
    response, shown = listed(client)
    assert shown == [everyday]
    assert '<option value="" selected>Everyday calls</option>' in response.text
    assert '<option value="all">All, runs included</option>' in response.text
    assert '<option value="run">capacity run</option>' in response.text
    response, shown = listed(client, source="all")
    assert sorted(shown) == sorted([everyday, *run_ids])
    assert f'href="/runs/{run_calls["run_id"]}/"' in response.text  # each run call's link
    assert sorted(listed(client, source="run")[1]) == run_ids
    assert listed(client, source="portal")[1] == [everyday]


def test_the_calls_of_one_run_and_their_export_links(run_calls, bob):
    run_id = run_calls["run_id"]
    response, shown = listed(logged_in(bob), run=str(run_id))
    assert sorted(shown) == sorted(call.pk for call in run_calls["run"])
    text = unescape(response.text)
    assert f'The calls of run <a href="/runs/{run_id}/">#{run_id}</a>' in text
    assert f'<input type="hidden" name="run" value="{run_id}"' in text  # kept by Filter
    for link in re.findall(r'id="export-(?:csv|jsonl)" href="([^"]+)"', text):
        assert dict(parse_qsl(urlsplit(link).query))["run"] == str(run_id)
    response, _shown = listed(logged_in(bob), source="all", status="2xx")
    links = re.findall(r'id="export-(?:csv|jsonl)" href="([^"]+)"', unescape(response.text))
    assert links and all(dict(parse_qsl(urlsplit(link).query))["source"] == "all"
                         for link in links)


def test_the_older_page_keeps_the_source(service, alice):
    run = make_run(service, alice)
    for _ in range(3):
        make_call(service, alice, source="run", run=run)
    response, shown = listed(logged_in(alice), source="run", limit="2")
    assert len(shown) == 2
    older = re.search(r'<a href="([^"]+)" class="button" rel="next">', response.text).group(1)
    assert dict(parse_qsl(urlsplit(unescape(older)).query))["source"] == "run"


def test_a_run_calls_page_links_its_run(run_calls, bob):
    call = run_calls["run"][0]
    text = logged_in(bob).get(reverse("call_detail", args=[call.pk])).text
    assert f'<a id="call-run" href="/runs/{run_calls["run_id"]}/">run #{run_calls["run_id"]}</a>' \
        in text
