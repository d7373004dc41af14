"""A capacity run executed against the emulator (services/runs/engine.py), in the test's own
thread: what the upstream saw (never more than C at once), what the run measured (checked
against linear percentiles computed independently from its Calls), the automatic stop, the
streaming figures, and the Calls each request left in history."""

import json
import statistics
import uuid

import pytest

from emulator import most_at_once
from services.models import Call, Run
from services.runs import engine
from tests.helpers import logged_in, send

pytestmark = pytest.mark.django_db


def run_to_end(client, slug="slow", **body):
    response = send(client, "post", f"/api/services/{slug}/runs", body)
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    engine.execute(run_id)
    return client.get(f"/api/runs/{run_id}").json()


def reference(values, p):
    """numpy's linear percentile by another road: the standard library's inclusive quantiles
    (p = 0 and 100 are the ends)."""
    if p == 100:
        return max(values)
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def test_the_upstream_never_sees_more_than_c_at_once(slow, alice, upstream):
    run = run_to_end(logged_in(alice), total=60, concurrency=6)
    records = [record for record in upstream.app.received if "/slow" in record["path"]]
    assert len(records) == 60
    assert most_at_once(records) == 6
    assert (run["state"], run["sent"], run["ok"], run["statuses"]) == ("done", 60, 60,
                                                                        {"200": 60})
    assert run["errors"] == {} and run["reason"] == ""


def test_the_figures_are_linear_percentiles_of_the_calls(slow, alice, upstream):
    run = run_to_end(logged_in(alice), total=40, concurrency=4,
                     request={"path": "/slow?seconds=0.02"})
    latencies = list(Call.objects.filter(run_id=run["id"]).values_list("elapsed_ms", flat=True))
    assert len(latencies) == 40
    figures = run["latency_ms"]
    for p in (50, 90, 95, 99, 100):
        assert figures["max" if p == 100 else f"p{p}"] == pytest.approx(
            reference(latencies, p), abs=0.001)
    assert figures["mean"] == pytest.approx(statistics.fmean(latencies), abs=0.001)
    assert 20 <= figures["p50"] < 1000
    # 4 at once, 20 ms each: about 200 a second, never more than 4 / 20 ms.
    assert 20 < run["rps"] <= 200
    assert run["elapsed_s"] >= 40 / 4 * 0.02


def test_each_request_is_a_call_of_the_run_hidden_from_everyday_history(slow, alice, upstream):
    client = logged_in(alice)
    send(client, "post", "/api/services/slow/invoke", {})
    run = run_to_end(client, total=5, concurrency=1)
    calls = Call.objects.filter(run_id=run["id"]).order_by("id")
    assert [(call.source, call.status, call.username) for call in calls] == [
        ("run", 200, "alice")] * 5
    assert all(call.request_headers["Authorization"] == "[redacted]" for call in calls)
    everyday = client.get("/api/calls").json()["items"]
    assert [item["source"] for item in everyday] == ["portal"]
    of_run = client.get(f"/api/calls?run={run['id']}").json()["items"]
    assert [item["run"] for item in of_run] == [run["id"]] * 5
    assert len(client.get("/api/calls?source=all").json()["items"]) == 6
    assert len(client.get("/api/calls?source=run").json()["items"]) == 5
    assert client.get("/api/calls?source=nonsense").status_code == 400
    samples = client.get(f"/api/runs/{run['id']}/samples").json()["samples"]
    assert [status for _start, _ms, status in samples] == [200] * 5
    assert [ms for _start, ms, _status in samples] == [call.elapsed_ms for call in calls]
    starts = [start for start, _ms, _status in samples]
    assert starts == sorted(starts) and starts[0] >= 0


