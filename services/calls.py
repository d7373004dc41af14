"""The one call function, used by the builder page and the API alike: check permission,
decrypt the token, validate, send, record, return the Call. The data flow is one way: view or
API -> here -> services/net/ and services/tokens.py -> a Call row (docs/architecture.md)."""

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, router
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from services import access, inflight, metrics, tokens
from services.compiled import CompiledInsert
from services.errors import DATABASE_ERRORS, Refusal, unavailable
from services.models import Call, Service, host_policy
from services.net import client, join, redact, stream
from services.net.deadline import Deadline
from services.net.errors import CallError, NetError, PathError, Refused

REDACTED = "[redacted]"
SECRET_HEADER_WORDS = ("token", "key", "secret", "auth")
DEFAULT_HEADERS = {"Content-Type": "application/json"}
MAX_PATH_CHARS = 2000
_INSERT_CALL = CompiledInsert(Call)
# A call that was sent keeps its record across a database restart or failover: while the
# connection is lost, its INSERT is tried again this often, for up to this long.
RECORD_RETRY_S = 0.25
RECORD_PATIENCE_S = 10.0
log = logging.getLogger(__name__)


@dataclass
class CallRequest:
    """What the user asked for; None takes the service's default."""

    endpoint: str | None = None
    method: str | None = None
    path: str | None = None
    headers: dict[str, str] | None = None
    body: bytes | None = None
    # Relay the answer as it arrives (services/streams.py) rather than all at once.
    stream: bool = False


def translated(error: NetError) -> str:
    """An error of services/net/ as a sentence in the user's language."""
    return _(error.message) % error.params


def refusal(error: Refused) -> Refusal:
    extra: dict[str, Any] = ({"size": error.params["size"], "limit": error.params["limit"]}
                             if error.status == 413 else {})
    return Refusal(error.status, translated(error), **extra)


@sensitive_variables()
def read_token(service: Service) -> str:
    try:
        return service.read_token()
    except tokens.TokenUnreadable as exc:
        raise Refusal(409, str(exc)) from None


def prepare(service: Service, request: CallRequest) -> tuple[str, str, client.OutboundRequest]:
    """(endpoint kind, path as given, outbound request) for a call, without the token, which
    the caller adds; raises Refusal. Snippets are made from the same request."""
    kind = request.endpoint or service.default_endpoint
    if kind not in Service.EndpointKind.values:
        raise Refusal(400, _("The endpoint must be “public” or “vpc”."))
    base = service.endpoint_url(kind)
    if not base:
        raise Refusal(400, _("This service has no %(kind)s endpoint.") % {
            "kind": Service.EndpointKind(kind).label})
    path = service.default_path if request.path is None else request.path
    if len(path) > MAX_PATH_CHARS:
        raise Refusal(400, _("The interface path is longer than %(limit)s characters.")
                      % {"limit": MAX_PATH_CHARS})
    try:
        url = join.join_url(base, path)
    except PathError as exc:
        raise Refusal(400, translated(exc)) from None
    headers = dict(DEFAULT_HEADERS if request.headers is None else request.headers)
    for name in headers:
        if name.lower() == "authorization":
            raise Refusal(400, _("Leave out the Authorization header: the portal sends the "
                                 "service's stored token in it."))
    body = service.default_body.encode() if request.body is None else request.body
    outbound = client.OutboundRequest(
        method=(request.method or service.default_method).upper(), url=url,
        headers=headers, body=body,
    )
    try:
        client.check_request(outbound)
    except Refused as exc:
        raise refusal(exc) from None
    return kind, path, outbound


def call(user: Any, service: Service | str, request: CallRequest) -> Call:
    """Send a request to a service as a user and record it; returns the Call.

    service: its slug, or a Service; either way the user's right to call it is checked here.
    """
    slug = service if isinstance(service, str) else service.slug
    return _send(user, access.service_to_call(user, slug), request, "portal")


