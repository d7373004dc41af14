"""The errors of the outbound layer (services/net/). Pure: no Django.

Each carries a message template with %(name)s params, marked for the catalog; the Django layer
translates the template, then fills it in, and answers with services.errors.Refusal.
"""


def gettext_noop(message: str) -> str:
    """Marks a message for the catalog (makemessages knows this name); it is translated where
    it is shown, by code that has Django."""
    return message


class NetError(Exception):
    def __init__(self, message: str, **params: object) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params)


class EndpointError(NetError, ValueError):
    """An endpoint, host or address that may not be called."""


class PathError(EndpointError):
    """An interface path that join_url refuses; code names the rule, for the builder's
    JavaScript (static/js/join.js), which applies the same rules."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        self.code = code
        super().__init__(message, **params)


class Refused(NetError):
    """Refused before anything was sent. status: 400, 403 or 413."""

    def __init__(self, status: int, message: str, **params: object) -> None:
        self.status = status
        super().__init__(message, **params)


class CallError(NetError):
    """The call was attempted and failed without a response. kind, a word that does not change
    with the language: dns, refused, timeout, tls, connection."""

    def __init__(self, kind: str, message: str, elapsed_ms: float = 0.0,
                 **params: object) -> None:
        self.kind = kind
        self.elapsed_ms = elapsed_ms
        super().__init__(message, **params)