def test_it_stops_itself_when_more_than_a_fifth_of_twenty_answers_are_errors(
        slow, alice, upstream):
    run = run_to_end(logged_in(alice), total=200, concurrency=2,
                     request={"path": "/status/503"})
    assert run["state"] == "stopped"
    assert "Stopped by itself" in run["reason"] and "20%" in run["reason"]
    assert 20 <= run["sent"] < 200
    assert run["ok"] == 0 and run["statuses"]["503"] >= 20
    # A request still in flight when it stopped was cancelled: an error of its own kind, also
    # when its status had arrived and its body had not.
    assert run["errors"]["http_5xx"] in (run["statuses"]["503"], run["statuses"]["503"] - 1)
    assert sum(run["errors"].values()) == run["sent"]
    assert set(run["errors"]) <= {"http_5xx", "stopped"}
    # One cancelled in flight may or may not have reached the upstream.
    assert run["statuses"]["503"] <= len(upstream.app.received) <= run["sent"]
    assert Call.objects.filter(run_id=run["id"]).count() == run["sent"]


def test_a_few_errors_do_not_stop_a_run(slow, alice, upstream):
    # One request in ten answers 503 (the emulator's /flaky, a key of its own), the rest 200:
    # 10% < 20%.
    run = run_to_end(logged_in(alice), total=30, concurrency=3,
                     request={"path": f"/flaky?every=10&key={uuid.uuid4().hex}"})
    assert (run["state"], run["reason"], run["sent"]) == ("done", "", 30)
    assert run["statuses"] == {"200": 27, "503": 3} and run["errors"] == {"http_5xx": 3}


def test_a_third_of_errors_stops_a_run(slow, alice, upstream):
    # One request in three answers 503: past 20% once 20 have answered.
    run = run_to_end(logged_in(alice), total=300, concurrency=3,
                     request={"path": f"/flaky?every=3&key={uuid.uuid4().hex}"})
    assert run["state"] == "stopped"
    assert "Stopped by itself" in run["reason"] and "20%" in run["reason"]
    assert 20 <= run["sent"] < 300
    assert run["statuses"]["503"] >= 6 and run["statuses"]["200"] >= 13
    assert set(run["errors"]) <= {"http_5xx", "stopped"}


def test_connection_failures_are_errors_by_kind(acme, alice, upstream):
    from tests.helpers import free_port, make_service

    make_service(acme, slug="gone", public_endpoint=f"http://127.0.0.1:{free_port()}/api",
                 vpc_endpoint="", default_path="/x")
    run = run_to_end(logged_in(alice), slug="gone", total=30, concurrency=2)
    assert run["state"] == "stopped" and run["errors"]["refused"] >= 20
    assert set(run["errors"]) <= {"refused", "stopped"}
    assert run["statuses"] == {} and run["latency_ms"] is None


def test_a_streamed_llm_request_has_ttft_tpot_and_tokens_per_second(acme, alice, upstream):
    upstream.service(acme, "demo-chat", slug="chat-run")
    body = {"model": "demo", "stream": True, "stream_options": {"include_usage": True},
            "max_tokens": 8, "messages": [{"role": "user", "content": "count to ten"}]}
    run = run_to_end(logged_in(alice), slug="chat-run", total=6, concurrency=2,
                     request={"body": json.dumps(body),
                              "headers": {"Content-Type": "application/json",
                                          "X-Emulator-Tokens-Per-S": "200"}})
    assert run["state"] == "done" and run["ok"] == 6
    calls = list(Call.objects.filter(run_id=run["id"]))
    assert all(call.ttft_ms and call.tpot_ms and call.completion_tokens > 1
               and call.tokens_source == "usage" for call in calls)
    ttfts = [call.ttft_ms for call in calls]
    assert run["ttft_ms"]["p50"] == pytest.approx(reference(ttfts, 50), abs=0.001)
    assert run["tpot_ms"]["max"] == pytest.approx(max(call.tpot_ms for call in calls), abs=0.001)
    # 200 tokens a second: a TPOT of about 5 ms.
    assert 3 < run["tpot_ms"]["p50"] < 50
    tokens = sum(call.completion_tokens for call in calls)
    assert run["output_tokens_per_s"] == pytest.approx(tokens / run["elapsed_s"], rel=0.01)


def test_a_run_that_is_not_queued_is_left_alone(slow, alice, upstream):
    client = logged_in(alice)
    run = send(client, "post", "/api/services/slow/runs", {"total": 3, "concurrency": 1}).json()
    send(client, "post", f"/api/runs/{run['id']}/stop")
    engine.execute(run["id"])
    assert Run.objects.get().state == "stopped"
    assert len(upstream.app.received) == 0
