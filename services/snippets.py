"""Snippets: a request made into code that sends the same request, for each target.

One normalized request, a SnippetRequest, is made from a request not sent yet (from_request,
through calls.prepare(), as a call would be) or from a call in history (from_call); every
target is rendered from it by a template under templates/services/snippets/, with the values
quoted by services/snippet_quoting.py. A snippet sends exactly the request's method, URL,
headers and body bytes, plus Authorization according to the token mode; clients may add a
User-Agent or Accept of their own. Who may see which snippet, and the audit record of an export
with the real token, are the views' business: this module is given the token, never reads it.
"""

from dataclasses import dataclass

from django.template import Context, engines
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from services import calls, endpoints
from services import snippet_targets as targets
from services.snippet_targets import TOKEN_ENV, TOKEN_PLACEHOLDER

__all__ = ["FILENAMES", "TARGETS", "TARGET_LABELS", "TOKEN_ENV", "TOKEN_MODES",
           "TOKEN_PLACEHOLDER", "SnippetError", "SnippetRequest", "from_call", "from_request",
           "render", "unavailable_reason"]

TARGETS = ("curl", "python", "httpie", "fetch", "openai", "eas_sdk")
TARGET_LABELS = {
    "curl": "curl",
    "python": gettext_lazy("Python (requests)"),
    "httpie": "HTTPie",
    "fetch": gettext_lazy("fetch (JavaScript)"),
    "openai": gettext_lazy("OpenAI SDK (Python)"),
    "eas_sdk": gettext_lazy("eas-prediction SDK"),
}
TOKEN_MODES = ("env", "placeholder", "real")
FILENAMES = {"curl": "request.sh", "python": "request.py", "httpie": "request.sh",
             "fetch": "request.mjs", "openai": "request.py", "eas_sdk": "request.py"}

_TARGETS = {
    "curl": (targets.curl_reason, targets.curl_context),
    "python": (targets.python_reason, targets.python_context),
    "httpie": (targets.httpie_reason, targets.httpie_context),
    "fetch": (targets.fetch_reason, targets.fetch_context),
    "openai": (targets.openai_reason, targets.openai_context),
    "eas_sdk": (targets.eas_sdk_reason, targets.eas_sdk_context),
}
# Comments, read by whoever runs the snippet: English, like the code around them.
_TOKEN_NOTES = {
    "env": f"Reads the token from the environment variable {TOKEN_ENV}.",
    "placeholder": f"Replace {TOKEN_PLACEHOLDER} with the service's token.",
    "real": "WARNING: this snippet contains the service's real token. Do not share it, paste "
            "it into chats or tickets, or commit it.",
}
DEFAULT_TIMEOUT_S = 60


@dataclass
class SnippetRequest:
    """The one normalized request every target is made from."""

    method: str
    url: str  # as the portal sends it: endpoints.join_url writes it the way requests does
    headers: list[tuple[str, str]]  # in order, without Authorization
    body: bytes
    endpoint: str  # "public" or "vpc"
    service_kind: str  # a Service.Kind value; "" once the service is deleted
    base: str  # the service endpoint the URL was joined to
    path: str  # the interface path as given
    timeout_s: int
    # Headers whose value history replaced by [redacted]: shown as named placeholders.
    redacted_headers: tuple[str, ...] = ()
    # History replaced the token inside the URL, a header or the body: the snippet keeps
    # [redacted] there and says so.
    token_in_url_or_body: bool = False


class SnippetError(calls.CallRefused):
    """status: 400, 403, 404, 409 (or 413 from calls.prepare); message: one readable sentence."""


def from_request(service, call_request):
    """The request a call of this service would send (calls.prepare()), without sending it."""
    try:
        kind, path, outbound = calls.prepare(service, call_request)
    except calls.CallRefused as exc:
        raise SnippetError(exc.status, exc.message, **exc.extra) from None
    return SnippetRequest(
        method=outbound.method, url=outbound.url,
        headers=list(outbound.headers.items()), body=bytes(outbound.body), endpoint=kind,
        service_kind=service.kind, base=service.endpoint_url(kind), path=path,
        timeout_s=service.timeout_s,
    )


def from_call(call):
    """The request a call in history sent, as far as history kept it: Authorization is
    dropped (the token mode puts it back), other redacted headers become placeholders."""
    headers = [(name, value) for name, value in call.request_headers.items()
               if name.lower() != "authorization"]
    body = bytes(call.request_body)
    service = call.service
    return SnippetRequest(
        method=call.method, url=call.url, headers=headers, body=body,
        endpoint=call.endpoint, service_kind=service.kind if service else "",
        base=_base_of(call, service), path=call.path,
        timeout_s=service.timeout_s if service else DEFAULT_TIMEOUT_S,
        redacted_headers=tuple(name for name, value in headers if value == calls.REDACTED),
        token_in_url_or_body=(calls.REDACTED in call.url
                              or calls.REDACTED.encode() in body
                              or any(calls.REDACTED in value and value != calls.REDACTED
                                     for _name, value in headers)),
    )


def _base_of(call, service):
    # The URL was joined from base and path: take the path off again, which still holds after
    # the service's endpoint was changed or the service deleted.
    try:
        suffix = endpoints.join_url("", call.path) if call.path else ""
    except endpoints.PathError:
        suffix = None
    if suffix is not None and call.url.endswith(suffix):
        return call.url[: len(call.url) - len(suffix)]
    return service.endpoint_url(call.endpoint) if service else ""


def _check_target(target):
    if target not in _TARGETS:
        raise SnippetError(400, _("“%(value)s” is not a snippet language; use one of: "
                                  "%(choices)s.")
                           % {"value": str(target)[:40], "choices": ", ".join(TARGETS)})


def unavailable_reason(request, target):
    """None when the target can express the request; else a translated sentence why not."""
    _check_target(target)
    return _TARGETS[target][0](request)


def render(request, target, token_mode, token=None):
    """The snippet's text; token is the plaintext, needed (only) for token_mode "real"."""
    _check_target(target)
    if token_mode not in TOKEN_MODES:
        raise SnippetError(400, _("“%(value)s” is not a token mode; use one of: %(choices)s.")
                           % {"value": str(token_mode)[:40], "choices": ", ".join(TOKEN_MODES)})
    if token_mode == "real" and not token:
        raise SnippetError(400, _("A snippet with the real token needs the token."))
    reason_for, context_for = _TARGETS[target]
    reason = reason_for(request)
    if reason:
        raise SnippetError(400, reason)
    try:
        context = context_for(request, targets.Token(token_mode, token or ""))
    except targets.Inexpressible as exc:
        raise SnippetError(400, str(exc)) from None
    context["notes"] = _notes(request, token_mode) + context.get("notes", [])
    template = engines["django"].engine.get_template(f"services/snippets/{target}.txt")
    # Autoescape off: the values are quoted for their language, and HTML escaping would
    # change them; the page escapes the whole text when it shows it.
    # Template.render marks its output safe for HTML; a snippet is plain text, to be escaped
    # wherever a page shows it.
    return str.__str__(template.render(Context(context, autoescape=False)))


def _notes(request, token_mode):
    notes = [_TOKEN_NOTES[token_mode]]
    for name in request.redacted_headers:
        notes.append(f"History redacted the header {name}: replace "
                     f"{targets.placeholder(name)} with its value.")
    if request.token_in_url_or_body:
        notes.append(f"History replaced the service's token with {calls.REDACTED} in the "
                     "request: put the token back there before running this.")
    return notes
