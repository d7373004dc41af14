"""History export (docs/api.md, "History export"): the whole filtered history as CSV or JSON
Lines, streamed batch by batch (services.history.batches), so that a million calls leave the
portal in bounded memory. Everything is as history stored it: redacted."""

import csv
import io
from datetime import UTC

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router

from services import access
from services.api import call_schemas
from services.api.core import ERRORS
from services.errors import Refusal
from services.history import CallFilter, batches, error_text
from services.models import Team

router = Router(tags=["calls"])

# CSV: one row per call, the main columns (the bodies and headers are in JSON Lines only).
CSV_COLUMNS = ("id", "created_at", "team", "service", "user", "source", "endpoint", "method",
               "url", "status", "elapsed_ms", "response_size", "response_truncated",
               "error_kind", "error", "streamed", "stopped", "ttft_ms", "tpot_ms",
               "prompt_tokens", "completion_tokens", "finish_reason", "run")
CSV_FIELDS = ("id", "team_id", "created_at", "service_slug", "username", "source", "endpoint",
              "method", "url", "status", "elapsed_ms", "response_size", "response_truncated",
              "error_kind", "error", "streamed", "stopped", "ttft_ms", "tpot_ms",
              "prompt_tokens", "completion_tokens", "finish_reason", "run_id")
# What call_schemas.call_out() reads.
JSON_FIELDS = ("id", "team_id", "service_slug", "service_name", "username", "created_at",
               "endpoint", "method", "url", "request_header_pairs", "request_body", "status",
               "elapsed_ms", "response_header_pairs", "response_body", "response_size",
               "response_declared_size", "response_truncated", "error", "error_kind", "streamed",
               "stopped", "ttft_ms", "tpot_ms", "prompt_tokens", "completion_tokens",
               "tokens_source", "finish_reason", "source", "run_id")
# The JSON Lines export is written out in pieces of about this many bytes.
PIECE_BYTES = 256 * 1024
# A spreadsheet would read a cell starting with one of these as a formula: such a text cell
# gets a leading ' (the usual defence; the JSON Lines export keeps every value as it is).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {"csv": ("text/csv; charset=utf-8", "csv"),
           "jsonl": ("application/jsonl; charset=utf-8", "jsonl")}
EXPORT_OPENAPI = {"responses": {200: {
    "description": "The calls, newest first: CSV with a header row, or one Call per line.",
    "content": {"text/csv": {"schema": {"type": "string"}},
                "application/jsonl": {"schema": {"type": "string"}}},
}}}


class ExportQuery(call_schemas.CallQuery):
    format: str = "jsonl"


class TeamSlugs(dict):
    """team id -> slug, of the user's teams; a team made while the export runs is looked up."""

    def __missing__(self, team_id):
        self[team_id] = Team.objects.filter(pk=team_id).values_list("slug", flat=True).first()
        return self[team_id]


def utc_text(value):
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_lines(calls, slugs):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield out.getvalue().encode()
    for batch in batches(calls, CSV_FIELDS, bodies=False):
        out.seek(0)
        out.truncate()
        writer.writerows(
            [call.id, utc_text(call.created_at), slugs[call.team_id],
             csv_cell(call.service_slug), csv_cell(call.username), call.source, call.endpoint,
             call.method, csv_cell(call.url), csv_cell(call.status), call.elapsed_ms,
             call.response_size, str(call.response_truncated).lower(), call.error_kind,
             csv_cell(call.error), str(call.streamed).lower(), str(call.stopped).lower(),
             csv_cell(call.ttft_ms), csv_cell(call.tpot_ms), csv_cell(call.prompt_tokens),
             csv_cell(call.completion_tokens), call.finish_reason, csv_cell(call.run_id)]
            for call in batch)
        yield out.getvalue().encode()


def _json_lines(calls, slugs):
    # The one answer that carries the bodies of many calls: a download of the history, read in
    # batches bounded by their bodies' bytes and written out in pieces of about PIECE_BYTES (a
    # longer line alone), so that the server holds at most one batch and one call's line
    # however long the history.
    encode = DjangoJSONEncoder(ensure_ascii=False).encode
    piece, size = [], 0
    for batch in batches(calls, JSON_FIELDS):
        for call in batch:
            line = (encode(call_schemas.call_out(call, slugs[call.team_id])) + "\n").encode()
            if piece and size + len(line) > PIECE_BYTES:
                yield b"".join(piece)
                piece, size = [], 0
            piece.append(line)
            size += len(line)
    if piece:
        yield b"".join(piece)


@router.get("/calls/export", response={200: None, **ERRORS}, openapi_extra=EXPORT_OPENAPI)
def call_export(request, filters: Query[ExportQuery]):
    """Your teams' calls with the filters of /api/calls (cursor: only calls older than it; limit
    is not used: the export is the whole filtered history), as `format=csv` or `format=jsonl`,
    streamed as it is read. Redacted as stored."""
    if filters.format not in FORMATS:
        raise Refusal(400, _("format: choose csv or jsonl, not “%(format)s”.")
                      % {"format": filters.format[:40]})
    form = CallFilter(request.GET, user=request.user)
    if not form.is_valid():
        raise Refusal(400, error_text(form))
    calls = form.calls()
    if form.cleaned_data["cursor"]:
        calls = calls.filter(id__lt=form.cleaned_data["cursor"])
    slugs = TeamSlugs(access.teams(request.user).values_list("pk", "slug"))
    lines = (_csv_lines if filters.format == "csv" else _json_lines)(calls, slugs)
    content_type, extension = FORMATS[filters.format]
    response = StreamingHttpResponse(lines, content_type=content_type)
    stamp = timezone.now().astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = (
        f'attachment; filename="easportal-calls-{stamp}.{extension}"')
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response
