"""The short way through the framework for the two routes that make calls (docs/architecture.md,
"Requests and speed"): the first middleware, which answers POST /api/services/<slug>/invoke and
/gw/<slug>/<path> itself, with the same steps and the same functions as the usual way, without
the steps that do nothing on them.

Django would pass the request through every middleware's __call__, resolve the URL and call the
view (for the invoke route, ninja's operation, which authenticates, parses and validates the
body and runs the view): on the invoke route about a third of the portal's own time, added to
every call. Here:
- the invoke body is read and validated first, with the view's own schema and ninja's parser
  rule;
- every other middleware's process_request runs, in order, then the request's user is read as
  services.middleware.LoginRequired reads it (on the invoke route, with the service it calls);
- invoke: a personal key (Authorization: Bearer, tried first, as the API's auth list has it)
  is checked and counted, or the session's user must be logged in and pass Django's CSRF
  check; the call is made by the view's own code and an error answered by the API's own
  handlers. The gateway: its view, which checks the key itself; an error it does not answer is
  answered as Django answers it (handler500);
- every middleware's process_response runs, in reverse order.

Anything else goes the usual way, untouched: another route or method, an invoke body that does
not validate, a streamed invoke, an invoke that is not logged in or fails the CSRF check, a
middleware's process_request that answers or raises. Each of those decisions is taken before
anything changes state (a key's count comes after them), so the usual way answers those requests
as it would have, with its errors in its order. Middleware that act only through process_view or
process_exception have nothing to do here: both views are CSRF-exempt and open to the logged out
(their auth is their own), and the API's handlers, or the gateway's view, answer their
exceptions (REPLACED says so for each). A middleware that acts in its own __call__ must be
listed in PASSED with the reason it does nothing on these routes, and one with another step
than process_request and process_response in REPLACED, or the portal does not start.

EASPORTAL_FAST_INVOKE=0 turns it off (tests/api/test_fastpath.py compares both ways)."""

import json
import re

from django.conf import settings
from django.contrib.auth import get_user
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.exception import response_for_exception
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables
from ninja.utils import check_csrf

from services import calls, gateway, keys, sessions
from services.api.calls import call_request, call_response
from services.api.schemas import InvokeIn
from services.api.urls import api

# The routes of services/api/calls.py's service_invoke (under easportal/urls.py's api/) and of
# the gateway (easportal/urls.py): a slug as Django's slug converter reads it, the rest as its
# path converter does.
INVOKE = re.compile(r"/api/services/(?P<slug>[-a-zA-Z0-9_]+)/invoke")
GATEWAY = re.compile(r"/gw/(?P<slug>[-a-zA-Z0-9_]+)(?:/(?P<rest>.*))?")
# Middleware that act in their own __call__, and why that is nothing on these routes.
PASSED = {
    "whitenoise.middleware.WhiteNoiseMiddleware": "serves the files under STATIC_URL only",
    "axes.middleware.AxesMiddleware": "answers a locked-out login only",
    "services.middleware.RefusalMiddleware": "answers the exceptions of pages only",
    # Its process_request makes the storage of messages that pages show: a call adds none,
    # and neither route shows any (its process_response then has nothing to store).
    "django.contrib.messages.middleware.MessageMiddleware": "stores messages for pages only",
}


# Middleware with a process_view or process_exception, and what here does their work.
REPLACED = {
    "django.middleware.csrf.CsrfViewMiddleware": "both views are CSRF-exempt; the invoke route "
    "checks CSRF as the API's session auth does",
    "services.middleware.LoginRequired": "both views are open to the logged out; the user is "
    "read as it reads it",
}


def _unknown_step(name, middleware):
    """What of middleware the short way would skip without knowing why, or None."""
    if middleware.__call__ is not MiddlewareMixin.__call__:
        return "acts in its own __call__"
    if name not in REPLACED and any(hasattr(middleware, step) for step in (
            "process_view", "process_exception", "process_template_response")):
        return "has a process_view, process_exception or process_template_response"
    return None


class FastInvoke:
    def __init__(self, get_response):
        if not settings.EASPORTAL_FAST_INVOKE:
            raise MiddlewareNotUsed
        self.get_response = get_response
        names = settings.MIDDLEWARE
        chain = []
        for name in names[names.index(f"{__name__}.FastInvoke") + 1:]:
            if name in PASSED:
                continue
            middleware = import_string(name)
            if unknown := _unknown_step(name, middleware):
                raise ImproperlyConfigured(
                    f"{name} {unknown}, which the short way of the call routes ({__name__}) "
                    "does not run: add it to PASSED with the reason it does nothing on them, "
                    "or to REPLACED with what does its work there.")
            try:
                chain.append(middleware(get_response))
            except MiddlewareNotUsed:
                continue
        self.before = [m.process_request for m in chain if hasattr(m, "process_request")]
        self.after = [m.process_response for m in reversed(chain)
                      if hasattr(m, "process_response")]

    def __call__(self, request):
        path, response = request.path_info, None
        if path.startswith("/gw/"):
            if match := GATEWAY.fullmatch(path):
                response = self.relay(request, match["slug"], match["rest"] or "")
        elif request.method == "POST" and (match := INVOKE.fullmatch(path)):
            response = self.invoke(request, match["slug"])
        return self.get_response(request) if response is None else response

    def started(self, request, slug=None):
        """Every process_request, then the user read (with the service slug); False when the
        usual way should answer (a middleware answered)."""
        for process_request in self.before:
            if process_request(request) is not None:
                return False
        with sessions.reading_service(slug):
            request.user = get_user(request)
        return True

    def finished(self, request, response):
        for process_response in self.after:
            response = process_response(request, response)
        return response

    @sensitive_variables("key")
    def invoke(self, request, slug):
        """The answer, or None when the usual way should give it (nothing changed yet)."""
        try:
            payload = self.payload(request)
            if payload is None or payload.stream or not self.started(request, slug):
                return None
            key = self.bearer(request)
            if key is None and (not request.user.is_authenticated or check_csrf(request)):
                return None
        except Exception:  # the usual way meets it again and answers it as it does
            return None
        try:
            if key is not None:  # counted from here: answered here whatever happens
                request.user = keys.authenticate(key, slug)
                request.personal_key = True
            request.auth = request.user
            call = calls.call(request.user, slug, call_request(payload))
            response = call_response(call, call.team.slug)
        except Exception as exc:
            response = api.on_exception(request, exc)
        return self.finished(request, response)

    def relay(self, request, slug, rest):
        """The gateway's answer, or None when the usual way should give it."""
        try:
            if not self.started(request):
                return None
        except Exception:
            return None
        try:
            response = gateway.gateway(request, slug, rest)
        except Exception as exc:
            response = response_for_exception(request, exc)
        return self.finished(request, response)

    @staticmethod
    def payload(request):
        """The view's payload as ninja would read it (services/api/core.py's UTF8Parser), or
        None when the body is not one valid invoke object."""
        data = json.loads(request.body.decode())
        if not isinstance(data, dict):
            return None
        return InvokeIn.model_validate(data, context={"request": request})

    @staticmethod
    @sensitive_variables("value")
    def bearer(request):
        """The personal key as ninja's HttpBearer reads it, or None."""
        value = request.headers.get("Authorization")
        if not value:
            return None
        scheme, *rest = value.split(" ")
        return " ".join(rest) if scheme.lower() == "bearer" else None
