"""Schemathesis against the API's own OpenAPI document, /api/openapi.json (issue 14,
"Reliability"): every operation, logged in as alice, a maintainer of a team with services (on
the EAS emulator), a call in history, a saved request, a capacity run and a personal key, so
that the generated requests reach the routes' real code rather than stopping at 401 or 404. No
answer may be a 5xx, and every answer must be one the document gives: a documented status, the
documented content type and headers, a body of the documented shape.

Bounded for CI: EXAMPLES generated requests per operation (CALL_EXAMPLES for the call routes),
drawn from a fixed seed (the same requests on every run), and schemathesis's coverage phase,
whose cases the document alone decides; no deadline (a slow machine is not a failure), no
example database. Logged out, and with a personal key past its rate, a few requests per
operation show that each answers the 401, or the 429, that its document gives.

WSGI, not a live server: schemathesis calls the portal's WSGI application (easportal/wsgi.py,
what gunicorn serves) in this process, on the test's own database connection. So each example
runs in a savepoint that is rolled back after it, and every example starts from the same data:
a DELETE, or a PATCH that renames a service, cannot turn the examples after it into 404s, and a
failing example replays exactly when Hypothesis checks it. A live server's thread would need the
data committed, and then it would drift from one example to the next.
"""

import json
from contextlib import contextmanager
from types import SimpleNamespace

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import RequestFactory
from django.urls import resolve
from django.utils.crypto import get_random_string
from schemathesis.config import SchemathesisConfig

from services import keys
from tests.helpers import ECHO_BODY, logged_in, send

EXAMPLES = 50
# The call routes, the API's core, get more: a streamed answer needs many to be reached.
CALL_EXAMPLES = 100
SEED = 14
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance"]
DOCUMENT = "/api/openapi.json"
# What the parameters that name something are drawn from most of the time (the rest is
# generated): the world's teams, services and people; stand-ins for the ids of its objects (known
# only once it is made: PostgreSQL's sequences are not rolled back), which the test replaces
# with the real ones; methods and paths that the emulator answers, and valid base64.
STAND_INS = {"call": 900_001, "saved": 900_002, "run": 900_003, "key": 900_004}
WORDS = {
    "teams": (["acme", "globex"], ["body.team", "query.team"]),
    "services": (["echo", "chat", "rerank"],
                 ["path.slug", "body.service", "body.targets[*].service", "query.service"]),
    "usernames": (["alice", "bob", "charlie"], ["path.username", "body.username", "query.user"]),
    "ids": (list(STAND_INS.values()), ["path.id", "body.call", "body.saved", "query.run"]),
    "methods": (["GET", "POST", "PUT"], ["body.method", "body.request.method"]),
    "paths": (["/echo", "/v1/chat/completions", "/v1/models"],
              ["body.path", "body.request.path"]),
    "base64": (["aGVsbG8=", ""], ["body.body_base64", "body.request.body_base64"]),
}


def served_document():
    """The document /api/openapi.json serves, from its view: read when the tests are collected,
    before there is a database, so for a stand-in user who is logged in (all the view asks)."""
    request = RequestFactory().get(DOCUMENT)
    request.user = SimpleNamespace(is_authenticated=True)
    match = resolve(DOCUMENT)
    return json.loads(match.func(request, *match.args, **match.kwargs).content)


def fuzzing(examples, call_examples, coverage):
    """Schemathesis's settings: examples per operation (call_examples for the call routes) from
    the fixed seed, and with coverage also its deterministic phase (each parameter's boundaries
    and wrong types, methods a route does not answer)."""
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "generation": {"max-examples": examples, "deterministic": True, "database": "none",
                       # The session is the credential: a generated one would only be a 401.
                       "with-security-parameters": False},
        "phases": {"examples": {"enabled": False}, "coverage": {"enabled": coverage},
                   "stateful": {"enabled": False}},
        "dictionaries": {name: {"values": values} for name, (values, _in) in WORDS.items()},
        "parameters": {parameter: {"dictionary": name, "probability": 0.8}
                       for name, (_values, parameters) in WORDS.items()
                       for parameter in parameters},
        # The slug in a team's routes is the team's.
        "operations": [{"include-path-regex": "^/api/teams/",
                        "parameters": {"path.slug": {"dictionary": "teams", "probability": 0.8}}},
                       {"include-path-regex": "/invoke$",
                        "generation": {"max-examples": call_examples}}],
    })


