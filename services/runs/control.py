"""Starting, watching and stopping capacity runs (docs/api.md, "Capacity runs and compare"): the
checks made before anything is queued, the Run's life from queued to its end, and the runs
whose worker died.

A run is checked when it is started as a call would be (who, token, path, headers, 1 MB,
addresses), against the limits, and against the one active run a service may have (a unique
index holds it, so two starts at once cannot both pass); only then is it queued with Django's
tasks API (services/runs/tasks.py) and written to the audit log. A running run writes a
heartbeat with its figures every quarter second; one whose heartbeat is older than STALE_S has
lost its worker and is marked failed, with what it had measured, when it is next looked at.
"""

import base64
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from services import access, calls
from services.errors import Refusal
from services.models import AuditEvent, Run, Service
from services.runs.stats import Tally

STALE_S = 15


def limits() -> dict[str, int]:
    return {"total": settings.EASPORTAL_RUN_MAX_TOTAL,
            "concurrency": settings.EASPORTAL_RUN_MAX_CONCURRENCY,
            "max_seconds": settings.EASPORTAL_RUN_MAX_SECONDS}


def check_limits(total: int, concurrency: int, max_seconds: int | None) -> int:
    """max_seconds, or the limit when None; a Refusal (400) naming what is out of bounds."""
    top = limits()
    seconds = top["max_seconds"] if max_seconds is None else max_seconds
    for name, value in (("total", total), ("concurrency", concurrency),
                        ("max_seconds", seconds)):
        if not 1 <= value <= top[name]:
            raise Refusal(400, _("%(name)s must be from 1 to %(limit)s, not %(value)s.")
                          % {"name": name, "limit": top[name], "value": value})
    if concurrency > total:
        raise Refusal(400, _("concurrency (%(concurrency)s) cannot be more than total "
                             "(%(total)s): there would be nothing for the rest to send.")
                      % {"concurrency": concurrency, "total": total})
    return seconds


def may_run(user: Any, service: Service) -> bool:
    return access.is_maintainer(user, service.team)


def prepare(user: Any, slug: str, request: calls.CallRequest, total: int, concurrency: int,
            max_seconds: int | None) -> tuple[calls.Ready, int]:
    """Every check of a start, nothing queued: (the request ready to send, max_seconds)."""
    service = access.service(user, slug)
    access.require_maintainer(user, service.team, _("start capacity runs"))
    seconds = check_limits(total, concurrency, max_seconds)
    ready = calls.ready(user, service, request)
    fail_stale(Run.objects.filter(service=service))
    if Run.objects.filter(service=service, kind=Run.Kind.CAPACITY,
                          state__in=Run.ACTIVE).exists():
        raise _busy(service)
    return ready, seconds


def start(user: Any, slug: str, request: calls.CallRequest, total: int, concurrency: int,
          max_seconds: int | None = None) -> Run:
    """Checks, then queues a run and records run.started; raises Refusal (nothing queued)."""
    from services.runs import tasks  # the tasks API loads its backend: only when one starts

    ready, seconds = prepare(user, slug, request, total, concurrency, max_seconds)
    service = ready.service
    run = Run(kind=Run.Kind.CAPACITY, team_id=service.team_id, service=service,
              service_slug=service.slug, service_name=service.name, user=user,
              username=user.get_username(), total=total, concurrency=concurrency,
              max_seconds=seconds, request=stored_request(ready),
              url=calls.redact_text(ready.outbound.url, ready.token))
    try:
        with transaction.atomic():
            run.save()
            AuditEvent.objects.create(
                user=user, username=user.get_username(), action=AuditEvent.Action.RUN_STARTED,
                team_id=service.team_id, service_slug=service.slug,
                detail={"run": run.pk, "total": total, "concurrency": concurrency,
                        "method": ready.outbound.method, "url": run.url})
    except IntegrityError:
        raise _busy(service) from None
    try:
        tasks.capacity_run.enqueue(run.pk)
    except Exception as exc:
        finish(run, Run.State.FAILED, _("The run could not be queued: %(reason)s")
               % {"reason": exc.__class__.__name__}, Tally())
        raise Refusal(503, _("The run could not be queued (%(reason)s); is the task queue "
                             "running?") % {"reason": exc.__class__.__name__}) from None
    return run


