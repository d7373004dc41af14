"""Probes (docs/api.md, "Probes and status"): each service's own check, sent through the call
path (calls.probe: the token, the request's checks, pinning, the deadline, the Call recorded with
source "probe"), and what it found.

A probe is due when its next_at has passed, or at once when it was just created or changed
(next_at null). Whoever runs probes claims a due one with a compare-and-set update that moves
next_at forward one interval from the value it read (the pattern of healthchecks' sendalerts):
of several runners that read the same probe, exactly one update matches, so two
`manage.py run_probes` side by side never probe a service twice in one interval. The claimed
probes are checked by a bounded pool of threads.

A check sets the probe's state: up when the answer has the expected status and came whole (not
cut by the deadline, a broken connection or EASPORTAL_MAX_RESPONSE_BYTES), down otherwise,
unknown when nothing could be sent (a token the keys cannot read, a request or address the
portal refuses), with the reason. A change between up and down is an
AuditEvent (service.down, service.up), in the same transaction as the state. Each check is
also counted in its service's ProbeHour, which the status board reads (services/status.py).
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from services import calls
from services.errors import Refusal
from services.models import AuditEvent, Probe, ProbeHour, Service
from services.models.probes import hour_number
from services.net import join
from services.net.errors import PathError

log = logging.getLogger(__name__)

DEFAULT_POOL = 32
LLM_PATH = "/v1/models"
FIELDS = ("enabled", "method", "path", "body", "interval_s", "expect_status")


def probe_of(service: Service) -> Probe:
    """The service's probe, or the default one it would have (not saved): for an LLM service
    GET /v1/models, else the service's own default request; every 300 s, expecting 200, off."""
    try:
        return service.probe
    except Probe.DoesNotExist:
        pass
    if service.kind == Service.Kind.LLM:
        return Probe(service=service, method="GET", path=LLM_PATH)
    return Probe(service=service, method=service.default_method or "GET",
                 path=service.default_path, body=service.default_body)


def checked(service: Service, changes: dict[str, Any]) -> Probe:
    """The service's probe with changes applied and checked (not saved); raises Refusal (400)
    naming what is wrong, or 409 when turning it on for a token the keys cannot read."""
    probe = probe_of(service)
    for name, value in changes.items():
        if name not in FIELDS:
            raise Refusal(400, _("probe.%(name)s is not a field of a probe.") % {"name": name})
        setattr(probe, name, value)
    probe.method = (probe.method or "").upper()
    if probe.method not in Service.Method.values:
        raise Refusal(400, _("probe.method must be one of %(methods)s.")
                      % {"methods": ", ".join(Service.Method.values)})
    if not isinstance(probe.interval_s, int) or probe.interval_s < 30:
        raise Refusal(400, _("probe.interval_s must be at least 30 seconds, not %(value)s.")
                      % {"value": probe.interval_s})
    if probe.interval_s > 86400:
        raise Refusal(400, _("probe.interval_s must be at most 86400 seconds (a day)."))
    if not isinstance(probe.expect_status, int) or not 100 <= probe.expect_status <= 599:
        raise Refusal(400, _("probe.expect_status must be an HTTP status, 100 to 599."))
    probe.path = probe.path or ""
    probe.body = probe.body or ""
    if len(probe.path) > calls.MAX_PATH_CHARS:
        raise Refusal(400, _("probe.path is longer than %(limit)s characters.")
                      % {"limit": calls.MAX_PATH_CHARS})
    try:
        join.check_path(probe.path)
    except PathError as exc:
        raise Refusal(400, _("probe.path: %(reason)s") % {"reason": calls.translated(exc)}) \
            from None
    if len(probe.body.encode()) > 1_048_576:
        raise Refusal(413, _("probe.body is over the gateway's 1 MB."))
    if probe.enabled and service.token_problem:
        raise Refusal(409, _("The probe cannot be turned on: %(problem)s")
                      % {"problem": service.token_problem})
    return probe


def save(probe: Probe) -> None:
    """Saves a probe that was changed: due at once, so its state shows without waiting."""
    probe.next_at = None
    probe.save()


def due(now=None):
    now = now or timezone.now()
    return (Probe.objects.filter(enabled=True)
            .filter(Q(next_at__isnull=True) | Q(next_at__lte=now))
            .select_related("service", "service__team"))


