"""Starting capacity runs through the API (docs/api.md, "Capacity runs and compare"): who may,
the limits, the requests refused as the builder refuses them, one active run per service, the
dry run and the audit log. Nothing here needs a worker: a refused run sends nothing and queues
nothing, and a queued one waits."""

import pytest
from django.db import IntegrityError, transaction

from services.models import AuditEvent, Call, Run
from tests.helpers import detail, logged_in, make_user, send

pytestmark = pytest.mark.django_db


def start(client, slug="slow", **body):
    return send(client, "post", f"/api/services/{slug}/runs",
                {"total": 10, "concurrency": 2, **body})


def nothing_happened(upstream):
    assert not Run.objects.filter(kind="capacity").exists()
    assert len(upstream.app.received) == 0
    assert not Call.objects.exists()


def test_a_maintainer_queues_a_run_and_it_is_audited(slow, alice, upstream):
    response = start(logged_in(alice), total=40, concurrency=4)
    assert response.status_code == 202, response.content
    run = response.json()
    assert (run["state"], run["service"], run["total"], run["concurrency"]) == (
        "queued", "slow", 40, 4)
    assert run["method"] == "GET"
    assert run["url"].endswith("/api/predict/demo-echo/slow?seconds=0.05")
    assert (run["sent"], run["latency_ms"], run["max_seconds"]) == (0, None, 300)
    event = AuditEvent.objects.get()
    assert (event.action, event.username, event.service_slug) == ("run.started", "alice", "slow")
    assert event.detail["run"] == run["id"] and event.detail["total"] == 40
    assert len(upstream.app.received) == 0  # queued, not sent: the worker sends
    got = logged_in(alice).get(f"/api/runs/{run['id']}").json()
    assert got["state"] == "queued"


def test_a_member_who_is_not_a_maintainer_is_refused(slow, bob, upstream):
    response = start(logged_in(bob))
    assert response.status_code == 403
    assert "maintainers" in detail(response)
    nothing_happened(upstream)


def test_an_outsider_gets_404_and_a_stranger_401(slow, charlie, upstream, client):
    assert start(logged_in(charlie)).status_code == 404
    assert start(client).status_code == 401
    nothing_happened(upstream)


@pytest.mark.parametrize(("body", "named"), [
    ({"total": 1001}, "total must be from 1 to 1000"),
    ({"total": 0}, "total must be from 1 to 1000"),
    ({"concurrency": 65, "total": 100}, "concurrency must be from 1 to 64"),
    ({"max_seconds": 301}, "max_seconds must be from 1 to 300"),
    ({"concurrency": 20, "total": 10}, "cannot be more than total"),
])
def test_limits_are_refused_with_a_message(slow, alice, upstream, body, named):
    response = start(logged_in(alice), **body)
    assert response.status_code == 400
    assert named in detail(response)
    nothing_happened(upstream)


def test_the_limits_come_from_the_settings(slow, alice, upstream, settings):
    settings.EASPORTAL_RUN_MAX_TOTAL = 5
    response = start(logged_in(alice), total=6)
    assert response.status_code == 400 and "from 1 to 5" in detail(response)


@pytest.mark.parametrize(("request_", "status", "named"), [
    ({"body": "x" * 1_048_577}, 413, "1 MB"),
    ({"path": "/../admin"}, 400, ".."),
    ({"headers": {"Authorization": "mine"}}, 400, "Authorization"),
    ({"endpoint": "vpc"}, 400, "no VPC endpoint"),
])
def test_a_request_the_builder_refuses_is_refused(slow, alice, upstream, request_, status,
                                                  named):
    response = start(logged_in(alice), request=request_)
    assert response.status_code == status
    assert named in detail(response)
    nothing_happened(upstream)


def test_an_address_the_policy_refuses_is_403(slow, alice, upstream, settings):
    settings.EASPORTAL_ALLOWED_ENDPOINT_HOSTS = ["*.pai-eas.aliyuncs.com"]
    response = start(logged_in(alice))
    assert response.status_code == 403 and "127.0.0.1" in detail(response)
    nothing_happened(upstream)


def test_a_second_run_on_the_same_service_is_409(slow, alice, upstream):
    client = logged_in(alice)
    assert start(client).status_code == 202
    response = start(client)
    assert response.status_code == 409
    assert "already" in detail(response)
    assert Run.objects.count() == 1
    assert AuditEvent.objects.count() == 1


