"""The gateway: /gw/<slug>/<path> behaves like the service itself, for scripts, CI and SDKs that
hold a personal key instead of the EAS token (docs/api.md, "The gateway").

The request is checked as every call is (services/calls.py: who may call, the token, the path,
the headers, the 1 MB limit, the addresses), then forwarded with its own headers and body,
except Authorization, Cookie, Host and hop-by-hop headers, plus the service's token. The
answer is relayed with its status and headers (less hop-by-hop, and less what described the
body on the wire: the client decompresses it), a stream as it arrives, the token taken out.
The call is recorded when it ends, like a call of the portal's own API, with source
"gateway". What the portal itself refuses carries X-Easportal-Error: 1 and both
{"detail"} and {"error": {"message"}}, so that either kind of client shows it.
"""

import logging
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from services import access, calls, inflight, keys
from services.errors import DATABASE_ERRORS, Refusal, database_unreachable
from services.models import Call, Service, host_policy
from services.net import client, stream
from services.net.deadline import Deadline
from services.net.errors import CallError, Refused
from services.net.limits import GATEWAY_BODY_LIMIT
from services.streams import Answer

log = logging.getLogger(__name__)

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade"}
NOT_FORWARDED = HOP_BY_HOP | {"authorization", "cookie", "host", "content-length",
                              "x-easportal-endpoint"}
NOT_RELAYED = HOP_BY_HOP | {"content-length", "content-encoding"}
ENDPOINT_HEADER = "X-Easportal-Endpoint"


@csrf_exempt
@login_not_required
def gateway(request: Any, slug: str, rest: str = "") -> HttpResponse | StreamingHttpResponse:
    try:
        user = keys.authenticate(_key_of(request), slug)
        return _forward(request, user, slug)
    except Refusal as refusal:
        return portal_error(refusal)
    except DATABASE_ERRORS as exc:
        return portal_error(database_unreachable(request, exc))


def portal_error(refusal: Refusal) -> JsonResponse:
    message = str(refusal.message)
    response = JsonResponse({"detail": message, **refusal.extra,
                             "error": {"message": message, "type": "easportal"}},
                            status=refusal.status)
    response["X-Easportal-Error"] = "1"
    for name, value in refusal.headers.items():
        response[name] = value
    return response


def _key_of(request: Any) -> str:
    """The key in Authorization, as `Bearer <key>` (OpenAI SDKs) or alone (EAS clients)."""
    value = request.headers.get("Authorization", "").strip()
    if not value:
        raise Refusal(401, _("Send your personal key in the Authorization header, as "
                             "\"Bearer <key>\" or the key alone; make one at /account/keys/."))
    scheme, _space, credential = value.partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else value


def _path_of(request: Any, slug: str) -> str:
    """The path after /gw/<slug> and the query, as the client wrote them when the server says
    (gunicorn's RAW_URI), else as Django decoded and re-quoted them."""
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    full = raw if raw and raw.startswith("/") else request.get_full_path()
    return full[len(f"/gw/{slug}"):]


@sensitive_variables()
def _forward(request: Any, user: Any, slug: str) -> HttpResponse | StreamingHttpResponse:
    service = access.service_to_call(user, slug)
    token = calls.read_token(service)
    try:
        body = request.body
    except RequestDataTooBig:
        size = int(request.META.get("CONTENT_LENGTH") or 0)
        raise Refusal(413, _("The body is %(size)s bytes; the EAS gateway accepts at most "
                             "%(limit)s bytes (1 MB).") % {"size": size,
                                                           "limit": GATEWAY_BODY_LIMIT},
                      size=size, limit=GATEWAY_BODY_LIMIT) from None
    headers = {name: value for name, value in request.headers.items()
               if name.lower() not in NOT_FORWARDED}
    kind, path, outbound = calls.prepare(service, calls.CallRequest(
        endpoint=request.headers.get(ENDPOINT_HEADER) or None, method=request.method,
        path=_path_of(request, slug), headers=headers, body=body))
    outbound.headers = {**outbound.headers, "Authorization": token}
    slot = inflight.take(user, service.team_id)  # given back once the call is recorded
    started = time.perf_counter()
    try:
        target = client.resolve(outbound.url, host_policy(),
                                timeout=min(client.CONNECT_TIMEOUT_S, service.timeout_s))
        # The deadline counts from the start of the call, its name lookup included.
        deadline = Deadline(max(service.timeout_s - (time.perf_counter() - started), 0.001))
        opened = client.open_answer(outbound, target, deadline=deadline,
                                    deadline_s=service.timeout_s, started=started)
    except Refused as exc:
        slot.release()
        raise calls.refusal(exc) from None
    except CallError as exc:  # no answer at all: recorded, and told as the gateway would
        slot.release()
        calls.record(user, service, kind, path, outbound, token, exc, source="gateway")
        status = 504 if exc.kind == "timeout" else 502
        raise Refusal(status, calls.translated(exc)) from None
    relayed = Relayed(user, service, kind, path, outbound, token, opened, slot)
    if relayed.streams():
        return relayed.streaming_response()
    return relayed.whole_response()


