"""The short way of the call routes (services/fastpath.py): it answers a plain invoke without
ninja's operation, and a gateway request without URL resolving, and every request the same as
the usual way does (EASPORTAL_FAST_INVOKE=0), its headers, status and errors included, in the
order the usual way checks them.

alice maintains Acme (the echo service), bob is a member; charlie, of Globex, sees none of
Acme's services."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.test import Client
from django.utils.deprecation import MiddlewareMixin
from ninja.operation import Operation

from services import keys
from services.fastpath import FastInvoke
from services.models import ApiKey, Call
from tests.helpers import logged_in

ROUTE = "/api/services/echo/invoke"
BODY = json.dumps({"path": "/echo", "body": "hello"})
CSRF = "a" * 32  # a CSRF secret, sent as the cookie and as the header
# What differs from one call to the next, whichever way it went.
VARYING_HEADERS = {"Content-Length"}
VARYING_FIELDS = {"id", "created_at", "elapsed_ms", "response_body", "response_headers",
                  "response_size", "ttft_ms", "tpot_ms"}


@pytest.fixture
def operations_run(monkeypatch):
    """How many times ninja ran one of its operations (a spy: each still runs)."""
    count = [0]
    run = Operation.run

    def counted(self, *args, **kwargs):
        count[0] += 1
        return run(self, *args, **kwargs)

    monkeypatch.setattr(Operation, "run", counted)
    return count


@pytest.fixture
def resolved(monkeypatch):
    """How many requests Django resolved to a view (a spy)."""
    count = [0]
    resolve = BaseHandler.resolve_request

    def counted(self, request):
        count[0] += 1
        return resolve(self, request)

    monkeypatch.setattr(BaseHandler, "resolve_request", counted)
    return count


def session(user, csrf=True, **extra):
    client = logged_in(user, enforce_csrf_checks=True, **extra)
    if csrf:
        client.cookies["csrftoken"] = CSRF
        client.defaults["HTTP_X_CSRFTOKEN"] = CSRF
    return client


def key_of(user):
    return keys.make(user, "ci", None)[1]


def both_ways(settings, make_client, body=BODY, route=ROUTE, method="post", **extra):
    """The answer the short way gives, and the usual way's, each from a client of its own
    (Django's test client reads the middleware at its first request)."""
    answers = []
    for fast in (True, False):
        settings.EASPORTAL_FAST_INVOKE = fast
        send = getattr(make_client(), method)
        answers.append(send(route, body, content_type="application/json", **extra)
                       if method == "post" else send(route, **extra))
    return answers


def same_answer(fast, usual):
    assert fast.status_code == usual.status_code, (fast.content, usual.content)
    headers = {name: value for name, value in fast.headers.items()
               if name not in VARYING_HEADERS}
    assert headers == {name: value for name, value in usual.headers.items()
                       if name not in VARYING_HEADERS}
    assert sorted(fast.cookies) == sorted(usual.cookies)
    if fast["Content-Type"].startswith("application/json"):
        shown, expected = fast.json(), usual.json()
        assert shown.keys() == expected.keys()
        assert {k: v for k, v in shown.items() if k not in VARYING_FIELDS} == {
            k: v for k, v in expected.items() if k not in VARYING_FIELDS}
    else:
        assert fast.content[:20] == usual.content[:20]


def test_a_plain_invoke_skips_ninjas_operation_and_the_usual_way_does_not(
        echo, bob, settings, operations_run, resolved):
    fast, usual = both_ways(settings, lambda: session(bob))
    assert fast.status_code == usual.status_code == 200
    assert operations_run[0] == resolved[0] == 1  # the usual way's only
    same_answer(fast, usual)
    assert [call.username for call in Call.objects.order_by("id")] == ["bob", "bob"]


def test_a_key_call_skips_it_too_and_is_counted_once(echo, bob, settings, operations_run):
    key = key_of(bob)
    fast, usual = both_ways(settings, lambda: Client(HTTP_AUTHORIZATION=f"Bearer {key}"))
    assert fast.status_code == 200 and operations_run[0] == 1
    same_answer(fast, usual)
    assert ApiKey.objects.get().rate_count == 2


def test_a_key_wins_over_the_session_as_the_apis_auth_order_has_it(
        echo, alice, bob, settings, operations_run):
    key = key_of(alice)
    fast, usual = both_ways(settings, lambda: session(bob, HTTP_AUTHORIZATION=f"Bearer {key}"))
    assert operations_run[0] == 1
    same_answer(fast, usual)
    assert [call.username for call in Call.objects.all()] == ["alice", "alice"]


def session_without_csrf(bob):
    return session(bob, csrf=False)


@pytest.mark.parametrize("make_client, body, status", [
    (session_without_csrf, BODY, 403),          # the CSRF check fails: the usual way's 403
    (lambda bob: Client(), BODY, 401),          # logged out
    (lambda bob: session(bob), "{not json", 400),
    (lambda bob: session(bob), "[1, 2]", 400),
    (lambda bob: session(bob), json.dumps({"path": 5}), 400),
    (lambda bob: session(bob), json.dumps({"path": "/echo", "extra": 1}), 400),
    (lambda bob: Client(), "{not json", 401),   # logged out comes first, as it does usually
], ids=["no-csrf", "logged-out", "not-json", "not-an-object", "path-not-text", "unknown-field",
        "logged-out-and-not-json"])
def test_what_the_short_way_leaves_the_usual_way_answers(
        make_client, body, status, echo, bob, settings, operations_run):
    fast, usual = both_ways(settings, lambda: make_client(bob), body=body)
    assert fast.status_code == status
    assert operations_run[0] == 2  # both went through ninja
    same_answer(fast, usual)
    assert Call.objects.count() == 0


def test_a_streamed_call_goes_the_usual_way(echo, bob, settings, operations_run):
    body = json.dumps({"path": "/echo", "body": "hello", "stream": True})
    fast, usual = both_ways(settings, lambda: session(bob), body=body)
    assert fast["Content-Type"] == usual["Content-Type"] == "text/event-stream"
    assert b"".join(fast.streaming_content).startswith(b"event: head")
    b"".join(usual.streaming_content)
    assert operations_run[0] == 2


@pytest.mark.parametrize("make_client", [
    lambda user: session(user),
    lambda user: Client(HTTP_AUTHORIZATION=f"Bearer {key_of(user)}"),
], ids=["session", "key"])
def test_refusals_after_the_login_are_the_apis_own(make_client, echo, charlie, settings,
                                                   operations_run):
    # charlie sees no service of Acme's: 404, in the language asked for.
    fast, usual = both_ways(settings, lambda: make_client(charlie),
                            HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert fast.status_code == 404 and operations_run[0] == 1
    assert fast["Content-Language"] == "zh-hans"
    same_answer(fast, usual)
    # A method the call refuses: its 400, as the view gives it.
    fast, usual = both_ways(settings, lambda: make_client(charlie), body=json.dumps(
        {"path": "/echo", "method": "FETCH"}), route="/api/services/echo/invoke")
    same_answer(fast, usual)


def test_a_key_that_does_not_open_and_a_key_past_its_rate(echo, bob, settings, operations_run):
    fast, usual = both_ways(settings, lambda: Client(HTTP_AUTHORIZATION="Bearer nope"))
    assert fast.status_code == 401 and operations_run[0] == 1
    same_answer(fast, usual)
    settings.EASPORTAL_KEY_RATE_PER_MIN = 1
    key = key_of(bob)
    fast, usual = both_ways(settings, lambda: Client(HTTP_AUTHORIZATION=f"Bearer {key}"))
    assert (fast.status_code, usual.status_code) == (200, 429)
    fast, usual = both_ways(settings, lambda: Client(HTTP_AUTHORIZATION=f"Bearer {key}"))
    assert fast.status_code == usual.status_code == 429 and "Retry-After" in fast
    same_answer(fast, usual)
    assert Call.objects.count() == 1


def test_other_routes_and_methods_go_the_usual_way(echo, bob, settings, operations_run):
    client = session(bob)
    assert client.get(ROUTE).status_code == 405
    assert client.post("/api/services/echo/invoke/", BODY,
                       content_type="application/json").status_code == 404
    assert client.get("/api/services").status_code == 200
    # The list ran its operation; the 405 is ninja's router's, the 404 urls.py's last pattern's.
    assert operations_run[0] == 1
    assert Call.objects.count() == 0


def test_it_is_off_with_the_setting(settings):
    settings.EASPORTAL_FAST_INVOKE = False
    with pytest.raises(MiddlewareNotUsed):
        FastInvoke(lambda request: None)


class ActsInCall:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


class HasAView(MiddlewareMixin):
    def process_view(self, request, view, args, kwargs):
        return None


@pytest.mark.parametrize("name, message", [
    ("ActsInCall", "acts in its own __call__"),
    ("HasAView", "has a process_view"),
])
def test_a_middleware_it_cannot_run_stops_the_start(name, message, settings):
    settings.MIDDLEWARE = ["services.fastpath.FastInvoke", f"tests.api.test_fastpath.{name}"]
    with pytest.raises(ImproperlyConfigured, match=f"{name} {message}"):
        FastInvoke(lambda request: None)


GATEWAY = "/gw/echo/echo?x=1"


@pytest.mark.parametrize("method", ["post", "get"])
def test_a_gateway_call_skips_url_resolving_and_answers_the_same(
        method, echo, bob, settings, resolved):
    key = key_of(bob)
    fast, usual = both_ways(settings, lambda: Client(HTTP_AUTHORIZATION=f"Bearer {key}"),
                            route=GATEWAY, method=method)
    assert fast.status_code == usual.status_code == 200
    assert resolved[0] == 1  # the usual way's only
    assert fast.headers.keys() == usual.headers.keys()
    assert "Content-Language" not in fast and "Cookie" in fast["Vary"]
    assert [(call.source, call.method, call.path) for call in Call.objects.order_by("id")] == [
        ("gateway", method.upper(), "/echo?x=1")] * 2


@pytest.mark.parametrize("authorization, status", [
    ({}, 401), ({"HTTP_AUTHORIZATION": "Bearer nope"}, 401),
], ids=["no-key", "bad-key"])
def test_the_gateways_refusals_are_its_own(authorization, status, echo, settings, resolved):
    fast, usual = both_ways(settings, lambda: Client(**authorization), route=GATEWAY,
                            HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert fast.status_code == status and resolved[0] == 1
    same_answer(fast, usual)


def test_an_outsider_and_the_routes_the_gateway_does_not_have(echo, charlie, settings,
                                                               resolved):
    key = key_of(charlie)
    fast, usual = both_ways(settings, lambda: Client(HTTP_AUTHORIZATION=f"Bearer {key}"),
                            route=GATEWAY)
    assert fast.status_code == 404
    same_answer(fast, usual)
    for route in ("/gw/echo", "/gw/echo/", "/gw/no such/x", "/gw/"):
        fast, usual = both_ways(settings, lambda: Client(HTTP_AUTHORIZATION=f"Bearer {key}"),
                                route=route)
        same_answer(fast, usual)
    # The usual way's five, and two the short way does not take: a slug with a space, no slug.
    assert resolved[0] == 7
