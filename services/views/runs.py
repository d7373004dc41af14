"""The run page (/runs/<id>/): a capacity run's request, its progress and figures with their
plots (static/js/run.js polls the JSON API while it is active), side by side with another run
of the team (?with=<id>, an overlay plot of both), or a compare's targets side by side with
their first answers and a diff. Also what the builder's run and compare dialogs and the service
page need of runs."""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from services import access
from services.models import Run, Service

LATENCY = ("mean", "p50", "p90", "p95", "p99", "max")
# The ended capacity runs of the team offered by "Compare with…".
COMPARE_CHOICES = 50
# A service page's recent runs and compares.
RECENT_RUNS = 10
# What lists of runs read: never the request, the result nor the per-status counts.
LISTED = ("id", "kind", "team_id", "service_id", "service_slug", "service_name", "username",
          "created_at", "state", "total", "concurrency", "sent", "rps", "latency_ms")
# The bounds of a compare, as services/runs/compare.py checks them.
COMPARE_TARGETS = (2, 4)
COMPARE_ROUNDS = (1, 20, 5)
ERROR_KINDS = {
    "http_4xx": gettext_lazy("HTTP 4xx"), "http_5xx": gettext_lazy("HTTP 5xx"),
    "timeout": gettext_lazy("timeout"), "stopped": gettext_lazy("stopped"),
    "refused": gettext_lazy("refused"), "dns": gettext_lazy("DNS"),
    "tls": gettext_lazy("TLS"), "connection": gettext_lazy("connection"),
    "broken": gettext_lazy("broken off"), "failed": gettext_lazy("failed"),
}


def _texts():
    """The value templates of the figures, shared by the server and static/js/run.js."""
    return {
        "ms": _("%(ms)s ms"), "seconds": _("%(s)s s"), "of": _("%(sent)s of %(total)s"),
        "count": _("%(name)s × %(count)s"), "none": "—",
    }


def _latency_names():
    return {"mean": _("mean"), "max": _("max")}


def _number(value):
    return f"{value:.1f}"


def _counts(counts, labels=None):
    if not counts:
        return None
    text = _texts()["count"]
    return ", ".join(text % {"name": (labels or {}).get(name, name), "count": counts[name]}
                     for name in sorted(counts))


def figure_rows(runs):
    """The figures of runs, one column each: [{"key", "label", "values", "hidden"}]. Each value
    is text, or None for "—"; a row of figures no run has (TTFT on a model that does not
    stream) is hidden. static/js/run.js writes the same texts while a run is active."""
    texts, rows = _texts(), []

    def add(key, label, values, optional=False):
        rows.append({"key": key, "label": label, "values": values,
                     "hidden": optional and all(value is None for value in values)})

    def ms(value):
        return None if value is None else texts["ms"] % {"ms": _number(value)}

    add("sent", _("Sent"), [texts["of"] % {"sent": run.sent, "total": run.total}
                            for run in runs])
    add("ok", _("OK (2xx)"), [str(run.ok) for run in runs])
    add("rps", _("Requests/s"), [None if run.rps is None else _number(run.rps) for run in runs])
    add("elapsed_s", _("Duration"), [texts["seconds"] % {"s": _number(run.elapsed_s)}
                                     for run in runs])
    names = _latency_names()
    for figure, label in (("latency_ms", _("Latency")), ("ttft_ms", _("TTFT")),
                          ("tpot_ms", _("TPOT"))):
        for name in LATENCY:
            add(f"{figure}.{name}", f"{label} {names.get(name, name)}",
                [ms((getattr(run, figure) or {}).get(name)) for run in runs],
                optional=figure != "latency_ms")
    add("output_tokens_per_s", _("Output tokens/s"),
        [None if run.output_tokens_per_s is None else _number(run.output_tokens_per_s)
         for run in runs], optional=True)
    add("statuses", _("Statuses"), [_counts(run.statuses) for run in runs])
    add("errors", _("Errors"), [_counts(run.errors, ERROR_KINDS) for run in runs])
    return rows


