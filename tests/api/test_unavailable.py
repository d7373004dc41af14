"""A database that cannot be reached (issue 14): a page, the API and the gateway answer 503 with
a sentence a person understands and Retry-After, never a 500, logged in one line; a call that
was sent is recorded once the database is back (services/calls.py, insert_call) and is never
lost without a word. tests/load/test_database_restart.py sees the same with a real PostgreSQL
server going away and coming back."""

import logging

import psycopg
import pytest
from django.db import OperationalError, connections
from django.test import Client

from services import access, calls, keys
from services.compiled import CompiledInsert
from services.models import Call
from services.sessions import SessionStore
from tests.helpers import logged_in

DOWN = "connection to server at 127.0.0.1, port 5432 failed: Connection refused"
SAYS_WHY = "cannot reach its database"


def fail_with(error):
    def fail(*args, **kwargs):
        raise error

    return fail


def assert_unavailable(response, content_type):
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith(content_type)
    assert SAYS_WHY in response.content.decode()


@pytest.mark.parametrize("error", [OperationalError(DOWN), psycopg.OperationalError(DOWN)],
                         ids=["django", "psycopg"])
def test_a_page_is_a_503_page_logged_in_one_line(bob, monkeypatch, caplog, error):
    # psycopg's own error: Django lets it through unwrapped where it closes a cursor that
    # streamed rows from the server, as a form's choices do.
    client = logged_in(bob, raise_request_exception=False)
    monkeypatch.setattr(SessionStore, "load", fail_with(error))
    with caplog.at_level(logging.WARNING):
        response = client.get("/services/")
    assert_unavailable(response, "text/html")
    [record] = caplog.records
    assert record.getMessage() == f"Database unavailable: GET /services/: {DOWN}"
    assert record.exc_info is None


def test_any_other_error_is_still_the_500_page(bob, monkeypatch):
    client = logged_in(bob, raise_request_exception=False)
    monkeypatch.setattr(SessionStore, "load", fail_with(RuntimeError("bug")))
    response = client.get("/services/")
    assert response.status_code == 500 and b"Server error" in response.content


def test_the_api_answers_503_in_json(bob, echo, monkeypatch, emulator_received):
    client = logged_in(bob, raise_request_exception=False)
    monkeypatch.setattr(access, "service_to_call", fail_with(OperationalError(DOWN)))
    response = client.post("/api/services/echo/invoke", {"body": "hi"},
                           content_type="application/json")
    assert_unavailable(response, "application/json")
    assert emulator_received == []  # nothing sent
    monkeypatch.setattr(SessionStore, "load", fail_with(OperationalError(DOWN)))
    assert_unavailable(client.get("/api/calls"), "application/json")


def test_the_gateway_answers_503_as_its_other_refusals(bob, echo, monkeypatch):
    gateway = Client(HTTP_AUTHORIZATION=f"Bearer {keys.make(bob, 'ci', None)[1]}",
                     raise_request_exception=False)
    monkeypatch.setattr(keys, "authenticate", fail_with(OperationalError(DOWN)))
    response = gateway.post("/gw/echo/echo", b"{}", content_type="application/json")
    assert_unavailable(response, "application/json")
    assert response["X-Easportal-Error"] == "1"
    assert SAYS_WHY in response.json()["error"]["message"]


class Outage:
    """The Call INSERT fails as on a lost connection, `failures` times (None: every time)."""

    def __init__(self, monkeypatch, failures):
        self.failures, self.attempts = failures, 0
        real = CompiledInsert.create
        down = fail_with(OperationalError("server closed the connection unexpectedly"))

        def create(insert, **values):
            self.attempts += 1
            if self.failures is None or self.attempts <= self.failures:
                down()
            return real(insert, **values)

        monkeypatch.setattr(CompiledInsert, "create", create)
        monkeypatch.setattr(connections["default"], "is_usable", lambda: False)
        monkeypatch.setattr(calls, "RECORD_RETRY_S", 0.01)


@pytest.mark.django_db(transaction=True)
def test_a_call_sent_while_the_database_went_away_is_recorded_once_it_is_back(
        bob, echo, monkeypatch, emulator_received):
    outage = Outage(monkeypatch, failures=3)
    response = logged_in(bob).post("/api/services/echo/invoke", {"body": "kept"},
                                   content_type="application/json")
    assert response.status_code == 200
    assert outage.attempts == 4 and len(emulator_received) == 1
    call = Call.objects.get()
    assert (response.json()["id"], bytes(call.request_body)) == (call.pk, b"kept")


@pytest.mark.django_db(transaction=True)
def test_a_call_that_cannot_be_recorded_is_told_and_logged_not_lost_silently(
        bob, echo, monkeypatch, caplog, emulator_received):
    Outage(monkeypatch, failures=None)
    monkeypatch.setattr(calls, "RECORD_PATIENCE_S", 0.05)
    client = logged_in(bob, raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="services.calls"):
        response = client.post("/api/services/echo/invoke", {"body": "lost?"},
                               content_type="application/json")
    assert response.status_code == 503
    assert "The call was sent, but the portal could not record it" in response.json()["detail"]
    assert len(emulator_received) == 1 and not Call.objects.exists()
    [logged] = [record for record in caplog.records if record.name == "services.calls"]
    assert "Call not recorded" in logged.getMessage()
    assert "user=bob service=echo POST" in logged.getMessage()
    assert echo.read_token() not in logged.getMessage()


def test_a_working_connection_is_not_retried(bob, echo, monkeypatch):
    # SQLite's "database is locked" (after its own timeout) or an error inside a transaction:
    # raised at once, answered 503.
    outage = Outage(monkeypatch, failures=None)
    monkeypatch.setattr(connections["default"], "is_usable", lambda: True)
    response = logged_in(bob, raise_request_exception=False).post(
        "/api/services/echo/invoke", {"body": "x"}, content_type="application/json")
    assert_unavailable(response, "application/json")
    assert outage.attempts == 1