schema = schemathesis.openapi.from_dict(served_document(),
                                        config=fuzzing(EXAMPLES, CALL_EXAMPLES, True))
# For the answers that do not depend on the request (logged out, 401; a key past its rate, 429),
# a few examples per operation.
briefly = schemathesis.openapi.from_dict(served_document(), config=fuzzing(3, 3, False))


@pytest.fixture
def world(db, acme, globex, emulator, alice):
    """What alice, maintainer of Acme, works with, made through the API; the real ids of the
    stand-ins."""
    emulator.service(acme, "demo-echo", slug="echo", name="Echo")
    emulator.service(acme, "demo-chat", slug="chat", name="Chat")
    emulator.service(globex, "demo-reranker", slug="rerank", name="Rerank")
    client = logged_in(alice)
    made = {
        "call": send(client, "post", "/api/services/echo/invoke", ECHO_BODY),
        "saved": send(client, "post", "/api/services/echo/requests",
                      {"name": "Hello", **ECHO_BODY}),
        "run": send(client, "post", "/api/services/chat/runs", {"total": 2, "concurrency": 1}),
        "key": send(client, "post", "/api/keys", {"name": "ci"}),
    }
    assert all(response.status_code < 300 for response in made.values()), made
    return {STAND_INS[name]: response.json()["id"] for name, response in made.items()}


@pytest.fixture
def browser(alice):
    """What alice's browser sends with every request: her session, and a CSRF token as the
    cookie and the header that Django's check compares."""
    token = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    return {"cookies": {"sessionid": logged_in(alice).cookies["sessionid"].value,
                        "csrftoken": token},
            "headers": {"X-CSRFToken": token}}


@pytest.fixture
def app(world):
    """The portal's WSGI application, called as gunicorn would call it; as Django's test client
    does, a request does not close the test's database connection (close_old_connections would,
    in the middle of the test's transaction). After the world is made: the test client
    connects close_old_connections again after each of its requests."""
    from easportal.wsgi import application  # once the static files are collected

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_fuzzed_document_is_the_one_alice_is_served(alice):
    assert logged_in(alice).get(DOCUMENT).json() == served_document()


def real(value, ids):
    """value, with the stand-ins in it replaced by the real ids."""
    if isinstance(value, dict):
        return {name: real(item, ids) for name, item in value.items()}
    if isinstance(value, list):
        return [real(item, ids) for item in value]
    return ids.get(value, value) if type(value) is int else value


# The world is made once per operation, not per example: each example runs rolled_back.
ONE_WORLD = hypothesis.settings(
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])


@contextmanager
def rolled_back():
    """Every example starts from the same world: its changes are undone after it."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@schema.parametrize()
@ONE_WORLD
def test_the_api_keeps_its_contract(case, world, app, browser):
    case.path_parameters, case.query, case.body = (
        real(part, world) for part in (case.path_parameters, case.query, case.body))
    with rolled_back():
        case.call_and_validate(app=app, **browser)


@briefly.parametrize()
@ONE_WORLD
def test_logged_out_every_route_answers_a_documented_401(case, world, app):
    with rolled_back():
        assert case.call_and_validate(app=app).status_code == 401


@pytest.fixture
def spent_key(alice, settings):
    """A key of alice's past its rate: with a limit of 0, every request is one too many."""
    settings.EASPORTAL_KEY_RATE_PER_MIN = 0
    return keys.make(alice, "spent", None)[1]


@briefly.parametrize()
@ONE_WORLD
def test_a_key_past_its_rate_gets_a_documented_429(case, world, spent_key, app):
    with rolled_back():
        headers = {"Authorization": f"Bearer {spent_key}"}
        assert case.call_and_validate(app=app, headers=headers).status_code == 429
