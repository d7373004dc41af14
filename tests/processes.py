"""Processes the tests start on the suite's own test database: a manage.py command in a process
of its own, and the background worker (`manage.py run_worker`, which `make run` starts) with
the configured tasks backend. Imported like tests/helpers.py."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time

from django.conf import settings
from django.db import connection

from tests.helpers import BASE_DIR

RQ = settings.EASPORTAL_TASKS_BACKEND == "rq"


def on_test_database(*args, stdout=subprocess.DEVNULL):
    """A manage.py command in a process of its own, working on this test's database (a test
    that uses it needs transaction=True, so that what it wrote is there to be read)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "EASPORTAL_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"])}
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env,
                            stdout=stdout, stderr=subprocess.STDOUT)


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
