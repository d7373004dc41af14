"""Issue 14, reliability: PostgreSQL restarts while the portal is under load.

A PostgreSQL server of the test's own (tests/processes.py, PostgresCluster: initdb and pg_ctl on
a spare port, so that the machine's server is left alone), the project migrated onto it and
served by gunicorn as `make run` serves it, the emulator in a process of its own upstream.
Clients ask for pages, the API's history and invokes; a burst of requests at once has each
server thread keep a connection; calls to a slow route are in flight upstream when the server
stops (pg_ctl stop -m fast); it stays down DOWN_S, then starts again, and another burst comes
as soon as the portal answers. Then:
  - no answer is a 500, and no client loses its connection;
  - while the database is down, every answer is a 503 that says so: a page for the pages,
    {"detail"} for the API, with Retry-After, which the clients then wait out;
  - within RECOVERY_LIMIT_S of the server accepting connections again, the portal answers 200
    again, and every request sent from then on is answered 200, the clients' first ones after
    their Retry-After included: the connection each server thread kept from before the
    restart is found dead at the start of its next request and replaced
    (CONN_HEALTH_CHECKS), instead of failing that request;
  - the calls in flight during the outage are recorded once the database is back
    (services/calls.py, insert_call), and answered 200;
  - every call the emulator received has its Call row, and every row its 200.
"""

import threading
import time
from dataclasses import dataclass

import pytest
import requests

from tests.helpers import manage
from tests.processes import (
    EmulatorProcess,
    Gunicorn,
    PostgresCluster,
    postgres_binaries,
    same_login,
    suite_env,
)

BINARIES = postgres_binaries()
pytestmark = pytest.mark.skipif(BINARIES is None, reason="PostgreSQL's initdb and pg_ctl are not "
                                "installed (the postgresql package)")

STEADY_S = 2.0
DOWN_S = 2.0
AFTER_S = 4.5
RECOVERY_LIMIT_S = 5.0
KINDS = {"page": "/services/", "history": "/calls/", "api": "/api/calls",
         "invoke": "/api/services/echo/invoke"}
# Clients that keep asking, each waiting PAUSE_S between its requests and, after a 503, its
# Retry-After, as a well-behaved client would.
CLIENTS_PER_KIND, PAUSE_S = 4, 0.02
# Requests sent all at once (pages and the API's history, not invokes: one person's would pass
# the in-flight limit) just before the database stops and just after it is back: each server
# thread then holds a connection from before the restart, and each is asked again after.
BURST, BURST_KINDS = 96, ("page", "history", "api")
# Calls that the emulator keeps waiting while the database stops: they end while it is down.
# Another person's, so that they do not take the clients' in-flight slots (services/inflight.py).
IN_FLIGHT, SLOW_PATH, SLOW_LEAD_S = 4, "/slow?seconds=2", 0.5
SETUP = """
from services.models import Membership, Team
from tests.helpers import make_service, make_user
team = Team.objects.create(slug="acme", name="Acme")
for name in ("ops", "night"):
    Membership.objects.create(team=team, user=make_user(name), role="maintainer")
make_service(team, slug="echo", name="Echo", kind="custom", vpc_endpoint="", default_path="/echo",
             public_endpoint="{base}", token="{token}")
"""


@dataclass
class Answer:
    kind: str
    sent: float
    done: float
    status: int | None  # None: no answer (the text says why)
    content_type: str
    text: str
    retry_after: str | None


@pytest.fixture
def cluster():
    started = PostgresCluster(BINARIES)
    yield started
    started.remove()


def ask(session, url, kind, body):
    sent = time.monotonic()
    try:
        if kind in ("invoke", "slow"):
            answer = session.post(url, timeout=30, json={
                "body": body, **({"path": SLOW_PATH} if kind == "slow" else {})})
        else:
            answer = session.get(url, timeout=30, allow_redirects=False)
    except requests.RequestException as exc:
        return Answer(kind, sent, time.monotonic(), None, "", repr(exc), None)
    return Answer(kind, sent, time.monotonic(), answer.status_code,
                  answer.headers.get("Content-Type", ""), answer.text[:500],
                  answer.headers.get("Retry-After"))


def keep_asking(login, kind, url, name, stop, answers):
    """Asks for url until stop is set: PAUSE_S apart, or a 503's Retry-After apart."""
    session = same_login(login)
    sent = 0
    while not stop.is_set():
        answer = ask(session, url, kind, f"{name}-{sent}")
        answers.append(answer)
        sent += 1
        if stop.wait(float(answer.retry_after) if answer.retry_after else PAUSE_S):
            return


