"""`make bench`, saved requests and export (imported by run.py): the figures of issue 11,
measured through a portal served as `make run` serves it.

  (j) GET /api/calls/export?format=jsonl of the whole seeded history (every row: as a
      superuser; past EXPORT_ALL_UP_TO rows, about as many of the newest, by a date filter),
      read as a client would: rows per second, and how much the serving worker's
      resident memory grew over what it was before (sampled every 20 ms);
  (k) the saved-request pages and routes, warm, with SAVED saved requests on the service:
      the service page that lists them, the builder opened on one, GET of the list and of one.
"""

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SAVED = 50
SAVED_SETUP = """
from django.contrib.auth import get_user_model
from services.models import SavedRequest, Service
get_user_model().objects.create_superuser("bench-root", password="{password}")
service = Service.objects.get(slug="echo")
user = get_user_model().objects.get(username="bench")
SavedRequest.objects.bulk_create([SavedRequest(
    service=service, name=f"Saved {{n:02}}", description="A request the team keeps.",
    endpoint="public", method="POST", path=f"/echo/{{n}}",
    header_pairs=[["Content-Type", "application/json"], ["X-Trace", str(n)]],
    body=b'{{"messages": [{{"role": "user", "content": "hello!"}}]}}', created_by=user,
    created_by_name="bench") for n in range({saved})])
print(SavedRequest.objects.order_by("id").first().pk)
"""


def _rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _workers(master_pid):
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


class MemoryWatch:
    """The largest growth of any worker's resident memory over its value at the start."""

    def __init__(self, master_pid):
        self.start = {pid: _rss_kib(pid) for pid in _workers(master_pid)}
        self.peak = dict(self.start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(0.02):
            for pid in self.peak:
                self.peak[pid] = max(self.peak[pid], _rss_kib(pid))

    def growth_mib(self):
        self._stop.set()
        self._thread.join()
        return max(self.peak[pid] - self.start[pid] for pid in self.start) / 1024


# Past this many seeded rows, (j) exports about as many of the newest calls (a date filter)
# rather than all.
EXPORT_ALL_UP_TO = 1_000_000
DAY_S = 86_400


def export_jsonl(target, session, query=""):
    """(rows, seconds, worker memory growth in MiB) of one export of everything (or of what
    query keeps)."""
    url = target.portal.url + "/api/calls/export?format=jsonl" + query
    # Both workers warm: the route, its imports and a database connection each.
    for _ in range(6):
        session.get(url + "&service=nothing-matches").raise_for_status()
    watch = MemoryWatch(target.portal.process.pid)
    rows = 0
    started = time.perf_counter()
    with session.get(url, stream=True) as response:
        response.raise_for_status()
        for piece in response.iter_content(1024 * 1024):
            rows += piece.count(b"\n")
    seconds = time.perf_counter() - started
    return rows, seconds, watch.growth_mib()


def measure(target, rows, manage, timed, summary, page_runs):
    """(j) and (k) for one target."""
    first_id = int(manage(target.env, "shell", "-c", SAVED_SETUP.format(
        password=target.password, saved=SAVED)).split()[-1])
    root = target.portal.session("bench-root")
    if rows <= EXPORT_ALL_UP_TO:
        query, expected, what = "", rows, "every call"
    else:  # run.py seeds a call a second, up to now: the newest days that hold about as many
        since = datetime.now(UTC) - timedelta(seconds=EXPORT_ALL_UP_TO - DAY_S)
        query = f"&since={since.date().isoformat()}"
        expected, what = EXPORT_ALL_UP_TO - 2 * DAY_S, "the newest calls, from a date"
    exported, seconds, growth = export_jsonl(target, root, query)
    # The seeded rows, and the calls the bench itself made before.
    assert exported >= expected, f"the export gave {exported:,} rows of {expected:,}"
    results = {
        "export rate": f"{exported / seconds:,.0f} rows/s ({exported:,} rows, {what}, in "
                       f"{seconds:.1f} s)",
        "export memory": f"{growth:.1f} MiB",
    }
    session = target.session
    base = target.portal.url
    for key, path in [("saved service page", "/services/echo/"),
                      ("saved builder", f"/services/echo/builder/?saved={first_id}"),
                      ("saved list api", "/api/services/echo/requests"),
                      ("saved get api", f"/api/requests/{first_id}")]:
        url = base + path
        session.get(url).raise_for_status()
        results[key] = summary(timed(lambda u=url: session.get(u).raise_for_status(), page_runs))
    return results


ROWS = [
    ("export rate", "(j) GET /api/calls/export?format=jsonl of every history row, or past "
                    f"{EXPORT_ALL_UP_TO:,} about as many of the newest, from a date (target at "
                    "least 20,000 rows/s)"),
    ("export memory", "(j) the serving worker's memory growth during that export (target < 50 "
                      "MiB)"),
    ("saved service page", f"(k) service page listing {SAVED} saved requests, median / p95 ms"),
    ("saved builder", "(k) builder opened on a saved request (?saved=), median / p95 ms"),
    ("saved list api", "(k) GET /api/services/{slug}/requests, median / p95 ms"),
    ("saved get api", "(k) GET /api/requests/{id}, median / p95 ms"),
]
