"""Streamed calls: the upstream's answer handed to the caller piece by piece as it arrives, and
recorded as a Call like every other (docs/api.md, "Streaming").

The checks are those of services/calls.py, in the same order, before anything is sent: who may
call the service, the token, the request, the addresses (a refusal raises Refusal, and nothing
is recorded). Then the Call is written at once, so that its id can be given before the answer,
and completed when the stream ends: with what arrived, its figures (services/metrics.py), and
`stopped` when the caller went away first. While the upstream is silent, the caller gets a
"ping" every TICK_S: writing it is how a server finds out that its client has gone.
"""

import base64
import logging
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from services import access, calls, inflight, metrics
from services.models import Call, Service, host_policy
from services.net import client, stream
from services.net.errors import CallError, Refused, gettext_noop

log = logging.getLogger(__name__)

TICK_S = 0.25
# How long the request thread gives the reader to put the request on the wire (it takes well under
# a millisecond on a kept connection); the Call is written then, whatever happened.
SEND_WAIT_S = 0.05
# Events for the caller: ("head", {"status", "headers"}), ("data", {"text"} or {"base64"}),
# ("ping", None) and, last, ("call", Call).
Event = tuple[str, Any]


@sensitive_variables()
def start(user: Any, slug: str, request: calls.CallRequest) -> "StreamedCall":
    """Checks the call, sends it and records it, ready to stream; raises Refusal as
    calls.call() does. The caller iterates events(), or closes the StreamedCall."""
    service = access.service_to_call(user, slug)
    token = calls.read_token(service)
    kind, path, outbound = calls.prepare(service, request)
    outbound.headers = {**outbound.headers, "Authorization": token}
    started = time.perf_counter()
    failure, relay = None, None
    try:
        target = client.resolve(outbound.url, host_policy(),
                                timeout=min(client.CONNECT_TIMEOUT_S, service.timeout_s))
    except Refused as exc:
        raise calls.refusal(exc) from None
    except CallError as exc:  # DNS: recorded, as every connection failure is
        failure = exc
    values = {**calls.request_values(user, service, kind, path, outbound, token),
              "status": None, "status_class": Call.StatusClass.FAILED, "elapsed_ms": 0.0,
              "streamed": True, "error": _("The call was still in progress.")}
    # Held until the stream ends (StreamedCall._finish), as long as the call is in flight.
    slot = inflight.take(user, service.team_id)
    if failure is None:
        # The request goes out now, and the Call is written while the upstream works on it:
        # the first token does not wait for the database. Until the request is on the wire,
        # this thread waits rather than compete with the reader for the interpreter.
        relay = stream.Relay(outbound, target, deadline_s=service.timeout_s,
                             max_response_bytes=settings.EASPORTAL_MAX_RESPONSE_BYTES,
                             started=started, tick_s=TICK_S)
        relay.wait_sent(SEND_WAIT_S)
    try:
        call = calls.insert_call(**values)
    except BaseException:
        if relay is not None:
            relay.stop()
        slot.release()
        raise
    return StreamedCall(call, service, token, relay, failure, started, slot)


class StreamedCall:
    @sensitive_variables()
    def __init__(self, call: Call, service: Service, token: str, relay: stream.Relay | None,
                 failure: CallError | None, started: float,
                 slot: inflight.Slot | None = None) -> None:
        self.slot = slot
        self.call = call
        self.service = service
        self.token = token
        self.relay = relay
        self.failure = failure
        self.started = started
        self.finished = False
        self._answer = Answer(token)

    def events(self) -> Iterator[Event]:
        """The caller's events; closing the generator stops the call (recorded as stopped)."""
        if self.failure is not None or self.relay is None:  # nothing could be sent
            assert self.failure is not None
            yield "call", self._finish(self.failure, metrics.Figures())
            return
        upstream, answer, text = self.relay.events(), self._answer, TextPieces()
        try:
            for event in upstream:
                if isinstance(event, stream.Idle):
                    yield "ping", None
                elif isinstance(event, stream.Head):
                    answer.head = event
                    yield "head", {"status": event.status, "headers": answer.headers()}
                elif isinstance(event, stream.Piece):
                    data = text.encode(answer.relay(event))
                    if data:
                        yield "data", data
                else:
                    answer.end = event
            data = text.encode(answer.flush(), final=True)
            if data:
                yield "data", data
        except GeneratorExit:  # the caller went away: the upstream first, then the record
            self.close()
            raise
        except Exception:  # a bug of ours: the call is still recorded, and the caller told
            log.exception("Streamed call %s failed", self.call.pk)
            result = answer.result(self.started)
            if isinstance(result, client.Response):
                result.error = _("The portal failed while relaying the answer; the error was "
                                 "logged.")
                result.error_kind = "broken"
            yield "call", self._finish(result, answer.figures())
            return
        finally:
            upstream.close()
        yield "call", self._finish(answer.result(self.started), answer.figures())

    def close(self) -> None:
        """Stops the call, if it has not ended, and records it as stopped with what arrived:
        for a caller that went away, also before it read anything."""
        if self.finished:
            return
        if self.relay is not None:
            self.relay.stop()
        self._finish(self._answer.result(self.started), self._answer.figures(), stopped=True)

    @sensitive_variables()
    def _finish(self, result: client.Response | CallError, figures: metrics.Figures,
                stopped: bool = False) -> Call:
        self.finished = True
        if self.slot is not None:
            self.slot.release()
        values = calls.response_values(result, self.token, figures)
        values["stopped"] = stopped
        for name, value in values.items():
            setattr(self.call, name, value)
        # Through the instance, so that values are prepared exactly as for the INSERT.
        self.call.save(update_fields=["response_header_pairs" if name == "response_headers"
                                      else name for name in values])
        return self.call


