"""The one refusal type of the portal: what it will not do, with the HTTP status that says why
and one sentence a person understands.

Access checks (services/access.py), the call path (services/calls.py), snippets and forms raise
it; the API answers it as {"detail": message, **extra} (services/api/core.py), pages as the
status's page with the message (services/middleware.py), commands as a CommandError.
"""

from typing import Any


class Refusal(Exception):
    """status: 400 invalid, 401 no valid credentials, 403 visible but not allowed, 404 unknown
    or not visible, 409 conflict, 413 too large, 429 too many requests. message: translated
    already (a str or a lazy translation). headers: for the HTTP answer (Retry-After). extra:
    further JSON keys for the API's answer, such as size and limit for a 413."""

    def __init__(self, status: int, message: Any, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.message)
