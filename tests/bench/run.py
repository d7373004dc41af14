"""`make bench`: the figures the issues hold the portal to, measured on this machine.

For SQLite and PostgreSQL in turn, it migrates a scratch database, serves the portal with
gunicorn as `make run` does, runs the EAS emulator in a process of its own, and measures:
  (a) the time the portal adds to a call: POST /api/services/<slug>/invoke against the
      emulator's echo route, minus a direct requests.Session call to the same route, paired;
      logged in with a session (its cookies sent as a header, as a browser sends them) and
      with a personal key;
  (b) every list and filter of the history page, as the page and as GET /api/calls, with
      10,000,000 call rows (tests/bench/history.py);
  (c) the TCP connections the upstream sees for 100 sequential calls.
the streaming figures of tests/bench/streaming.py, those of saved requests and export
(tests/bench/saved_export.py), of capacity runs (tests/bench/runs.py) and of probes and the
status board (tests/bench/probes.py). It prints a Markdown table. Run it as `make bench` (not
part of `make test`).
"""

import base64
import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import emulator as eas_emulator  # noqa: E402
from tests.bench import history, probes, runs, saved_export, streaming  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", 10_000_000))
PAIRS = int(os.environ.get("BENCH_PAIRS", 500))
PAGE_RUNS = int(os.environ.get("BENCH_PAGE_RUNS", 40))
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PASSWORD = "bench-password-1"

SETUP = """
from django.contrib.auth import get_user_model
from services.models import Membership, Service, Team
user = get_user_model().objects.create_user("bench", password="{password}")
mine = Team.objects.create(slug="bench", name="Bench")
other = Team.objects.create(slug="others", name="Others")
Membership.objects.create(team=mine, user=user, role="maintainer")
service = Service(team=mine, slug="echo", name="Echo", kind="custom", gateway="shared",
                  public_endpoint="{base}", default_path="/echo", default_method="POST")
service.set_token("{token}")
service.full_clean()
service.save()
chat = Service(team=mine, slug="chat", name="Chat", kind="llm", gateway="shared",
               public_endpoint="{chat}", default_path="/v1/chat/completions")
chat.set_token("{chat_token}")
chat.full_clean()
chat.save()
from services import keys
print(keys.make(user, "bench", None)[1], mine.pk, other.pk, user.pk)
"""

# ROWS calls, one a second, ids in time order: 80% in the bench user's team, ten services, twenty
# users (one the bench user), four paths, statuses 2xx 80%, 4xx 15%, 5xx 3%, failed 2%.
COLUMNS = ("team_id, service_slug, service_name, user_id, username, created_at, endpoint, method, "
           "path, url, request_header_pairs, request_body, status, status_class, elapsed_ms, "
           "response_header_pairs, response_body, response_size, response_truncated, error, "
           "error_kind")
STATUS = ("CASE WHEN g % 100 < 80 THEN 200 WHEN g % 100 < 95 THEN 404 "
          "WHEN g % 100 < 98 THEN 503 ELSE NULL END")
STATUS_CLASS = ("CASE WHEN g % 100 < 80 THEN '2xx' WHEN g % 100 < 95 THEN '4xx' "
                "WHEN g % 100 < 98 THEN '5xx' ELSE 'failed' END")
PATHS = "CASE g % 4 WHEN 0 THEN '/v1/chat/completions' WHEN 1 THEN '/v1/models' " \
        "WHEN 2 THEN '/v1/embeddings' ELSE '/predict' END"
ROW = ("CASE WHEN g % 10 < 8 THEN {mine} ELSE {other} END, 'svc-' || (g % 10), "
       "'Service ' || (g % 10), CASE WHEN g % 20 = 0 THEN {user} ELSE NULL END, "
       "CASE WHEN g % 20 = 0 THEN 'bench' ELSE 'user-' || (g % 20) END, {created}, 'public', "
       "'POST', " + PATHS + ", 'http://127.0.0.1/api/predict/svc' || " + PATHS + ", "
       "'[[\"Content-Type\", \"application/json\"]]', {body}, " + STATUS + ", " + STATUS_CLASS +
       ", 12.5, '[]', {body}, 2, {false}, "
       "CASE WHEN g % 100 >= 98 THEN 'timeout' ELSE '' END, "
       "CASE WHEN g % 100 >= 98 THEN 'timeout' ELSE '' END")
