"""The JSON API under /api/ (DESIGN.md, "API"): Django's session authenticates it, unsafe methods
carry X-CSRFToken, and every error is {"detail": "<one readable sentence>"}.

easportal/urls.py mounts this module with include(): `urlpatterns` below wraps ninja's patterns
so that a logged-out client gets 401 JSON instead of the login redirect that every page gets.
"""

import json
import logging
from contextlib import contextmanager
from functools import wraps

from django.contrib.auth import get_user_model
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as ModelValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import URLPattern, re_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import SessionAuth
from ninja.utils import check_csrf

from services import api_schemas as schemas
from services.client import GATEWAY_BODY_LIMIT
from services.forms import validate_token_text
from services.models import LastMaintainer, Membership, Role, Service, Team

log = logging.getLogger(__name__)

LOGGED_OUT = gettext_lazy(
    "Log in first: the API uses the session of the login page, /accounts/login/.")


class APIError(Exception):
    def __init__(self, status, message, **extra):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


class SessionCookie(SessionAuth):
    """Django's session; for a logged-in user, Django's CSRF check on unsafe methods.

    The user comes first, so that a logged-out client is told to log in (401) whatever else
    is wrong with its request.
    """

    def __call__(self, request):
        if not request.user.is_authenticated:
            return None
        if check_csrf(request):
            raise APIError(403, _("CSRF check failed: send the csrftoken cookie's value in the "
                                  "X-CSRFToken header (and, over HTTPS, a Referer or Origin "
                                  "of this site)."))
        return request.user


class API(NinjaAPI):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._schemas = {}

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        # The schema changes only with the code: build it once per process.
        key = (path_prefix, tuple(sorted((path_params or {}).items())))
        if key not in self._schemas:
            self._schemas[key] = super().get_openapi_schema(
                path_prefix=path_prefix, path_params=path_params)
        return self._schemas[key]


def _logged_in_or_401(view):
    @wraps(view)
    def checked(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _json_error(401, LOGGED_OUT)
        return view(request, *args, **kwargs)

    return checked


class UTF8Parser(Parser):
    def parse_body(self, request):
        # json.loads would guess UTF-16 or UTF-32 from bytes; JSON on the wire is UTF-8.
        return json.loads(request.body.decode())


api = API(
    title="easportal API", version="1", urls_namespace="api", auth=SessionCookie(),
    parser=UTF8Parser(),
    docs_decorator=_logged_in_or_401,
    description="Log in at /accounts/login/; the session cookie authenticates every call, and "
                "unsafe methods carry X-CSRFToken with the csrftoken cookie's value (over "
                "HTTPS, Django's CSRF check also wants a Referer or Origin of this site).",
)


def _json_error(status, message, **extra):
    return JsonResponse({"detail": str(message), **extra}, status=status)


def _error(request, status, message, **extra):
    return api.create_response(request, {"detail": str(message), **extra}, status=status)


@api.exception_handler(APIError)
def _api_error(request, exc):
    return _error(request, exc.status, exc.message, **exc.extra)


@api.exception_handler(AuthenticationError)
def _logged_out(request, exc):
    return _error(request, 401, LOGGED_OUT)


@api.exception_handler(HttpError)
def _http_error(request, exc):
    message = str(exc)
    if message.startswith("Cannot parse request body"):
        message = _("The request body is not valid JSON: send one JSON object, in UTF-8.")
    return _error(request, exc.status_code, message)


@api.exception_handler(ValidationError)
def _invalid_input(request, exc):
    # What django-ninja would answer with 422 is invalid input like any other: 400.
    return _error(request, 400, " ".join(schemas.describe(error) for error in exc.errors))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, _("Not found."))


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    size = int(request.META.get("CONTENT_LENGTH") or 0)
    return _error(request, 413, _("The request is %(size)s bytes: too large for a call, whose "
                                  "body may be at most %(limit)s bytes (1 MB).")
                  % {"size": size, "limit": GATEWAY_BODY_LIMIT},
                  size=size, limit=GATEWAY_BODY_LIMIT)


@api.exception_handler(SuspiciousOperation)
@api.exception_handler(MultiPartParserError)
def _malformed(request, exc):
    return _error(request, 400, _("The request could not be read: send one JSON object."))


@api.exception_handler(Exception)
def _bug(request, exc):
    log.exception("API error on %s %s", request.method, request.path)
    return _error(request, 500, _("Something went wrong on the server; the error was logged."))


ERRORS = {status: schemas.ErrorOut for status in (400, 401, 403, 404, 409)}


# Lookups: objects of other teams are 404, exactly like objects that do not exist.

