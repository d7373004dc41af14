"""Joining a service's base endpoint with the interface path a user typed: URL = base + path.

Pure (standard library only). The same rule runs in the builder's JavaScript
(static/js/join.js), and tests/unit/join_cases.json drives the tests of both. Each refusal has a
code, which the JavaScript returns too, so the page shows the server's own translated message.
"""

import re

from services.net.errors import PathError, gettext_noop

# C1 controls too (U+0085 is a line break to some parsers), and lone surrogates (from "\ud800"
# in JSON), which cannot be encoded as UTF-8.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_DOT_SEGMENT = re.compile(r"(?:\.|%(?:25)*2e){1,2}", re.IGNORECASE)
# What ends a segment for a server that decodes before it normalises: "/", and "/" or "\"
# percent-encoded (also twice: %252F). A segment's parameters (";..." on Tomcat and Spring,
# also encoded) are dropped before it is compared, so "..;x" is "..".
_SEPARATOR = re.compile(r"/|%(?:25)*(?:2f|5c)", re.IGNORECASE)
_PARAMETERS = re.compile(r";|%(?:25)*3b", re.IGNORECASE)

# A joined URL is written the way the portal's HTTP client (requests' URL preparation, then urllib3)
# puts it on the wire, so that the URL shown, the URL recorded and the URL sent are one: letters,
# digits and -._~!$&'()*+,/:;=?@ stay; anything else, "[" and "]" included, and a "%" without two
# hex digits after it, is percent-encoded as UTF-8; an existing %XX stays, in upper case, unless it
# stands for a letter, digit or -._~, which are equivalent unencoded (RFC 3986, 6.2.2). The
# builder's JavaScript applies the same two expressions.
_UNSAFE = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,/:;=?@%]")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

# Why a path is refused, by code: the codes are static/js/join.js's too.
REFUSALS = {
    "control": gettext_noop("The path may not contain control characters such as tabs or line "
                            "breaks."),
    "backslash": gettext_noop("The path %(path)s contains a backslash; use / instead."),
    "fragment": gettext_noop("The path %(path)s contains #, which starts a fragment that is "
                             "never sent to the server; percent-encode it if it belongs to the "
                             "path."),
    "scheme": gettext_noop("The path %(path)s starts with a scheme; enter only what follows "
                           "the endpoint, such as /v1/chat/completions."),
    "double_slash": gettext_noop("The path %(path)s starts with //, which would name another "
                                 "host; start it with a single /."),
    "user": gettext_noop("The path %(path)s has an @ before its first /, which would read as a "
                         "user name; start the path with /."),
    "dot_segment": gettext_noop("The path %(path)s contains a . or .. segment, which would "
                                "leave the endpoint; remove it."),
}


def encode(text: str) -> str:
    """The URL text as it goes on the wire (see above)."""
    text = _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode("utf-8")), text)
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)) if chr(int(m[1], 16)) in _UNRESERVED
                       else f"%{m[1].upper()}", text)


def has_dot_segment(path: str) -> bool:
    # Clients and servers collapse "." and ".." (and %2e, which requests decodes first); a
    # gateway that decodes before it normalises also sees them in "..%2F", "..%5C" and "..;".
    return any(_DOT_SEGMENT.fullmatch(_PARAMETERS.split(segment, maxsplit=1)[0])
               for segment in _SEPARATOR.split(path))


def path_refusal(path: str) -> str | None:
    """The code of the rule the path breaks, or None when it may be joined."""
    if CONTROL.search(path):
        return "control"
    head = re.split(r"[/?]", path, maxsplit=1)[0]
    if "\\" in path:
        return "backslash"
    if "#" in path:
        return "fragment"
    if ":" in head:
        return "scheme"
    if path.startswith("//"):
        return "double_slash"
    if "@" in head:
        return "user"
    if has_dot_segment(path.partition("?")[0]):
        return "dot_segment"
    return None


def check_path(path: str) -> None:
    """Raises PathError when join_url would refuse the path."""
    code = path_refusal(path) if path else None
    if code is not None:
        raise PathError(code, REFUSALS[code], path=path)


def join_url(base: str, path: str) -> str:
    base = base.rstrip("/")
    if not path:
        return _with_root(base)
    check_path(path)
    if not path.startswith(("/", "?")):
        path = "/" + path
    path = encode(path)
    if path.endswith("?") and path.count("?") == 1:
        path = path[:-1]  # an empty query is not sent
    return _with_root(base + path)


def _with_root(url: str) -> str:
    # A URL with no path at all is sent with "/": http://h?x=1 goes out as http://h/?x=1.
    scheme, separator, rest = url.partition("://")
    authority, query_mark, query = rest.partition("?")
    if not separator or "/" in authority:
        return url
    return f"{scheme}://{authority}/{query_mark}{query}"
