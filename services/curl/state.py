"""What the curl import gathers from a command's options before it makes the request
(services/curl/command.py), and the notes it collects on the way. Pure: no Django."""

from dataclasses import dataclass, field

from services.curl.messages import CurlImportError, Message
from services.curl.messages import gettext_noop as _
from services.curl.shell import Word

STDIN = _("%(option)s @- reads curl's standard input, which the import knows only from a "
          "printf piped into curl: paste the data itself.")
TOKEN_NOTE = _("The Authorization header was left out: the portal sends the service's token "
               "in it.")


@dataclass
class State:
    stdin: bytes | None
    stdin_from_file: bool
    notes: list[Message]
    stdin_read: bool = False
    urls: list[Word] = field(default_factory=list)
    method: str = ""
    data: bytearray | None = None
    json: bool = False
    get: bool = False
    head: bool = False
    globoff: bool = False
    path_as_is: bool = False
    custom: list[Word] = field(default_factory=list)
    internal: dict[str, str] = field(default_factory=dict)  # User-Agent, Referer, Cookie
    cookies: list[str] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)

    def note(self, template: str, **params: str) -> None:
        message = Message(template, params)
        if message not in self.notes:
            self.notes.append(message)

    def uses(self, word: Word) -> None:
        self.expansions += [name for name in word.expansions if name not in self.expansions]

    def read_stdin(self, option: str) -> bytes:
        if self.stdin is None:
            raise CurlImportError(STDIN, option=option)
        data, self.stdin, self.stdin_read = self.stdin, b"", True  # read once, as a file
        return data
