"""A Run's state in the database, shared by its control (services/runs/control.py) and the
engine that executes it in the worker (services/runs/engine.py): claiming a queued run,
progress with a heartbeat, the end, and the runs whose worker died (their heartbeat is older
than STALE_S)."""

import base64
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from services import access, calls
from services.models import Run, Service
from services.runs.stats import Tally

STALE_S = 15


def may_run(user: Any, service: Service) -> bool:
    return access.is_maintainer(user, service.team)


def call_request(run: Run) -> calls.CallRequest:
    kept = run.request
    return calls.CallRequest(endpoint=kept["endpoint"], method=kept["method"], path=kept["path"],
                             headers=dict(kept["headers"]),
                             body=base64.b64decode(kept["body_base64"]))


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