def test_the_database_holds_one_active_run_per_service(slow, alice):
    assert start(logged_in(alice)).status_code == 202
    run = Run.objects.get()
    run.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        run.save()


def test_a_run_that_ended_frees_the_service(slow, alice):
    client = logged_in(alice)
    first = start(client).json()
    assert send(client, "post", f"/api/runs/{first['id']}/stop").json()["state"] == "stopped"
    assert start(client).status_code == 202


def test_a_queued_run_stops_at_once_and_only_maintainers_stop(slow, alice, bob, charlie):
    run = start(logged_in(alice)).json()
    assert send(logged_in(bob), "post", f"/api/runs/{run['id']}/stop").status_code == 403
    assert send(logged_in(charlie), "post", f"/api/runs/{run['id']}/stop").status_code == 404
    stopped = send(logged_in(alice), "post", f"/api/runs/{run['id']}/stop").json()
    assert (stopped["state"], stopped["reason"]) == ("stopped",
                                                     "Stopped by a user before it started.")


def test_members_watch_runs_and_outsiders_do_not(slow, alice, bob, charlie):
    run = start(logged_in(alice)).json()
    assert logged_in(bob).get(f"/api/runs/{run['id']}").json()["id"] == run["id"]
    assert [item["id"] for item in logged_in(bob).get("/api/services/slow/runs").json()] == [
        run["id"]]
    assert logged_in(charlie).get(f"/api/runs/{run['id']}").status_code == 404
    assert logged_in(charlie).get("/api/services/slow/runs").status_code == 404
    assert logged_in(charlie).get(f"/api/runs/{run['id']}/samples").status_code == 404


def test_a_dry_run_shows_what_would_be_sent_and_queues_nothing(slow, alice, upstream):
    response = start(logged_in(alice), total=500, concurrency=16, dry_run=True,
                     request={"method": "POST", "path": "/echo",
                              "headers": {"Content-Type": "text/plain", "X-Api-Key": "k-1"},
                              "body": "héllo"})
    assert response.status_code == 200, response.content
    preview = response.json()
    assert preview["method"] == "POST" and preview["url"].endswith("/demo-echo/echo")
    assert preview["headers"] == {"Content-Type": "text/plain", "X-Api-Key": "k-1"}
    assert (preview["body_size"], preview["total"], preview["concurrency"]) == (6, 500, 16)
    assert "Authorization" not in preview["headers"]
    nothing_happened(upstream)
    assert not AuditEvent.objects.exists()


def test_a_saved_request_is_run_and_must_be_of_the_service(slow, echo, alice, upstream):
    client = logged_in(alice)
    saved = send(client, "post", "/api/services/slow/requests",
                 {"name": "echo it", "path": "/echo", "method": "PUT", "body": "b"}).json()
    other = send(client, "post", "/api/services/echo/requests", {"name": "x"}).json()
    preview = start(client, saved=saved["id"], dry_run=True).json()
    assert (preview["method"], preview["body_size"]) == ("PUT", 1)
    response = start(client, saved=other["id"])
    assert response.status_code == 400 and "is not one of" in detail(response)
    response = start(client, saved=saved["id"], request={})
    assert response.status_code == 400


def test_a_streamed_relay_is_refused_for_runs(slow, alice, upstream):
    response = start(logged_in(alice), request={"stream": True})
    assert response.status_code == 400 and "stream" in detail(response)


def test_run_header_secrets_are_redacted_once_the_run_ends(slow, alice):
    client = logged_in(alice)
    run = start(client, request={"headers": {"X-Api-Key": "k-secret"}}).json()
    assert Run.objects.get().request["headers"] == [["X-Api-Key", "k-secret"]]
    send(client, "post", f"/api/runs/{run['id']}/stop")
    assert Run.objects.get().request["headers"] == [["X-Api-Key", "[redacted]"]]


def test_a_run_of_a_maintainer_demoted_meanwhile_fails_when_it_starts(slow, alice, acme):
    from services.runs import engine

    client = logged_in(alice)
    run = start(client).json()
    other = make_user("dora")
    acme.memberships.create(user=other, role="maintainer")
    acme.memberships.filter(user=alice).update(role="member")
    engine.execute(run["id"])
    got = Run.objects.get()
    assert got.state == "failed" and "no longer a maintainer" in got.reason
    assert got.sent == 0
