"""The URL curl would request (services/curl/command.py): one URL, a scheme guessed as
curl guesses it, no fragment, no user (dropped with a note: the portal sends the token), dot
segments removed (unless --path-as-is), -G's data appended to the query. Refused: a URL that is
not http(s), one with spaces or control characters, a host the shell would fill in, and [ ] { }
without --globoff (curl reads them as a pattern of several URLs). Pure: no Django."""

import re

from services.curl.messages import CurlImportError
from services.curl.messages import gettext_noop as _
from services.curl.state import TOKEN_NOTE, State

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_GLOB = re.compile(r"[\[\]{}]")


def request_url(state: State) -> str:
    if not state.urls:
        raise CurlImportError(_("The command has no URL."))
    if len(state.urls) > 1:
        raise CurlImportError(_("The command has more than one URL (%(urls)s); the import "
                                "takes one request at a time."),
                              urls=", ".join(word.text for word in state.urls))
    word = state.urls[0]
    state.uses(word)
    url = word.text
    if re.search(r"[\x00-\x20\x7f]", url):
        raise CurlImportError(_("The URL %(url)s has a space or a control character, which "
                                "curl refuses: percent-encode it."), url=url)
    scheme = _SCHEME.match(url)
    if scheme is None:
        url = "http://" + url
        state.note(_("The URL has no scheme: read as http://, as curl does."))
    elif scheme.group(1).lower() not in ("http", "https"):
        raise CurlImportError(_("The URL %(url)s is not an http or https URL."), url=url)
    url = url.partition("#")[0]  # curl does not send a fragment
    prefix, _slashes, rest = url.partition("://")
    split = re.search(r"[/?]", rest)
    authority, tail = (rest[:split.start()], rest[split.start():]) if split else (rest, "")
    if "$" in authority and word.expansions:
        raise CurlImportError(_("The URL's host comes from %(names)s, which the shell would "
                                "replace: paste the URL itself."),
                              names=", ".join(word.expansions))
    if not state.globoff and _GLOB.search(authority.rpartition("]")[2] + tail):
        raise CurlImportError(_("curl reads [ ] { } in the URL as a pattern of several URLs; "
                              "add --globoff (-g) if they belong to the URL."))
    if "@" in authority:
        authority = authority.rpartition("@")[2]
        state.note(TOKEN_NOTE)
    path, question, query = tail.partition("?")
    if not state.path_as_is:
        path = without_dot_segments(path)
    if state.get and state.data:
        query = query + "&" + state.data.decode("utf-8", "surrogateescape") if question \
            else state.data.decode("utf-8", "surrogateescape")
        question = "?"
    url = f"{prefix}://{authority}{path}{question}{query}"
    # Bytes that are not UTF-8 (from $'\xff'), as curl sends them.
    return re.sub(r"[\udc80-\udcff]", lambda m: f"%{ord(m[0]) - 0xDC00:02X}", url)


def without_dot_segments(path: str) -> str:
    """RFC 3986's remove_dot_segments, as curl applies it (unless --path-as-is)."""
    segments = path.split("/")
    if not any(segment in (".", "..") for segment in segments):
        return path
    out: list[str] = []
    for index, segment in enumerate(segments[1:], start=1):
        last = index == len(segments) - 1
        if segment == "..":
            if len(out) > 0:
                out.pop()
            if last:
                out.append("")
        elif segment == ".":
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/" + "/".join(out)
