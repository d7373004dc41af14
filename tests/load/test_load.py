"""Issue 14, reliability under load: CLIENTS clients invoke services without pause for
LOAD_SECONDS against the portal served as `make run` serves it (gunicorn.conf.py), on the suite's
test database (SQLite, or PostgreSQL when DATABASE_URL says so), with the emulator in a process
of its own as the upstream.

Every call is answered, 200 or 429 (the in-flight limits of services/inflight.py), nothing
else, and no client sees a connection error or a timeout; every 200 names a Call row that holds
the body that was sent; there are no other rows (a 429 sends nothing); and the emulator received
exactly the calls that have rows. EASPORTAL_LOAD_SECONDS shortens or lengthens the run."""

import http.client
import os
import random
import re
import select
import statistics
import threading
import time
from dataclasses import dataclass, field

import pytest
import requests

from services.models import Call, Membership, Role, Team
from tests.helpers import make_service, make_user
from tests.processes import EmulatorProcess, Gunicorn, same_login, suite_database_env

pytestmark = pytest.mark.django_db(transaction=True)

LOAD_SECONDS = float(os.environ.get("EASPORTAL_LOAD_SECONDS", "30"))
CLIENTS = 200
# Who sends what: (team, people, clients per person, interface path). A hog keeps many slow
# calls in flight at once, far past the per-person limit; the others mostly fit within theirs,
# and Globex's slow calls press on its team's limit.
PLAN = [("acme", 1, 40, "/slow?seconds=0.2"),
        ("acme", 8, 10, "/echo"),
        ("globex", 8, 10, "/slow?seconds=0.2")]
# A client that was refused waits this long (not the whole Retry-After: the load stays on).
REFUSED_PAUSE_S = 0.05
TIMEOUT_S = 60


@dataclass
class Results:
    ok: list = field(default_factory=list)  # (call id, body sent, ms)
    refused: list = field(default_factory=list)  # (whose limit: "person" or "team", ms)
    other: list = field(default_factory=list)  # (status, the start of the answer)
    errors: list = field(default_factory=list)  # repr of the exception


def clients(portal, emulator):
    """(logged-in session, invoke URL, interface path, name) for each of the CLIENTS clients;
    the people, their teams and their services are made first."""
    made = []
    for team_slug, people, per_person, path in PLAN:
        team, _new = Team.objects.get_or_create(slug=team_slug, name=team_slug.title())
        if not team.services.exists():
            make_service(team, slug=f"echo-{team_slug}", name="Echo", kind="custom",
                         public_endpoint=emulator.base("demo-echo"), vpc_endpoint="",
                         token=emulator.token("demo-echo"), default_path="/echo")
        for _index in range(people):
            username = f"{team_slug}-{len(made)}"
            user = make_user(username)
            Membership.objects.create(team=team, user=user, role=Role.MEMBER)
            session = portal.login(username, "pw-" + username)
            made += [(session, f"{portal.url}/api/services/echo-{team_slug}/invoke", path,
                      f"{username}-{client}") for client in range(per_person)]
    assert len(made) == CLIENTS
    return made


def send_until(deadline, login, url, path, name, results):
    session = same_login(login)
    sent = 0
    while time.monotonic() < deadline:
        body = f"{name}-{sent}"
        sent += 1
        started = time.perf_counter()
        try:
            answer = session.post(url, json={"body": body, "path": path}, timeout=TIMEOUT_S)
        except requests.RequestException as exc:
            results.errors.append(repr(exc))
            continue
        ms = (time.perf_counter() - started) * 1000
        if answer.status_code == 200:
            results.ok.append((answer.json()["id"], body, ms))
        elif answer.status_code == 429:
            whose = "person" if answer.json()["detail"].startswith("You have") else "team"
            results.refused.append((whose, ms))
            time.sleep(REFUSED_PAUSE_S * random.uniform(0.5, 1.5))
        else:
            results.other.append((answer.status_code, answer.text[:300]))


def load(made):
    results = Results()
    deadline = time.monotonic() + LOAD_SECONDS
    threads = [threading.Thread(target=send_until, args=(deadline, *client, results))
               for client in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=LOAD_SECONDS + TIMEOUT_S + 30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_200_clients_invoking_for_30_seconds_lose_nothing():
    emulator = EmulatorProcess()
    portal = None
    try:
        portal = Gunicorn(suite_database_env())
        results = load(clients(portal, emulator))
        received = [record for record in emulator.received()
                    if record["path"].startswith("/api/predict/")]
    finally:
        output = portal.output() if portal else ""
        emulator.stop()
    oks = sorted(ms for _id, _body, ms in results.ok)
    refused = sorted(ms for _whose, ms in results.refused)
    people = sum(whose == "person" for whose, _ms in results.refused)
    print(f"\n{len(oks) + len(refused)} calls answered in {LOAD_SECONDS:g} s by {CLIENTS} "
          f"clients: {len(oks)} 200 (p50 {statistics.median(oks or [0]):.0f} ms, p95 "
          f"{oks[int(len(oks) * 0.95)] if oks else 0:.0f} ms), {len(refused)} 429 ({people} past "
          f"a person's limit, the others a team's; p50 {statistics.median(refused or [0]):.0f} "
          f"ms); {len(received)} received by the emulator")
    # What gunicorn itself said past its INFO lines (a worker that timed out, was killed or
    # died), and its boots: the first place to look when a client lost its connection.
    gunicorn = [line for line in output.splitlines() if re.match(r"\[[^]]+\] \[\d+\] \[", line)
                and ("[INFO]" not in line or "Booting worker" in line)]
    assert results.errors == [], (results.errors[:5], gunicorn[-30:])
    assert results.other == [], results.other[:5]
    assert "Traceback" not in output, output[-3000:]
    workers = int(suite_database_env().get("WEB_WORKERS", 2))
    assert sum("Booting worker" in line for line in gunicorn) == workers, gunicorn[-30:]
    assert not [line for line in gunicorn if "Booting worker" not in line], gunicorn[-30:]
    assert results.ok and results.refused
    rows = {pk: bytes(body).decode() for pk, body in
            Call.objects.values_list("pk", "request_body")}
    assert len(rows) == len(results.ok)
    assert rows == {pk: body for pk, body, _ms in results.ok}
    assert not Call.objects.exclude(status=200).exists()
    assert len(received) == len(rows) and {record["status"] for record in received} == {200}


def test_a_kept_alive_connection_outlasts_a_client_pause():
    """A client that pauses between calls finds its connection open and its next request answered
    on it: gunicorn's default (2 s) closes it underneath, and a request sent as it closes is lost
    (a POST is not retried). The pause is longer than that default and far below ours."""
    portal = Gunicorn(suite_database_env())
    try:
        client = http.client.HTTPConnection("127.0.0.1", portal.port, timeout=30)
        client.request("GET", "/health")
        assert client.getresponse().read() and client.sock is not None
        sock = client.sock
        time.sleep(3)
        # A connection the server closed is readable (its end of file) at once.
        assert select.select([sock], [], [], 0)[0] == []
        client.request("GET", "/health")
        answer = client.getresponse()
        assert answer.status == 200 and client.sock is sock
        client.close()
    finally:
        portal.stop()
