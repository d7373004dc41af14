"""What every route of the JSON API shares (docs/api.md): authentication by personal key or by
the session with Django's CSRF check, the UTF-8 JSON parser, and the error handlers that
make every refusal {"detail": "<one readable sentence>"}. services/api/urls.py builds the API
from these and the routers (teams.py, services.py, calls.py, snippets.py)."""

import json
import logging
from contextlib import contextmanager
from functools import wraps

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as ModelValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from services import access, keys
from services.api import schemas
from services.errors import DATABASE_ERRORS, Refusal, database_unreachable
from services.net.limits import GATEWAY_BODY_LIMIT

log = logging.getLogger(__name__)

LOGGED_OUT = gettext_lazy(
    "Log in first: send Authorization: Bearer <your personal key>, or use the session of the "
    "login page, /accounts/login/.")
# The error answers each route declares in the OpenAPI document; 429 is a personal key past its
# rate (any route) or, on the call routes, too many calls in flight; 503 the portal's database
# out of reach (any route, with Retry-After).
ERRORS = {status: schemas.ErrorOut for status in (400, 401, 403, 404, 409, 429, 503)}


class PersonalKey(HttpBearer):
    """Authorization: Bearer <personal key>: the key's owner, with the rights they have now,
    and no CSRF check (a key is not sent by a browser on its own). A request that names a key
    that does not open is 401, even with a session."""

    def authenticate(self, request, token):
        match = request.resolver_match
        user = keys.authenticate(token, match and access.called_service(match.func, match.kwargs))
        request.user = user
        request.personal_key = True
        return user


def require_session(request, action):
    """Some things only a person at the portal may do: 403 for a request made with a key."""
    if getattr(request, "personal_key", False):
        raise Refusal(403, _("A personal key cannot %(action)s: log in to the portal.")
                      % {"action": action})


class SessionCookie(SessionAuth):
    """Django's session; for a logged-in user, Django's CSRF check on unsafe methods.

    The user comes first, so that a logged-out client is told to log in (401) whatever else
    is wrong with its request.
    """

    def __call__(self, request):
        if not request.user.is_authenticated:
            return None
        if check_csrf(request):
            raise Refusal(403, _("CSRF check failed: send the csrftoken cookie's value in the "
                                 "X-CSRFToken header (and, over HTTPS, a Referer or Origin "
                                 "of this site)."))
        return request.user


class API(NinjaAPI):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._schemas = {}

    def get_openapi_operation_id(self, operation):
        # The view's name (team_create), unique across the API, whichever module holds it:
        # generated clients keep their method names when code moves.
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        # The schema changes only with the code: build it once per process.
        key = (path_prefix, tuple(sorted((path_params or {}).items())))
        if key not in self._schemas:
            self._schemas[key] = super().get_openapi_schema(
                path_prefix=path_prefix, path_params=path_params)
        return self._schemas[key]


class UTF8Parser(Parser):
    def parse_body(self, request):
        # json.loads would guess UTF-16 or UTF-32 from bytes; JSON on the wire is UTF-8.
        return json.loads(request.body.decode())


def json_error(status, message, **extra):
    """An error answer outside ninja's handling (its URL patterns, see urls.py)."""
    return JsonResponse({"detail": str(message), **extra}, status=status)


def logged_in_or_401(view):
    @wraps(view)
    def checked(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return json_error(401, LOGGED_OUT)
        return view(request, *args, **kwargs)

    return checked


def install_error_handlers(api):
    """Every way a route can fail, as {"detail": ...} with the status docs/api.md gives it."""

    def error(request, status, message, **extra):
        return api.create_response(request, {"detail": str(message), **extra}, status=status)

    @api.exception_handler(Refusal)
    def refused(request, exc):
        response = error(request, exc.status, exc.message, **exc.extra)
        for name, value in exc.headers.items():
            response[name] = value
        return response

    @api.exception_handler(AuthenticationError)
    def logged_out(request, exc):
        return error(request, 401, LOGGED_OUT)

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        message = str(exc)
        if message.startswith("Cannot parse request body"):
            message = _("The request body is not valid JSON: send one JSON object, in UTF-8.")
        return error(request, exc.status_code, message)

    @api.exception_handler(ValidationError)
    def invalid_input(request, exc):
        # What django-ninja would answer with 422 is invalid input like any other: 400.
        return error(request, 400, " ".join(schemas.describe(item) for item in exc.errors))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return error(request, 404, _("Not found."))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        size = int(request.META.get("CONTENT_LENGTH") or 0)
        return error(request, 413, _("The request is %(size)s bytes: too large for a call, "
                                     "whose body may be at most %(limit)s bytes (1 MB).")
                     % {"size": size, "limit": GATEWAY_BODY_LIMIT},
                     size=size, limit=GATEWAY_BODY_LIMIT)

    @api.exception_handler(SuspiciousOperation)
    @api.exception_handler(MultiPartParserError)
    def malformed(request, exc):
        return error(request, 400, _("The request could not be read: send one JSON object."))

    def database_unavailable(request, exc):
        return refused(request, database_unreachable(request, exc))

    for database_error in DATABASE_ERRORS:
        api.add_exception_handler(database_error, database_unavailable)

    @api.exception_handler(Exception)
    def bug(request, exc):
        log.exception("API error on %s %s", request.method, request.path)
        return error(request, 500, _("Something went wrong on the server; the error was "
                                     "logged."))


# Saving a model through the API: its own rules first, then the database's.

def validate(instance):
    """The model's own rules: 400, or 409 when the only problem is a taken slug."""
    try:
        instance.full_clean(exclude=["team", "created_by", "updated_by"])
    except ModelValidationError as exc:
        errors = exc.message_dict
        sentences = [message if field == "__all__" else f"{field}: {message}"
                     for field, messages in errors.items() for message in messages]
        taken = all(error.code == "unique"
                    for field_errors in exc.error_dict.values() for error in field_errors)
        raise Refusal(409 if taken else 400, " ".join(sentences), errors=errors) from None


@contextmanager
def saving(instance):
    try:
        with transaction.atomic():
            yield
    except IntegrityError:  # a concurrent request took the slug between check and save
        raise Refusal(409, _("slug: “%(slug)s” is already taken.")
                      % {"slug": instance.slug}) from None