def burst(login, urls, answers):
    """BURST requests at once, BURST_KINDS in turn, each on a connection of its own."""
    sessions = [same_login(login) for _ in range(BURST)]
    kinds = list(BURST_KINDS) * (BURST // len(BURST_KINDS))
    start = threading.Barrier(BURST)

    def one(session, kind):
        start.wait(timeout=30)
        answers.append(ask(session, urls[kind], kind, "burst"))

    threads = [threading.Thread(target=one, args=pair) for pair in zip(sessions, kinds,
                                                                         strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def first_200s(login, urls, since):
    """Asks for each kind until it is answered 200: the seconds from since to the last of
    those answers."""
    session, answers = same_login(login), []
    for kind, url in urls.items():
        while not answers or answers[-1].kind != kind or answers[-1].status != 200:
            answers.append(ask(session, url, kind, "recovery"))
            assert time.monotonic() - since < 2 * RECOVERY_LIMIT_S, answers[-1]
    return answers[-1].done - since, answers


def restart_under_load(cluster, portal):
    """The answers, the moments the server began to stop, had stopped, was started again and
    accepted connections again, and the seconds until the portal answered 200 again."""
    login, night = portal.login("ops", "pw-ops"), portal.login("night", "pw-night")
    answers, stop = [], threading.Event()
    urls = {kind: portal.url + path for kind, path in KINDS.items()}
    steady = [threading.Thread(target=keep_asking, args=(
        login, kind, url, f"{kind}-{index}", stop, answers))
        for kind, url in urls.items() for index in range(CLIENTS_PER_KIND)]
    slow = [threading.Thread(target=lambda: answers.append(ask(
        same_login(night), urls["invoke"], "slow", "in flight"))) for _ in range(IN_FLIGHT)]
    for thread in steady:
        thread.start()
    time.sleep(STEADY_S)
    burst(login, urls, answers)
    for thread in slow:
        thread.start()
    time.sleep(SLOW_LEAD_S)
    stopping = time.monotonic()
    cluster.stop("fast")
    down = time.monotonic()
    # Each kind once, on a connection of its own, while it is down.
    answers += [ask(same_login(login), url, kind, "outage") for kind, url in urls.items()]
    time.sleep(max(down + DOWN_S - time.monotonic(), 0))
    restarting = time.monotonic()
    cluster.start(wait=False)
    while not cluster.accepting():
        time.sleep(0.005)
    back = time.monotonic()
    recovery, recovering = first_200s(login, urls, back)
    answers += recovering
    burst(login, urls, answers)
    time.sleep(max(back + AFTER_S - time.monotonic(), 0))
    stop.set()
    for thread in steady + slow:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in steady + slow)
    return answers, (stopping, down, restarting, back), recovery


def test_the_portal_answers_503_while_postgresql_is_down_and_200_soon_after(cluster):
    emulator = EmulatorProcess()
    portal = None
    try:
        env = suite_env(DATABASE_URL=cluster.url)
        for command in (["migrate", "--noinput"], ["shell", "-c", SETUP.format(
                base=emulator.base("demo-echo"), token=emulator.token("demo-echo"))]):
            done = manage(*command, **env)
            assert done.returncode == 0, done.stderr[-3000:]
        portal = Gunicorn(env)
        answers, (stopping, down, restarting, back), recovery = restart_under_load(cluster,
                                                                                   portal)
        received = [record for record in emulator.received()
                    if record["path"].startswith("/api/predict/")]
    finally:
        output = portal.output() if portal else ""
        emulator.stop()
    with cluster.connect() as database:
        rows = database.execute("SELECT count(*) FROM services_call").fetchone()[0]

    assert [answer for answer in answers if answer.status not in (200, 503)] == []
    assert "Internal Server Error" not in output, output[-3000:]
    before = [answer for answer in answers if answer.done < stopping]
    assert before and {answer.status for answer in before} == {200}
    # While it is down, every answer is a 503 that says why, in the shape the client reads.
    outage = [answer for answer in answers if down < answer.sent and answer.done < restarting]
    assert {answer.kind for answer in outage} >= set(KINDS)
    assert {answer.status for answer in outage} == {503}
    unavailable = [answer for answer in answers if answer.status == 503]
    for answer in unavailable:
        assert answer.retry_after and "cannot reach its database" in answer.text, answer
        json_kind = answer.kind in ("api", "invoke", "slow")
        assert answer.content_type.startswith("application/json" if json_kind else "text/html")
    # Once it is back: 200 within the limit, and nothing else from then on.
    after = [answer for answer in answers if answer.sent > back and answer.kind != "slow"]
    assert [answer for answer in after if answer.status != 200] == []
    assert recovery <= RECOVERY_LIMIT_S
    # The calls in flight upstream when it stopped are recorded once it is back, and answered
    # 200; one whose own lookups came too late was refused with a 503 before anything was sent.
    slow = [answer for answer in answers if answer.kind == "slow"]
    sent_slow = [record for record in received if "/slow" in record["path"]]
    assert sent_slow
    assert sorted(answer.status for answer in slow) == sorted(
        [200] * len(sent_slow) + [503] * (IN_FLIGHT - len(sent_slow)))
    assert all(answer.done > restarting for answer in slow if answer.status == 200)
    # Every call sent has its row, and every row its 200.
    invoked = [answer for answer in answers if answer.kind in ("invoke", "slow")
               and answer.status == 200]
    assert rows == len(invoked) == len(received)
    print(f"\n{len(answers)} requests; PostgreSQL down {restarting - down:.1f} s; "
          f"{len(unavailable)} answers 503, none 500; 200 again for every kind of request "
          f"{recovery * 1000:.0f} ms after it accepted connections; {len(after)} requests "
          f"after, all 200; {len(sent_slow)} calls in flight recorded after "
          f"{max(answer.done - answer.sent for answer in slow):.1f} s; {rows} calls")