def _team_for(request, slug):
    team = Team.objects.for_user(request.user).filter(slug=slug).first()
    if team is None:
        raise APIError(404, _("There is no team “%(slug)s”.") % {"slug": slug})
    return team


def _service_for(request, slug):
    services = Service.objects.for_user(request.user).select_related("team")
    service = services.filter(slug=slug).first()
    if service is None:
        raise APIError(404, _("There is no service “%(slug)s”.") % {"slug": slug})
    return service


def _require_maintainer(user, team, action):
    if not team.is_maintainer(user):
        raise APIError(403, _("Only maintainers of the team “%(team)s” can %(action)s.")
                       % {"team": team.slug, "action": action})


def _team_to_maintain(user, slug, action):
    """The team named in a body, for a user who must maintain it."""
    team = Team.objects.for_user(user).filter(slug=slug).first()
    if team is None:
        raise APIError(400, _("team: there is no team “%(slug)s” among yours.") % {"slug": slug})
    _require_maintainer(user, team, action)
    return team


def _validate(instance):
    """The model's own rules: 400, or 409 when the only problem is a taken slug."""
    try:
        instance.full_clean(exclude=["team", "created_by", "updated_by"])
    except ModelValidationError as exc:
        errors = exc.message_dict
        sentences = [message if field == "__all__" else f"{field}: {message}"
                     for field, messages in errors.items() for message in messages]
        taken = all(error.code == "unique"
                    for field_errors in exc.error_dict.values() for error in field_errors)
        raise APIError(409 if taken else 400, " ".join(sentences), errors=errors) from None


@contextmanager
def _saving(instance):
    try:
        with transaction.atomic():
            yield
    except IntegrityError:  # a concurrent request took the slug between check and save
        raise APIError(409, _("slug: “%(slug)s” is already taken.")
                       % {"slug": instance.slug}) from None


# Teams and members

@api.get("/teams", response=list[schemas.TeamOut], tags=["teams"])
def team_list(request):
    """Your teams with your role (superusers: every team, as maintainer)."""
    if request.user.is_superuser:
        return [schemas.team_out(team, Role.MAINTAINER) for team in Team.objects.all()]
    memberships = (Membership.objects.filter(user=request.user).select_related("team")
                   .order_by("team__name", "team__slug"))
    return [schemas.team_out(membership.team, membership.role) for membership in memberships]


@api.post("/teams", response={201: schemas.TeamOut, **ERRORS}, tags=["teams"])
def team_create(request, payload: schemas.TeamIn):
    """Superusers only; the creator becomes the team's maintainer."""
    if not request.user.is_superuser:
        raise APIError(403, _("Only administrators can create teams."))
    team = Team(slug=payload.slug, name=payload.name)
    _validate(team)
    with _saving(team):
        team.save()
        Membership.objects.create(team=team, user=request.user, role=Role.MAINTAINER)
    return Status(201, schemas.team_out(team, Role.MAINTAINER))


@api.get("/teams/{slug:slug}/members", response={200: list[schemas.MemberOut], **ERRORS},
         tags=["teams"])
def member_list(request, slug: str):
    team = _team_for(request, slug)
    rows = team.memberships.order_by("user__username").values_list("user__username", "role")
    return [{"username": username, "role": role} for username, role in rows]


@api.post("/teams/{slug:slug}/members", tags=["teams"],
          response={200: schemas.MemberOut, 201: schemas.MemberOut, **ERRORS})
def member_put(request, slug: str, payload: schemas.MemberIn):
    """Add a user (201), or change the role of a member (200)."""
    team = _team_for(request, slug)
    _require_maintainer(request.user, team, _("add members"))
    user = get_user_model().objects.filter(username=payload.username.strip()).first()
    if user is None:
        raise APIError(400, _("username: there is no user named “%(name)s”.")
                       % {"name": payload.username})
    membership, created = Membership.objects.get_or_create(
        team=team, user=user, defaults={"role": payload.role})
    if not created and membership.role != payload.role:
        try:
            membership.change_role(payload.role)
        except LastMaintainer as exc:
            raise APIError(409, str(exc.message)) from None
    return Status(201 if created else 200, {"username": user.username, "role": membership.role})


@api.delete("/teams/{slug:slug}/members/{username}", response={204: None, **ERRORS},
            tags=["teams"])
