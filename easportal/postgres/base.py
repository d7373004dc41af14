"""Django's PostgreSQL backend, with CONN_HEALTH_CHECKS done without a round trip.

Django checks a kept connection with "SELECT 1" at the first query of each request: about
0.1 ms a request, one of the five round trips of a call (README.md, "Speed"). A connection's
server sends nothing unprompted while the connection is idle, except when it ends the session
(a restart, a failover, pg_terminate_backend, an idle timeout: it sends an error and closes),
a notice or a notification. So a connection whose socket has nothing to read is as usable as it
was after its last query; one that has something to read gets Django's own check, which
reads it: a notice keeps the connection, an ended session replaces it. A server that vanished
without a word (its host lost) fails the request's first query instead, as Django's check
would have hung on it; a call's record is retried on a new connection (services/calls.py).
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            poller = select.poll()
            poller.register(connection.pgconn.socket, select.POLLIN | select.POLLPRI)
            quiet = not poller.poll(0)
        except (OSError, ValueError, base.Database.Error):
            quiet = False
        return quiet or super().is_usable()
