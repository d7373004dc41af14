"""What the curl import tells its caller: a note about a command it understood, or the error
that refuses one. Pure: no Django. Each is a message template with %(name)s params, marked for
the catalog; the API translates the template, then fills it in (services/api/imports.py)."""

from dataclasses import dataclass, field
from typing import Any

from services.net.errors import gettext_noop

__all__ = ["CurlImportError", "Message", "gettext_noop"]


def readable(params: dict[str, Any]) -> dict[str, Any]:
    """The params with any byte that is not UTF-8 (held as a lone surrogate) shown as \ufffd:
    a message goes into JSON."""
    return {name: _readable(value) if isinstance(value, str) else value
            for name, value in params.items()}


def _readable(text: str) -> str:
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        return text.encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True)
class Message:
    template: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", readable(self.params))

    def __str__(self) -> str:
        return self.template % self.params


class CurlImportError(ValueError):
    """A command the import refuses: not curl, not one command, unbalanced quotes, a file to
    read, an option that changes the request in a way it does not understand."""

    def __init__(self, template: str, **params: Any) -> None:
        self.message = template
        self.params = readable(params)
        super().__init__(template % self.params)
