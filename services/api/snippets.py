"""Snippets as text/plain, for a call in history or for a request not sent (docs/api.md,
"Snippets"). The real token goes only to maintainers, and every such export is recorded. A
snippet in key mode calls this portal's gateway, at the address the request came to; it
reveals no secret, so any member may have one.

The real token is exported by POST only: a POST from the session needs the X-CSRFToken header,
which another site cannot make a maintainer's browser send, whereas it can make it send a GET
(an image, a link). So a GET answers the harmless modes and refuses `token=real`."""

from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables
from ninja import Field, Query, Router, Schema

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


@sensitive_variables()
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


def _refuse_real_by_get(request, token_mode):
    if token_mode == "real":
        raise Refusal(400, _("The real token is exported only by POST, so that no link or image "
                             "of another site can export it in your name: POST %(path)s with "
                             "{\"lang\": ..., \"token\": \"real\"} (with the session, in the "
                             "X-CSRFToken header the csrftoken cookie's value).")
                      % {"path": request.path})


class SnippetChoice(schemas.Input):
    """A POST's body: lang and token, each taken from the query when the body leaves it out."""

    lang: schemas.Text | None = Field(None, description="One of: " + ", ".join(snippets.NAMES))
    token: schemas.Text | None = Field(None, description=schemas.SNIPPET_TOKEN_MODES)


class SnippetChoiceQuery(Schema):
    lang: str | None = None
    token: str | None = None


def _choice(payload, query):
    """(lang, token mode) of a POST: the body's, else the query's, else curl and env."""
    return (payload.lang or query.lang or "curl", payload.token or query.token or "env")


@router.get("/calls/{int:id}/snippet", response={200: None, **ERRORS},
            openapi_extra=SNIPPET_OPENAPI)
def call_snippet(request, id: int, query: Query[schemas.SnippetQuery]):
    """The call as a ready-to-run snippet; `token=key` calls the portal's gateway with a
    personal key. `token=real` is refused (400): it is exported by POST only."""
    call = access.call(request.user, id)
    _check_choice(query.lang, query.token)
    _refuse_real_by_get(request, query.token)
    return _snippet_response(request, snippets.from_call(call), query.lang, query.token)


@router.post("/calls/{int:id}/snippet", response={200: None, **ERRORS},
             openapi_extra=SNIPPET_OPENAPI)
def call_snippet_post(request, id: int, payload: SnippetChoice,
                      query: Query[SnippetChoiceQuery]):
    """As the GET, in any mode: `token=real` is for maintainers, and recorded."""
    call = access.call(request.user, id)
    lang, token_mode = _choice(payload, query)
    _check_choice(lang, token_mode)
    service = _exportable_service(request.user, call) if token_mode == "real" else None
    return _snippet_response(request, snippets.from_call(call), lang, token_mode,
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
    """The saved request as a snippet: a header it keeps redacted is a named placeholder.
    `token=real` is refused (400): it is exported by POST only."""
    kept = access.saved_request(request.user, id)
    _check_choice(query.lang, query.token)
    _refuse_real_by_get(request, query.token)
    snippet_request = snippets.from_saved(kept.service, saved.call_request(kept))
    return _snippet_response(request, snippet_request, query.lang, query.token)


@router.post("/requests/{int:id}/snippet", response={200: None, **ERRORS},
             openapi_extra=SNIPPET_OPENAPI)
def saved_snippet_post(request, id: int, payload: SnippetChoice,
                       query: Query[SnippetChoiceQuery]):
    """As the GET, in any mode: `token=real` is for maintainers, and recorded."""
    kept = access.saved_request(request.user, id)
    lang, token_mode = _choice(payload, query)
    _check_choice(lang, token_mode)
    service = kept.service
    if token_mode == "real":
        access.require_maintainer(request.user, service.team, REAL_TOKEN)
    snippet_request = snippets.from_saved(service, saved.call_request(kept))
    return _snippet_response(request, snippet_request, lang, token_mode, service=service)
