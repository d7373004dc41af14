"""From curl's arguments to the request curl would send, as curl's own tool does it (read in
its source, src/tool_getparam.c and src/tool_operate.c, and checked against curl 7.88 on the
wire). Pure: no Django.

- Options: long (--data, and --data=x as curl 8 reads it; --no-X for a flag), short and
  clustered (-sSL, -XPOST, -d@x); `--` ends them. Anything else is the URL; one URL only.
- Data: -d/--data/--data-ascii (@file: the file without CR and LF, as curl reads it),
  --data-raw (no @ files), --data-binary and --json (@file: as it is), --data-urlencode
  (content, =content, name=content, [name]@file: URL-encoded, a space as +). Pieces join
  with &, except a --json piece. @- reads what a printf pipes into curl; another file is
  refused. -G puts the data in the URL's query instead.
- Method: -I HEAD (with data and without -G, curl refuses), -G GET, data POST, else GET;
  -X overrides the word.
- Headers in curl's order: -A, -e, -b, then -H in order ("Name:" sends nothing and keeps curl
  from adding that header, "Name;" sends it empty), then --json's Content-Type and Accept and,
  for data without a Content-Type, application/x-www-form-urlencoded. curl's own User-Agent,
  Accept: */*, Host and Content-Length are not part of the request (the portal adds its own).
- Credentials (-u, --oauth2-bearer, a user in the URL, Authorization, a header carrying
  ${EAS_TOKEN}) are dropped with a note: the portal sends the service's token.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from services.curl import options
from services.curl.headers import request_headers, wire_text
from services.curl.messages import CurlImportError, Message
from services.curl.messages import gettext_noop as _
from services.curl.shell import CurlCommand, Word
from services.curl.state import STDIN, TOKEN_NOTE, State
from services.curl.url import request_url


@dataclass
class CurlRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    notes: list[Message] = field(default_factory=list)


def interpret(command: CurlCommand) -> CurlRequest:
    state = State(stdin=command.stdin, stdin_from_file=command.stdin_from_file,
                   notes=list(command.notes))
    _read_options(command.args, state)
    url = request_url(state)
    headers = request_headers(state)
    if state.head and state.data is not None and not state.get:
        raise CurlImportError(_("curl refuses -I (--head) with data: it cannot send a HEAD "
                                "request with a body."))
    method = ("HEAD" if state.head else "GET" if state.get
              else "POST" if state.data is not None else "GET")
    body = b"" if state.get or state.data is None else bytes(state.data)
    if command.stdin is not None and not state.stdin_read:
        state.note(_("printf's output goes to curl, but no option reads it (@-): left out."))
    if state.expansions:
        state.note(_("The shell would replace %(names)s; the import keeps them as written."),
                   names=", ".join(state.expansions))
    return CurlRequest(method=state.method or method, url=url, headers=headers, body=body,
                       notes=state.notes)


def _read_options(args: list[Word], state: State) -> None:
    index, options_end = 0, False
    while index < len(args):
        word = args[index]
        index += 1
        text = word.text
        if options_end or not text.startswith("-"):
            state.urls.append(word)
        elif text == "--":
            options_end = True
        elif text.startswith("--"):
            index = _long_option(args, index, text, state)
        else:
            index = _short_options(args, index, text, state)


def _long_option(args: list[Word], index: int, text: str, state: State) -> int:
    name, equals, inline = text[2:].partition("=")
    toggle = not name.startswith("no-") or name in options.LONG
    option = options.LONG.get(name if toggle else name[3:])
    if option is None or (not toggle and option.takes_value):
        raise CurlImportError(_("%(option)s is not a curl option the import knows: remove it "
                                "or send the request from the builder."), option=text)
    if not option.takes_value:
        if equals:
            raise CurlImportError(_("%(option)s takes no value."), option="--" + name)
        _apply(option, "--" + name, None, state, toggle)
        return index
    if equals:
        value = Word(inline.encode("utf-8", "surrogateescape"), args[index - 1].expansions)
    elif index < len(args):
        value, index = args[index], index + 1
    else:
        raise CurlImportError(_("%(option)s needs a value."), option=text)
    _apply(option, text.partition("=")[0], value, state, True)
    return index


def _short_options(args: list[Word], index: int, text: str, state: State) -> int:
    letters = text[1:]
    position = 0
    while True:
        letter = letters[position:position + 1]
        option = options.SHORT.get(letter) if letter else None
        if option is None:
            raise CurlImportError(_("%(option)s is not a curl option the import knows: remove it "
                                    "or send the request from the builder."),
                                  option="-" + letter if letter else text)
        if option.takes_value:
            rest = letters[position + 1:]
            if rest:
                value = Word(rest.encode("utf-8", "surrogateescape"), args[index - 1].expansions)
            elif index < len(args):
                value, index = args[index], index + 1
            else:
                raise CurlImportError(_("%(option)s needs a value."), option="-" + letter)
            _apply(option, "-" + letter, value, state, True)
            return index
        _apply(option, "-" + letter, None, state, True)
        position += 1
        if position >= len(letters):
            return index


def _apply(option: options.Option, written: str, value: Word | None, state: State,
           toggle: bool) -> None:
    action = option.action
    if action == "refuse":
        raise CurlImportError(_("curl's %(option)s changes the request in a way the import "
                                "does not understand: remove it, or build the request in the "
                                "builder."), option=written)
    if action.startswith("note:"):
        state.note(options.NOTES[action.removeprefix("note:")], option=written)
        return
    if action == "ignore":
        return
    if value is None:  # the understood flags
        setattr(state, action.replace("-", "_"), toggle)
        return
    text = value.text
    if action == "data":
        state.uses(value)
        _add_data(option.name, written, value, state)
    elif action == "header":
        if text.startswith("@"):
            raise _file_error(written, text[1:])
        state.custom.append(value)
    elif action == "url":
        state.urls.append(value)
    elif action == "method":
        state.uses(value)
        state.method = wire_text(text)
    elif action in ("user", "bearer"):
        state.note(TOKEN_NOTE)
    else:
        _internal_header(action, written, value, state)


def _internal_header(action: str, written: str, value: Word, state: State) -> None:
    text = value.text
    state.uses(value)
    if action == "user-agent":
        if text:
            state.internal["User-Agent"] = text
        else:  # -A "": no User-Agent at all
            state.internal.pop("User-Agent", None)
    elif action == "referer":
        state.internal["Referer"] = text.removesuffix(";auto")
    elif "=" not in text:  # -b without =: a file of cookies
        raise _file_error(written, text)
    else:
        state.cookies.append(text)
        state.internal["Cookie"] = ";".join(state.cookies)


def _file_error(option: str, name: str) -> CurlImportError:
    if name == "-":
        return CurlImportError(STDIN, option=option)
    return CurlImportError(_("%(option)s reads the file %(file)s, which the portal cannot "
                             "see: paste its content instead."), option=option, file=name)


def _add_data(name: str, written: str, value: Word, state: State) -> None:
    data = value.data
    if name == "data-urlencode":
        piece = _urlencoded(written, data, state)
    elif data.startswith(b"@") and name != "data-raw":
        source = data[1:].decode("utf-8", "surrogateescape")
        if source != "-" or state.stdin_from_file:
            raise _file_error(written, source)
        piece = state.read_stdin(written)
        if name in ("data", "data-ascii"):
            piece = _file2string(piece)
    else:
        piece = data
    if state.data is None:
        state.data = bytearray()
    if state.data and name != "json":
        state.data += b"&"
    state.data += piece
    state.json = state.json or name == "json"


def _urlencoded(written: str, data: bytes, state: State) -> bytes:
    """--data-urlencode: content, =content, name=content, @file, name@file."""
    separator = data.find(b"=")
    if separator < 0:
        separator = data.find(b"@")
    name, kind, content = (data[:separator], data[separator:separator + 1],
                           data[separator + 1:]) if separator >= 0 else (b"", b"", data)
    if kind == b"@":
        source = content.decode("utf-8", "surrogateescape")
        if source != "-" or state.stdin_from_file:
            raise _file_error(written, source)
        content = state.read_stdin(written)
    encoded = quote(content, safe="-._~").replace("%20", "+").encode()
    return name + b"=" + encoded if name else encoded


def _file2string(data: bytes) -> bytes:
    """What curl reads of a file for -d @file: line by line (fgets, 255 bytes at most), each
    piece cut at its first CR, LF or NUL."""
    kept = []
    for line in re.findall(rb"[^\n]{0,255}\n|[^\n]{1,255}", data):
        kept.append(re.split(rb"[\r\n\0]", line, maxsplit=1)[0])
    return b"".join(kept)
