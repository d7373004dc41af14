"""The gunicorn worker of gunicorn.conf.py (easportal/serving.py), serving a WSGI app that
names the thread that served each request (thread_app.py): a thread stays with its kept-alive
connection for the next request, no more than a quarter of the threads stay, and a stop ends
the staying."""

import contextlib
import http.client
import socket
import subprocess
import sys
import threading
import time
import types

import pytest

from easportal import serving
from tests.helpers import BASE_DIR, free_port, wait_for_port
from tests.processes import stop_process


@contextlib.contextmanager
def served_again():
    """One worker of two threads (of which one may stay), as gunicorn.conf.py configures it."""
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "EASPORTAL_ENV_FILE": "", "WEB_WORKERS": "1",
           "WEB_THREADS": "2"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tests.load.thread_app:app",
         "--bind", f"127.0.0.1:{port}"],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield port, process
    finally:
        stop_process(process)


@pytest.fixture
def served():
    with served_again() as server:
        yield server


def connect(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def thread_of(connection, body=b""):
    """The thread that served a request on this connection (kept alive)."""
    connection.request("POST", "/", body=body)
    response = connection.getresponse()
    assert response.status == 200
    ident, size = response.read().decode().split()
    assert int(size) == len(body)
    return ident


def test_a_thread_stays_with_its_connection_for_the_next_request(served):
    port, _ = served
    first, second = connect(port), connect(port)
    staying = thread_of(first)
    # The first connection's thread waits for its next request, so the other thread serves
    # the second connection (gunicorn's own worker would give it the idle first thread).
    other = thread_of(second)
    assert other != staying
    for n in range(20):
        assert thread_of(first, b"x" * n) == staying


def test_no_more_than_a_quarter_of_the_threads_stay(served):
    port, _ = served
    idle = [connect(port) for _ in range(3)]
    for connection in idle:
        thread_of(connection)
    # One thread stays with an idle connection (a quarter of two, at least one); the other
    # went back to the pool, so a new client is answered at once, not after the stay.
    started = time.monotonic()
    thread_of(connect(port))
    assert time.monotonic() - started < 0.5


def test_an_idle_connection_goes_back_to_the_poller_and_is_still_served(served):
    port, _ = served
    connection = connect(port)
    thread_of(connection)
    time.sleep(1.3)  # past the stay (STAY_S), within gunicorn's keep-alive of 2 s
    thread_of(connection, b"again")


def test_a_stop_ends_the_stay_at_once():
    # Worker._wait on a real socket whose peer stays silent, the worker stopping meanwhile.
    worker = types.SimpleNamespace(alive=True, cfg=types.SimpleNamespace(keepalive=2),
                                   max_staying=1, _staying=0, _staying_lock=threading.Lock())
    ours, peer = socket.socketpair()
    with ours, peer:
        threading.Timer(0.1, setattr, (worker, "alive", False)).start()
        started = time.monotonic()
        assert serving.Worker._wait(worker, types.SimpleNamespace(sock=ours)) is False
        # Within a poll of the stop, not at the end of the stay.
        assert time.monotonic() - started < serving.STAY_S - serving.POLL_S
        assert worker._staying == 0
        peer.send(b"GET")
        worker.alive = True
        assert serving.Worker._wait(worker, types.SimpleNamespace(sock=ours)) is True