SEED = {
    "sqlite": (
        "PRAGMA cache_size = -1000000; "
        "WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < {rows}) "
        "INSERT INTO services_call (" + COLUMNS + ") SELECT " + ROW.format(
            mine="{mine}", other="{other}", user="{user}", body="X'7B7D'", false="0",
            created="strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ({rows} - g) || ' seconds')")
        + " FROM seq; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);"),
    "postgresql": ("\\set ON_ERROR_STOP on\n"
                   "INSERT INTO services_call (" + COLUMNS + ") SELECT " + ROW.format(
        mine="{mine}", other="{other}", user="{user}", body="'\\x7b7d'::bytea", false="false",
        created="now() - ({rows} - g) * interval '1 second'")
        # Vacuumed and checkpointed now, so that autovacuum does not run during the measuring.
        + " FROM generate_series(1, {rows}) AS g;\nVACUUM ANALYZE services_call;\nCHECKPOINT;"),
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(database_url, scratch):
    return {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
        "EASPORTAL_ENV_FILE": "", "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50),
        "EASPORTAL_TOKEN_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "ALLOWED_HOSTS": "127.0.0.1", "EASPORTAL_ALLOWED_ENDPOINT_HOSTS": "127.0.0.1",
        # The bench's key makes far more than 600 requests a minute; it is still counted.
        "EASPORTAL_KEY_RATE_PER_MIN": "100000000",
        # (f) holds 64 of the bench user's streams in flight at once: past the default limits.
        "EASPORTAL_CALLS_PER_USER": "1000", "EASPORTAL_CALLS_PER_TEAM": "1000",
        "STATIC_ROOT": str(Path(scratch) / "static"), "DATABASE_URL": database_url,
        **{k: v for k, v in os.environ.items() if k == "PGOPTIONS"},
    }


def manage(env, *args, stdin=None):
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin,
                            capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def seed(env, vendor, emulator):
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    setup = SETUP.format(password=PASSWORD, base=emulator.base, token=emulator.token,
                         chat=emulator.chat, chat_token=emulator.chat_token)
    key, mine, other, user = manage(env, "shell", "-c", setup).split()[-4:]
    sql = SEED[vendor].format(rows=ROWS, mine=mine, other=other, user=user)
    started = time.monotonic()
    manage(env, "dbshell", stdin=sql) if vendor == "postgresql" else _sqlite(env, sql)
    return time.monotonic() - started, key


def _sqlite(env, sql):
    code = ("import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
            "db.executescript(sys.stdin.read()); db.commit()")
    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    subprocess.run([sys.executable, "-c", code, path], input=sql, text=True, check=True)


class Portal:
    def __init__(self, env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        gunicorn = Path(sys.executable).with_name("gunicorn")
        # Workers and threads as `make run` has them: gunicorn reads gunicorn.conf.py.
        self.process = subprocess.Popen(
            [str(gunicorn), "easportal.wsgi", "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(self.url + "/health")
        except SystemExit:
            self.stop()
            raise

    def session(self, username="bench"):
        session = requests.Session()
        session.get(self.url + "/accounts/login/")
        session.post(self.url + "/accounts/login/", data={
            "username": username, "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"]})
        session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
        return session

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def machine_speed():
    """This machine's speed varies over minutes (a shared virtual CPU): a fixed loop tells the
    reader how fast it was while the figures were taken."""
    started = time.perf_counter()
    total = 0
    for step in range(3_000_000):
        total += step
    return (time.perf_counter() - started) * 1000


def wait_for(url, **kwargs):
    for _ in range(200):
        try:
            if requests.get(url, timeout=5, **kwargs).ok:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    sys.exit(f"{url} did not answer")


def timed(function, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times):
    ordered = sorted(times)
    return f"{statistics.median(ordered):.2f} / {ordered[int(len(ordered) * 0.95) - 1]:.2f}"


class Target:
    """A seeded database and the portal serving it."""

    def __init__(self, vendor, database_url, emulator, stack):
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="easportal-bench-"))
        if vendor == "sqlite":
            database_url = f"sqlite:///{scratch}/bench.sqlite3"
        env = environment(database_url, scratch)
        self.env, self.password, self.vendor = env, PASSWORD, vendor
        self.seconds, key = seed(env, vendor, emulator)
        self.portal = Portal(env)
        stack.callback(self.portal.stop)
        self.session = self.portal.session()
        # (a) sends the session's cookies as one header, as a browser or curl does: requests'
        # cookie jar spends 0.4-0.6 ms of the client's own time on every request that has
        # cookies (measured here), which a direct call without cookies does not, and which is
        # not the portal's. The portal receives the same request either way.
        # Each kind of client takes turns over CLIENTS connections: a kept-alive connection stays
        # with the gunicorn worker that accepted it (single ones differed by up to 0.6 ms here).
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        csrf = self.session.headers["X-CSRFToken"]
        self.browsers = [client({"Cookie": cookie, "X-CSRFToken": csrf}) for _ in range(CLIENTS)]
        # A script's way in: the API with a personal key, no session.
        self.keyed = [client({"Authorization": f"Bearer {key}"}) for _ in range(CLIENTS)]
        self.invoke_url = f"{self.portal.url}/api/services/echo/invoke"
        self.chat_url = f"{self.portal.url}/api/services/chat/invoke"
        # A personal key's session: the gateway (/gw/) is called as an SDK would.
        self.gateway = client({"Authorization": f"Bearer {key}"})
        self.gateways = [client({"Authorization": f"Bearer {key}"}) for _ in range(CLIENTS)]
        self.gateway_url = f"{self.portal.url}/gw"


CLIENTS = 4


def client(headers):
    """A client that sends these headers with every request (and keeps no cookie jar)."""
    (session := requests.Session()).headers.update(headers)
    return session


INVOKE = {"path": "/echo", "body": '{"messages": [{"role": "user", "content": "hello!"}]}'}


def added_time(targets, emulator):
    """(a) and (h), for every target in the same minutes: machine load drifts, so the direct
    call is timed right before each call through a portal (by the API's invoke, then through
    the gateway), and the portals take turns."""
    direct = requests.Session()
    headers = {"Authorization": emulator.token, "Content-Type": "application/json"}

    def direct_call():
        assert direct.post(emulator.base + "/echo", data=INVOKE["body"], headers=headers).ok

    turn = [0]  # which of each kind's CLIENTS connections the next call takes
    calls = {target: (lambda t=target: t.browsers[turn[0] % CLIENTS].post(
        t.invoke_url, json=INVOKE).raise_for_status()) for target in targets}
    keyed = {target: (lambda t=target: t.keyed[turn[0] % CLIENTS].post(
        t.invoke_url, json=INVOKE).raise_for_status()) for target in targets}
    through_gateway = {target: (lambda t=target: t.gateways[turn[0] % CLIENTS].post(
        t.gateway_url + "/echo/echo", data=INVOKE["body"],
        headers={"Content-Type": "application/json"}).raise_for_status()) for target in targets}
    warm_until = time.monotonic() + 3  # connections, caches, prepared statements
    while time.monotonic() < warm_until:
        turn[0] += 1
        direct_call()
        for target in targets:
            calls[target]()
            keyed[target]()
            through_gateway[target]()
    pairs = {target: [] for target in targets}
    gateway_pairs = {target: [] for target in targets}
    keyed_pairs = {target: [] for target in targets}
    for n in range(PAIRS):
        turn[0] = n
        order = targets if n % 2 == 0 else targets[::-1]
        for target in order:
            pairs[target].append((timed(direct_call, 1)[0], timed(calls[target], 1)[0]))
            keyed_pairs[target].append((timed(direct_call, 1)[0], timed(keyed[target], 1)[0]))
            gateway_pairs[target].append((timed(direct_call, 1)[0],
                                          timed(through_gateway[target], 1)[0]))
    return {target: {"direct": summary([d for d, _ in pairs[target]]),
                     "invoke": summary([p for _, p in pairs[target]]),
                     "added": summary([p - d for d, p in pairs[target]]),
                     "key added": summary([k - d for d, k in keyed_pairs[target]]),
                     "gateway added": summary([g - d for d, g in gateway_pairs[target]])}
            for target in targets}


def history_and_connections(target):
    """(b) and (c) for one target."""
    results = {"seed": f"{ROWS:,} rows in {target.seconds:.0f} s"}
    results |= history.measure(target, ROWS, timed, summary, PAGE_RUNS)
    # The echo route tells which connection each call came on.
    fresh = target.portal.session()  # a new client connection, as a new API client has
    ports = set()
    for _ in range(100):
        call = fresh.post(target.invoke_url, json=INVOKE).json()
        ports.add(json.loads(call["response_body"])["client_port"])
    results["connections"] = str(len(ports))
    return results


class Emulator:
    """The emulator in a process of its own, as `make run` starts it."""

    def __init__(self):
        port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", str(port), "--keep", "2000"], cwd=ROOT,
            env=environment("sqlite:////nonexistent", tempfile.gettempdir()),
            stdout=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}/api/predict/demo-echo"
        self.token = eas_emulator.DEMO_SERVICES["demo-echo"]["token"]
        self.chat = f"http://127.0.0.1:{port}/api/predict/demo-chat"
        self.chat_token = eas_emulator.DEMO_SERVICES["demo-chat"]["token"]
        self.control = f"http://127.0.0.1:{port}/__emulator__/received"
        try:
            wait_for(self.base + "/echo", headers={"Authorization": self.token})
        except SystemExit:
            self.stop()
            raise

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def postgres_database():
    name = f"easportal_bench_{os.getpid()}"
    try:
        subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", f"CREATE DATABASE {name}"],
                       check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"PostgreSQL at {PG_SERVER} is not available ({exc}); measuring SQLite only.")
        return None
    return name


