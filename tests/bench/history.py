"""The history's figures of `make bench` (tests/bench/run.py calls measure() per database):

(b) every list and filter that the history page offers, as the page and as GET /api/calls,
    on the seeded history (10,000,000 calls by default, BENCH_ROWS): unfiltered, by service, by
    status class (a common one and a rare one), by user, by dates (from, to, and both), by
    path (a common word and one that no call holds, which reads the whole search window), and
    the next page of each kind of order (by id, by a filter's index, by date), read from the
    middle of the history. Target: median at most 50 ms each.

The seeded calls (run.py, SEED) are one a second back from now, in ten services of which eight
are the bench team's, twenty users, four paths and the usual mix of statuses.
"""

from datetime import UTC, datetime, timedelta

# What the page offers, as its query strings; {since}, {until}, {day} and {middle} are filled
# in from the seeded history. Each is measured as the page (/calls/) and as the API.
FILTERS = [
    ("all", ""),
    ("service", "service=svc-3"),
    ("status", "status=4xx"),
    ("status rare", "status=5xx"),
    ("user", "user=user-7"),
    ("since", "since={since}"),
    ("until", "until={until}"),
    ("dates", "since={day}&until={day}"),
    ("path", "path=models"),
    ("path none", "path=no-call-has-this"),
    ("next", "cursor={middle}"),
    ("next service", "service=svc-3&cursor={middle}"),
    ("next dates", "since={until}&cursor={middle}"),
]
LABELS = {
    "all": "unfiltered",
    "service": "by service",
    "status": "by status class 4xx (15% of calls)",
    "status rare": "by status class 5xx (3%)",
    "user": "by user (one in twenty)",
    "since": "from a date (the newest third)",
    "until": "to a date (the oldest third)",
    "dates": "from and to one day",
    "path": "path contains a word a quarter of the calls hold",
    "path none": "path contains a word no call holds (reads the whole search window)",
    "next": "the next page, from the middle of the history",
    "next service": "by service, the next page from the middle",
    "next dates": "from a date (the oldest third), the next page from the middle",
}
ROWS = [(f"{kind} {name}",
         f"(b) {'history page /calls/' if kind == 'page' else 'GET /api/calls'}, "
         f"{LABELS[name]}, median / p95 ms (target at most 50 median)")
        for kind in ("page", "api") for name, _ in FILTERS]


def places(rows):
    """The dates and the cursor that the filters use, from how run.py seeds the history (call
    g of `rows` was made `rows - g` seconds before the seeding)."""
    now = datetime.now(UTC)
    oldest = now - timedelta(seconds=rows)
    return {"since": (now - timedelta(seconds=rows // 3)).date().isoformat(),
            "until": (oldest + timedelta(seconds=rows // 3)).date().isoformat(),
            "day": (now - timedelta(seconds=rows // 2)).date().isoformat(),
            "middle": rows // 2}


def measure(target, rows, timed, summary, page_runs):
    """(b) for one target; each query is checked to answer 200 with calls first."""
    values = places(rows)
    results = {}
    for kind, path in (("page", "/calls/"), ("api", "/api/calls")):
        for name, query in FILTERS:
            url = f"{target.portal.url}{path}?{query.format(**values)}"
            first = target.session.get(url)
            first.raise_for_status()
            if kind == "api" and name != "path none":
                assert first.json()["items"], f"{url} found no calls"
            results[f"{kind} {name}"] = summary(
                timed(lambda u=url: target.session.get(u).raise_for_status(), page_runs))
    return results
