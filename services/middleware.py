"""The portal's middleware. ContentSecurityPolicy: django-csp's, with the header built once.
Locale: Django's LocaleMiddleware (the language from the cookie the switcher sets, else
Accept-Language), which leaves the headers of the gateway's answers as the service sent them.
RefusalMiddleware and server_error: how pages answer what a view did not, a
services.errors.Refusal the way the API does, with its status and message (404 and 403 with
their pages, 503 with the page of a database that cannot be reached, anything else with the
400 page), and any other error through server_error.

server_error is the project's handler500 (easportal/urls.py): Django calls it for every error
that nothing answered, wherever it was raised, a middleware's process_view included (the session
lookup that LoginRequiredMiddleware makes never reaches a process_exception). A database that
cannot be reached (services.errors.DATABASE_ERRORS) is not a bug: 503 with a sentence a person
understands and Retry-After, JSON {"detail"} under /api/ and /gw/; anything else is the 500
page. Neither reads the database: both are rendered without the request's context, whose
processors would look up the user."""

import sys
from functools import cached_property

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.template import loader
from django.utils import translation
from django.utils.cache import patch_vary_headers

from services import access, sessions
from services.errors import DATABASE_ERRORS, Refusal, database_unreachable

TEMPLATES = {403: "403.html", 404: "404.html"}
JSON_PATHS = ("/api/", "/gw/")


class Locale(LocaleMiddleware):
    """Pages, the API's messages and the gateway's own refusals follow the person's language.
    The gateway relays a service's answer: it gets no Content-Language or Vary of ours.

    Without i18n_patterns (easportal/urls.py has none), Django's choice depends on the language
    cookie and Accept-Language only: it is kept for each pair this process has seen (a few
    hundred at most; emptied when the language settings change, as Django's own caches are),
    and the answer gets Django's Vary and Content-Language without its checks of the path."""

    def process_request(self, request):
        if self._prefixed(request):
            return super().process_request(request)
        seen = (request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME),
                request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
        language = _languages.get(seen)
        if language is None:
            language = translation.get_language_from_request(request)
            if len(_languages) >= MAX_LANGUAGE_PAIRS:
                _languages.clear()
            _languages[seen] = language
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        if request.path_info.startswith("/gw/"):
            return response
        if self._prefixed(request):
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response

    @staticmethod
    def _prefixed(request):
        """Whether the URLconf has i18n_patterns (Django caches the answer per URLconf)."""
        return is_language_prefix_patterns_used(
            getattr(request, "urlconf", settings.ROOT_URLCONF))[0]


# (language cookie, Accept-Language) -> the language Django chose for them.
_languages: dict[tuple[str | None, str], str] = {}
MAX_LANGUAGE_PAIRS = 1000


@receiver(setting_changed)
def _forget_languages(*, setting, **kwargs):
    if setting in ("LANGUAGES", "LANGUAGE_CODE", "LANGUAGE_COOKIE_NAME"):
        _languages.clear()


class LoginRequired(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, which reads the request's user first: on a call's
    route, with the service it calls, in the same query (services/access.py)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = access.called_service(view_func, view_kwargs)
        if slug is None:  # a page or any other route: nothing to read along
            return super().process_view(request, view_func, view_args, view_kwargs)
        with sessions.reading_service(slug):
            return super().process_view(request, view_func, view_args, view_kwargs)


class RefusalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, Refusal):
            return None
        if exception.status == 503:
            return unavailable_answer(request, exception)
        template = TEMPLATES.get(exception.status, "400.html")
        return render(request, template, {"detail": str(exception.message)},
                      status=exception.status)


def server_error(request):
    """handler500: 503 while the database cannot be reached, else the 500 page."""
    exception = sys.exc_info()[1]
    if not isinstance(exception, DATABASE_ERRORS):
        return HttpResponseServerError(loader.render_to_string("500.html"))
    response = unavailable_answer(request, database_unreachable(request, exception))
    # Logged in one line: Django would log the traceback too, for every request of an outage.
    response._has_been_logged = True
    return response


def unavailable_answer(request, refusal):
    """A 503 Refusal as the answer: JSON for the API and the gateway, else a page."""
    if request.path.startswith(JSON_PATHS):
        response = JsonResponse({"detail": str(refusal.message)}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html", {"detail": refusal.message}),
                                status=503)
    for name, value in refusal.headers.items():
        response[name] = value
    return response


class ContentSecurityPolicy(CSPMiddleware):
    """django-csp's middleware with the policy's header built once per process rather than for
    every answer (about 0.15 ms of a call's time on this machine): the portal's policy
    (CONTENT_SECURITY_POLICY) uses no nonce and no view changes it. An answer that did either
    (a view decorated with csp_update, say) still gets django-csp's own handling."""

    @cached_property
    def headers(self):
        return [(header, policy) for header, policy in (
            (HEADER, build_policy()), (HEADER_REPORT_ONLY, build_policy(report_only=True)))
            if policy]

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
                name.startswith("_csp_") for name in vars(response)):
            return super().process_response(request, response)
        if response.status_code in (404, 500) and settings.DEBUG:
            return response  # Django's debug pages, as django-csp leaves them
        for header, policy in self.headers:
            if header not in response:
                response[header] = policy
        # As django-csp: asking for a nonce once the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
