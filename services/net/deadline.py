"""The total deadline of a call: one watchdog thread per process shuts the socket of a call's
connection when its deadline passes, so a server trickling its headers or body one byte at a
time is cut off on time (a read timeout alone restarts with every byte)."""

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from typing import Protocol


class Connection(Protocol):
    sock: socket.socket | None


class Deadline:
    """Shuts the socket of the call's connection when the total deadline passes, or at once
    when the call is cancelled (its client went away)."""

    def __init__(self, seconds: float) -> None:
        self.ends_at = time.monotonic() + seconds
        self.expired = False
        self.cancelled = False
        self.connection: Connection | None = None
        # Set once the request has been written to the connection (or could not be).
        self.sent = threading.Event()
        self.done = False
        self._lock = threading.Lock()
        watchdog.watch(self, self.ends_at)

    def remaining(self) -> float:
        return max(self.ends_at - time.monotonic(), 0.001)

    def cancel(self) -> None:
        """Ends the call now, from any thread: a read in progress returns or raises."""
        with self._lock:
            if self.done:
                return
            self.cancelled = True
        self.fire()

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = self.expired or not self.cancelled
            sock = self.connection.sock if self.connection is not None else None
            if sock is None:
                # Still connecting (bounded by the connect timeout): look again shortly.
                watchdog.watch(self, time.monotonic() + 0.05)
                return
            # Under the lock, so that finish() waits for a shutdown in progress: after it, the
            # socket may belong to another call.
            with contextlib.suppress(OSError):  # already closed by the other side
                sock.shutdown(socket.SHUT_RDWR)

    def finish(self) -> None:
        with self._lock:
            self.done = True


class Watchdog:
    """One thread per process wakes at the earliest deadline of all calls in flight
    (a thread per call would cost more than the rest of the call's own work)."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Deadline]] = []  # a heap
        self._sequence = itertools.count()
        self._wake = threading.Condition()
        self._pid: int | None = None

    def watch(self, deadline: Deadline, when: float) -> None:
        with self._wake:
            if self._pid != os.getpid():  # first use in this (possibly forked) process
                self._pid, self._due = os.getpid(), []
                threading.Thread(target=self._run, name="call-deadlines", daemon=True).start()
            # The thread is woken only when this deadline comes before every other one: it
            # already waits for an earlier time, which is the usual case (the calls in flight,
            # or the finished ones not yet cleared, began earlier with the same timeout), and
            # waking it for nothing costs the call a thread switch.
            if not self._due or when < self._due[0][0]:
                self._wake.notify()
            heapq.heappush(self._due, (when, next(self._sequence), deadline))

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._due and self._due[0][2].done:
                    heapq.heappop(self._due)
                if not self._due:
                    self._wake.wait()
                    continue
                when, _, deadline = self._due[0]
                wait = when - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._due)
            deadline.fire()


watchdog = Watchdog()
