"""Starting, watching and stopping capacity runs (docs/api.md, "Capacity runs and compare"): the
checks made before anything is queued, the Run's life from queued to its end, and the runs
whose worker died.

A run is checked when it is started as a call would be (who, token, path, headers, 1 MB,
addresses), against the limits, and against the one active run a service may have (a unique
index holds it, so two starts at once cannot both pass); only then is it queued with Django's
tasks API (services/runs/tasks.py) and written to the audit log. A running run writes a
heartbeat with its figures every quarter second; one whose heartbeat is older than
state.STALE_S has lost its worker and is marked failed, with what it had measured, when it is
next looked at.
"""

import base64
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from services import access, calls
from services.errors import Refusal
from services.models import AuditEvent, Run, Service
from services.runs import state, tasks
from services.runs.stats import Tally


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


@sensitive_variables()
def prepare(user: Any, slug: str, request: calls.CallRequest, total: int, concurrency: int,
            max_seconds: int | None) -> tuple[calls.Ready, int]:
    """Every check of a start, nothing queued: (the request ready to send, max_seconds)."""
    service = access.service(user, slug)
    access.require_maintainer(user, service.team, _("start capacity runs"))
    seconds = check_limits(total, concurrency, max_seconds)
    ready = calls.ready(user, service, request)
    state.fail_stale(Run.objects.filter(service=service))
    if Run.objects.filter(service=service, kind=Run.Kind.CAPACITY,
                          state__in=Run.ACTIVE).exists():
        raise _busy(service)
    return ready, seconds


@sensitive_variables()
def start(user: Any, slug: str, request: calls.CallRequest, total: int, concurrency: int,
          max_seconds: int | None = None) -> Run:
    """Checks, then queues a run and records run.started; raises Refusal (nothing queued)."""
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
                team_id=service.team_id, service_slug=service.slug, target=str(run.pk),
                detail={"run": run.pk, "total": total, "concurrency": concurrency,
                        "method": ready.outbound.method, "url": run.url})
    except IntegrityError:
        raise _busy(service) from None
    try:
        tasks.capacity_run.enqueue(run.pk)
    except Exception as exc:
        state.finish(run, Run.State.FAILED, _("The run could not be queued: %(reason)s")
               % {"reason": exc.__class__.__name__}, Tally())
        raise Refusal(503, _("The run could not be queued (%(reason)s); is the task queue "
                             "running?") % {"reason": exc.__class__.__name__}) from None
    return run


def _busy(service: Service) -> Refusal:
    return Refusal(409, _("“%(slug)s” has a capacity run queued or running already; stop it "
                          "or wait for it to end.") % {"slug": service.slug})


@sensitive_variables()
def stored_request(ready: calls.Ready) -> dict[str, Any]:
    """What the run sends, without the token: the worker sends it again."""
    headers = [[name, value] for name, value in ready.outbound.headers.items()
               if name.lower() != "authorization"]
    return {"endpoint": ready.kind, "method": ready.outbound.method, "path": ready.path,
            "headers": headers,
            "body_base64": base64.b64encode(ready.outbound.body).decode("ascii")}


def stop(user: Any, run: Run) -> Run:
    """Asks a run to stop: a queued one stops at once, a running one at its next step."""
    if run.kind != Run.Kind.CAPACITY:
        raise Refusal(400, _("Only a capacity run can be stopped."))
    access.require_maintainer(user, run.team, _("stop capacity runs"))
    now = timezone.now()
    if Run.objects.filter(pk=run.pk, state=Run.State.QUEUED).update(
            state=Run.State.STOPPED, reason=_("Stopped by a user before it started."),
            finished_at=now):
        state.redact(run.pk)
    else:
        Run.objects.filter(pk=run.pk, state=Run.State.RUNNING).update(stop_requested=True)
    run.refresh_from_db()
    return run
