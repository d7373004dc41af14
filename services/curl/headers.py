"""The headers curl would send (services/curl/command.py), in its order: -A, -e and -b
(unless a -H names the same header), the -H headers in order, --json's Content-Type and Accept,
then application/x-www-form-urlencoded for data without a Content-Type. "-H 'Name:'" sends
nothing (and keeps curl from adding that header), "-H 'Name;'" sends it empty. Authorization, a
header carrying the token placeholder and the headers the portal sets itself are dropped with a
note; a header curl would send twice is refused. Pure: no Django."""

import re

from services.curl.messages import CurlImportError
from services.curl.messages import gettext_noop as _
from services.curl.shell import Word
from services.curl.state import TOKEN_NOTE, State

TOKEN_VALUES = ("${EAS_TOKEN}", "$EAS_TOKEN", "<EAS_TOKEN>")
# The portal sets these itself (services/net/client.py, TRANSPORT_HEADERS).
TRANSPORT_HEADERS = ("host", "content-length", "transfer-encoding", "connection")
FORM_TYPE = "application/x-www-form-urlencoded"


def request_headers(state: State) -> list[tuple[str, str]]:
    """The headers curl would send, in its order, less what the portal adds itself."""
    entries = [(word, word.text) for word in state.custom]
    for name, value in (("Content-Type", "application/json"), ("Accept", "application/json")):
        if state.json and not any(text.lower().startswith(name.lower() + ":")
                                  for _word, text in entries):
            entries.append((Word(b""), f"{name}: {value}"))
    given = {_header_name(text).lower() for _word, text in entries}
    sent: list[tuple[str, str]] = [
        (name, state.internal[name]) for name in ("User-Agent", "Referer", "Cookie")
            if name in state.internal and name.lower() not in given]
    for word, text in entries:
        header = _sent_header(text, state)
        if header is None:
            continue
        name, value = header
        if name.lower() == "authorization":
            state.note(TOKEN_NOTE)
        elif value.removeprefix("Bearer ") in TOKEN_VALUES:
            state.note(_("The header %(name)s, which carried the token (%(value)s), was left "
                         "out: the portal sends the service's token in Authorization."),
                       name=name, value=value)
        elif name.lower() in TRANSPORT_HEADERS:
            state.note(_("The header %(name)s was left out: the portal sets it itself."),
                       name=name)
        else:
            state.uses(word)
            sent.append((name, value))
    if state.data is not None and not state.get and "content-type" not in given:
        sent.append(("Content-Type", FORM_TYPE))
    _check_once(sent)
    return [(wire_text(name), _header_value(value, name, state)) for name, value in sent]


def _header_name(text: str) -> str:
    # What curl compares with its own headers' names: up to a : or a ;.
    return re.split(r"[:;]", text, maxsplit=1)[0] if re.search(r"[:;]", text) else ""


def _sent_header(text: str, state: State) -> tuple[str, str] | None:
    """(name, value) of a -H as curl sends it, or None when curl sends nothing for it."""
    name, colon, value = text.partition(":")
    if not colon:
        name, semicolon, rest = text.partition(";")
        if semicolon and name and rest == "":
            return name.strip(" \t"), ""  # "Name;": sent empty
        state.note(_("curl sends nothing for -H %(header)s (no “Name: value”): left out."),
                   header=text)
        return None
    value = value.strip(" \t")
    if not name.strip(" \t"):
        state.note(_("curl sends nothing for -H %(header)s (no header name): left out."),
                   header=text)
        return None
    if not value:
        return None  # "Name:" only removes a header curl would add
    if any(char in text for char in "\r\n\x00"):
        raise CurlImportError(_("The header %(name)s holds a line break or a NUL, which a "
                                "header may not: remove it."), name=name.strip(" \t")[:80])
    if name != name.rstrip(" \t"):
        state.note(_("The header name “%(name)s” ends with a space, which HTTP does not "
                     "allow: read as “%(stripped)s”."), name=name, stripped=name.rstrip())
    return name.strip(" \t"), value


def _check_once(headers: list[tuple[str, str]]) -> None:
    seen = set()
    for name, _value in headers:
        if name.lower() in seen:
            raise CurlImportError(_("curl would send the header %(name)s twice; the portal sends "
                                    "each header once: keep one of them."), name=name)
        seen.add(name.lower())


def wire_text(text: str) -> str:
    """Text of an argument that may hold bytes that are not UTF-8: as ISO-8859-1 then, which
    is how the portal sends a header's bytes."""
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _header_value(value: str, name: str, state: State) -> str:
    """The value as the portal sends the same bytes: it sends header values as ISO-8859-1."""
    data = value.encode("utf-8", "surrogateescape")
    if data.isascii():
        return value
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
    state.note(_("curl sends the header %(name)s as UTF-8; the portal sends header values as "
                 "ISO-8859-1 (Latin-1)."), name=name)
    return text
