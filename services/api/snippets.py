"""Snippets as text/plain, for a call in history or for a request not sent (docs/api.md,
"Snippets"). The real token goes only to maintainers, and every such export is recorded. A
snippet in key mode calls this portal's gateway, at the address the request came to; it
reveals no secret, so any member may have one."""

from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Query, Router

from services import access, audit, calls, saved, snippets
from services.api import schemas
from services.api.calls import call_request
from services.api.core import ERRORS
from services.errors import Refusal
from services.models import AuditEvent

router = Router(tags=["snippets"])

SNIPPET_OPENAPI = {"responses": {200: {
    "description": "The snippet, ready to run.",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}}}
REAL_TOKEN = gettext_lazy("export snippets with the real token")


def _snippet_response(request, snippet_request, lang, token_mode, service=None, call=None):
    """The snippet as text/plain; service: whose token a real-token export reads (checked)."""
    user = request.user
    if token_mode == "key":  # 400 for a request the gateway cannot send
        snippet_request = snippets.via_gateway(snippet_request, request.build_absolute_uri("/"))
    reason = snippets.unavailable_reason(snippet_request, lang)
    if reason:
        raise Refusal(400, reason, unavailable=lang)
    if token_mode != "real":
        text = snippets.render(snippet_request, lang, token_mode)
    else:
        token = calls.read_token(service)
        # No record without the export, and no export without its record.
        with transaction.atomic():
            audit.record(user, AuditEvent.Action.TOKEN_REVEALED, team=service.team,
                         target=service.slug, service_slug=service.slug,
                         detail={"target": lang, "call": call.pk if call else None})
            text = snippets.render(snippet_request, lang, token_mode, token=token)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def _exportable_service(user, call):
    """The call's service, for a real-token export: the user maintains its team(s)."""
    access.require_maintainer(user, call.team, REAL_TOKEN)
    service = access.service_of(user, call)
    if service is None:
        raise Refusal(409, _("The service “%(slug)s” no longer exists, so there is no token "
                             "to export: choose token=env or token=placeholder.")
                      % {"slug": call.service_slug})
    if service.team_id != call.team_id:  # moved to another team since the call
        access.require_maintainer(user, service.team, REAL_TOKEN)
    return service


def _check_choice(lang, token_mode):
    snippets.target(lang)
    snippets.check_token_mode(token_mode)


@router.get("/calls/{int:id}/snippet", response={200: None, **ERRORS},
            openapi_extra=SNIPPET_OPENAPI)
def call_snippet(request, id: int, query: Query[schemas.SnippetQuery]):
    """The call as a ready-to-run snippet; `token=real` is for maintainers, and recorded;
    `token=key` calls the portal's gateway with a personal key."""
    call = access.call(request.user, id)
    _check_choice(query.lang, query.token)
    service = _exportable_service(request.user, call) if query.token == "real" else None
    return _snippet_response(request, snippets.from_call(call), query.lang, query.token,
                             service=service, call=call)


@router.post("/snippet", response={200: None, 413: schemas.ErrorOut, **ERRORS},
             openapi_extra=SNIPPET_OPENAPI)
def request_snippet(request, payload: schemas.SnippetIn):
    """The snippet for a request not sent: the invoke body plus service, lang and token."""
    service = access.service(request.user, payload.service)
    _check_choice(payload.lang, payload.token)
    if payload.token == "real":
        access.require_maintainer(request.user, service.team, REAL_TOKEN)
    snippet_request = snippets.from_request(service, call_request(payload))
    return _snippet_response(request, snippet_request, payload.lang, payload.token,
                             service=service)



@router.get("/requests/{int:id}/snippet", response={200: None, **ERRORS},
            openapi_extra=SNIPPET_OPENAPI)
def saved_snippet(request, id: int, query: Query[schemas.SnippetQuery]):
    """The saved request as a snippet: a header it keeps redacted is a named placeholder."""
    kept = access.saved_request(request.user, id)
    _check_choice(query.lang, query.token)
    service = kept.service
    if query.token == "real":
        access.require_maintainer(request.user, service.team, REAL_TOKEN)
    snippet_request = snippets.from_saved(service, saved.call_request(kept))
    return _snippet_response(request, snippet_request, query.lang, query.token, service=service)