def _other_run(request, run):
    """(the run of ?with=<id> to show beside run, or None; the problem with it, or "")."""
    wanted = request.GET.get("with", "")
    if not wanted:
        return None, ""
    other = None
    if wanted.isascii() and wanted.isdigit() and int(wanted) != run.pk:
        other = access.runs(request.user).filter(pk=wanted, kind=Run.Kind.CAPACITY,
                                                 team_id=run.team_id).first()
    if other is None:
        return None, _("Run %(id)s is not another capacity run of this team: it cannot be "
                       "shown beside this one.") % {"id": wanted[:20]}
    return other, ""


def _choices(run):
    """The team's other ended capacity runs, newest first, for "Compare with…"."""
    return list(Run.objects.filter(team_id=run.team_id, kind=Run.Kind.CAPACITY)
                .exclude(state__in=Run.ACTIVE).exclude(pk=run.pk).only(*LISTED)
                [:COMPARE_CHOICES])


def run_detail(request, id):
    run = access.run(request.user, id)
    capacity = run.kind == Run.Kind.CAPACITY
    other, other_problem = _other_run(request, run) if capacity else (None, "")
    shown = [run, other] if other else [run]
    may_stop = capacity and access.is_maintainer(request.user, run.team)
    config = {
        "id": run.pk, "kind": run.kind, "active": run.active,
        "runUrl": reverse("api:run_get", args=[run.pk]),
        "stopUrl": reverse("api:run_stop", args=[run.pk]),
        "samplesUrl": reverse("api:run_samples", args=[run.pk]),
        "other": ({"id": other.pk, "samplesUrl": reverse("api:run_samples", args=[other.pk])}
                  if other else None),
        "callUrl": reverse("api:call_get", args=[0]).removesuffix("0"),
        "errorKinds": {name: str(label) for name, label in ERROR_KINDS.items()},
        "text": {**_texts(), **_page_texts(run)},
    }
    if not capacity:
        config["compare"] = {"targets": run.result.get("targets", []),
                             "sameBody": run.result.get("same_body", False)}
    return render(request, "services/runs/run_detail.html", {
        "run": run, "capacity": capacity, "may_stop": may_stop, "other": other,
        "other_problem": other_problem, "choices": _choices(run) if capacity else [],
        "rows": figure_rows(shown) if capacity else [],
        "targets": [] if capacity else _targets(run), "config": config,
    })


def _page_texts(run):
    return {
        "state": {state: str(label) for state, label in Run.State.choices},
        "stopping": _("Stopping…"),
        "stopFailed": _("The run could not be stopped: %(reason)s"),
        "unreachable": _("The portal could not be reached; the page will try again."),
        "httpError": _("The portal answered %(status)s."),
        "loggedOut": _("You are logged out: log in again, then reload this page."),
        "noSamples": _("No request has finished yet."),
        "latency": _("Latency (ms)"),
        "sinceStart": _("Seconds since the run began"),
        "requests": _("Requests"),
        "ok": _("2xx"),
        "notOk": _("Other answers and failures"),
        "percentile": _("Percentile"),
        "thisRun": _("Run #%(id)s") % {"id": run.pk},
        "otherRun": _("Run #%(id)s"),
        "noAnswer": _("No answer: %(error)s"),
        "noBody": _("(no body)"),
        "binary": _("Binary body, %(size)s bytes."),
        "sameAsFirst": _("The same body as %(target)s."),
        "differsFromFirst": _("Differences from %(target)s (− its lines, + this target's):"),
        "tooLong": _("The bodies are too long to diff line by line; the lines are compared "
                     "in place."),
        "statusDiffers": _("Another status than %(target)s's (%(status)s)."),
        "noStatus": _("no answer"),
        "headersSameAsFirst": _("The same headers as %(target)s."),
        "headersDifferFromFirst": _("Headers: differences from %(target)s (− its lines, + this "
                                    "target's):"),
        "loadFailed": _("The answer could not be loaded: %(reason)s"),
    }


