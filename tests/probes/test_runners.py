"""Two `manage.py run_probes` side by side, as two machines would run them: every due probe is
claimed by one of them, so the emulator sees each service exactly once in an interval."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from services.models import Probe
from tests.processes import Worker

pytestmark = pytest.mark.django_db(transaction=True)
SERVICES = 40


def test_two_runners_side_by_side_probe_each_service_once(acme, start_emulator):
    upstream = start_emulator()
    # Due in a moment, so that both runners are looking when they fall due.
    due = timezone.now() + timedelta(seconds=3)
    for n in range(SERVICES):
        service = upstream.service(acme, "demo-echo", slug=f"p{n}")
        Probe.objects.create(service=service, enabled=True, method="GET", path=f"/echo/{n}",
                             interval_s=30, next_at=due)
    runners = [Worker("run_probes", "--tick", "0.05", "--pool", "8", "--verbosity", "2")
               for _ in range(2)]
    try:
        ends = time.monotonic() + 30
        while len(upstream.app.received) < SERVICES and time.monotonic() < ends:
            time.sleep(0.05)
        time.sleep(1.5)  # time for a second probe of any service, were one to come
    finally:
        for runner in runners:
            runner.stop()
    arrivals = Counter(record["path"] for record in upstream.app.received)
    assert arrivals == Counter({f"/api/predict/demo-echo/echo/{n}": 1 for n in range(SERVICES)})
    assert set(Probe.objects.values_list("state", flat=True)) == {"up"}
    # What each runner says it claimed adds up to one claim per service.
    claimed = [sum(int(line.split()[0]) for line in runner.output().splitlines()
                   if line.endswith("probes claimed.")) for runner in runners]
    assert sum(claimed) == SERVICES, claimed