def member_delete(request, slug: str, username: str):
    team = _team_for(request, slug)
    _require_maintainer(request.user, team, _("remove members"))
    # PostgreSQL refuses NUL in a query; no username holds one.
    membership = None if "\x00" in username else (
        team.memberships.filter(user__username=username).first())
    if membership is None:
        raise APIError(404, _("“%(name)s” is not a member of “%(team)s”.")
                       % {"name": username, "team": team.slug})
    try:
        membership.remove()
    except LastMaintainer as exc:
        raise APIError(409, str(exc.message)) from None
    return Status(204, None)


# Services

def _set_token(service, token):
    token = token.strip()
    try:
        if not token:
            raise ModelValidationError(_("Enter the service's token."))
        if len(token) > 4096:
            raise ModelValidationError(_("The token is longer than 4096 characters."))
        validate_token_text(token)
    except ModelValidationError as exc:
        raise APIError(400, f"token: {' '.join(exc.messages)}") from None
    service.set_token(token)


@api.get("/services", response=list[schemas.ServiceOut], tags=["services"])
def service_list(request):
    services = Service.objects.for_user(request.user).select_related("team")
    return [schemas.service_out(service) for service in services]


@api.post("/services", response={201: schemas.ServiceOut, **ERRORS}, tags=["services"])
def service_create(request, payload: schemas.ServiceIn):
    """For maintainers of `team`; `token` is required and never comes back."""
    values = payload.model_dump()
    team = _team_to_maintain(request.user, values.pop("team"), _("add services"))
    token = values.pop("token")
    service = Service(team=team, created_by=request.user, updated_by=request.user, **values)
    _set_token(service, token)
    _validate(service)
    with _saving(service):
        service.save()
    return Status(201, schemas.service_out(service))


@api.get("/services/{slug:slug}", response={200: schemas.ServiceOut, **ERRORS}, tags=["services"])
def service_get(request, slug: str):
    return schemas.service_out(_service_for(request, slug))


@api.patch("/services/{slug:slug}", response={200: schemas.ServiceOut, **ERRORS}, tags=["services"])
def service_patch(request, slug: str, payload: schemas.ServicePatch):
    """Change the given fields; an omitted, null or empty `token` keeps the stored one."""
    service = _service_for(request, slug)
    _require_maintainer(request.user, service.team, _("edit its services"))
    values = payload.model_dump(exclude_unset=True)
    token = values.pop("token", None)
    if "team" in values:
        service.team = _team_to_maintain(request.user, values.pop("team"),
                                         _("receive services"))
    for field, value in values.items():
        setattr(service, field, value)
    if token and token.strip():
        _set_token(service, token)
    service.updated_by = request.user
    _validate(service)
    with _saving(service):
        service.save()
    return schemas.service_out(service)


@api.delete("/services/{slug:slug}", response={204: None, **ERRORS}, tags=["services"])
def service_delete(request, slug: str):
    """The service's calls stay in history."""
    service = _service_for(request, slug)
    _require_maintainer(request.user, service.team, _("delete its services"))
    service.delete()
    return Status(204, None)


# The routes of calls, history and snippets are in services/api_calls.py; importing it
# registers them on `api` before the URL patterns below are built.
from services import api_calls  # noqa: E402, F401

# URLs: ninja's patterns, answering 401 JSON to a logged-out client (not the login redirect
# LoginRequiredMiddleware gives pages), and JSON for ninja's few non-JSON answers.

def _api_view(view):
    @wraps(view)
    def api_view(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:  # ninja's view of /api/ itself
            response = _json_error(404, _("Not found: the API's routes are listed at "
                                          "/api/docs."))
        if response.status_code in (404, 405) and not request.user.is_authenticated:
            return _json_error(401, LOGGED_OUT)
        if response.status_code == 405 and not response["Content-Type"].startswith(
                "application/json"):
            allowed = response["Allow"]
            response = _json_error(405, _("This route answers %(allowed)s, not %(method)s.")
                                   % {"allowed": allowed, "method": request.method})
            response["Allow"] = allowed
        return response

    api_view.login_required = False
    return api_view


@csrf_exempt
def _unknown_route(request):
    if not request.user.is_authenticated:
        return _json_error(401, LOGGED_OUT)
    return _json_error(404, _("Not found: the API's routes are listed at /api/docs."))


_unknown_route.login_required = False


def _urlpatterns():
    patterns = []
    for pattern in api.urls[0]:
        # The docs page is a page: logged out, it redirects to the login form like any other.
        view = pattern.callback if pattern.name == "openapi-view" else _api_view(pattern.callback)
        patterns.append(URLPattern(pattern.pattern, view, pattern.default_args, pattern.name))
    return [*patterns, re_path(r"", _unknown_route, name="unknown-route")]


app_name = "api"
urlpatterns = _urlpatterns()
