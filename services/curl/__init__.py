"""The curl import: a pasted curl command made into the request it sends, and the user's
service it calls (docs/api.md, "Curl import"). Pure: no Django, nothing sent.

shell.py reads the text as bash would (quotes, $'...', continuations, a printf piped into
curl, with printf.py), command.py does what curl does with the words (options.py: every option
understood, ignored, noted or refused), match.py finds the service by its endpoints. Errors and
notes are message templates with params (messages.py), translated by the API.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.curl.command import CurlRequest, interpret
from services.curl.match import Candidate, find
from services.curl.messages import CurlImportError, Message
from services.curl.messages import gettext_noop as _
from services.curl.shell import curl_command
from services.net import join
from services.net.limits import GATEWAY_BODY_LIMIT

__all__ = ["Candidate", "CurlImportError", "Imported", "Message", "import_command", "parse"]


@dataclass
class Imported:
    service: str | None
    endpoint: str | None  # "public" or "vpc"
    method: str
    url: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    notes: list[Message] = field(default_factory=list)


# The portal's snippet of the largest body it sends (1 MB, binary: printf's octal escapes take
# up to 4 characters a byte) fits; reading costs about a second a million words.
MAX_COMMAND_CHARS = 5 * 1024 * 1024


def parse(text: str) -> CurlRequest:
    """The request the curl command in text would send; raises CurlImportError."""
    if len(text) > MAX_COMMAND_CHARS:
        raise CurlImportError(_("The command is %(size)s characters long; the import reads at "
                                "most %(limit)s."), size=len(text), limit=MAX_COMMAND_CHARS)
    return interpret(curl_command(text))


def import_command(text: str, candidates: Iterable[Candidate]) -> Imported:
    """The request and, among candidates (the endpoints of the user's services), the service
    it calls; raises CurlImportError."""
    request = parse(text)
    found = find(request.url, candidates)
    notes = list(request.notes)
    if found.slug is None:
        notes.append(Message(_("No service of yours has an endpoint that this URL starts with: "
                               "choose the service, or register it first.")))
    elif found.also:
        notes.append(Message(_("The URL fits more than one of your services (%(slugs)s): "
                               "%(slug)s was chosen."),
                             {"slug": found.slug, "slugs": ", ".join((found.slug, *found.also))}))
    refusal = join.path_refusal(found.path) if found.slug is not None and found.path else None
    if refusal is not None:
        notes.append(Message(join.REFUSALS[refusal], {"path": found.path}))
    if len(request.body) > GATEWAY_BODY_LIMIT:
        notes.append(Message(_("The body is %(size)s bytes; the EAS gateway accepts at most "
                               "%(limit)s bytes (1 MB), so the portal will not send it."),
                             {"size": len(request.body), "limit": GATEWAY_BODY_LIMIT}))
    return Imported(service=found.slug, endpoint=found.kind, method=request.method,
                    url=request.url, path=found.path, headers=request.headers,
                    body=request.body, notes=notes)