def _busy(service: Service) -> Refusal:
    return Refusal(409, _("“%(slug)s” has a capacity run queued or running already; stop it "
                          "or wait for it to end.") % {"slug": service.slug})


def stored_request(ready: calls.Ready) -> dict[str, Any]:
    """What the run sends, without the token: the worker sends it again."""
    headers = [[name, value] for name, value in ready.outbound.headers.items()
               if name.lower() != "authorization"]
    return {"endpoint": ready.kind, "method": ready.outbound.method, "path": ready.path,
            "headers": headers,
            "body_base64": base64.b64encode(ready.outbound.body).decode("ascii")}


def call_request(run: Run) -> calls.CallRequest:
    kept = run.request
    return calls.CallRequest(endpoint=kept["endpoint"], method=kept["method"], path=kept["path"],
                             headers=dict(kept["headers"]),
                             body=base64.b64decode(kept["body_base64"]))


def stop(user: Any, run: Run) -> Run:
    """Asks a run to stop: a queued one stops at once, a running one at its next step."""
    if run.kind != Run.Kind.CAPACITY:
        raise Refusal(400, _("Only a capacity run can be stopped."))
    access.require_maintainer(user, run.team, _("stop capacity runs"))
    now = timezone.now()
    if Run.objects.filter(pk=run.pk, state=Run.State.QUEUED).update(
            state=Run.State.STOPPED, reason=_("Stopped by a user before it started."),
            finished_at=now):
        redact(run.pk)
    else:
        Run.objects.filter(pk=run.pk, state=Run.State.RUNNING).update(stop_requested=True)
    run.refresh_from_db()
    return run


def claim(run_id: int) -> bool:
    """Takes a queued run for this worker; False when it is not queued (any more)."""
    now = timezone.now()
    return bool(Run.objects.filter(pk=run_id, state=Run.State.QUEUED).update(
        state=Run.State.RUNNING, started_at=now, heartbeat_at=now))


def progress(run_id: int, figures: dict[str, Any]) -> None:
    Run.objects.filter(pk=run_id, state=Run.State.RUNNING).update(
        heartbeat_at=timezone.now(), **figures)


def stop_requested(run_id: int) -> bool:
    return bool(Run.objects.filter(pk=run_id).values_list("stop_requested", flat=True).first())


def finish(run: Run, state: str, reason: str, tally: Tally) -> None:
    figures = tally.figures() if tally.sent else {}
    Run.objects.filter(pk=run.pk, state__in=Run.ACTIVE).update(
        state=state, reason=reason, finished_at=timezone.now(), **figures)
    redact(run.pk)


def redact(run_id: int) -> None:
    """Once a run has ended, its request keeps no secret-looking header value."""
    run = Run.objects.filter(pk=run_id).only("request").first()
    if run is None or not run.request.get("headers"):
        return
    headers = calls.redact_headers(dict(run.request["headers"]), "\x00")
    run.request = {**run.request, "headers": [[name, value] for name, value in headers.items()]}
    run.save(update_fields=["request"])


def fail_stale(runs: QuerySet) -> None:
    """Marks failed the running runs among these whose worker stopped writing heartbeats."""
    stale = runs.filter(state=Run.State.RUNNING,
                        heartbeat_at__lt=timezone.now() - timedelta(seconds=STALE_S))
    for run_id in stale.values_list("pk", flat=True):
        if Run.objects.filter(pk=run_id, state=Run.State.RUNNING).update(
                state=Run.State.FAILED, finished_at=timezone.now(),
                reason=_("The worker stopped answering during the run; the figures are what it "
                         "had measured by then.")):
            redact(run_id)
