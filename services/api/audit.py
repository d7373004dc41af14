"""The audit log (docs/api.md, "Audit log"): a page at a time, newest first, or the whole
filtered log as CSV, streamed. A team's maintainers read its events; superusers every event."""

import csv
import io
import json
from datetime import UTC

from django.http import JsonResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from services import access, audit
from services.api.core import ERRORS
from services.api.export import csv_cell, utc_text
from services.errors import Refusal
from services.history import error_text

router = Router(tags=["audit"])

CSV_COLUMNS = ("id", "at", "user", "team", "service", "action", "target", "detail")
EXPORT_OPENAPI = {"responses": {200: {
    "description": "The events, newest first: CSV with a header row.",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}}}


class AuditQuery(Schema):
    """Checked by services.audit.AuditFilter, as on the audit page."""

    team: str | None = Field(None, description="a team's slug")
    action: str | None = Field(None, description="service.created, token.changed, ...")
    user: str | None = Field(None, description="a username")
    since: str | None = Field(None, description="YYYY-MM-DD")
    until: str | None = Field(None, description="YYYY-MM-DD")
    cursor: str | None = None
    limit: str | None = Field(None, description="1-200, default 50")


class AuditEventOut(Schema):
    at: str = Field(description="ISO 8601, UTC")
    user: str | None = Field(description="Who did it; null for the portal itself (a probe).")
    team: str | None
    action: str
    target: str = Field(description="What it was done to: a service's slug, a member's "
                                    "username, a key's name, a run's number.")
    detail: dict


class AuditPage(Schema):
    items: list[AuditEventOut]
    next: str | None = Field(description="Pass as cursor for the next page; null at the end.")


def event_out(row):
    return {"at": utc_text(row.created_at), "user": row.username or None,
            "team": row.team_slug, "action": row.action, "target": row.target,
            "detail": row.detail}


def _checked(request):
    access.require_audit_reader(request.user)
    form = audit.AuditFilter(request.GET, user=request.user)
    if not form.is_valid():
        raise Refusal(400, error_text(form))
    return form


@router.get("/audit", response={200: AuditPage, **ERRORS})
def audit_list(request, filters: Query[AuditQuery]):
    """The events of the teams you maintain (superusers: all, those of no team included),
    newest first, a page at a time (pass `next` as `cursor`)."""
    form = _checked(request)
    rows, next_cursor = form.page()
    return JsonResponse({"items": [event_out(row) for row in rows],
                         "next": None if next_cursor is None else str(next_cursor)})


def _csv_lines(events):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield out.getvalue().encode()
    for batch in audit.batches(events):
        out.seek(0)
        out.truncate()
        writer.writerows(
            [row.id, utc_text(row.created_at), csv_cell(row.username), csv_cell(row.team_slug),
             csv_cell(row.service_slug), row.action, csv_cell(row.target),
             csv_cell(json.dumps(row.detail, ensure_ascii=False, sort_keys=True))]
            for row in batch)
        yield out.getvalue().encode()


@router.get("/audit/export", response={200: None, **ERRORS}, openapi_extra=EXPORT_OPENAPI)
def audit_export(request, filters: Query[AuditQuery]):
    """The events the filters of /api/audit keep (cursor: only older ones; limit is not used),
    as CSV, streamed as it is read."""
    events = _checked(request).events()
    response = StreamingHttpResponse(_csv_lines(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="easportal-audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response