def probe(service: Service, request: CallRequest) -> Call:
    """A probe's call (services/probes.py): made by the portal itself, so no user and no
    permission to check; recorded with source "probe". Raises Refusal as call() does."""
    return _send(None, service, request, "probe")


@sensitive_variables()
def _send(user: Any, service: Service, request: CallRequest, source: str) -> Call:
    token = read_token(service)
    kind, path, outbound = prepare(service, request)
    outbound.headers = {**outbound.headers, "Authorization": token}
    response: client.Response | CallError
    # A person's call holds a slot while in flight (services/inflight.py); a probe does not.
    with inflight.take(user, service.team_id) if user is not None else nullcontext():
        try:
            response = client.send(
                outbound, policy=host_policy(), deadline_s=service.timeout_s,
                max_response_bytes=settings.EASPORTAL_MAX_RESPONSE_BYTES,
            )
        except Refused as exc:
            raise refusal(exc) from None
        except CallError as exc:
            response = exc
    return record(user, service, kind, path, outbound, token, response, source)


@dataclass
class Ready:
    """A request checked and resolved once, to be sent many times (a capacity run, a compare):
    the token is in outbound's Authorization header, the address in target."""

    service: Service
    kind: str
    path: str
    # Not in its repr: an error report shows the repr of the locals that hold a Ready.
    outbound: client.OutboundRequest = field(repr=False)
    token: str = field(repr=False)
    target: tuple[Any, str]


@sensitive_variables()
def ready(user: Any, service: Service | str, request: CallRequest) -> Ready:
    """The checks of call(), in its order, and the address resolved and checked; raises
    Refusal, also when the host does not resolve (a request sent many times would only fail
    as many times). Nothing is sent."""
    slug = service if isinstance(service, str) else service.slug
    service = access.service_to_call(user, slug)
    token = read_token(service)
    kind, path, outbound = prepare(service, request)
    outbound.headers = {**outbound.headers, "Authorization": token}
    try:
        target = client.resolve(outbound.url, host_policy(),
                                timeout=min(client.CONNECT_TIMEOUT_S, service.timeout_s))
    except Refused as exc:
        raise refusal(exc) from None
    except CallError as exc:
        raise Refusal(400, translated(exc)) from None
    return Ready(service, kind, path, outbound, token, target)


@sensitive_variables()
def send_ready(request: Ready, on_deadline: Callable[[Deadline], None] | None = None,
               user: Any = None) -> tuple[client.Response | CallError, metrics.Figures]:
    """Sends a Ready request once: its answer, read piece by piece so that the streaming figures
    (TTFT, TPOT) are timed, and its figures. on_deadline is handed the call's deadline first:
    cancelling it stops the call (its result is then a "stopped" error). With user, the call
    holds one of the user's slots while in flight (a compare; a run's worker has its own
    bound)."""
    with inflight.take(user, request.service.team_id) if user is not None else nullcontext():
        return _send_ready(request, on_deadline)


@sensitive_variables()
def _send_ready(request: Ready, on_deadline: Callable[[Deadline], None] | None,
                ) -> tuple[client.Response | CallError, metrics.Figures]:
    service = request.service
    deadline = Deadline(service.timeout_s)
    if on_deadline is not None:
        on_deadline(deadline)
    started = time.perf_counter()
    try:
        opened = client.open_answer(request.outbound, request.target, deadline=deadline,
                                    deadline_s=service.timeout_s, started=started)
    except CallError as exc:
        return exc, metrics.Figures()
    status, reason, headers, declared = opened.head()
    body, measured, end = bytearray(), metrics.StreamMetrics(), None
    for event in stream.pieces(opened, request.outbound.method,
                               settings.EASPORTAL_MAX_RESPONSE_BYTES):
        if isinstance(event, stream.Piece):
            body += event.data
            measured.feed(event.data, event.at_ms)
        else:
            end = event
    assert end is not None
    error, error_kind = end.error, end.error_kind
    if deadline.cancelled and not error:
        error, error_kind = _("The call was stopped before the answer ended."), "stopped"
    response = client.Response(status=status, reason=reason, headers=headers, body=bytes(body),
                               size=end.size, declared_size=declared, truncated=end.truncated,
                               elapsed_ms=end.elapsed_ms, error=error, error_kind=error_kind)
    kind = content_type(headers)
    if "event-stream" not in kind:  # an answer that came whole: no TTFT to speak of
        return response, metrics.answer_metrics(response.body, kind)
    return response, answer_figures(measured, response.body, kind)


