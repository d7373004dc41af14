"""Quoting, one function per language, for the snippets (services/snippets/): each turns a
value into source text that means exactly that value, so no snippet assembles quotes itself.

Pure: no Django. Non-printable characters are always escaped, so a snippet shown in a page and
copied from it loses nothing (a browser would turn a raw \\r into a line break, for one).
"""

import base64
import re

# What one argument of a command may hold on Linux (MAX_ARG_STRLEN, 128 KiB with its NUL);
# printf is a shell builtin, never exec'd, so its arguments have no such limit.
MAX_ARG_BYTES = 128 * 1024 - 1
# HTTPie reads these as (parts of) separators in a request item; a backslash before one keeps
# it literal, and is dropped.
HTTPIE_SPECIAL = ":;=@"


def text_of(body):
    """The body as text when it is UTF-8 made of printable characters, newlines and tabs; else
    None, and the snippet carries it as bytes."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if all(char.isprintable() or char in "\n\t" for char in set(text)) else None


# POSIX shell (bash, dash, zsh)

def sh_quote(text):
    """One shell word: single quotes, inside which nothing expands; ' is written '\\''."""
    return "'" + text.replace("'", "'\\''") + "'"


def sh_printf_bytes(data):
    """A printf format that prints exactly these bytes: printable ASCII as it is, except ',
    \\ and % (and a leading -, which printf would read as an option); the rest as three-digit
    octal escapes, which bash's and dash's printf both read, NUL included."""
    out = []
    for index, byte in enumerate(data):
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif 0x20 <= byte < 0x7F and char not in "'\\" and not (index == 0 and char == "-"):
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "printf '" + "".join(out) + "'"


def sh_printf_text(text):
    return "printf '%s' " + sh_quote(text)


def httpie_escape(value):
    """A header item's value for HTTPie ("Name:value"): HTTPie splits the item at the first
    separator, the longest one there, so a value starting with = or @ would make ":=" (JSON
    data) or ":@" (a file to read) of it; a backslash keeps that first character literal.
    Anything after it is taken as it is."""
    return "\\" + value if value[:1] in ("=", "@") else value


def httpie_cannot_escape(text):
    """True when text has a backslash right before : ; = or @ (after an odd run of them):
    HTTPie reads "\\:" as an escaped ":" and "\\\\" as two backslashes, so no spelling of the
    item gives one backslash followed by the separator."""
    return re.search(r"(?<!\\)(?:\\\\)*\\[" + HTTPIE_SPECIAL + "]", text) is not None


# Python

_NAMED_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_NEEDS_ESCAPE = {quote: re.compile(r"[\\" + quote + r"]|[^ -~]") for quote in "\"'"}


def _quote_for(text):
    # Single quotes for text with " but no ', such as JSON: fewer backslashes to read.
    return "'" if '"' in text and "'" not in text else '"'


def _escape_char(char, quote, astral):
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if char == quote:
        return "\\" + char
    if char.isprintable():  # Chinese, emoji: as they are
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else astral(code)


def _string_literal(text, astral):
    quote = _quote_for(text)
    return quote + _NEEDS_ESCAPE[quote].sub(
        lambda match: _escape_char(match[0], quote, astral), text) + quote


def py_str(text):
    """A Python str literal; non-printable characters escaped, any other kept as it is."""
    return _string_literal(text, lambda code: f"\\U{code:08x}")


def py_bytes(data):
    """A Python bytes literal: printable ASCII as it is, the rest as \\xNN."""
    quote = _quote_for(data.decode("latin-1"))
    escaped = re.sub(
        rb"[\\" + quote.encode() + rb"]|[^ -~]",
        lambda m: ("\\" + quote if m[0] == quote.encode()
                   else _NAMED_ESCAPES.get(chr(m[0][0]), f"\\x{m[0][0]:02x}")).encode(),
        data,
    )
    return "b" + quote + escaped.decode("ascii") + quote


def py_body(body):
    """The exact body bytes as a Python expression: "...".encode("utf-8") for text."""
    try:
        return py_str(body.decode("utf-8")) + '.encode("utf-8")'
    except UnicodeDecodeError:
        return py_bytes(body)


def py_value(value):
    """A Python literal for a value parsed from JSON (true, false, null: True, False, None)."""
    if isinstance(value, dict):
        return py_dict((key, py_value(item)) for key, item in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(py_value(item) for item in value) + "]"
    if isinstance(value, str):
        return py_str(value)
    if value is None or isinstance(value, bool | int):
        return repr(value)
    return repr(float(value))  # finite: non-finite numbers were refused when parsing


def py_dict(pairs):
    """A Python dict literal from (key, code) pairs: the keys are quoted, the values are code
    already (a literal, or a name such as omit)."""
    return "{" + ", ".join(f"{py_str(key)}: {code}" for key, code in pairs) + "}"


# JavaScript

def js_str(text):
    """A JavaScript string literal; U+2028 and U+2029 are escaped too (not printable)."""
    return _string_literal(text, lambda code: f"\\u{{{code:x}}}")


def js_body(body):
    """The exact body bytes as a JavaScript expression fetch sends as they are: a string body
    would make fetch add Content-Type: text/plain;charset=UTF-8."""
    try:
        return f"new TextEncoder().encode({js_str(body.decode('utf-8'))})"
    except UnicodeDecodeError:
        encoded = base64.b64encode(body).decode("ascii")
        return f'Uint8Array.from(atob("{encoded}"), (char) => char.charCodeAt(0))'
