"""The JSON shapes of calls (docs/api.md, "Call"): a Call, each body once; a CallItem, as the
history lists it, without bodies; a page of them and the history's filters; and the functions
that fill them."""

import base64
import re
from datetime import UTC, datetime
from typing import Literal

from ninja import Field, Schema

BODY_TEXT = ("The body as text when it is UTF-8 text (no control characters but tab, line "
             "feed and carriage return); null otherwise.")
BODY_BASE64 = "The body in base64 when it is not UTF-8 text; null otherwise."


class CallOut(Schema):
    id: int
    team: str
    service: str
    service_name: str
    user: str
    created_at: datetime
    endpoint: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None = Field(description=BODY_TEXT)
    request_body_base64: str | None = Field(description=BODY_BASE64)
    status: int | None
    elapsed_ms: float
    response_headers: dict[str, str]
    response_body: str | None = Field(description=BODY_TEXT)
    response_body_base64: str | None = Field(description=BODY_BASE64)
    response_size: int
    response_declared_size: int | None
    response_truncated: bool
    error: str | None
    # The kind of failure, when error is set: dns, refused, timeout, tls, connection, broken,
    # stopped.
    error_kind: str | None
    streamed: bool
    stopped: bool
    ttft_ms: float | None = Field(description="Time to first token (docs/api.md, Streaming).")
    tpot_ms: float | None = Field(description="Time per output token after the first.")
    prompt_tokens: int | None
    completion_tokens: int | None
    tokens_source: Literal["usage", "chunks"] | None
    finish_reason: str | None
    source: str = Field(description="portal, gateway, run or probe: how the call came.")
    run: int | None = Field(None, description="The capacity run or compare it was part of.")


class CallItem(Schema):
    """A call as the history page lists it: no headers, no bodies (GET /api/calls/{id})."""

    id: int
    team: str
    service: str
    service_name: str
    user: str
    created_at: datetime
    endpoint: str
    method: str
    path: str
    url: str
    status: int | None
    elapsed_ms: float
    response_size: int
    response_truncated: bool
    error: str | None
    streamed: bool
    stopped: bool
    ttft_ms: float | None
    tpot_ms: float | None
    completion_tokens: int | None
    source: str
    run: int | None


class CallPage(Schema):
    items: list[CallItem]
    next: str | None = Field(description="Pass as cursor for the next page; null at the end.")


class CallQuery(Schema):
    """Checked by services.history.CallFilter, as on the history page."""

    service: str | None = None
    status: str | None = Field(None, description="2xx, 3xx, 4xx, 5xx or failed")
    user: str | None = None
    since: str | None = Field(None, description="YYYY-MM-DD")
    until: str | None = Field(None, description="YYYY-MM-DD")
    path: str | None = None
    streamed: str | None = Field(None, description="true or false")
    source: str | None = Field(None, description="all, portal, gateway, run, probe (default: "
                                                 "all but run and probe)")
    run: str | None = None
    cursor: str | None = None
    limit: str | None = Field(None, description="1-200, default 50")



def call_out(call, team_slug):
    """The Call, each body once: as text, or in base64 when it is not UTF-8 text."""
    return {
        "id": call.id, "team": team_slug, "service": call.service_slug,
        "service_name": call.service_name, "user": call.username,
        "created_at": call.created_at.astimezone(UTC), "endpoint": call.endpoint,
        "method": call.method, "url": call.url, "request_headers": call.request_headers,
        **_call_body("request_body", call.request_body),
        "status": call.status, "elapsed_ms": call.elapsed_ms,
        "response_headers": call.response_headers,
        **_call_body("response_body", call.response_body),
        "response_size": call.response_size,
        "response_declared_size": call.response_declared_size,
        "response_truncated": call.response_truncated, "error": call.error or None,
        "error_kind": call.error_kind or None,
        "streamed": call.streamed, "stopped": call.stopped, "ttft_ms": call.ttft_ms,
        "tpot_ms": call.tpot_ms, "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "tokens_source": call.tokens_source or None, "finish_reason": call.finish_reason or None,
        "source": call.source, "run": call.run_id,
    }


def call_item(call, team_slug):
    """The call as the history page lists it (services.history.LIST_FIELDS): no bodies."""
    return {
        "id": call.id, "team": team_slug, "service": call.service_slug,
        "service_name": call.service_name, "user": call.username,
        "created_at": call.created_at.astimezone(UTC), "endpoint": call.endpoint,
        "method": call.method, "path": call.path, "url": call.url, "status": call.status,
        "elapsed_ms": call.elapsed_ms, "response_size": call.response_size,
        "response_truncated": call.response_truncated, "error": call.error or None,
        "streamed": call.streamed, "stopped": call.stopped, "ttft_ms": call.ttft_ms,
        "tpot_ms": call.tpot_ms, "completion_tokens": call.completion_tokens,
        "source": call.source, "run": call.run_id,
    }


# Control characters that JSON writes as six-character escapes (\u0000): a body holding them is
# not text to read, and goes in base64 (a third larger) rather than up to six times larger.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _call_body(name, data):
    """{name: text, name_base64: None} for UTF-8 text, else {name: None, name_base64: ...}."""
    data = bytes(data)  # BinaryField gives bytes on SQLite and memoryview on PostgreSQL
    try:
        text = data.decode()
    except UnicodeDecodeError:
        text = None
    if text is not None and not _CONTROL.search(text):
        return {name: text, f"{name}_base64": None}
    return {name: None, f"{name}_base64": base64.b64encode(data).decode()}
