"""The fixtures every layer shares: the connection guard, people, teams, a service and a call,
the superuser, the live server, the collected static files, and the local EAS emulator.

alice maintains team Acme, bob is a member of it, and charlie maintains team Globex, so he
should have no access to Acme's services. Helper functions are in tests/helpers.py."""

import functools
import socket
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from pytest_django.live_server_helper import LiveServer

import emulator as eas_emulator
from services.models import Membership, Role, Team
from tests.guard import OutsideConnection, is_loopback
from tests.helpers import (
    make_call,
    make_service,
    make_superuser,
    make_user,
)
from tests.processes import RQ, Worker

# The connection guard: every test talks to this machine only (the emulator, the live server,
# servers of its own on loopback). Any other connect() of this process is refused before it
# leaves, and recorded: the code under test may swallow the OSError, the record stays. The test
# during which it happened fails at teardown. Subprocesses (manage.py, snippets, Chromium) are
# outside its reach; name resolution is not a connection.

@pytest.fixture(scope="session", autouse=True)
def connection_guard():
    """The session's record of refused connections: (family, address), oldest first."""
    refused = []

    def guard(real):
        @functools.wraps(real)
        def connect(sock, address):
            if not is_loopback(sock.family, address):
                refused.append((sock.family, address))
                raise OutsideConnection(address)
            return real(sock, address)

        return connect

    real = socket.socket.connect, socket.socket.connect_ex
    socket.socket.connect, socket.socket.connect_ex = guard(real[0]), guard(real[1])
    yield refused
    socket.socket.connect, socket.socket.connect_ex = real
    assert refused == [], f"connections outside loopback after the last test: {refused}"


@pytest.fixture(autouse=True)
def no_outside_connections(connection_guard):
    """Fails the test if anything was refused since the previous test's end (the session's
    fixtures are set up in between), its own fixtures' teardown included."""
    yield
    refused = list(connection_guard)
    connection_guard.clear()
    if refused:
        pytest.fail("connected outside loopback (refused by the guard in tests/conftest.py): "
                    + ", ".join(f"{family.name} {address!r}" for family, address in refused),
                    pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def static_files():
    # The pages use the same hashed, compressed static files as production.
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session")
def live_server():
    """pytest-django's live server, with static files served by WhiteNoise from the collected
    STATIC_ROOT as in production: its default handler looks files up with the finders, which
    know no hashed names ("js/builder.0123abcd.js"), so every script would 404."""
    server = LiveServer("localhost", start=False)
    server.thread.static_handler = lambda handler: handler
    server.start()
    yield server
    server.stop()


# People, teams, a service, a call

@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def charlie(db):
    return make_user("charlie")


@pytest.fixture
def root(db):
    """A superuser, in no team."""
    return make_superuser("root")


@pytest.fixture
def acme(alice, bob):
    team = Team.objects.create(slug="acme", name="Acme")
    Membership.objects.create(team=team, user=alice, role=Role.MAINTAINER)
    Membership.objects.create(team=team, user=bob, role=Role.MEMBER)
    return team


@pytest.fixture
def globex(charlie):
    team = Team.objects.create(slug="globex", name="Globex")
    Membership.objects.create(team=team, user=charlie, role=Role.MAINTAINER)
    return team


@pytest.fixture
def service(acme):
    return make_service(acme)


@pytest.fixture
def call(service, bob):
    """bob's call of the service, in history (never sent)."""
    return make_call(service, bob)


# The local EAS emulator: one server on a free port for the whole session.

# Besides the demo set: a token shaped like a real EAS one (base64, "=" padding), which must
# survive every way of sending it.
TEST_SERVICES = {
    "eas-style": {"token": "ZGVtby1lYXMtc3R5bGUtdG9rZW4tMDAwMDAwMDE5OTk5OQ==",
                  "kind": "processor", "model": "eas-style"},
}


@dataclass
class RunningEmulator:
    url: str
    port: int
    app: eas_emulator.Emulator

    def base(self, name):
        """The service's endpoint, a base address as EAS gives it."""
        return f"{self.url}/api/predict/{name}"

    def token(self, name):
        return self.app.services[name]["token"]

    def service(self, team, emulated, **fields):
        """A portal service of team that calls this emulator's service `emulated`, with its
        token; an echo service's default path is its /echo route."""
        kind = self.app.services[emulated]["kind"]
        values = {"slug": emulated, "name": emulated.replace("-", " ").title(), "kind": kind,
                  "public_endpoint": self.base(emulated), "vpc_endpoint": "",
                  "token": self.token(emulated),
                  "default_path": "/v1/chat/completions" if kind == "llm" else "/echo"}
        return make_service(team, **{**values, **fields})


def running(server):
    port = server.effective_port
    return RunningEmulator(url=f"http://127.0.0.1:{port}", port=port, app=server.application)


@pytest.fixture(scope="session")
def emulator():
    server, thread = eas_emulator.start_in_thread(
        services={**eas_emulator.DEMO_SERVICES, **TEST_SERVICES})
    yield running(server)
    eas_emulator.stop(server, thread)


@pytest.fixture
def start_emulator():
    """start_emulator(**settings of emulator.start_in_thread): an emulator of the test's own,
    for other settings than the session's (a pace, few threads, services of its own), stopped
    after the test."""
    started = []

    def start(**settings):
        server, thread = eas_emulator.start_in_thread(**settings)
        started.append((server, thread))
        return running(server)

    yield start
    for server, thread in started:
        eas_emulator.stop(server, thread)


@pytest.fixture
def emulator_received(emulator):
    """What the emulator receives during this test only, newest last."""
    emulator.app.clear()
    return emulator.app.received


@pytest.fixture
def echo(acme, emulator):
    """Acme's service "echo" (named Echo), which calls the emulator's demo-echo."""
    return emulator.service(acme, "demo-echo", slug="echo", name="Echo")


# A background worker

@pytest.fixture
def worker(transactional_db):
    """start(): a worker process; all are stopped at the end of the test."""
    if RQ:  # jobs of an earlier session that ended early: their runs are gone
        import django_rq

        django_rq.get_queue("default").empty()
    started = []

    def start():
        started.append(Worker())
        return started[-1]

    yield start
    for one in started:
        one.stop()