def answer_figures(measured: metrics.StreamMetrics, body: bytes, kind: str) -> metrics.Figures:
    """The figures of an answer read piece by piece; an OpenAI answer that came as one JSON,
    not a stream of events, still has its tokens and finish reason."""
    figures = measured.figures()
    if not figures.tokens_source:
        whole = metrics.answer_metrics(body, kind)
        figures.prompt_tokens, figures.completion_tokens = (whole.prompt_tokens,
                                                            whole.completion_tokens)
        figures.tokens_source, figures.finish_reason = whole.tokens_source, whole.finish_reason
    return figures


@sensitive_variables()
def record(user: Any, service: Service, kind: str, path: str,
           outbound: client.OutboundRequest, token: str,
           response: client.Response | CallError, source: str = "portal") -> Call:
    """The Call row, with every secret redacted; also when the connection failed."""
    figures = (metrics.answer_metrics(response.body, content_type(response.headers))
               if isinstance(response, client.Response) else metrics.Figures())
    return insert_call(**request_values(user, service, kind, path, outbound, token, source),
                       **response_values(response, token, figures))


def insert_call(**values: Any) -> Call:
    """Call.objects.create(**values), with its INSERT compiled once (services/compiled.py).

    The call was sent, so its record must outlive a database that went away meanwhile: while
    the connection is lost, the INSERT is tried again on a new one every RECORD_RETRY_S, for up
    to RECORD_PATIENCE_S; past that, the call is logged (without its bodies) and the caller
    told, with a 503, that it was sent but not recorded. An error on a connection that still
    works (SQLite's "database is locked" after its timeout, a constraint) is raised at once, as
    is one inside a transaction, which a new connection could not carry on; but a service, user
    or run deleted while the call was in flight is only left out (gone_references()), as it
    would have been from a call recorded before."""
    values = {"created_at": timezone.now(), **values}  # when it happened, not when written
    give_up = time.monotonic() + RECORD_PATIENCE_S
    while True:
        try:
            return _INSERT_CALL.create(**values)
        except IntegrityError:
            if connections[router.db_for_write(Call)].in_atomic_block:
                raise
            gone = gone_references(values)
            if not gone:
                raise
            values = without(gone, values)
        except DATABASE_ERRORS as exc:
            connection = connections[router.db_for_write(Call)]
            if connection.in_atomic_block or connection.is_usable():
                raise
            if time.monotonic() >= give_up:
                log_unrecorded(f"the database was unreachable for {RECORD_PATIENCE_S} s "
                               f"({str(exc).strip()})", values)
                raise unavailable(_(
                    "The call was sent, but the portal could not record it: its database could "
                    "not be reached for %(seconds)s s. The server's log has the call.")
                    % {"seconds": int(RECORD_PATIENCE_S)}) from exc
            with suppress(*DATABASE_ERRORS):
                connection.close()
            time.sleep(RECORD_RETRY_S)


# The rows a Call refers to that may be deleted while the call is in flight (its service, its
# user, its run); its team cannot be (on_delete=PROTECT), unless it had no calls yet.
REFERENCES = [field for field in Call._meta.concrete_fields if field.is_relation]


def gone_references(values: dict[str, Any]) -> list[tuple[Any, str]]:
    """(field, key in values) of each row that values refer to (by object or by key) and that
    no longer exists: deleted while the call was in flight."""
    gone = []
    for reference in REFERENCES:
        for key in (reference.name, reference.attname):
            value = values.get(key)
            if value is not None and not reference.related_model._base_manager.filter(
                    pk=getattr(value, "pk", value)).exists():
                gone.append((reference, key))
    return gone


