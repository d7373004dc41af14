"""Capacity runs through a real worker process (`manage.py run_worker`, as `make run` starts it)
and Django's tasks API, with the configured backend: progress while it runs, Stop, a worker that
is killed or told to stop in the middle of a run, and queued runs that wait for the next
worker. CI runs this module a second time with the Redis backend."""

import time

import pytest

from services.models import Run
from services.runs import state
from tests.helpers import logged_in, send
from tests.processes import RQ

pytestmark = pytest.mark.django_db(transaction=True)


def start_run(client, slug="slow", **body):
    response = send(client, "post", f"/api/services/{slug}/runs", body)
    assert response.status_code == 202, response.content
    return response.json()["id"]


def wait_for(client, run_id, done, seconds=30.0):
    """The run as the API gives it, once done(run) holds; fails after seconds."""
    ends = time.monotonic() + seconds
    while True:
        run = client.get(f"/api/runs/{run_id}").json()
        if done(run):
            return run
        assert time.monotonic() < ends, f"still waiting after {seconds} s: {run}"
        time.sleep(0.05)


def ended(run):
    return run["state"] in ("done", "stopped", "failed")


def test_a_worker_runs_a_queued_run_to_its_end(slow, alice, upstream, worker):
    worker()
    client = logged_in(alice)
    run_id = start_run(client, total=40, concurrency=4)
    run = wait_for(client, run_id, ended)
    assert (run["state"], run["sent"], run["ok"]) == ("done", 40, 40)
    assert run["latency_ms"]["p50"] >= 50 and run["rps"] > 0
    assert run["started_at"] and run["finished_at"]
    assert len([r for r in upstream.app.received if "/slow" in r["path"]]) == 40


def test_progress_shows_while_it_runs_and_stop_ends_it_at_once(slow, alice, upstream, worker):
    worker()
    client = logged_in(alice)
    run_id = start_run(client, total=400, concurrency=2, request={"path": "/slow?seconds=0.3"})
    running = wait_for(client, run_id, lambda run: run["state"] == "running" and run["sent"] >= 2)
    assert running["latency_ms"]["p50"] >= 300
    asked = time.monotonic()
    response = send(client, "post", f"/api/runs/{run_id}/stop")
    assert response.status_code == 200 and response.json()["stop_requested"]
    run = wait_for(client, run_id, ended, seconds=10)
    took = time.monotonic() - asked
    assert run["state"] == "stopped" and run["reason"] == "Stopped by a user."
    # The requests in flight were cancelled, not waited for: well under one 0.3 s request
    # after the worker's next look (a quarter second).
    assert took < 1.5
    assert run["sent"] < 40
    # Nothing was sent after the stop was seen; the upstream saw the cancelled ones go away
    # (it records a request once it has finished with it).
    ends = time.monotonic() + 5
    while len(upstream.app.received) < run["sent"] and time.monotonic() < ends:
        time.sleep(0.05)
    received = list(upstream.app.received)
    assert len(received) == run["sent"]
    assert sum(record["disconnected"] for record in received) == run["errors"]["stopped"] >= 1


def test_a_killed_worker_leaves_the_run_failed_with_what_it_measured(
        slow, alice, upstream, worker, monkeypatch):
    monkeypatch.setattr(state, "STALE_S", 1)
    process = worker()
    client = logged_in(alice)
    run_id = start_run(client, total=400, concurrency=2, request={"path": "/slow?seconds=0.1"})
    wait_for(client, run_id, lambda run: run["sent"] >= 6)
    process.kill()
    run = wait_for(client, run_id, ended, seconds=10)
    assert run["state"] == "failed" and "stopped answering" in run["reason"]
    assert 6 <= run["sent"] < 400 and run["latency_ms"]["p50"] >= 100
    # The service is free for the next run.
    assert send(client, "post", "/api/services/slow/runs",
                {"total": 2, "concurrency": 1, "dry_run": True}).status_code == 200


def test_a_stopped_worker_fails_its_run_and_a_queued_run_waits_for_the_next(
        slow, acme, alice, upstream, worker, monkeypatch):
    monkeypatch.setattr(state, "STALE_S", 1)
    other = upstream.service(acme, "demo-echo", slug="other", default_path="/echo")
    assert other.pk
    first = worker()
    client = logged_in(alice)
    long_id = start_run(client, total=400, concurrency=2, request={"path": "/slow?seconds=0.2"})
    wait_for(client, long_id, lambda run: run["sent"] >= 2)
    waiting_id = start_run(client, slug="other", total=5, concurrency=1)
    first.terminate()
    first.process.wait(timeout=10)
    run = wait_for(client, long_id, ended, seconds=5)
    # The database worker ends the run itself; RQ's kills the job, and the run is found
    # without a heartbeat.
    assert run["state"] == "failed" and run["reason"] == (
        "The worker stopped answering during the run; the figures are what it had measured "
        "by then." if RQ else "The worker was stopped during the run.")
    assert run["sent"] >= 2
    assert client.get(f"/api/runs/{waiting_id}").json()["state"] == "queued"
    worker()
    run = wait_for(client, waiting_id, ended)
    assert (run["state"], run["sent"]) == ("done", 5)
    assert Run.objects.get(pk=long_id).state == "failed"
