"""What `printf FORMAT [ARG...]` writes, for a printf piped into curl (services/curl/
shell.py): how the portal's curl snippets send a body that is binary or too long for an
argument (`printf '\\000...' |` or `printf '%s' '...' |`, templates/services/snippets/curl.txt).
Pure: no Django."""

import re

from services.curl.messages import CurlImportError
from services.curl.messages import gettext_noop as _

# The escapes bash reads in $'...' and in a printf format, besides octal and hexadecimal.
ANSI_SIMPLE = {"a": b"\a", "b": b"\b", "e": b"\x1b", "E": b"\x1b", "f": b"\f", "n": b"\n",
               "r": b"\r", "t": b"\t", "v": b"\v", "\\": b"\\", "'": b"'", '"': b'"',
               "?": b"?"}
_PRINTF_ESCAPE = re.compile(rb"\\(?:[0-7]{1,3}|x[0-9A-Fa-f]{1,2}|.)|%(?:.|$)", re.DOTALL)


def printf_output(words: list[bytes]) -> bytes:
    """What `printf FORMAT [ARG...]` writes, as bash's builtin (and, for what the portal's
    snippets write, dash's) does: the escapes of FORMAT, %s and %% conversions; FORMAT is
    used again while arguments are left."""
    if words[:1] != [b"printf"]:
        raise CurlImportError(_("curl reads its input from %(name)s: the import reads only a "
                                "printf piped into curl, as the portal's snippets write it."),
                              name=(words[:1] or [b""])[0].decode("utf-8", "replace"))
    words = list(words)
    if words[1:2] == [b"--"]:
        del words[1]
    if len(words) < 2:
        raise CurlImportError(_("The printf before curl has no format."))
    form, args = words[1], words[2:]
    out = bytearray()
    while True:
        used = _printf_once(form, args, out)
        if not args or not used:
            return bytes(out)


def _printf_once(form: bytes, args: list[bytes], out: bytearray) -> int:
    """Writes FORMAT once to out, taking its %s arguments from args; returns how many."""
    used = 0
    position = 0
    for match in _PRINTF_ESCAPE.finditer(form):
        out += form[position:match.start()]
        position = match.end()
        piece = match.group()
        if piece == b"%%":
            out += b"%"
        elif piece == b"%s":
            used += 1
            out += args.pop(0) if args else b""
        elif piece.startswith(b"%"):
            raise CurlImportError(_("The printf before curl has the conversion %(piece)s; the "
                                    "import reads only %%s and %%%%."),
                                  piece=piece.decode("utf-8", "replace"))
        else:
            out += _printf_escape(piece)
    out += form[position:]
    return used


def _printf_escape(piece: bytes) -> bytes:
    body = piece[1:].decode("latin-1")
    if body[0] in "01234567":
        return bytes([int(body, 8) & 0xFF])
    if body[0] == "x" and len(body) > 1:
        return bytes([int(body[1:], 16)])
    if body in ANSI_SIMPLE and body != "?":
        return ANSI_SIMPLE[body]
    return piece
