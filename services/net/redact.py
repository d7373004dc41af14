r"""What redaction looks for: a token wherever it was pasted, however it was written there
(docs/api.md, "Call"). Pure (standard library only); services/calls.py compiles one
TokenPattern per token and replaces its matches, services/streams.py holds back what may start
one while an answer streams.

A token is found
- as typed;
- with any of its characters percent-encoded, the hex digits in either case, also encoded again
  ("%253D", up to three times), or "+" for a space;
- JSON-escaped: "\/", "\uXXXX" (a surrogate pair beyond U+FFFF), also escaped again ("\\u0041"
  in JSON inside JSON, up to 8 backslashes), the backslashes also percent-encoded ("%5Cu0041");
- as base64 (standard or URL-safe alphabet) at each of the three alignments it can have inside
  a longer base64 text (an Authorization: Basic value, a body echoed as base64): the characters
  that only the token's bytes decide; of the token as typed, percent-encoded or JSON-escaped,
  and these written in the ways above ("%2B", "\/").
"""

import base64
import json
import re
from urllib.parse import quote, quote_plus

MAX_BACKSLASHES = 8
# "%" written again as "%25", up to three times (a URL inside a query, inside a query).
_AGAIN = "(?:25){0,3}"
# After the first backslash of a JSON escape, up to 7 more, each as is or percent-encoded.
_MORE_BACKSLASHES = rf"(?:\\|%{_AGAIN}5[cC]){{0,{MAX_BACKSLASHES - 1}}}"
# A shorter piece of base64 would match too much that is not the token.
MIN_BASE64_CHARS = 8
# Past this many characters of a writing, whatever follows may be the rest of it (held back, up
# to the longest writing).
HOLD_UNITS = 16

Ways = list[list[str]]


def _hex(byte: int) -> list[str]:
    return [f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in f"{byte:02x}"]


def _percent(byte: int) -> list[str]:
    return ["%", _AGAIN, *_hex(byte)]


def _escaped(rest: list[str]) -> Ways:
    """A JSON escape: its first backslash as is or percent-encoded (each way starts with a
    literal character, so that a search skips ahead fast), more backslashes, then rest."""
    return [[r"\\", _MORE_BACKSLASHES, *rest], [*_percent(0x5C), _MORE_BACKSLASHES, *rest]]


def _either(char: str) -> str:
    return "(?:" + re.escape(char) + "|" + "".join(_percent(ord(char))) + ")"


def ways(char: str, base64_text: bool = False) -> Ways:
    """The ways one character may be written, each as its pieces: a regular expression for one
    character written, or for a run of backslashes. Base64's letters and digits only as they
    are."""
    if base64_text and (char.isalnum() or char in "-_"):
        return [[char]]
    found = [[re.escape(char)], [piece for byte in char.encode() for piece in _percent(byte)]]
    if char == " ":  # "+", also percent-encoded once a query holding it is
        found += [[r"\+"], _percent(0x2B)]
    code = char.encode("utf-16-be")
    escapes = [_escaped(["u", *_hex(code[i]), *_hex(code[i + 1])])
               for i in range(0, len(code), 2)]
    found += [first + second for first in escapes[0]
              for second in (escapes[1] if len(escapes) > 1 else [[]])]
    if char in '"/':
        found += _escaped([_either(char)])
    elif char == "\\":
        found += _escaped([])
    return found


def _longest(char: str, base64_text: bool = False) -> int:
    """The most bytes one of the ways of writing char takes: a JSON escape whose backslashes
    are each percent-encoded three times over ("%2525255C"), or its UTF-8 percent-encoded so."""
    if base64_text and (char.isalnum() or char in "-_"):
        return 1
    escape = (1 + 6 + 2) * MAX_BACKSLASHES + 5
    return max(escape * len(char.encode("utf-16-be")) // 2, (1 + 6 + 2) * len(char.encode()))


def base64_cores(data: bytes) -> set[str]:
    """The base64 characters that data's bytes alone decide, at each alignment, in both
    alphabets."""
    cores = set()
    for skip in range(3):
        encoded = base64.b64encode(bytes(skip) + data).decode("ascii")
        core = encoded[(skip * 8 + 5) // 6:(skip + len(data)) * 8 // 6]
        if len(core) >= MIN_BASE64_CHARS:
            cores |= {core, core.translate(str.maketrans("+/", "-_"))}
    return cores


def written(token: str) -> set[str]:
    """The token as it reads once encoded whole: what its base64 is taken of."""
    percent = quote(token, safe="")
    return {token, percent, re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), percent),
            quote_plus(token), json.dumps(token)[1:-1].replace("/", "\\/")}


def _unit(choices: Ways) -> str:
    if len(choices) == 1 and len(choices[0]) == 1:
        return choices[0][0]
    return "(?:" + "|".join("".join(way) for way in choices) + ")"


def _source(sequence: list[Ways]) -> str:
    """The sequence's regular expression, as alternatives that each start with a literal
    character: a search then skips the positions where none of them is (a first unit's ways,
    grouped by their first piece, each followed by the rest)."""
    rest = "".join(_unit(choices) for choices in sequence[1:])
    by_first: dict[str, list[str]] = {}
    for way in sequence[0]:
        by_first.setdefault(way[0], []).append("".join(way[1:]))
    return "|".join(first + (_unit([[tail] for tail in tails]) if tails != [""] else "") + rest
                    for first, tails in by_first.items())


def _prefix(sequence: list[Ways]) -> str:
    """A regular expression for a start of the sequence that more characters may complete."""
    source = "(?s:.*)" if len(sequence) > HOLD_UNITS else ""
    for choices in reversed(sequence[:HOLD_UNITS]):
        starts = sorted({"".join(way[:end]) for way in choices for end in range(1, len(way))})
        whole = _unit(choices) + (f"(?:{source})?" if source else "")
        source = "(?:" + "|".join([whole, *starts]) + ")"
    return source


class TokenPattern:
    """Every writing of one token: `text` finds them in str, `data` in bytes."""

    def __init__(self, token: str) -> None:
        cores = sorted({core for text in written(token) for core in base64_cores(text.encode())})
        self.sequences = [[ways(char) for char in token],
                          *[[ways(char, base64_text=True) for char in core] for core in cores]]
        source = "|".join(_source(sequence) for sequence in self.sequences)
        self.text = re.compile(source)
        self.data = re.compile(source.encode())
        # The bytes a writing can hold, and how long one can be.
        self.alphabet = bytes(sorted(set(b"%\\+u0123456789abcdefABCDEF" + "".join(
            [token, *cores]).encode())))
        self.longest = max(sum(_longest(char, base64_text=text is not token) for char in text)
                           for text in [token, *cores])
        self._tail: re.Pattern[bytes] | None = None

    def held(self, data: bytes) -> int:
        """How many bytes at the end of data may start a writing that more bytes complete."""
        window = data[-self.longest:]
        start = len(data) - (len(window) - len(window.rstrip(self.alphabet)))
        if start == len(data):
            return 0
        if self._tail is None:  # compiled when first needed: only streams ask
            self._tail = re.compile(("(?:" + "|".join(
                _prefix(sequence) for sequence in self.sequences) + r")\Z").encode())
        found = self._tail.search(data, start)
        return len(data) - found.start() if found else 0
