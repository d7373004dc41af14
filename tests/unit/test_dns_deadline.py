"""The name lookup is inside the call's deadline (issue 14, defect 4): the system's resolver has
no timeout of its own, so a slow one must not hold a call longer than timeout_s, nor its
connect phase longer than 5 s. A slow resolver is stood in for by a socket.getaddrinfo that
waits before answering as the real one would; the rest (our client, the emulator) is real."""

import json
import socket
import time

import pytest

from services.models import Call
from services.net import client
from services.net.endpoints import HostPolicy
from services.net.errors import CallError
from tests.helpers import logged_in

LOCAL = HostPolicy("localhost")


@pytest.fixture
def slow_resolver(monkeypatch):
    """set(seconds): every lookup of localhost waits that long first."""
    real = socket.getaddrinfo
    delay = {"seconds": 0.0}

    def getaddrinfo(host, *args, **kwargs):
        if host == "localhost":
            time.sleep(delay["seconds"])
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lambda seconds: delay.update(seconds=seconds)


def request_to(emulator, path):
    return client.OutboundRequest(
        method="GET", url=f"http://localhost:{emulator.port}/api/predict/demo-echo{path}",
        headers={"Authorization": emulator.token("demo-echo")})


def send(request, deadline_s):
    started = time.monotonic()
    try:
        result = client.send(request, policy=LOCAL, deadline_s=deadline_s,
                             max_response_bytes=1 << 20)
    except CallError as exc:
        result = exc
    return result, time.monotonic() - started


def test_a_lookup_slower_than_the_deadline_ends_the_call_at_the_deadline(
        emulator, slow_resolver):
    slow_resolver(10)
    result, took = send(request_to(emulator, "/echo"), deadline_s=1)
    assert isinstance(result, CallError) and result.kind == "dns"
    assert "within 1 s" in str(result)
    assert 0.9 <= took < 2.0


def test_the_connect_phase_lookup_included_ends_within_5_s(emulator, slow_resolver):
    slow_resolver(8)
    result, took = send(request_to(emulator, "/echo"), deadline_s=60)
    assert isinstance(result, CallError) and result.kind == "dns"
    assert 4.9 <= took < 6.5


def test_the_lookup_counts_toward_the_deadline(emulator, slow_resolver):
    # 0.7 s to look up, then an answer that takes 0.6 s: past a deadline of 1 s, cut at 1 s.
    slow_resolver(0.7)
    result, took = send(request_to(emulator, "/slow?seconds=0.6"), deadline_s=1)
    assert isinstance(result, CallError) and result.kind == "timeout"
    assert 0.9 <= took < 1.5


def test_a_quick_lookup_changes_nothing(emulator, slow_resolver):
    slow_resolver(0.05)
    result, _took = send(request_to(emulator, "/echo"), deadline_s=5)
    assert result.status == 200


@pytest.mark.django_db
def test_through_invoke_the_call_is_recorded_and_answers_by_its_deadline(
        acme, alice, emulator, slow_resolver, settings):
    settings.EASPORTAL_ALLOWED_ENDPOINT_HOSTS = ["localhost"]
    emulator.service(acme, "demo-echo", slug="far", timeout_s=1,
                     public_endpoint=f"http://localhost:{emulator.port}/api/predict/demo-echo")
    slow_resolver(10)
    started = time.monotonic()
    response = logged_in(alice).post("/api/services/far/invoke", json.dumps({}),
                                     content_type="application/json")
    took = time.monotonic() - started
    assert response.status_code == 200
    call = response.json()
    assert call["error_kind"] == "dns" and call["status"] is None
    assert took < 2.0 and Call.objects.get().error_kind == "dns"
