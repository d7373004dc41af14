"""The capacity runs' figures of `make bench` (tests/bench/run.py calls measure() per database):

(l) a run of N = 500 requests at C = 16 against the emulator's /slow route at 50 ms, through a
    real worker (`manage.py run_worker`), beside a direct client of the same concurrency (16
    threads, each with a kept-alive session) in the same minutes: the run's p50 and req/s
    should be within 10% of the direct client's, and the upstream (the emulator's record of
    when each request started and finished) should never see more than C at once.
(m) the worker's own time per request: a run of 300 requests one at a time (C = 1) against the
    fast echo route, its duration per request against a direct client's time per request;
    within 2 ms of what a portal invoke adds ((a)).
"""

import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from emulator import most_at_once

ROOT = Path(__file__).resolve().parent.parent.parent
N, C, SLOW = 500, 16, 0.05
OVERHEAD_N = 300

ROWS = [
    ("run direct", f"(l) direct client, {N} requests to /slow (50 ms) at C = {C}: p50 ms, "
                   "req/s"),
    ("run run", f"(l) capacity run, the same {N} at C = {C} through the worker: p50 ms, req/s"),
    ("run ratio", "(l) run / direct: p50, req/s (target: each within 10%)"),
    ("run peak", f"(l) most requests the upstream saw at once during the run (target <= {C})"),
    ("run overhead", f"(m) worker's time per request, {OVERHEAD_N} at C = 1 to echo: run − "
                     "direct, ms (target: within 2 ms of (a)'s added median)"),
]


def direct(emulator, path, total, concurrency):
    """(per-request latencies in ms, wall seconds) of a plain client: `concurrency` threads,
    each with its own kept-alive session, taking requests until `total` are done."""
    headers = {"Authorization": emulator.token}
    latencies, lock, taken = [], threading.Lock(), [0]

    def sender():
        session = requests.Session()
        while True:
            with lock:
                if taken[0] >= total:
                    return
                taken[0] += 1
            started = time.perf_counter()
            response = session.get(emulator.base + path, headers=headers)
            response.raise_for_status()
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=sender) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started


def run(target, path, total, concurrency):
    """The Run as the API gives it once ended."""
    session, url = target.session, target.portal.url
    response = session.post(f"{url}/api/services/echo/runs", json={
        "request": {"method": "GET", "path": path}, "total": total,
        "concurrency": concurrency})
    response.raise_for_status()
    run_id = response.json()["id"]
    ends = time.monotonic() + 300
    while time.monotonic() < ends:
        state = session.get(f"{url}/api/runs/{run_id}").json()
        if state["state"] not in ("queued", "running"):
            if state["state"] != "done":
                sys.exit(f"the bench's run ended {state['state']}: {state['reason']}")
            return state
        time.sleep(0.2)
    sys.exit("the bench's run did not end within 300 s")


def measure(target, emulator):
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--no-reload", "--no-startup-delay",
         "--interval", "0.1"], cwd=ROOT, env=target.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        slow = f"/slow?seconds={SLOW}"
        direct(emulator, slow, 64, C)  # warm: connections on both sides
        latencies, seconds = direct(emulator, slow, N, C)
        direct_p50, direct_rps = statistics.median(latencies), N / seconds
        measured = run(target, slow, N, C)
        records = [record for record in requests.get(
            emulator.control, params={"last": N}).json()["received"]
            if record["path"].endswith("/slow")]
        run_p50, run_rps = measured["latency_ms"]["p50"], measured["rps"]
        one_direct, one_seconds = direct(emulator, "/echo", OVERHEAD_N, 1)
        one_run = run(target, "/echo", OVERHEAD_N, 1)
    finally:
        worker.terminate()
        worker.wait(30)
    per_direct = one_seconds * 1000 / OVERHEAD_N
    per_run = one_run["elapsed_s"] * 1000 / one_run["sent"]
    return {
        "run direct": f"{direct_p50:.2f}, {direct_rps:.0f}",
        "run run": f"{run_p50:.2f}, {run_rps:.0f}",
        "run ratio": f"{run_p50 / direct_p50:.3f}, {run_rps / direct_rps:.3f}",
        "run peak": f"{most_at_once(records)} of {len(records)} requests",
        "run overhead": f"{per_run - per_direct:.2f} ({per_run:.2f} − {per_direct:.2f})",
    }
