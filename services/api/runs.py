"""Capacity runs and compares (docs/api.md, "Capacity runs and compare"): maintainers start and
stop runs, which a background worker executes; members watch them and compare targets."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from ninja import Router

from services import access, calls, saved
from services.api import run_schemas as shapes
from services.api.calls import call_request
from services.api.core import ERRORS
from services.api.schemas import ErrorOut
from services.errors import Refusal
from services.models import Call, Run
from services.runs import compare, control, state

router = Router(tags=["capacity runs"])
LIST_LIMIT = 50


def _request(user, slug, payload):
    """The CallRequest a run body describes: its request, a saved request, or the defaults."""
    if payload.saved is not None:
        if payload.request is not None:
            raise Refusal(400, _("Give either request or saved, not both."))
        kept = access.saved_request(user, payload.saved)
        if kept.service.slug != slug:
            raise Refusal(400, _("saved: the saved request %(id)s is not one of “%(slug)s”.")
                          % {"id": payload.saved, "slug": slug})
        return saved.sendable(kept)
    if payload.request is not None and payload.request.stream:
        raise Refusal(400, _("request.stream: a run reads every answer itself; ask the model "
                             "to stream in the body instead (\"stream\": true)."))
    return (call_request(payload.request) if payload.request is not None
            else calls.CallRequest())


@router.post("/services/{slug:slug}/runs",
             response={200: shapes.RunPreview, 202: shapes.RunOut, 413: ErrorOut,
                       503: ErrorOut, **ERRORS})
@sensitive_variables()
def run_start(request, slug: str, payload: shapes.RunIn):
    """Queue a capacity run (maintainers): `total` requests, `concurrency` at once. With
    `dry_run`, the same checks and what it would send, nothing queued."""
    wanted = _request(request.user, slug, payload)
    if payload.dry_run:
        ready, seconds = control.prepare(request.user, slug, wanted, payload.total,
                                         payload.concurrency, payload.max_seconds)
        kept = control.stored_request(ready)
        return JsonResponse({
            "service": ready.service.slug, "endpoint": ready.kind, "method": kept["method"],
            "url": calls.redact_text(ready.outbound.url, ready.token),
            "headers": dict(kept["headers"]),
            "body_size": len(ready.outbound.body), "total": payload.total,
            "concurrency": payload.concurrency, "max_seconds": seconds})
    run = control.start(request.user, slug, wanted, payload.total, payload.concurrency,
                        payload.max_seconds)
    return JsonResponse(shapes.run_out(run), status=202)


@router.get("/services/{slug:slug}/runs", response={200: list[shapes.RunOut], **ERRORS})
def run_list(request, slug: str):
    """The service's capacity runs and compares, newest first (the last 50)."""
    service = access.service(request.user, slug)
    runs = Run.objects.filter(service=service)
    state.fail_stale(runs)
    return JsonResponse([shapes.run_out(run) for run in runs[:LIST_LIMIT]], safe=False)


@router.get("/runs/{int:id}", response={200: shapes.RunOut, **ERRORS})
def run_get(request, id: int):
    run = access.run(request.user, id)
    if run.state == Run.State.RUNNING:
        state.fail_stale(Run.objects.filter(pk=run.pk))
        run.refresh_from_db()
    return JsonResponse(shapes.run_out(run))


@router.post("/runs/{int:id}/stop", response={200: shapes.RunOut, **ERRORS})
def run_stop(request, id: int):
    """Stop a run (maintainers): a queued one at once, a running one within a moment, its
    requests in flight cancelled."""
    return JsonResponse(shapes.run_out(control.stop(request.user, access.run(request.user, id))))


@router.get("/runs/{int:id}/samples", response={200: shapes.Samples, **ERRORS})
def run_samples(request, id: int):
    """Each request of the run, for the plots: when it started, its latency, its status."""
    run = access.run(request.user, id)
    started = run.started_at or run.created_at
    rows = Call.objects.filter(run_id=run.pk).order_by("id").values_list(
        "created_at", "elapsed_ms", "status")
    return JsonResponse({"samples": [
        [round((created - started).total_seconds(), 4), elapsed, status]
        for created, elapsed, status in rows]})


@router.post("/compare", response={200: shapes.CompareOut, 413: ErrorOut, **ERRORS})
def compare_targets(request, payload: shapes.CompareIn):
    """Send one request to 2 to 4 targets, `rounds` times each, in turn; the answers side by
    side (members of the targets' team)."""
    wanted = call_request(payload.request) if payload.request is not None else None
    if payload.request is not None and payload.request.stream:
        raise Refusal(400, _("request.stream: a compare reads every answer itself."))
    run = compare.compare(request.user, [(target.service, target.endpoint)
                                         for target in payload.targets],
                          wanted, payload.rounds)
    return JsonResponse({"id": run.pk, **run.result})