def claim(probe: Probe) -> bool:
    """Takes a due probe for this runner: moves its next_at one interval on, if nobody else
    moved it since it was read."""
    rows = Probe.objects.filter(pk=probe.pk, enabled=True)
    rows = (rows.filter(next_at__isnull=True) if probe.next_at is None
            else rows.filter(next_at=probe.next_at))
    later = timezone.now() + timedelta(seconds=probe.interval_s)
    return rows.update(next_at=later) == 1


def run_pass(pool: ThreadPoolExecutor, wait: bool = True) -> int:
    """Claims every due probe and checks each in the pool; with wait, returns when all are
    checked. The number claimed."""
    claimed = [probe for probe in due() if claim(probe)]
    futures = [pool.submit(_check_in_thread, probe) for probe in claimed]
    if wait:
        for future in futures:
            future.result()
    return len(claimed)


def _check_in_thread(probe: Probe) -> None:
    try:
        check(probe)
    except Exception:  # one probe's failure must not stop the others
        log.exception("The probe of %s failed", probe.service_id)
    finally:
        close_old_connections()


def check(probe: Probe) -> Probe:
    """Sends the probe once and records what it found."""
    service = probe.service
    request = calls.CallRequest(method=probe.method, path=probe.path,
                                body=probe.body.encode(),
                                headers={"Content-Type": "application/json"} if probe.body
                                else {})
    try:
        call = calls.probe(service, request)
    except Refusal as exc:
        return _found(probe, Probe.State.UNKNOWN, None, exc.message)
    if call.error:
        return _found(probe, Probe.State.DOWN, call.elapsed_ms, call.error)
    if call.status != probe.expect_status:
        return _found(probe, Probe.State.DOWN, call.elapsed_ms,
                      _("HTTP %(status)s, where %(expected)s was expected.")
                      % {"status": call.status, "expected": probe.expect_status})
    if call.response_truncated:
        return _found(probe, Probe.State.DOWN, call.elapsed_ms,
                      _("The answer was cut at the limit of %(limit)s bytes "
                        "(EASPORTAL_MAX_RESPONSE_BYTES): it did not come whole.")
                      % {"limit": settings.EASPORTAL_MAX_RESPONSE_BYTES})
    return _found(probe, Probe.State.UP, call.elapsed_ms, "")


def _found(probe: Probe, state: str, latency_ms: float | None, error: str) -> Probe:
    now = timezone.now()
    before = Probe.objects.filter(pk=probe.pk).values_list("state", flat=True).first()
    with transaction.atomic():
        Probe.objects.filter(pk=probe.pk).update(state=state, last_checked_at=now,
                                                 last_latency_ms=latency_ms,
                                                 last_error=error[:2000])
        if {before, state} == {Probe.State.UP, Probe.State.DOWN}:
            service = probe.service
            AuditEvent.objects.create(
                username="", action=(AuditEvent.Action.SERVICE_DOWN if state == Probe.State.DOWN
                                     else AuditEvent.Action.SERVICE_UP),
                team_id=service.team_id, service_slug=service.slug, target=service.slug,
                detail={"error": error[:500]} if error else {})
    if state != Probe.State.UNKNOWN:
        _count(probe.service_id, now, state == Probe.State.UP, latency_ms or 0.0)
    probe.state, probe.last_checked_at, probe.last_latency_ms, probe.last_error = (
        state, now, latency_ms, error)
    return probe


def _count(service_id: int, now, up: bool, latency_ms: float) -> None:
    hour = hour_number(now)
    changes = {"checks": F("checks") + 1, "ups": F("ups") + int(up),
               "latency_sum_ms": F("latency_sum_ms") + latency_ms,
               "latency_max_ms": Greatest(F("latency_max_ms"), latency_ms)}
    rows = ProbeHour.objects.filter(service_id=service_id, hour=hour)
    if rows.update(**changes):
        return
    try:
        with transaction.atomic():
            ProbeHour.objects.create(service_id=service_id, hour=hour, checks=1, ups=int(up),
                                     latency_sum_ms=latency_ms, latency_max_ms=latency_ms)
    except IntegrityError:  # another runner made it first
        rows.update(**changes)
