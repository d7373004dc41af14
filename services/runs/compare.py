"""Compare: one request sent to 2 to 4 targets (a service's public and VPC endpoints, or several
services of one team), `rounds` times each, in turn (A, B, A, B, ...), so that a change of
conditions over time falls on every target alike. Every request is a Call (source "run") of a
Run of kind "compare", which keeps the answer's summary for its page.

A compare runs in the request that asked for it, for up to a minute and a round, so it beats a
heartbeat before each request, as a run's worker does: one whose heartbeat is older than
state.STALE_S is taken for dead (services/runs/state.py)."""

import dataclasses
import time
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from services import calls
from services.errors import Refusal
from services.models import Run
from services.runs.stats import summary

MIN_TARGETS, MAX_TARGETS = 2, 4
MAX_ROUNDS = 20
# A compare answers in the request that asked for it: no new round starts after this long.
MAX_SECONDS = 60


@sensitive_variables()
def compare(user: Any, targets: list[tuple[str, str | None]],
            request: calls.CallRequest | None, rounds: int) -> Run:
    """targets: (service slug, endpoint kind or None for its default). Raises Refusal before
    anything is sent."""
    if not MIN_TARGETS <= len(targets) <= MAX_TARGETS:
        raise Refusal(400, _("targets: give from %(min)s to %(max)s targets, not %(count)s.")
                      % {"min": MIN_TARGETS, "max": MAX_TARGETS, "count": len(targets)})
    if not 1 <= rounds <= MAX_ROUNDS:
        raise Refusal(400, _("rounds must be from 1 to %(max)s, not %(value)s.")
                      % {"max": MAX_ROUNDS, "value": rounds})
    request = request or calls.CallRequest()
    readies = []
    for slug, endpoint in targets:
        wanted = dataclasses.replace(request, endpoint=endpoint or request.endpoint)
        readies.append(calls.ready(user, slug, wanted))
    named = [(ready.service.slug, ready.kind) for ready in readies]
    if len(set(named)) != len(named):
        raise Refusal(400, _("targets: each target must differ from the others (service and "
                             "endpoint)."))
    if len({ready.service.team_id for ready in readies}) != 1:
        raise Refusal(400, _("targets: compare services of one team."))
    first = readies[0]
    now = timezone.now()
    run = Run.objects.create(
        kind=Run.Kind.COMPARE, team_id=first.service.team_id, service=first.service,
        service_slug=first.service.slug, service_name=first.service.name, user=user,
        username=user.get_username(), state=Run.State.RUNNING, started_at=now,
        heartbeat_at=now, total=rounds * len(readies), concurrency=1, max_seconds=0,
        request={"method": first.outbound.method, "path": first.path},
        url=calls.redact_text(first.outbound.url, first.token))
    sent: list[list[Any]] = [[] for _ready in readies]
    started = time.monotonic()
    try:
        for _round in range(rounds):
            if time.monotonic() - started > MAX_SECONDS:
                run.reason = _("Stopped after %(done)s of %(rounds)s rounds: a compare ends "
                               "within %(seconds)s s.") % {"done": _round, "rounds": rounds,
                                                           "seconds": MAX_SECONDS}
                break
            for index, ready in enumerate(readies):
                _beat(run, ready, sent)
                sent[index].append(_send(user, ready, run))
    finally:
        run.result = {**_result(readies, sent), "rounds": len(sent[0]), "reason": run.reason}
        run.state, run.finished_at = Run.State.DONE, timezone.now()
        run.sent = sum(len(calls_) for calls_ in sent)
        run.ok = sum(1 for calls_ in sent for call in calls_
                     if call.status and 200 <= call.status < 300 and not call.error)
        run.latency_ms = summary([call.elapsed_ms for calls_ in sent for call in calls_])
        run.save()
    return run


def _beat(run: Run, ready: calls.Ready, sent: list[list[Any]]) -> None:
    """The heartbeat before a request, with the requests sent so far. One request may last its
    service's whole deadline, far longer than state.STALE_S, so the beat holds until then."""
    Run.objects.filter(pk=run.pk, state=Run.State.RUNNING).update(
        heartbeat_at=timezone.now() + timedelta(seconds=ready.service.timeout_s),
        sent=sum(len(made) for made in sent))


@sensitive_variables()
def _send(user: Any, ready: calls.Ready, run: Run):
    created_at = timezone.now()
    response, figures = calls.send_ready(ready, user=user)
    values = calls.request_values(user, ready.service, ready.kind, ready.path, ready.outbound,
                                  ready.token, source="run")
    return calls.insert_call(**values, **calls.response_values(response, ready.token, figures),
                             created_at=created_at, run_id=run.pk)


def _result(readies: list[calls.Ready], sent: list[list[Any]]) -> dict[str, Any]:
    targets = []
    for ready, made in zip(readies, sent, strict=True):
        statuses: dict[str, int] = {}
        for call in made:
            key = str(call.status) if call.status is not None else "failed"
            statuses[key] = statuses.get(key, 0) + 1
        targets.append({
            "service": ready.service.slug, "endpoint": ready.kind,
            "calls": [call.pk for call in made], "statuses": statuses,
            "latency_ms": summary([call.elapsed_ms for call in made
                                   if call.status is not None])})
    firsts = [bytes(made[0].response_body) if made else None for made in sent]
    return {"targets": targets,
            "same_body": all(made for made in sent) and len(set(firsts)) == 1}
