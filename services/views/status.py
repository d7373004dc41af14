"""The status board (/status/): each service of the user's teams as its probe last found it,
with uptime over 24 hours and a sparkline of its latency by the hour (services/status.py), which
static/js/sparkline.js draws with uPlot.

The rows are written here, each value escaped, rather than by the template language, whose
per-variable work would cost about 0.2 ms a row: with 200 services, most of the page's time
(make bench, (o))."""

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from services import status
from services.views.language import date_writer

ROW = ('<tr class="status-row" data-service="{slug}" data-state="{state}">'
       '<td><a href="{url}">{name}</a>{no_probe}</td><td>{team}</td>'
       '<td><span class="state state-{state}">{state_label}</span>{error}</td>'
       '<td>{checked}</td><td class="num">{latency}</td><td class="num">{uptime}</td>'
       '<td>{sparkline}</td></tr>')
ERROR = '<div class="status-error">{}</div>'
CHECKED = '<time datetime="{}">{}</time>'
# uPlot draws into the box (static/js/sparkline.js, from status.charts()); the SVG is what shows
# until it has, or without JavaScript.
SPARKLINE = ('<span class="sparkline-box" data-sparkline="{}" role="img" aria-label="{}">'
             '<svg class="sparkline" viewBox="0 0 120 24" width="120" height="24" '
             'aria-hidden="true"><polyline points="{}"/></svg></span>')
NONE = "—"


def status_board(request):
    rows = status.board(request.user)
    counts = {state: sum(1 for row in rows if row.state == state)
              for state in ("up", "down", "unknown")}
    return render(request, "services/status/board.html",
                  {"rows": rows_html(rows), "count": len(rows), "counts": counts,
                   "charts": status.charts(rows)})


def rows_html(rows):
    labels = {"up": _("up"), "down": _("down"), "unknown": _("unknown")}
    no_probe = format_html(' <span class="muted">{}</span>', _("(no probe)"))
    spark_label = escape(_("Latency by the hour, the last 24 hours"))
    url = reverse("service_detail", args=["-slug-"])
    when = date_writer(_("Y-m-d H:i:s"))  # a date format, as Django's date filter reads it
    html = []
    for row in rows:
        # What users wrote (names, the error) is escaped; the rest is numbers and fixed words.
        service, checked, points = row.service, row.last_checked_at, row.points
        local = timezone.localtime(checked) if checked else None
        slug = escape(service.slug)
        html.append(ROW.format(
            slug=slug, state=row.state, url=url.replace("-slug-", slug),
            name=escape(service.name), no_probe="" if row.enabled else no_probe,
            team=escape(service.team.name), state_label=escape(labels[row.state]),
            error=ERROR.format(escape(row.last_error)) if row.last_error else "",
            checked=(CHECKED.format(local.isoformat(), when(local))
                     if local else NONE),
            latency=(f"{row.last_latency_ms:.1f} ms" if row.last_latency_ms is not None
                     else NONE),
            uptime=(f"{row.uptime_percent:g}%" if row.uptime_percent is not None else NONE),
            sparkline=SPARKLINE.format(slug, spark_label, points) if points else NONE))
    # Every user-written value was escaped above.
    return mark_safe("".join(html))