def without(gone: list[tuple[Any, str]], values: dict[str, Any]) -> dict[str, Any]:
    """values as a call recorded before those rows were deleted now is (on_delete=SET_NULL:
    the slug, name and username it keeps still say whose it was); a call whose team is gone
    cannot be recorded: logged, as one the database could not take, and refused with 409."""
    if any(not reference.null for reference, _key in gone):
        log_unrecorded("its team was deleted while it was in flight", values)
        raise Refusal(409, _("The call was sent, but its team was deleted meanwhile, so it "
                             "could not be recorded. The server's log has the call."))
    return {**values, **{key: None for _reference, key in gone}}


def log_unrecorded(why: str, values: dict[str, Any]) -> None:
    """A call that was sent and will not be in history, in the server's log (without its
    bodies)."""
    log.error("Call not recorded, %s: source=%s user=%s service=%s %s %s status=%s error=%s "
              "elapsed_ms=%s", why, *(values.get(name) for name in (
                  "source", "username", "service_slug", "method", "url", "status", "error",
                  "elapsed_ms")))


def content_type(headers: dict[str, str]) -> str:
    return next((value for name, value in headers.items() if name.lower() == "content-type"), "")


@sensitive_variables()
def request_values(user: Any, service: Service, kind: str, path: str,
                   outbound: client.OutboundRequest, token: str,
                   source: str = "portal") -> dict[str, Any]:
    """What a Call keeps of the request, whose it was and how it came, redacted."""
    return {
        "source": source,
        "team": service.team, "service": service, "service_slug": service.slug,
        "service_name": service.name, "user": user,
        "username": user.get_username() if user is not None else "",
        "endpoint": kind, "method": outbound.method, "path": redact_text(path, token),
        "url": redact_text(outbound.url, token),
        "request_headers": redact_headers(outbound.headers, token),
        "request_body": redact_bytes(outbound.body, token),
    }


@sensitive_variables()
def response_values(response: client.Response | CallError, token: str,
                    figures: metrics.Figures) -> dict[str, Any]:
    """What a Call keeps of the answer, redacted, and its figures."""
    values: dict[str, Any]
    if isinstance(response, CallError):
        error = translated(response)
        values = {"status": None, "error": error, "error_kind": response.kind,
                  "response_headers": {}, "response_body": b"", "response_size": 0,
                  "response_declared_size": None, "response_truncated": False}
    else:
        error = response.error
        values = {"status": response.status, "error": error, "error_kind": response.error_kind,
                  "response_headers": {name: redact_text(value, token)
                                       for name, value in response.headers.items()},
                  "response_body": redact_bytes(response.body, token),
                  "response_size": response.size,
                  "response_declared_size": response.declared_size,
                  "response_truncated": response.truncated}
    values["status_class"] = Call.status_class_of(values["status"], error)
    values["elapsed_ms"] = round(response.elapsed_ms, 3)
    values.update(ttft_ms=figures.ttft_ms, tpot_ms=figures.tpot_ms,
                  prompt_tokens=figures.prompt_tokens,
                  completion_tokens=figures.completion_tokens,
                  tokens_source=figures.tokens_source, finish_reason=figures.finish_reason)
    return values


@lru_cache(maxsize=64)
def token_pattern(token: str) -> redact.TokenPattern:
    """Every writing of the token (services/net/redact.py), compiled once per process."""
    return redact.TokenPattern(token)


@sensitive_variables()
def redact_text(text: str, token: str) -> str:
    return token_pattern(token).text.sub(REDACTED, text) if token else text


@sensitive_variables()
def redact_bytes(data: bytes, token: str) -> bytes:
    return token_pattern(token).data.sub(REDACTED.encode(), data) if token else data


@sensitive_variables()
def redact_headers(headers: dict[str, str], token: str) -> dict[str, str]:
    return {
        name: REDACTED if any(word in name.lower() for word in SECRET_HEADER_WORDS)
        else redact_text(value, token)
        for name, value in headers.items()
    }