ROWS_SHOWN = [
    ("seed", "history rows"),
    ("direct", "(a) direct call to the emulator's echo route, median / p95 ms"),
    ("invoke", "(a) the same through POST /api/services/{slug}/invoke, median / p95 ms"),
    ("added", "(a) **added by the portal**, median / p95 ms (target at most 3 median)"),
    ("key added", "(a) the same invoke with a personal key instead of a session: added, "
                  "median / p95 ms (target at most 3 median)"),
    ("gateway added", "(h) the same call through the gateway (/gw/, a personal key): added, "
                      "median / p95 ms (target: no more than (a))"),
    *history.ROWS,
    ("connections", "(c) TCP connections the upstream saw for 100 sequential calls (target 1)"),
]


def main():
    with contextlib.ExitStack() as stack:
        emulator = Emulator()
        stack.callback(emulator.stop)
        targets = {"SQLite": Target("sqlite", None, emulator, stack)}
        database = postgres_database()
        if database:
            stack.callback(subprocess.run, ["psql", f"{PG_SERVER}/postgres", "-qc",
                                            f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"])
            targets["PostgreSQL"] = Target("postgresql", f"{PG_SERVER}/{database}", emulator,
                                           stack)
        speed = [machine_speed()]
        added = added_time(list(targets.values()), emulator)
        speed.append(machine_speed())
        columns = {name: added[target] | history_and_connections(target)
                   for name, target in targets.items()}
        for name, target in targets.items():
            columns[name] |= streaming.measure(target, emulator)
            columns[name] |= saved_export.measure(target, ROWS, manage, timed, summary,
                                                 PAGE_RUNS)
            columns[name] |= runs.measure(target, emulator)
            columns[name] |= probes.measure(target, emulator, target.vendor, manage, _sqlite,
                                            timed, summary, PAGE_RUNS)
    print(f"\nMachine speed while (a) ran: a 3,000,000-step Python loop took {speed[0]:.0f} ms "
          f"before and {speed[1]:.0f} ms after (56-70 ms when this machine runs at full speed).")
    print(f"\n| measure ({os.cpu_count()} cores) | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for key, label in (ROWS_SHOWN + streaming.ROWS + saved_export.ROWS + runs.ROWS
                       + probes.ROWS):
        print(f"| {label} | " + " | ".join(column[key] for column in columns.values()) + " |")


if __name__ == "__main__":
    main()
