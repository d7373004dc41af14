"""The JSON API under /api/ (docs/api.md): one django-ninja API made of one router per area,
mounted by easportal/urls.py with include().

Where this departs from ninja's own URL handling, and why (the one place that does):
- a logged-out client gets 401 JSON, never the login redirect that LoginRequiredMiddleware gives
  every page, also on an unknown route or method (404/405 would tell it what exists);
- ninja answers a wrong method with a 405 that is not JSON, and /api/ itself or an unknown route
  with Django's HTML 404; docs/api.md wants every error as {"detail"}.
So each of ninja's views is wrapped once below, and a last pattern catches unknown routes.
"""

from functools import wraps

from django.http import Http404
from django.urls import URLPattern, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from services import keys
from services.api import (
    audit,
    calls,
    export,
    imports,
    runs,
    saved,
    services,
    snippets,
    teams,
)
from services.api import keys as key_routes
from services.api import status as status_routes
from services.api.core import (
    API,
    LOGGED_OUT,
    PersonalKey,
    SessionCookie,
    UTF8Parser,
    install_error_handlers,
    json_error,
    logged_in_or_401,
)
from services.errors import Refusal

api = API(
    title="easportal API", version="1", urls_namespace="api",
    auth=[PersonalKey(), SessionCookie()],
    parser=UTF8Parser(),
    docs_decorator=logged_in_or_401,
    description="Send Authorization: Bearer <personal key> (made at /account/keys/), or log "
                "in at /accounts/login/ and send the session cookie; with the session, unsafe "
                "methods carry X-CSRFToken with the csrftoken cookie's value (over HTTPS, "
                "Django's CSRF check also wants a Referer or Origin of this site).",
)
install_error_handlers(api)
for area in (teams, services, calls, export, snippets, key_routes, saved, imports, runs,
             status_routes, audit):
    api.add_router("", area.router)


def _refused(request):
    """None for a logged-in session or a personal key that opens (counted like any request);
    otherwise the answer: 401, or the key's own refusal when it opens but may not be used now
    (429 past its rate, with Retry-After)."""
    if request.user.is_authenticated:
        return None
    scheme, _space, credential = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        try:
            request.user = keys.authenticate(credential.strip())
        except Refusal as refusal:
            if refusal.status != 401:
                response = json_error(refusal.status, refusal.message, **refusal.extra)
                for name, value in refusal.headers.items():
                    response[name] = value
                return response
        else:
            return None
    return json_error(401, LOGGED_OUT)


def _api_view(view):
    @wraps(view)
    def api_view(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:  # ninja's view of /api/ itself
            response = json_error(404, _("Not found: the API's routes are listed at "
                                         "/api/docs."))
        refused = _refused(request) if response.status_code in (404, 405) else None
        if refused is not None:
            return refused
        if response.status_code == 405 and not response["Content-Type"].startswith(
                "application/json"):
            allowed = response["Allow"]
            response = json_error(405, _("This route answers %(allowed)s, not %(method)s.")
                                  % {"allowed": allowed, "method": request.method})
            response["Allow"] = allowed
        return response

    api_view.login_required = False
    return api_view


@csrf_exempt
def _unknown_route(request):
    refused = _refused(request)
    if refused is not None:
        return refused
    return json_error(404, _("Not found: the API's routes are listed at /api/docs."))


_unknown_route.login_required = False


def _urlpatterns():
    patterns = []
    for pattern in api.urls[0]:
        # The docs page is a page: logged out, it redirects to the login form like any other.
        view = pattern.callback if pattern.name == "openapi-view" else _api_view(pattern.callback)
        # Its user is read with the service it calls, in one query (services/access.py).
        view.calls_service = pattern.name == "service_invoke"
        patterns.append(URLPattern(pattern.pattern, view, pattern.default_args, pattern.name))
    return [*patterns, re_path(r"", _unknown_route, name="unknown-route")]


app_name = "api"
urlpatterns = _urlpatterns()
