"""Calls: invoke a service, and the history (docs/api.md, "Calls")."""

import base64
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from services import access, calls, streams
from services.api import call_schemas, schemas
from services.api.core import ERRORS
from services.errors import Refusal
from services.history import CallFilter, error_text
from services.models import Team

router = Router(tags=["calls"])
# A comment line of the event stream, sent while the upstream is silent: clients skip it, and
# writing it is how the server finds out that its client has gone (then it stops the call).
PING = b":\n\n"


def body_of(payload):
    """The bytes of a payload's body or body_base64 (at most one of them), or None."""
    if payload.body is not None and payload.body_base64 is not None:
        raise Refusal(400, _("Give either body or body_base64, not both."))
    if payload.body is not None:
        return payload.body.encode()
    if payload.body_base64 is not None:
        try:
            return base64.b64decode(payload.body_base64, validate=True)
        except ValueError:
            raise Refusal(400, _("body_base64: this is not valid base64.")) from None
    return None


def call_request(payload):
    """The CallRequest an invoke body describes; a snippet's body describes one the same way."""
    return calls.CallRequest(
        endpoint=payload.endpoint, method=payload.method, path=payload.path,
        headers=payload.headers, body=body_of(payload),
        stream=payload.stream,
    )


def call_response(call, team_slug):
    # The dict is already the Call schema's shape: answering it as is skips validating it
    # again, on the call path where every fraction of a millisecond is added to the upstream's.
    # UTF-8 as it is, not \uXXXX escapes: a body's text is not made up to six times larger.
    return JsonResponse(call_schemas.call_out(call, team_slug),
                        json_dumps_params={"ensure_ascii": False})


# The event stream's schema describes one event, as OpenAPI tools read it before 3.2's
# itemSchema: a stream is a sequence of events, not one string.
STREAM_EVENT = {
    "type": "object",
    "description": "One event: head once, data for each piece of the answer, call last "
                   "(docs/api.md, Streaming); its data is JSON.",
    "properties": {"event": {"type": "string", "enum": ["head", "data", "call"]},
                   "data": {"type": "string", "contentMediaType": "application/json"}},
    "required": ["event", "data"],
}
STREAM_OPENAPI = {"responses": {200: {
    "description": "The recorded call; with \"stream\": true, text/event-stream: the events "
                   "head, data (one per piece of the answer, as it arrives) and call.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CallOut"}},
                "text/event-stream": {"schema": STREAM_EVENT}},
}}}


@router.post("/services/{slug:slug}/invoke",
             response={200: call_schemas.CallOut, 413: schemas.ErrorOut, **ERRORS},
             openapi_extra=STREAM_OPENAPI)
def service_invoke(request, slug: str, payload: schemas.InvokeIn):
    """Send a request; 200 with the recorded call whatever the upstream answered, or with
    "stream": true the answer's events as it arrives."""
    # Both find the service through the user's teams: 404 for anyone else's.
    if payload.stream:
        return event_stream(streams.start(request.user, slug, call_request(payload)))
    call = calls.call(request.user, slug, call_request(payload))
    return call_response(call, call.team.slug)


class EventStream:
    """The streamed call as server-sent events (docs/api.md, "Streaming"): the content of the
    response, which the server closes when it is done with it, also when its client went away
    before it read anything; closing stops the call."""

    def __init__(self, streamed):
        self.streamed = streamed
        self._events = self._format()

    def __iter__(self):
        return self._events

    def _format(self):
        for kind, data in self.streamed.events():
            if kind == "ping":
                yield PING
                continue
            if kind == "call":
                data = call_schemas.call_out(data, self.streamed.service.team.slug)
            # UTF-8 as it is (an event stream is UTF-8), not \uXXXX escapes.
            data = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
            yield f"event: {kind}\ndata: {data}\n\n".encode()

    def close(self):
        self._events.close()
        self.streamed.close()


def event_stream(streamed):
    response = StreamingHttpResponse(EventStream(streamed), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    response["X-Call-Id"] = str(streamed.call.pk)
    return response


@router.get("/calls", response={200: call_schemas.CallPage, **ERRORS})
def call_list(request, filters: Query[call_schemas.CallQuery]):
    """Your teams' calls, newest first, a page at a time (pass `next` as `cursor`), with the
    history page's fields: a call's headers and bodies are GET /api/calls/{id}'s."""
    form = CallFilter(request.GET, user=request.user)
    if not form.is_valid():
        raise Refusal(400, error_text(form))
    rows, next_cursor = form.page()  # the list's columns only: no body is read
    slugs = dict(Team.objects.filter(pk__in={row.team_id for row in rows})
                 .values_list("pk", "slug")) if rows else {}
    return JsonResponse({"items": [call_schemas.call_item(row, slugs[row.team_id]) for row in rows],
                         "next": None if next_cursor is None else str(next_cursor)})


@router.get("/calls/{int:id}", response={200: call_schemas.CallOut, **ERRORS})
def call_get(request, id: int):
    call = access.call(request.user, id)
    return call_response(call, call.team.slug)
