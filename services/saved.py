"""Saved requests (docs/api.md, "Saved requests"): checked as a call of the service would be
(services/calls.py: the endpoint, the path, the headers, the 1 MB limit), and kept redacted by
the history's rules: never the service's token, never an Authorization header, and the value
of a secret-looking header as "[redacted]", for its user to fill in before sending."""

from typing import Any

from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from services import calls, tokens
from services.errors import Refusal
from services.models import Call, SavedRequest, Service


@sensitive_variables()
def fill(saved: SavedRequest, service: Service, request: calls.CallRequest) -> None:
    """Sets the saved request's endpoint, method, path, headers and body from request, with
    the service's defaults for what it leaves out; raises Refusal as a call would."""
    kind, path, outbound = calls.prepare(service, request)
    try:
        token = service.read_token()
    except tokens.TokenUnreadable:
        token = ""  # nothing can have been sent with it: there is nothing to take out
    saved.endpoint, saved.method = kind, outbound.method
    saved.path = calls.redact_text(path, token) if token else path
    saved.headers = calls.redact_headers(outbound.headers, token or "\x00")
    saved.body = calls.redact_bytes(outbound.body, token) if token else outbound.body


def call_request(saved: SavedRequest) -> calls.CallRequest:
    """The request the saved one describes, as the builder and the API send it."""
    return calls.CallRequest(endpoint=saved.endpoint, method=saved.method, path=saved.path,
                             headers=saved.headers, body=bytes(saved.body))


def request_of_call(call: Call) -> calls.CallRequest:
    """The request a call in history sent, as history kept it: without Authorization (the
    portal adds the token), a redacted value still "[redacted]"."""
    headers = {name: value for name, value in call.request_headers.items()
               if name.lower() != "authorization"}
    return calls.CallRequest(endpoint=call.endpoint, method=call.method, path=call.path,
                             headers=headers, body=bytes(call.request_body))


def redacted_headers(saved: SavedRequest) -> list[str]:
    """The headers whose values must be filled in before the request can be sent."""
    return [name for name, value in saved.header_pairs if value == calls.REDACTED]


def sendable(saved: SavedRequest) -> calls.CallRequest:
    """call_request(saved), or a Refusal (400) when it holds a redacted value."""
    names = redacted_headers(saved)
    if names:
        raise Refusal(400, _("The saved request holds no value for the header %(names)s "
                             "(it is kept redacted): open it in the builder, fill it in, "
                             "then send.") % {"names": ", ".join(names)})
    if calls.REDACTED in saved.path or calls.REDACTED.encode() in bytes(saved.body):
        raise Refusal(400, _("The saved request has “%(redacted)s” where the service's token "
                             "was: open it in the builder and put back what belongs there.")
                      % {"redacted": calls.REDACTED})
    return call_request(saved)


def describe(saved: SavedRequest, **changes: Any) -> None:
    """Name and description, checked."""
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name:
            raise Refusal(400, _("name: give the request a name, such as what it asks."))
        saved.name = name[:100]
    if "description" in changes:
        saved.description = changes["description"] or ""
