"""The gunicorn worker that serves the portal (gunicorn.conf.py): gunicorn's threaded worker,
except that a thread which has answered a request on a kept-alive connection stays with that
connection for the next request, for up to STAY_S, before it hands the connection back to the
worker's poller.

Why: gunicorn's own threaded worker hands every request of a kept-alive connection across three
threads (the poller sees the bytes arrive, a pool thread serves them, the poller registers the
connection again). On this machine those hand-offs cost about 0.6 ms a request, as much as the
rest of gunicorn's work, and a script or SDK that makes call after call on one connection paid
them on every call (docs/architecture.md, "Serving streams"; README.md, "Speed").

A thread stays only while few others do (a quarter of the worker's threads at most), so idle
kept-alive connections never take the threads that pages, logins and streams need; the others
wait in the poller as before. A stopping worker's threads stop waiting within POLL_S.
"""

import select
import threading
import time
from typing import Any

from gunicorn.workers import gthread

STAY_S = 1.0
POLL_S = 0.1


def readable(sock: Any, timeout_s: float) -> bool:
    """Whether bytes (or the peer's close) are waiting on sock, waiting up to timeout_s."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(timeout_s * 1000))


class Worker(gthread.ThreadWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._staying = 0
        self._staying_lock = threading.Lock()
        self.max_staying = max(1, self.cfg.threads // 4)

    def handle(self, conn: Any) -> Any:
        result = super().handle(conn)
        while result is True and not conn.is_http2 and not self.cfg.is_ssl:
            # A body drain may have read the next request's first bytes already.
            if not conn.parser.unreader.buf.getvalue() and not self._wait(conn):
                break
            result = super().handle(conn)
        return result

    def _wait(self, conn: Any) -> bool:
        """Whether the connection's next request came within STAY_S, in this thread."""
        with self._staying_lock:
            if self._staying >= self.max_staying:
                return False
            self._staying += 1
        try:
            until = time.monotonic() + min(STAY_S, self.cfg.keepalive)
            while self.alive and (left := until - time.monotonic()) > 0:
                if readable(conn.sock, min(left, POLL_S)):
                    return True
            return False
        finally:
            with self._staying_lock:
                self._staying -= 1
