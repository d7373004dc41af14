"""A row a call refers to, deleted while the call is in flight (services/calls.py,
gone_references()): the call is still recorded, as a call recorded before the deletion now is
(its service, user or run left out; its slug, name and username kept), and the caller gets its
answer, not a 500. A call whose team went too cannot be recorded: 409, and the server's log has
it."""

import json
import logging
import threading
import time

import pytest
from django.test import Client

from services import inflight, keys
from services.models import Call, Membership, Service, Team
from services.runs import engine
from tests.helpers import logged_in, send

pytestmark = pytest.mark.django_db(transaction=True)
SLOW = {"method": "GET", "path": "/slow?seconds=1"}


def in_background(request):
    """request() in a thread of its own; join() it, then read .response."""
    box = threading.Thread(target=lambda: setattr(box, "response", request()))
    box.start()
    return box


def once_in_flight(user):
    ends = time.monotonic() + 10
    while inflight.held(user) < 1:
        assert time.monotonic() < ends, "the call did not start"
        time.sleep(0.01)


def invoke_slowly(user, **options):
    client = logged_in(user, **options)
    return in_background(lambda: client.post("/api/services/echo/invoke", json.dumps(SLOW),
                                             content_type="application/json"))


def recorded_after(user, delete):
    """(answer, Call) of a slow invoke by user during which delete() ran."""
    running = invoke_slowly(user)
    once_in_flight(user)
    delete()
    running.join()
    assert running.response.status_code == 200, running.response.content
    return running.response, Call.objects.get()


def test_a_service_deleted_during_its_call_leaves_the_call_in_history(echo, bob, alice):
    response, call = recorded_after(bob, echo.delete)
    assert response.json()["id"] == call.pk
    assert (call.service_id, call.service_slug, call.service_name, call.status) == (
        None, "echo", "Echo", 200)
    # Its pages answer, as those of every call whose service was deleted.
    assert logged_in(alice).get(f"/calls/{call.pk}/").status_code == 200
    assert logged_in(alice).get("/calls/").status_code == 200


def test_a_user_deleted_during_their_call_leaves_the_call_in_history(echo, bob):
    _response, call = recorded_after(bob, bob.delete)
    assert (call.user_id, call.username, call.service_id) == (None, "bob", echo.pk)


def test_the_gateway_records_a_call_whose_service_was_deleted_meanwhile(echo, bob):
    key = keys.make(bob, "script", None)[1]
    running = in_background(lambda: Client(HTTP_AUTHORIZATION=f"Bearer {key}").get(
        "/gw/echo/slow?seconds=1"))
    once_in_flight(bob)
    echo.delete()
    running.join()
    assert running.response.status_code == 200
    call = Call.objects.get()
    assert (call.service_id, call.service_slug, call.source) == (None, "echo", "gateway")


def test_a_call_whose_team_went_too_is_refused_with_409_and_logged(echo, bob, acme, caplog,
                                                                   emulator):
    running = invoke_slowly(bob, raise_request_exception=False)
    once_in_flight(bob)
    emulator.app.clear()
    with caplog.at_level(logging.ERROR, logger="services.calls"):
        echo.delete()
        Membership.objects.filter(team=acme).delete()
        Team.objects.filter(pk=acme.pk).delete()
        running.join()
    response = running.response
    assert response.status_code == 409
    assert "its team was deleted meanwhile" in response.json()["detail"]
    assert not Call.objects.exists()
    [logged] = [record for record in caplog.records if record.name == "services.calls"]
    assert "Call not recorded, its team was deleted" in logged.getMessage()
    assert "user=bob service=echo GET" in logged.getMessage()


def test_a_capacity_run_whose_service_is_deleted_keeps_every_call(echo, alice):
    response = send(logged_in(alice), "post", "/api/services/echo/runs",
                    {"total": 12, "concurrency": 1,
                     "request": {"method": "GET", "path": "/slow?seconds=0.1"}})
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    running = in_background(lambda: engine.execute(run_id))
    ends = time.monotonic() + 10
    while not Call.objects.filter(run_id=run_id).exists():
        assert time.monotonic() < ends, "the run did not start"
        time.sleep(0.01)
    Service.objects.filter(pk=echo.pk).delete()
    running.join()
    calls = Call.objects.filter(run_id=run_id)
    assert calls.count() == 12
    assert calls.filter(service=None).exists() and set(
        calls.values_list("service_slug", flat=True)) == {"echo"}
    assert send(logged_in(alice), "get", f"/api/runs/{run_id}").json()["state"] == "done"