class Answer:
    """An answer relayed piece by piece: what the caller is handed (the token taken out) and
    what the Call keeps, built as the pieces arrive. The gateway relays with it too."""

    @sensitive_variables()
    def __init__(self, token: str) -> None:
        self.head: stream.Head | None = None
        self.end: stream.End | None = None
        self.body = bytearray()
        self.metrics = metrics.StreamMetrics()
        self.redactor = Redactor(token)

    def headers(self) -> dict[str, str]:
        assert self.head is not None
        return {name: calls.redact_text(value, self.redactor.token)
                for name, value in self.head.headers.items()}

    def relay(self, piece: stream.Piece) -> bytes:
        """What of the piece to hand on now."""
        self.body += piece.data
        self.metrics.feed(piece.data, piece.at_ms)
        return self.redactor.feed(piece.data)

    def flush(self) -> bytes:
        """What was held back, at the end."""
        return self.redactor.flush()

    def figures(self) -> metrics.Figures:
        if self.head is None:
            return self.metrics.figures()
        return calls.answer_figures(self.metrics, bytes(self.body),
                                    calls.content_type(self.head.headers))

    def result(self, started: float) -> client.Response | CallError:
        end = self.end
        if end is not None and end.failure is not None:
            return end.failure
        elapsed_ms = end.elapsed_ms if end else (time.perf_counter() - started) * 1000
        if self.head is None:
            return CallError("stopped", gettext_noop("The call was stopped before the service "
                                                     "answered."), elapsed_ms)
        return client.Response(
            status=self.head.status, reason=self.head.reason, headers=self.head.headers,
            body=bytes(self.body), size=end.size if end else len(self.body),
            declared_size=self.head.declared_size, truncated=bool(end and end.truncated),
            elapsed_ms=elapsed_ms, error=end.error if end else "",
            error_kind=end.error_kind if end else "")


class Redactor:
    """The token taken out of a stream as it passes, in every writing calls.redact_bytes finds:
    a piece that ends with what may start one (a start of the token, a "%", a backslash) keeps
    that back until the next piece shows whether the token follows. An answer of events ends
    each piece with a line end, so in practice nothing is held."""

    @sensitive_variables()
    def __init__(self, token: str) -> None:
        self.token = token
        self._pattern = calls.token_pattern(token)
        self._held = b""

    def feed(self, data: bytes) -> bytes:
        data = calls.redact_bytes(self._held + data, self.token)
        hold = self._pattern.held(data)
        self._held = data[len(data) - hold:] if hold else b""
        return data[:len(data) - hold] if hold else data

    def flush(self) -> bytes:
        held, self._held = self._held, b""
        return held


class TextPieces:
    """A piece as {"text": ...} when it is UTF-8, else {"base64": ...}; a character split
    between two pieces goes whole with the second."""

    def __init__(self) -> None:
        self._pending = b""

    def encode(self, data: bytes, final: bool = False) -> dict[str, str] | None:
        data = self._pending + data
        tail = 0 if final else _incomplete_tail(data)
        self._pending = data[len(data) - tail:] if tail else b""
        data = data[:len(data) - tail] if tail else data
        if not data:
            return None
        try:
            return {"text": data.decode("utf-8")}
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(data).decode("ascii")}


def _incomplete_tail(data: bytes) -> int:
    """How many bytes at the end begin a UTF-8 character that is not complete yet."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: look further back
            continue
        need = 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else (
            4 if byte >> 3 == 0b11110 else 1)
        return back if need > back else 0
    return 0
