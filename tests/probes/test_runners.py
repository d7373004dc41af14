"""Two `manage.py run_probes` side by side, as two machines would run them: every due probe is
claimed by one of them, so the emulator sees each service exactly once in an interval."""

import os
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from services.models import Probe
from tests.processes import Worker

pytestmark = pytest.mark.django_db(transaction=True)
SERVICES = 40
STARTED = "Checking probes every"


def printed(runner):
    """What a running runner printed so far: read at an offset, so that the file position it
    writes at does not move."""
    return os.pread(runner.log.fileno(), 1 << 20, 0).decode(errors="replace")


def wait_for(condition, seconds, what):
    ends = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < ends, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def claims(output):
    """The probes a runner says it claimed, pass by pass (verbosity 2)."""
    return [int(line.split()[0]) for line in output.splitlines()
            if line.endswith("probes claimed.")]


def test_two_runners_side_by_side_probe_each_service_once(acme, start_emulator):
    upstream = start_emulator()
    # Not due until both runners are looking.
    later = timezone.now() + timedelta(hours=1)
    for n in range(SERVICES):
        service = upstream.service(acme, "demo-echo", slug=f"p{n}")
        Probe.objects.create(service=service, enabled=True, method="GET", path=f"/echo/{n}",
                             interval_s=30, next_at=later)
    # Two ticks, so that neither runner's looks keep coming just before the other's.
    runners = [Worker("run_probes", "--tick", tick, "--pool", "8", "--verbosity", "2")
               for tick in ("0.05", "0.07")]
    try:
        wait_for(lambda: all(STARTED in printed(runner) for runner in runners), 60,
                 "both runners to start")
        time.sleep(0.2)  # past the first look of each
        assert len(upstream.app.received) == 0
        # Due one after another over two seconds, under both runners' looks: each look
        # finds those that fell due since, and the two compete for them.
        now = timezone.now()
        for n, probe in enumerate(Probe.objects.order_by("service_id")):
            Probe.objects.filter(pk=probe.pk).update(next_at=now + timedelta(seconds=n * 0.05))
        wait_for(lambda: len(upstream.app.received) >= SERVICES, 30, "every probe to arrive")
        time.sleep(1.5)  # time for a second probe of any service, were one to come
    finally:
        outputs = [runner.output() for runner in runners]
    arrivals = Counter(record["path"] for record in upstream.app.received)
    assert arrivals == Counter({f"/api/predict/demo-echo/echo/{n}": 1 for n in range(SERVICES)})
    assert set(Probe.objects.values_list("state", flat=True)) == {"up"}
    # What each runner says it claimed adds up to one claim per service, and each claimed
    # some: both were contending for the same probes, not one of them alone.
    claimed = [sum(claims(output)) for output in outputs]
    assert sum(claimed) == SERVICES, claimed
    assert all(claimed), claimed