class Relayed:
    """An answer on its way back, and its record."""

    @sensitive_variables()
    def __init__(self, user: Any, service: Service, kind: str, path: str,
                 outbound: client.OutboundRequest, token: str, opened: client.Opened,
                 slot: inflight.Slot) -> None:
        self.slot = slot
        self.call_values = calls.request_values(user, service, kind, path, outbound, token,
                                                source="gateway")
        self.token = token
        self.opened = opened
        self.answer = Answer(token)
        self.answer.head = stream.head_of(opened)
        self.pieces = stream.pieces(opened, outbound.method,
                                    settings.EASPORTAL_MAX_RESPONSE_BYTES)
        self.recorded: Call | None = None

    def streams(self) -> bool:
        """Relayed as it arrives: an event stream, or an answer of unknown length."""
        head = self.answer.head
        assert head is not None
        if self.call_values["method"] == "HEAD":
            return False
        return "event-stream" in calls.content_type(head.headers) or head.declared_size is None

    def _response(self, response: HttpResponse | StreamingHttpResponse) -> Any:
        assert self.answer.head is not None
        response.status_code = self.answer.head.status
        if self.answer.head.reason:
            response.reason_phrase = self.answer.head.reason
        del response["Content-Type"]  # only the upstream's, if it sent one
        for name, value in self.answer.headers().items():
            if name.lower() not in NOT_RELAYED:
                response[name] = value
        if self.answer.end is not None and self.answer.end.truncated:
            response["X-Easportal-Truncated"] = "1"
        return response

    def whole_response(self) -> HttpResponse:
        parts = []
        for event in self.pieces:
            if isinstance(event, stream.Piece):
                parts.append(self.answer.relay(event))
            else:
                self.answer.end = event
        parts.append(self.answer.flush())
        self.record(streamed=False)
        return self._response(HttpResponse(b"".join(parts)))

    def streaming_response(self) -> StreamingHttpResponse:
        return self._response(StreamingHttpResponse(_Pieces(self)))

    @sensitive_variables()
    def record(self, streamed: bool, stopped: bool = False) -> None:
        self.slot.release()
        if self.recorded is not None:
            return
        figures = self.answer.figures()
        if not streamed:  # its pieces were not handed on as they came: no times to tell
            figures.ttft_ms = figures.tpot_ms = None
        result = self.answer.result(self.opened.started)
        self.recorded = calls.insert_call(
            **self.call_values, **calls.response_values(result, self.token, figures),
            streamed=streamed, stopped=stopped)


class _Pieces:
    """The streaming response's content: the pieces as they arrive; closing it (the server
    does, when it is done or its client has gone) stops the upstream and records the call."""

    def __init__(self, relayed: Relayed) -> None:
        self.relayed = relayed
        self.ended = False
        self._iterator = self._relay()

    def __iter__(self) -> Any:
        return self._iterator

    def _relay(self) -> Any:
        relayed = self.relayed
        for event in relayed.pieces:
            if isinstance(event, stream.Piece):
                data = relayed.answer.relay(event)
                if data:
                    yield data
            else:
                relayed.answer.end = event
        tail = relayed.answer.flush()
        if tail:
            yield tail
        self.ended = True
        relayed.record(streamed=True)

    def close(self) -> None:
        if not self.ended:
            self.relayed.opened.deadline.cancel()
        self._iterator.close()
        self.relayed.pieces.close()
        self.relayed.record(streamed=True, stopped=not self.ended)
