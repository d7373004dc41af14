"""The audit log's page: the events of the teams the user maintains (superusers: all), with
the filters and paging of GET /api/audit and a CSV link that carries the filters. The
header's link to it comes from nav(), a context processor."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse

from services import access
from services.audit import Action, AuditFilter
from services.history import error_text

# The list's filters the CSV export keeps (not its page: cursor, limit).
EXPORT_FILTERS = ("team", "action", "user", "since", "until")
ACTION_LABELS = dict(Action.choices)


def nav(request):
    """base.html links the audit log for who may read it; asked only when a page shows the
    header to a logged-in user (one query, none for superusers)."""
    return {"may_read_audit_log": lambda: access.may_read_audit_log(request.user)}


def detail_text(detail):
    """An event's detail in one line: "fields: name, timeout_s; slug_was: chat"."""
    parts = []
    for name, value in detail.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(item) for item in value)
        parts.append(f"{name}: {'' if value is None else value}")
    return "; ".join(parts)


def _paging_urls(query, next_cursor):
    older = newest = None
    if next_cursor:
        params = query.copy()
        params["cursor"] = next_cursor
        older = f"?{params.urlencode()}"
    if query.get("cursor"):
        params = query.copy()
        del params["cursor"]
        newest = f"?{params.urlencode()}"
    return older, newest


def _export_url(kept):
    url = reverse("api:audit_export")
    return f"{url}?{urlencode(kept)}" if kept else url


def audit_list(request):
    access.require_audit_reader(request.user)
    filters = AuditFilter(request.GET, user=request.user)
    rows, next_cursor = [], None
    valid = filters.is_valid()
    if valid:
        rows, next_cursor = filters.page()  # team=: 404 or 403 as the API answers
    events = [{"id": row.id, "at": row.created_at, "user": row.username,
               "team": row.team_slug, "action": row.action,
               "action_label": ACTION_LABELS.get(row.action, row.action),
               "target": row.target, "service": row.service_slug,
               "detail": detail_text(row.detail)} for row in rows]
    older_url, newest_url = _paging_urls(request.GET, next_cursor)
    kept = [(name, request.GET[name]) for name in EXPORT_FILTERS if request.GET.get(name)]
    return render(request, "services/audit/audit_list.html", {
        "filters": filters, "events": events, "older_url": older_url, "newest_url": newest_url,
        "filter_error": "" if valid else error_text(filters),
        "export_url": _export_url(kept) if valid else "",
        "teams": access.maintained_teams(request.user).order_by("name", "slug")
                       .values_list("slug", "name"),
        "actions": Action.choices,
        "chosen": {name: request.GET.get(name, "") for name in EXPORT_FILTERS},
    }, status=200 if valid else 400)
