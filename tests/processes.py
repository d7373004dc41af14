"""Processes the tests start: on the suite's own test database, a manage.py command in a process
of its own and the background worker (`manage.py run_worker`, which `make run` starts) with
the configured tasks backend; the portal served by gunicorn as `make run` serves it, on that
database or another; the emulator in a process of its own; and a PostgreSQL server of a
test's own. Imported like tests/helpers.py."""

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests
from django.conf import settings
from django.db import connection

import emulator as eas_emulator
from tests.helpers import BASE_DIR, free_port, wait_for_port

RQ = settings.EASPORTAL_TASKS_BACKEND == "rq"


def suite_env(**extra):
    """The environment of a process a test starts: the suite's settings (tests/settings.py) and
    the static files it collected, with extra (DATABASE_URL for another database)."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
            "EASPORTAL_TEST_STATIC_ROOT": str(settings.STATIC_ROOT), **extra}


def suite_database_env():
    """suite_env() on this test's database (a test that starts such a process needs
    transaction=True, so that what it wrote is there to be read)."""
    return suite_env(EASPORTAL_TEST_DATABASE_NAME=str(connection.settings_dict["NAME"]))


def on_test_database(*args, stdout=subprocess.DEVNULL):
    """A manage.py command in a process of its own, working on this test's database."""
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=BASE_DIR,
                            env=suite_database_env(), stdout=stdout, stderr=subprocess.STDOUT)


def descendants(pid):
    """The processes under pid, children first, read from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as stat:
                # pid (comm) state ppid ...: comm may hold spaces and parentheses.
                parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found.extend(children)
        frontier = children
    return found


class Worker:
    """A real worker process (`manage.py run_worker`, which `make run` starts, or another
    long-running command) on the suite's test database, with the configured tasks backend: the
    database by default, Redis when CI sets EASPORTAL_TASKS_BACKEND=rq. The `worker` fixture
    (tests/conftest.py) starts them."""

    def __init__(self, *command):
        # A file, not a pipe: a pipe nobody reads would block a worker that logs much.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the object)
        self.process = on_test_database(
            *(command or ("run_worker", "--interval", "0.1", "--no-startup-delay",
                          "--no-reload")), stdout=self.log)

    def kill(self):
        """Kills the worker as an outage would, with every process it started (RQ runs each
        job in a child of its own process group): no signal it can answer."""
        for pid in [*descendants(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self):
        """Tells it to stop as `make run` does when it ends (RQ's worker waits for its job on
        the first signal and gives it up on a second one a second later)."""
        self.process.send_signal(signal.SIGTERM)
        if RQ:
            time.sleep(1.2)
            self.process.send_signal(signal.SIGTERM)

    def stop(self):
        if self.process.poll() is None:
            self.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        self.kill()

    def output(self):
        """What it printed, once stopped."""
        self.stop()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def stop_process(process, first_signal=signal.SIGTERM, wait_s=15):
    """Asks process to stop, then kills it and every process it started that is left."""
    started = descendants(process.pid)  # read now: once it ends, they are no longer its own
    if process.poll() is None:
        process.send_signal(first_signal)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait_s)
    for pid in [*started, process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


class Gunicorn:
    """The portal served as `make run` serves it: gunicorn, which reads gunicorn.conf.py
    (threaded workers, WEB_WORKERS, WEB_THREADS), with env (suite_database_env() for this test's
    database), on a free port; what it printed is kept in a file. Ready once a worker has
    answered /health; stop() ends it and its workers."""

    def __init__(self, env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the object)
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "easportal.wsgi",
             "--bind", f"127.0.0.1:{self.port}"],
            cwd=BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port, self.process)
            requests.get(self.url + "/health", timeout=60).raise_for_status()
        except BaseException:
            self.stop()
            raise

    def login(self, username, password):
        """A requests session logged in as username, sending the CSRF header."""
        session = requests.Session()
        session.get(f"{self.url}/accounts/login/", timeout=30)
        response = session.post(f"{self.url}/accounts/login/", timeout=30, allow_redirects=False,
                                data={"username": username, "password": password,
                                      "csrfmiddlewaretoken": session.cookies["csrftoken"]})
        assert response.status_code == 302, f"{username} could not log in"
        session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
        return session

    def stop(self):
        stop_process(self.process)

    def output(self):
        """What it printed, once stopped."""
        self.stop()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def same_login(session):
    """A new requests session with session's cookies and headers: a client of its own (its own
    connections), logged in as the same person."""
    copy = requests.Session()
    copy.cookies.update(session.cookies)
    copy.headers.update(session.headers)
    return copy


class EmulatorProcess:
    """`python -m emulator` in a process of its own, as `make run` starts it, with the demo
    services; it remembers the last `keep` requests, which received() reads from its control
    route. Its own process, so that it does not share an interpreter with the test's clients."""

    def __init__(self, keep=200_000, threads=256):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(self.port),
             "--keep", str(keep), "--threads", str(threads)],
            cwd=BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port, self.process)
        except BaseException:
            self.stop()
            raise

    def base(self, name):
        return f"{self.url}/api/predict/{name}"

    @staticmethod
    def token(name):
        return eas_emulator.DEMO_SERVICES[name]["token"]

    def received(self):
        """What arrived, oldest first, without headers and bodies."""
        answer = requests.get(f"{self.url}/__emulator__/received", timeout=60)
        return answer.json()["received"]

    def stop(self):
        stop_process(self.process, wait_s=5)


def postgres_binaries():
    """The folder of PostgreSQL's initdb and pg_ctl (the newest installed), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda path: int(Path(path).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path and shutil.which("initdb") else None


class PostgresCluster:
    """A PostgreSQL server of the test's own, so that the machine's server is left alone:
    initdb in a temporary folder, served on a free port of 127.0.0.1 with its socket in that
    folder, and a database `easportal` (url). As root (CI), initdb and pg_ctl run as the
    postgres user: initdb refuses root. remove() stops it and deletes the folder."""

    def __init__(self, binaries):
        self.binaries = Path(binaries)
        self.folder = Path(tempfile.mkdtemp(prefix="easportal-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/easportal"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        try:
            if self.as_postgres:
                shutil.chown(self.folder, "postgres", "postgres")
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--no-sync")
            self.start()
            with self.connect("postgres") as admin:
                admin.autocommit = True
                admin.execute("CREATE DATABASE easportal")
        except BaseException:
            self.remove()
            raise

    def _run(self, program, *args, timeout=120):
        result = subprocess.run([*self.as_postgres, str(self.binaries / program), *args],
                                capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"{program} failed: {result.stdout}{result.stderr}"

    def connect(self, database="easportal"):
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                               dbname=database, connect_timeout=2)

    def start(self, wait=True):
        """Starts the server; with wait, returns once it accepts connections."""
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c max_connections=150")
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.folder / "log"),
                  "-o", options, "-w" if wait else "-W")

    def accepting(self):
        try:
            self.connect().close()
        except psycopg.OperationalError:
            return False
        return True

    def stop(self, mode="fast"):
        """pg_ctl stop: "fast" ends the sessions and shuts down cleanly, "immediate" aborts."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")

    def remove(self):
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