def _targets(run):
    """A compare's targets, for the page: each with its label and its figures' texts."""
    texts, names = _texts(), _latency_names()
    targets = []
    for index, target in enumerate(run.result.get("targets", [])):
        figures = target.get("latency_ms") or {}
        targets.append({
            "index": index, "service": target.get("service", ""),
            "endpoint": target.get("endpoint", ""),
            "endpoint_label": Service.EndpointKind(target["endpoint"]).label
            if target.get("endpoint") in Service.EndpointKind.values else target.get("endpoint"),
            "statuses": _counts(target.get("statuses") or {}),
            "calls": len(target.get("calls", [])),
            "latency": [(f"{_('Latency')} {names.get(name, name)}",
                         texts["ms"] % {"ms": _number(figures[name])} if name in figures
                         else None) for name in LATENCY],
        })
    return targets


def recent_runs(service):
    """A service page's "Capacity runs": its last runs and compares, in one query."""
    return list(Run.objects.filter(service=service).only(*LISTED)[:RECENT_RUNS])


def builder_runs(user, service):
    """For the builder's run and compare dialogs (static/js/builder_run.js): whether the user
    may start capacity runs (maintainers) and why not, the limits, and the targets a compare
    may pick: this service's endpoints and those of the team's other services."""
    may_run = access.is_maintainer(user, service.team)
    services = [service, *access.services(user).filter(team_id=service.team_id)
                .exclude(pk=service.pk).only("slug", "name", "public_endpoint", "vpc_endpoint")
                .order_by("name")]
    targets = [{"service": one.slug, "name": one.name, "endpoint": kind, "label": str(label),
                "url": one.endpoint_url(kind), "own": one.pk == service.pk}
               for one in services for kind, label in Service.EndpointKind.choices
               if one.endpoint_url(kind)]
    return {
        "mayRun": may_run,
        "refusal": "" if may_run else _("Only maintainers of the team “%(team)s” can start "
                                        "capacity runs.") % {"team": service.team.name},
        "runsUrl": reverse("api:run_start", kwargs={"slug": service.slug}),
        "compareUrl": reverse("api:compare_targets"),
        "runPageUrl": reverse("run_detail", args=[0]).removesuffix("0/"),
        "limits": {"total": settings.EASPORTAL_RUN_MAX_TOTAL,
                   "concurrency": settings.EASPORTAL_RUN_MAX_CONCURRENCY,
                   "maxSeconds": settings.EASPORTAL_RUN_MAX_SECONDS},
        "defaults": {"total": min(100, settings.EASPORTAL_RUN_MAX_TOTAL),
                     "concurrency": min(8, settings.EASPORTAL_RUN_MAX_CONCURRENCY),
                     "rounds": COMPARE_ROUNDS[2]},
        "compareTargets": list(COMPARE_TARGETS), "compareRounds": list(COMPARE_ROUNDS[:2]),
        "targets": targets,
        "text": {
            "checking": _("Checking…"),
            "starting": _("Starting…"),
            "comparing": _("Sending %(count)s requests, one target after the other…"),
            "unreachable": _("The portal could not be reached; nothing was started."),
            "httpError": _("The portal answered %(status)s; nothing was started."),
            "loggedOut": _("You are logged out: log in again in another tab (this form stays "
                           "as it is), then try again."),
            "bytes": _("%(size)s bytes"),
            "requests": _("%(total)s requests, %(concurrency)s at once"),
            "seconds": _("stops after %(seconds)s s at most"),
            "token": _("the service's token, added by the portal"),
            "pickTargets": _("Pick from %(min)s to %(max)s targets."),
            "wholeNumbers": _("N, C and the seconds are whole numbers."),
        },
    }
