"""Calls in flight per person and per team (issue 14, defect 5): past EASPORTAL_CALLS_PER_USER
or EASPORTAL_CALLS_PER_TEAM a call is refused at once with 429 and Retry-After, nothing sent;
each kind of call holds its slot while in flight and gives it back however it ends."""

import json
import threading
import time

import pytest

from services import inflight, keys
from services.models import Call, Membership
from tests.helpers import free_port, logged_in, make_service, make_user

pytestmark = pytest.mark.django_db(transaction=True)
SLOW = {"method": "GET", "path": "/slow?seconds=1.5"}


def invoke(client, body, slug="echo"):
    return client.post(f"/api/services/{slug}/invoke", json.dumps(body),
                       content_type="application/json")


def in_background(client, body, slug="echo"):
    """A call started in a thread of its own; join() it, then read .response."""
    box = threading.Thread(target=lambda: setattr(box, "response", invoke(client, body, slug)))
    box.start()
    return box


def wait_in_flight(user, count):
    """Until count of user's calls are in flight (holding their slots)."""
    ends = time.monotonic() + 10
    while inflight.held(user) < count:
        assert time.monotonic() < ends, "the calls did not start"
        time.sleep(0.01)


def test_a_person_past_their_calls_in_flight_gets_429_and_nothing_is_sent(
        echo, acme, bob, alice, emulator, settings):
    settings.EASPORTAL_CALLS_PER_USER, settings.EASPORTAL_CALLS_PER_TEAM = 2, 10
    running = [in_background(logged_in(bob), SLOW) for _ in range(2)]
    wait_in_flight(bob, 2)
    emulator.app.clear()
    refused = invoke(logged_in(bob), {"method": "GET", "path": "/echo"})
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert "2 calls in flight" in refused.json()["detail"]
    assert len(emulator.app.received) == 0  # nothing was sent for it
    # Another member of the team is not held back by bob's calls.
    assert invoke(logged_in(alice), {"method": "GET", "path": "/echo"}).status_code == 200
    for thread in running:
        thread.join()
        assert thread.response.status_code == 200
    # Their slots are back.
    assert invoke(logged_in(bob), {"method": "GET", "path": "/echo"}).status_code == 200
    assert Call.objects.count() == 4


def test_a_team_past_its_calls_in_flight_gets_429(echo, acme, bob, alice, emulator, settings):
    settings.EASPORTAL_CALLS_PER_USER, settings.EASPORTAL_CALLS_PER_TEAM = 5, 2
    running = [in_background(logged_in(bob), SLOW), in_background(logged_in(alice), SLOW)]
    wait_in_flight(bob, 1)
    wait_in_flight(alice, 1)
    dora = make_user("dora")
    Membership.objects.create(team=acme, user=dora, role="member")
    refused = invoke(logged_in(dora), {"method": "GET", "path": "/echo"})
    assert refused.status_code == 429 and "Your team has 2 calls" in refused.json()["detail"]
    for thread in running:
        thread.join()


def test_streams_and_the_gateway_hold_a_slot_too(echo, bob, emulator, settings):
    settings.EASPORTAL_CALLS_PER_USER = 1
    running = in_background(logged_in(bob), SLOW)
    wait_in_flight(bob, 1)
    stream = invoke(logged_in(bob), {"method": "GET", "path": "/echo", "stream": True})
    assert stream.status_code == 429 and stream["Content-Type"].startswith("application/json")
    key = keys.make(bob, "script", None)[1]
    from django.test import Client

    gateway = Client().get("/gw/echo/echo", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert gateway.status_code == 429 and gateway["X-Easportal-Error"] == "1"
    assert gateway["Retry-After"] == "1"
    running.join()
    # A stream gives its slot back when it ends.
    streamed = invoke(logged_in(bob), {"method": "GET", "path": "/echo", "stream": True})
    assert streamed.status_code == 200
    b"".join(streamed.streaming_content)
    assert invoke(logged_in(bob), {"method": "GET", "path": "/echo"}).status_code == 200


def test_a_call_that_fails_gives_its_slot_back(acme, bob, settings):
    settings.EASPORTAL_CALLS_PER_USER = 1
    make_service(acme, slug="gone", public_endpoint=f"http://127.0.0.1:{free_port()}/api",
                 vpc_endpoint="", default_path="/x")
    for _ in range(3):
        response = invoke(logged_in(bob), {}, slug="gone")
        assert response.status_code == 200 and response.json()["error_kind"] == "refused"
