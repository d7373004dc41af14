"""The JSON API's routes for calls: invoke, the history, and snippets (DESIGN.md, "API").
They register on services.api's `api`, which imports this module."""

import base64
from contextlib import contextmanager

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Query

from services import api_schemas as schemas
from services import calls, snippets, tokens
from services.api import ERRORS, APIError, _require_maintainer, _service_for, api
from services.history import CallFilter, error_text
from services.models import AuditEvent, Call, Service, Team


@api.post("/services/{slug:slug}/invoke", tags=["calls"],
          response={200: schemas.CallOut, 413: schemas.ErrorOut, **ERRORS})
def service_invoke(request, slug: str, payload: schemas.InvokeIn):
    """Send a request; 200 with the recorded call whatever the upstream answered."""
    request_to_send = _call_request(payload)
    try:
        # call() finds the service through the user's teams: 404 for anyone else's.
        call = calls.call(request.user, slug, request_to_send)
    except calls.CallRefused as exc:
        raise APIError(exc.status, exc.message, **exc.extra) from None
    return _call_response(call, call.team.slug)


def _call_request(payload):
    """The CallRequest an invoke body describes; a snippet's body describes one the same way."""
    if payload.body is not None and payload.body_base64 is not None:
        raise APIError(400, _("Give either body or body_base64, not both."))
    body = None
    if payload.body is not None:
        body = payload.body.encode()
    elif payload.body_base64 is not None:
        try:
            body = base64.b64decode(payload.body_base64, validate=True)
        except ValueError:
            raise APIError(400, _("body_base64: this is not valid base64.")) from None
    return calls.CallRequest(
        endpoint=payload.endpoint, method=payload.method, path=payload.path,
        headers=payload.headers, body=body,
    )


def _call_response(call, team_slug):
    # The dict is already the Call schema's shape: answering it as is skips validating it
    # again, on the call path where every fraction of a millisecond is added to the upstream's.
    return JsonResponse(schemas.call_out(call, team_slug))


# History

@api.get("/calls", response={200: schemas.CallPage, **ERRORS}, tags=["calls"])
def call_list(request, filters: Query[schemas.CallQuery]):
    """Your teams' calls, newest first, a page at a time (pass `next` as `cursor`)."""
    form = CallFilter(request.GET, user=request.user)
    if not form.is_valid():
        raise APIError(400, error_text(form))
    rows, next_cursor = form.page(fields=None)
    slugs = dict(Team.objects.filter(pk__in={row.team_id for row in rows})
                 .values_list("pk", "slug")) if rows else {}
    return JsonResponse({"items": [schemas.call_out(row, slugs[row.team_id]) for row in rows],
                         "next": None if next_cursor is None else str(next_cursor)})


@api.get("/calls/{int:id}", response={200: schemas.CallOut, **ERRORS}, tags=["calls"])
def call_get(request, id: int):
    call = Call.objects.for_user(request.user).select_related("team").filter(pk=id).first()
    if call is None:
        raise APIError(404, _("There is no call %(id)s.") % {"id": id})
    return _call_response(call, call.team.slug)


# Snippets: text/plain, for a call in history or for a request not sent. The real token goes
# only to maintainers, and every such export is recorded.

SNIPPET_OPENAPI = {"responses": {200: {
    "description": "The snippet, ready to run.",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}}}


def _snippet_choice(lang, token_mode):
    """400 naming the valid values for an unknown target or token mode."""
    if lang not in snippets.TARGETS:
        raise APIError(400, _("lang: “%(value)s” is not a snippet language; use one of: "
                              "%(choices)s.")
                       % {"value": lang[:40], "choices": ", ".join(snippets.TARGETS)})
    if token_mode not in snippets.TOKEN_MODES:
        raise APIError(400, _("token: “%(value)s” is not a token mode; use one of: "
                              "%(choices)s.")
                       % {"value": token_mode[:40], "choices": ", ".join(snippets.TOKEN_MODES)})


@contextmanager
def _snippet_refusals():
    try:
        yield
    except snippets.SnippetError as exc:
        raise APIError(exc.status, exc.message, **(getattr(exc, "extra", None) or {})) from None


def _snippet_response(user, snippet_request, lang, token_mode, service=None, call=None):
    """The snippet as text/plain; service: whose token a real-token export reads (checked)."""
    with _snippet_refusals():
        reason = snippets.unavailable_reason(snippet_request, lang)
        if reason:
            raise APIError(400, reason, unavailable=lang)
        if token_mode != "real":
            text = snippets.render(snippet_request, lang, token_mode)
        else:
            try:
                token = service.read_token()
            except tokens.TokenUnreadable as exc:
                raise APIError(409, str(exc)) from None
            # No record without the export, and no export without its record.
            with transaction.atomic():
                AuditEvent.objects.create(
                    user=user, username=user.get_username(),
                    action=AuditEvent.Action.TOKEN_EXPORT, team=service.team,
                    service_slug=service.slug,
                    detail={"target": lang, "call": call.pk if call else None})
                text = snippets.render(snippet_request, lang, token_mode, token=token)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def _exportable_service(user, call):
    """The call's service, for a real-token export: the user maintains its team(s)."""
    _require_maintainer(user, call.team, _("export snippets with the real token"))
    service = None
    if call.service_id is not None:
        service = (Service.objects.for_user(user).select_related("team")
                   .filter(pk=call.service_id).first())
    if service is None:
        raise APIError(409, _("The service “%(slug)s” no longer exists, so there is no token "
                              "to export: choose token=env or token=placeholder.")
                       % {"slug": call.service_slug})
    if service.team_id != call.team_id:  # moved to another team since the call
        _require_maintainer(user, service.team, _("export snippets with the real token"))
    return service


@api.get("/calls/{int:id}/snippet", response={200: None, **ERRORS}, tags=["snippets"],
         openapi_extra=SNIPPET_OPENAPI)
def call_snippet(request, id: int, query: Query[schemas.SnippetQuery]):
    """The call as a ready-to-run snippet; `token=real` is for maintainers, and recorded."""
    call = Call.objects.for_user(request.user).select_related("team").filter(pk=id).first()
    if call is None:
        raise APIError(404, _("There is no call %(id)s.") % {"id": id})
    _snippet_choice(query.lang, query.token)
    service = _exportable_service(request.user, call) if query.token == "real" else None
    with _snippet_refusals():
        snippet_request = snippets.from_call(call)
    return _snippet_response(request.user, snippet_request, query.lang, query.token,
                             service=service, call=call)


@api.post("/snippet", response={200: None, 413: schemas.ErrorOut, **ERRORS}, tags=["snippets"],
          openapi_extra=SNIPPET_OPENAPI)
def request_snippet(request, payload: schemas.SnippetIn):
    """The snippet for a request not sent: the invoke body plus service, lang and token."""
    service = _service_for(request, payload.service)
    _snippet_choice(payload.lang, payload.token)
    if payload.token == "real":
        _require_maintainer(request.user, service.team, _("export snippets with the real token"))
    call_request = _call_request(payload)
    with _snippet_refusals():
        snippet_request = snippets.from_request(service, call_request)
    return _snippet_response(request.user, snippet_request, payload.lang, payload.token,
                             service=service)
