"""The probes' and the status board's figures of `make bench` (tests/bench/run.py calls
measure() per database):

(n) one `manage.py run_probes --once` pass over 200 due services whose upstream (the emulator's
    /slow route) answers in 50 ms, with the default pool: the pass's own time, as the command
    prints it (target under 2 s);
(o) the status board, the page and GET /api/status, with those 200 services and 30 days of
    their probes at a 5-minute interval in history (200 x 8,640 = 1,728,000 probe calls) and
    in the hourly counts (target under 50 ms).
"""

import re

SERVICES = 200
DAYS = 30
PER_DAY = 24 * 12  # every 5 minutes

ROWS = [
    ("probe pass", f"(n) one run_probes --once pass over {SERVICES} due probes, 50 ms "
                   "upstreams, default pool (target < 2 s)"),
    ("probe rows", f"(o) probe calls in history ({SERVICES} services x {DAYS} days at 5 min)"),
    ("board page", "(o) status board /status/, median / p95 ms (target < 50)"),
    ("board api", "(o) GET /api/status, median / p95 ms (target < 50)"),
]

SETUP = """
from services import probes
from services.models import Service, Team
team = Team.objects.get(slug="bench")
for n in range({services}):
    service = Service(team=team, slug=f"probed-{{n}}", name=f"Probed {{n}}", kind="custom",
                      gateway="shared", public_endpoint="{base}", default_path="/slow",
                      default_method="GET")
    service.set_token("{token}")
    service.full_clean()
    service.save()
    probe = probes.probe_of(service)
    probe.enabled, probe.method, probe.path = True, "GET", "/slow?seconds=0.05"
    probes.save(probe)
print(Service.objects.filter(slug__startswith="probed-").order_by("id").first().pk)
"""

# The probe calls and their hourly counts, as 30 days of run_probes would have left them.
CALLS = ("INSERT INTO services_call (team_id, service_id, service_slug, service_name, user_id, "
         "username, created_at, endpoint, method, path, url, request_header_pairs, request_body, "
         "status, status_class, elapsed_ms, response_header_pairs, response_body, "
         "response_size, response_truncated, error, error_kind, source) ")
SEED = {
    "sqlite": (
        "WITH RECURSIVE seq(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM seq WHERE g < {rows} - 1) "
        + CALLS + "SELECT s.team_id, s.id, s.slug, s.name, NULL, '', "
        "strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ((g / {services}) * 300) || ' seconds'), "
        "'public', 'GET', '/slow', s.public_endpoint || '/slow', '[]', X'', 200, '2xx', 51.5, "
        "'[]', X'7B7D', 2, 0, '', '', 'probe' FROM seq JOIN services_service s "
        "ON s.id = {first} + (g % {services});"
        "WITH RECURSIVE h(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM h WHERE n < {hours} - 1) "
        "INSERT INTO services_probehour (service_id, hour, checks, ups, latency_sum_ms, "
        "latency_max_ms) SELECT s.id, CAST(strftime('%s', 'now') AS INTEGER) / 3600 - n, 12, 12, "
        "618.0, 60.0 FROM h JOIN services_service s "
        "ON s.id >= {first} AND s.id < {first} + {services}; ANALYZE;"),
    "postgresql": (
        "\\set ON_ERROR_STOP on\n" + CALLS + "SELECT s.team_id, s.id, s.slug, s.name, NULL, '', "
        "now() - (g / {services}) * interval '300 seconds', 'public', 'GET', '/slow', "
        "s.public_endpoint || '/slow', '[]', '', 200, '2xx', 51.5, '[]', '\\x7b7d'::bytea, 2, "
        "false, '', '', 'probe' FROM generate_series(0, {rows} - 1) AS g JOIN services_service s "
        "ON s.id = {first} + (g % {services});\n"
        "INSERT INTO services_probehour (service_id, hour, checks, ups, latency_sum_ms, "
        "latency_max_ms) SELECT s.id, floor(extract(epoch FROM now()) / 3600)::integer - n, 12, "
        "12, 618.0, 60.0 FROM generate_series(1, {hours} - 1) AS n JOIN services_service s "
        "ON s.id >= {first} AND s.id < {first} + {services};\n"
        "VACUUM ANALYZE services_call;\nVACUUM ANALYZE services_probehour;\nCHECKPOINT;"),
}


def measure(target, emulator, vendor, manage, sqlite, timed, summary, runs):
    env = target.env
    first = int(manage(env, "shell", "-c", SETUP.format(
        services=SERVICES, base=emulator.base, token=emulator.token)).split()[-1])
    rows = SERVICES * DAYS * PER_DAY
    sql = SEED[vendor].format(rows=rows, services=SERVICES, first=first, hours=DAYS * 24)
    if vendor == "postgresql":
        manage(env, "dbshell", stdin=sql)
    else:
        sqlite(env, sql)
    printed = manage(env, "run_probes", "--once")
    checked, seconds = re.search(r"(\d+) probes checked in ([0-9.]+) s", printed).groups()
    session, url = target.session, target.portal.url
    assert session.get(url + "/status/").ok and session.get(url + "/api/status").ok
    return {
        "probe pass": f"{seconds} s ({checked} probes)",
        "probe rows": f"{rows:,}",
        "board page": summary(timed(lambda: session.get(url + "/status/"), runs)),
        "board api": summary(timed(lambda: session.get(url + "/api/status"), runs)),
    }
