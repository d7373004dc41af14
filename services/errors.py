"""The one refusal type of the portal: what it will not do, with the HTTP status that says why
and one sentence a person understands.

Access checks (services/access.py), the call path (services/calls.py), snippets and forms raise
it; the API answers it as {"detail": message, **extra} (services/api/core.py), pages as the
status's page with the message (services/middleware.py), commands as a CommandError.

A database that cannot be reached is not a bug of the request: unavailable() is the 503 that
the API, the gateway, the pages and the server-error handler all answer then.
"""

import logging
from typing import Any

import psycopg
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy

# What Django raises when its database cannot be reached (connection refused, a connection the
# server closed, a restart under way), and for SQLite's "database is locked" after its timeout;
# and psycopg's own, which Django lets through unwrapped where it closes a cursor that streamed
# rows from the server (QuerySet.iterator(), which a form's choices use): its close() talks to
# the server too.
DATABASE_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError,
                   psycopg.InterfaceError)
UNAVAILABLE = gettext_lazy("The portal cannot reach its database just now; try again in a few "
                           "seconds.")
RETRY_AFTER_S = "5"
log = logging.getLogger(__name__)


class Refusal(Exception):
    """status: 400 invalid, 401 no valid credentials, 403 visible but not allowed, 404 unknown
    or not visible, 409 conflict, 413 too large, 429 too many requests, 503 the database
    cannot be reached. message: translated already (a str or a lazy translation). headers: for
    the HTTP answer (Retry-After). extra: further JSON keys for the API's answer, such as size
    and limit for a 413."""

    def __init__(self, status: int, message: Any, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.message)


def unavailable(message: Any = UNAVAILABLE) -> Refusal:
    """The 503 of a database that cannot be reached, with Retry-After."""
    return Refusal(503, message, headers={"Retry-After": RETRY_AFTER_S})


def database_unreachable(request: Any, error: Exception) -> Refusal:
    """unavailable() for a request that failed with one of DATABASE_ERRORS, logged in one line:
    a traceback would be repeated for every request of an outage."""
    log.warning("Database unavailable: %s %s: %s", request.method, request.path,
                str(error).strip())
    return unavailable()
