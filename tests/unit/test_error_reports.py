"""A service's plaintext token never shows in an error report: Django's technical 500 page (the
debug page) and the report its error reporters send (ExceptionReporter, as AdminEmailHandler
uses it), for an exception raised while a function holds the token, deep inside the send
included. The functions that hold it are marked with @sensitive_variables, the views that
receive it with @sensitive_post_parameters too, and the filter is active with DEBUG on as off
(easportal/reporting.py)."""

import dataclasses
import sys
from urllib.parse import quote

import pytest
from django.test import RequestFactory
from django.views.debug import (
    ExceptionReporter,
    get_default_exception_reporter_filter,
    technical_500_response,
)

from services import calls, keys, snippets, streams
from services.api import schemas
from services.api import snippets as snippet_routes
from services.calls import CallRequest
from services.gateway import gateway
from services.models import Call

FAILURE = "an unexpected failure"


class Failing:
    """Headers that fail when the call reads them: after the token was read."""

    def keys(self):
        raise RuntimeError(FAILURE)


class FailsWhenSent(str):
    """A header value that passes the portal's checks, then fails as http.client encodes it
    onto the wire: deep inside the send, below the frames that hold the token in the request's
    Authorization header."""

    def encode(self, *args, **kwargs):
        if sys._getframe(1).f_globals.get("__name__") == "http.client":
            raise RuntimeError(FAILURE)
        return str(self).encode(*args, **kwargs)


@pytest.fixture
def echo_service(acme, emulator):
    return emulator.service(acme, "eas-style", slug="echo", kind="custom")


def failure_of(function, *args, **kwargs):
    with pytest.raises(RuntimeError, match=FAILURE) as caught:
        function(*args, **kwargs)
    return caught.type, caught.value, caught.tb


def reports(exc_info, request=None):
    """The report as an error reporter sends it (HTML and text), and the debug page."""
    reporter = ExceptionReporter(request, *exc_info)
    page = technical_500_response(request or RequestFactory().get("/"), *exc_info)
    return [reporter.get_traceback_html(), reporter.get_traceback_text(),
            page.content.decode()]


@pytest.fixture
def assert_hidden(settings):
    def check(token, exc_info, frame, request=None, others=()):
        """Neither report shows the token, in any form, nor the others, with DEBUG off or on;
        both show the frame that held it."""
        for debugging in (False, True):
            settings.DEBUG = debugging
            for text in reports(exc_info, request):
                assert frame in text
                for form in (token, quote(token, safe=""), *others):
                    assert form not in text, (frame, debugging, text[text.index(form) - 300:][:400])
        settings.DEBUG = False

    return check


def test_a_call_that_fails_after_the_token_was_read(echo_service, bob, emulator, assert_hidden):
    exc_info = failure_of(calls.call, bob, echo_service, CallRequest(headers=Failing()))
    assert_hidden(emulator.token("eas-style"), exc_info, "_send")


def test_a_call_that_fails_deep_inside_the_send(echo_service, bob, emulator, assert_hidden):
    exc_info = failure_of(calls.call, bob, echo_service, CallRequest(
        headers={"X-Odd": FailsWhenSent("value")}))
    assert_hidden(emulator.token("eas-style"), exc_info, "putheader")
    assert not Call.objects.exists()


def test_a_run_or_compare_that_fails_while_it_is_made_ready(echo_service, alice, emulator,
                                                            assert_hidden):
    exc_info = failure_of(calls.ready, alice, echo_service, CallRequest(headers=Failing()))
    assert_hidden(emulator.token("eas-style"), exc_info, "ready")


def test_a_streamed_call_that_fails_after_the_token_was_read(echo_service, bob, emulator,
                                                             assert_hidden):
    exc_info = failure_of(streams.start, bob, echo_service.slug,
                          CallRequest(headers=Failing(), stream=True))
    assert_hidden(emulator.token("eas-style"), exc_info, "start")


def test_the_gateway_failing_while_it_reads_the_request(echo_service, bob, emulator,
                                                        assert_hidden):
    class FailingInput:
        def read(self, *args):
            raise RuntimeError(FAILURE)

        def close(self):
            pass

    raw = keys.make(bob, "ci", None)[1]
    request = RequestFactory().post(f"/gw/{echo_service.slug}/echo", b"{}",
                                    content_type="application/json",
                                    HTTP_AUTHORIZATION=f"Bearer {raw}")
    request.META["wsgi.input"] = FailingInput()
    request._stream = FailingInput()
    exc_info = failure_of(gateway, request, echo_service.slug)
    # The personal key, in the request's Authorization header, is not shown either.
    assert_hidden(emulator.token("eas-style"), exc_info, "_forward", request=request,
                  others=[raw])


def test_a_snippet_with_the_real_token_that_fails(echo_service, alice, emulator,
                                                  assert_hidden):
    class FailingNames(tuple):
        """The names of the headers history redacted, failing when the snippet lists them:
        after the token was read and handed to the snippet."""

        def __iter__(self):
            raise RuntimeError(FAILURE)

    call = calls.call(alice, echo_service, CallRequest())
    request = RequestFactory().post(f"/api/calls/{call.pk}/snippet")
    request.user = alice
    wanted = dataclasses.replace(snippets.from_call(call), redacted_headers=FailingNames())
    exc_info = failure_of(snippet_routes._snippet_response, request, wanted, "curl", "real",
                          service=echo_service, call=call)
    assert_hidden(emulator.token("eas-style"), exc_info, "render")


def test_a_service_token_sent_to_the_api_is_not_in_its_payloads_repr():
    payload = schemas.ServiceIn(slug="s", name="S", team="acme", kind="llm", gateway="shared",
                                public_endpoint="http://127.0.0.1:1", token="Never-Shown-42")
    patch = schemas.ServicePatch(token="Never-Shown-42")
    assert "Never-Shown-42" not in repr(payload) + str(payload) + repr(patch) + str(patch)


def test_the_reporter_filter_is_active_while_debugging(settings):
    settings.DEBUG = True
    assert get_default_exception_reporter_filter().is_active(None)
