"""The one call function, used by the builder page and the API alike:
check permission, decrypt the token, validate, send, record, return the Call."""

from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from django.conf import settings
from django.utils.translation import gettext as _

from services import client, endpoints, tokens
from services.compiled import CompiledInsert
from services.models import Call, Service, host_policy

REDACTED = "[redacted]"
SECRET_HEADER_WORDS = ("token", "key", "secret", "auth")
DEFAULT_HEADERS = {"Content-Type": "application/json"}
MAX_PATH_CHARS = 2000
_INSERT_CALL = CompiledInsert(Call)


@dataclass
class CallRequest:
    """What the user asked for; None takes the service's default."""

    endpoint: str | None = None
    method: str | None = None
    path: str | None = None
    headers: dict | None = None
    body: bytes | None = None


class CallRefused(Exception):
    """Nothing was sent and nothing recorded. status: 400, 403, 404, 409 or 413."""

    def __init__(self, status, message, **extra):
        self.status = status
        self.message = message
        self.extra = extra
        super().__init__(message)


def _translated(error):
    return _(error.message) % error.params


def read_token(service):
    try:
        return service.read_token()
    except tokens.TokenUnreadable as exc:
        raise CallRefused(409, str(exc)) from None


def prepare(service, request):
    """(endpoint kind, path as given, outbound request) for a call, without the token, which
    the caller adds; raises CallRefused. Snippets are made from the same request."""
    kind = request.endpoint or service.default_endpoint
    if kind not in Service.EndpointKind.values:
        raise CallRefused(400, _("The endpoint must be “public” or “vpc”."))
    base = service.endpoint_url(kind)
    if not base:
        raise CallRefused(400, _("This service has no %(kind)s endpoint.") % {
            "kind": Service.EndpointKind(kind).label})
    path = service.default_path if request.path is None else request.path
    if len(path) > MAX_PATH_CHARS:
        raise CallRefused(400, _("The interface path is longer than %(limit)s characters.")
                          % {"limit": MAX_PATH_CHARS})
    try:
        url = endpoints.join_url(base, path)
    except endpoints.PathError as exc:
        raise CallRefused(400, _translated(exc)) from None
    headers = dict(DEFAULT_HEADERS if request.headers is None else request.headers)
    for name in headers:
        if name.lower() == "authorization":
            raise CallRefused(400, _("Leave out the Authorization header: the portal sends the "
                                     "service's stored token in it."))
    body = service.default_body.encode() if request.body is None else request.body
    outbound = client.OutboundRequest(
        method=(request.method or service.default_method).upper(), url=url,
        headers=headers, body=body,
    )
    try:
        client.check_request(outbound)
    except client.Refused as exc:
        raise CallRefused(exc.status, _translated(exc), **_size_of(exc)) from None
    return kind, path, outbound


def call(user, service, request):
    """Send a request to a service as a user and record it; returns the Call.

    service: its slug (the lookup through the user's teams is the permission check), or a
    Service, which is checked the same way.
    """
    slug = service if isinstance(service, str) else service.slug
    service = Service.objects.get_for_user(user, slug)
    if service is None:
        raise CallRefused(404, _("There is no service “%(slug)s”.") % {"slug": slug})
    token = read_token(service)
    kind, path, outbound = prepare(service, request)
    outbound.headers = {**outbound.headers, "Authorization": token}
    try:
        response = client.send(
            outbound, policy=host_policy(), deadline_s=service.timeout_s,
            max_response_bytes=settings.EASPORTAL_MAX_RESPONSE_BYTES,
        )
    except client.Refused as exc:
        raise CallRefused(exc.status, _translated(exc), **_size_of(exc)) from None
    except client.CallError as exc:
        response = exc
    return record(user, service, kind, path, outbound, token, response)


def _size_of(refusal):
    params = refusal.params
    return {"size": params["size"], "limit": params["limit"]} if refusal.status == 413 else {}


def record(user, service, kind, path, outbound, token, response):
    failed = isinstance(response, client.CallError)
    error = _translated(response) if failed else response.error
    status = None if failed else response.status
    return _INSERT_CALL.create(
        team=service.team, service=service, service_slug=service.slug,
        service_name=service.name, user=user, username=user.get_username(), endpoint=kind,
        method=outbound.method, path=redact_text(path, token),
        url=redact_text(outbound.url, token),
        request_headers=redact_headers(outbound.headers, token),
        request_body=redact_bytes(outbound.body, token),
        status=status, status_class=Call.status_class_of(status, error),
        elapsed_ms=round(response.elapsed_ms, 3),
        response_headers={} if failed else {
            name: redact_text(value, token) for name, value in response.headers.items()},
        response_body=b"" if failed else redact_bytes(response.body, token),
        response_size=0 if failed else response.size,
        response_declared_size=None if failed else response.declared_size,
        response_truncated=False if failed else response.truncated,
        error=error,
        error_kind=response.kind if failed else response.error_kind,
    )


def _token_forms(token):
    # As typed, and as it reads once percent-encoded in a query string.
    return sorted({token, quote(token, safe=""), quote_plus(token)}, key=len, reverse=True)


def redact_text(text, token):
    for form in _token_forms(token):
        text = text.replace(form, REDACTED)
    return text


def redact_bytes(data, token):
    for form in _token_forms(token):
        data = data.replace(form.encode(), REDACTED.encode())
    return data


def redact_headers(headers, token):
    return {
        name: REDACTED if any(word in name.lower() for word in SECRET_HEADER_WORDS)
        else redact_text(value, token)
        for name, value in headers.items()
    }
