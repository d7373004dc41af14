"""The shell's part of a pasted command: the words bash would hand to curl, and the bytes a
leading printf would pipe into it. Pure: no Django.

Read as bash reads them: single quotes, double quotes (where a backslash escapes only $ ` " \\
and a newline), $'...' (ANSI-C escapes, bytes included), backslash-newline continuations and
comments. Nothing runs and nothing expands: a $NAME or ${...} stays as written and is reported,
so that the caller can say so; a command substitution ($(...) or `...`) is refused, since its
output cannot be known. Of pipelines, only `printf FORMAT [ARG...] | curl ...` (how the portal's
own curl snippets send a body that is binary or long) feeds curl's standard input; commands
after curl only read its output.
"""

import re
from dataclasses import dataclass, field

from services.curl.messages import CurlImportError, Message
from services.curl.messages import gettext_noop as _
from services.curl.printf import ANSI_SIMPLE, printf_output

# Runs of characters that stand for themselves outside quotes.
_PLAIN = re.compile(r"[^ \t\r\n'\"\\$`|&;<>()#]+")
_IN_DOUBLE = re.compile(r"[^\"\\$`]+")
_IN_ANSI = re.compile(r"[^'\\]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL_PARAMETERS = "0123456789@*#?-$!"
_ANSI_NUMERIC = re.compile(r"[0-7]{1,3}|x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}")
_REDIRECTION = re.compile(r"<<<?|<\(|>\(|>>|>\||>&|<&|<>|&>>|&>|<|>")
# Brace expansion: {a,b} or {1..3} outside quotes (a quoted part inside still counts).
_BRACES = re.compile(r"\{[^{}]*(,|\.\.)[^{}]*\}")
_CONTROL = re.compile(r"&&|&>>|&>|\|\||\|&|;;|[|&;]")

SUBSTITUTION = _("The command runs another command to make one of its words (%(text)s); the "
                 "import cannot know that command's output: paste the command with the value "
                 "itself.")


@dataclass
class Word:
    """One argument as the program receives it: bytes (a $'\\xff' may make any), with the
    expansions ($NAME, ${...}) it holds, left as written."""

    data: bytes
    expansions: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "surrogateescape")


@dataclass
class Command:
    words: list[Word] = field(default_factory=list)
    redirections: list[tuple[str, Word]] = field(default_factory=list)


@dataclass
class CurlCommand:
    args: list[Word]  # after the word curl
    stdin: bytes | None  # what a printf pipes into it; None: nothing known
    stdin_from_file: bool = False
    notes: list[Message] = field(default_factory=list)


class _Lexer:
    """Splits the text into words, operators (| || & && ; ;; |& and line ends) and
    redirections, the way bash does."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[Word | str] = []
        self.word: bytearray | None = None
        self.quoted = False
        self.expansions: list[str] = []
        self.shape: list[str] = []

    def add(self, data: bytes, plain: bool = False) -> None:
        if self.word is None:
            self.word = bytearray()
            self.shape = []
        self.word += data
        # The word's shape: what bash sees unquoted, a quoted part as one \x01.
        self.shape.append(data.decode("utf-8", "replace") if plain else "\x01")

    def end_word(self) -> None:
        if self.word is not None:
            brace = _BRACES.search("".join(self.shape))
            if brace:
                raise CurlImportError(_("The word %(word)s has an unquoted {…} with a comma or "
                                        "“..”, which the shell expands into several words: "
                                        "quote the word (as '…')."),
                                      word=bytes(self.word).decode("utf-8", "replace")[:80])
            self.tokens.append(Word(bytes(self.word), tuple(self.expansions)))
        self.word, self.quoted, self.expansions, self.shape = None, False, [], []

    def operator(self, op: str) -> None:
        self.end_word()
        self.tokens.append(op)

    def run(self) -> list[Word | str]:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            plain = _PLAIN.match(text, self.pos)
            if plain:
                self.add(plain.group().encode(), plain=True)
                self.pos = plain.end()
            elif char == "\n":
                self.operator("\n")
                self.pos += 1
            elif char in " \t\r":  # a CR too: a command pasted with Windows line ends
                self.end_word()
                self.pos += 1
            elif char == "\\":
                self.backslash()
            elif char == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    raise CurlImportError(_("A single quote (') is not closed."))
                self.quoted = True
                self.add(text[self.pos + 1:end].encode())
                self.pos = end + 1
            elif char == '"':
                self.double_quoted()
            elif char == "$":
                self.dollar(quoted=False)
            elif char == "`":
                raise CurlImportError(SUBSTITUTION, text="`...`")
            elif char == "#" and self.word is None:
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif char == "#":
                self.add(b"#")
                self.pos += 1
            elif char in "<>":
                self.redirection()
            elif char in "()":
                raise CurlImportError(_("The command has an unquoted %(char)s, which the shell "
                                        "reads as syntax: quote the word it belongs to."),
                                      char=char)
            else:
                self.control_operator()
        self.end_word()
        return self.tokens

    def backslash(self) -> None:
        after = self.text[self.pos + 1:self.pos + 3]
        if after[:1] == "\n" or after == "\r\n":  # a line continuation
            self.pos += 1 + (1 if after[:1] == "\n" else 2)
        elif not after:
            self.add(b"\\")
            self.pos += 1
        else:
            self.quoted = True
            self.add(after[0].encode())
            self.pos += 2

    def double_quoted(self) -> None:
        text = self.text
        self.quoted = True
        self.add(b"")
        self.pos += 1
        while True:
            if self.pos >= len(text):
                raise CurlImportError(_('A double quote (") is not closed.'))
            char = text[self.pos]
            if char == '"':
                self.pos += 1
                return
            if char == "\\":
                after = text[self.pos + 1:self.pos + 2]
                if after == "\n":
                    self.pos += 2
                elif after and after in '$`"\\':
                    self.add(after.encode())
                    self.pos += 2
                else:
                    self.add(b"\\")
                    self.pos += 1
            elif char == "$":
                self.dollar(quoted=True)
            elif char == "`":
                raise CurlImportError(SUBSTITUTION, text="`...`")
            else:
                run = _IN_DOUBLE.match(text, self.pos)
                assert run is not None
                self.add(run.group().encode())
                self.pos = run.end()

    def dollar(self, quoted: bool) -> None:
        text, start = self.text, self.pos
        after = text[start + 1:start + 2]
        if after == "'" and not quoted:
            self.ansi_c()
            return
        if after == '"' and not quoted:  # $"...": a string for translation, as "..."
            self.pos += 1
            self.double_quoted()
            return
        if after in ("(", "["):
            raise CurlImportError(SUBSTITUTION, text="$" + after + "..." + ")]"[after == "["])
        if after == "{":
            end = text.find("}", start + 2)
            if end < 0:
                raise CurlImportError(_("A ${ is not closed by }."))
            written = text[start:end + 1]
        elif _NAME.match(after):
            name = _NAME.match(text, start + 1)
            assert name is not None
            written = "$" + name.group()
        elif after and after in _SPECIAL_PARAMETERS:
            written = text[start:start + 2]
        else:
            self.add(b"$")
            self.pos += 1
            return
        self.add(written.encode())
        self.expansions.append(written)
        self.pos = start + len(written)

    def ansi_c(self) -> None:
        text = self.text
        self.quoted = True
        self.pos += 2
        out = bytearray()
        while True:
            if self.pos >= len(text):
                raise CurlImportError(_("A $' quote is not closed."))
            char = text[self.pos]
            if char == "'":
                self.pos += 1
                break
            if char != "\\":
                run = _IN_ANSI.match(text, self.pos)
                assert run is not None
                out += run.group().encode()
                self.pos = run.end()
                continue
            out += self.ansi_escape()
        # bash ends the quoted string at a NUL byte.
        self.add(bytes(out).partition(b"\0")[0])

    def ansi_escape(self) -> bytes:
        text, pos = self.text, self.pos + 1
        char = text[pos:pos + 1]
        if not char:
            raise CurlImportError(_("A $' quote is not closed."))
        if char in ANSI_SIMPLE:
            self.pos = pos + 1
            return ANSI_SIMPLE[char]
        if char == "c" and pos + 1 < len(text):  # \cX: the control character of X
            self.pos = pos + 2
            return bytes([ord(text[pos + 1].upper()) & 0x1F if text[pos + 1] != "?" else 0x7F])
        number = _ANSI_NUMERIC.match(text, pos)
        if number:
            self.pos = number.end()
            digits = number.group()
            if digits[0] in "01234567":
                return bytes([int(digits, 8) & 0xFF])
            if digits[0] == "x":
                return bytes([int(digits[1:], 16)])
            code = int(digits[1:], 16)
            if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                return chr(code).encode()
            return ("\\" + digits).encode()
        self.pos = pos + 1  # not an escape: the backslash stays
        return ("\\" + char).encode()

    def redirection(self) -> None:
        text, pos = self.text, self.pos
        if self.word is not None and not self.quoted and bytes(self.word).isdigit():
            self.word, self.expansions = None, []  # 2>file: the digits name a descriptor
        self.end_word()
        op = _REDIRECTION.match(text, pos)
        assert op is not None
        if op.group() in ("<<", "<<<"):
            raise CurlImportError(_("The command has a here-document (<<); the import reads "
                                    "only a printf piped into curl."))
        if op.group() in ("<(", ">("):
            raise CurlImportError(SUBSTITUTION, text=op.group() + "...)")
        self.tokens.append("redirect" + op.group())
        self.pos = pos + len(op.group())

    def control_operator(self) -> None:
        op = _CONTROL.match(self.text, self.pos)
        assert op is not None
        if op.group().startswith("&>"):
            self.end_word()
            self.tokens.append("redirect" + op.group())
        else:
            self.operator(op.group())
        self.pos += len(op.group())


def commands(text: str) -> tuple[list[Command], list[str]]:
    """The simple commands of the text and the operators between them."""
    found: list[Command] = []
    between: list[str] = []
    current = Command()
    redirect: str | None = None
    for token in _Lexer(text).run():
        if isinstance(token, Word):
            if redirect is None:
                current.words.append(token)
            else:
                current.redirections.append((redirect, token))
                redirect = None
        elif redirect is not None:
            raise CurlImportError(_("A redirection (%(op)s) names no file."), op=redirect)
        elif token.startswith("redirect"):
            redirect = token.removeprefix("redirect")
        elif current.words or current.redirections:
            found.append(current)
            between.append(token)
            current = Command()
        elif token != "\n":
            raise CurlImportError(_("The command has %(op)s where a command should be."),
                                  op=token)
    if redirect is not None:
        raise CurlImportError(_("A redirection (%(op)s) names no file."), op=redirect)
    if current.words or current.redirections:
        found.append(current)
    elif between and between[-1] in (";", "\n"):
        between.pop()  # a command ended by ; or a line end
    elif between:
        raise CurlImportError(_("The command ends with %(op)s."), op=between[-1].strip())
    return found, between


def is_curl(command: Command) -> bool:
    name = command.words[0].text if command.words else ""
    return name == "curl" or name.endswith("/curl")


def curl_command(text: str) -> CurlCommand:
    """The curl command of the text, with what a printf before it pipes into it. Raises
    CurlImportError for anything else: no command, more than one, no curl."""
    found, between = commands(text)
    if not found:
        raise CurlImportError(_("Paste a curl command."))
    if "&" in between:
        raise CurlImportError(_("An unquoted & ends the command there (the shell would run it "
                                "in the background): quote the URL or the word that holds "
                                "the &."))
    if any(op not in ("|", "|&") for op in between):
        raise CurlImportError(_("The text holds more than one command: paste only the curl "
                                "command."))
    index = next((i for i, command in enumerate(found) if is_curl(command)), None)
    if index is None or index > 1:
        raise CurlImportError(_("This is not a curl command: it starts with %(name)s."),
                              name=_first_word(found[0]))
    curl = found[index]
    result = CurlCommand(args=curl.words[1:], stdin=None)
    if index == 1:
        result.stdin = printf_output([word.data for word in found[0].words])
    result.stdin_from_file = any(op in ("<", "<>") for op, _target in curl.redirections)
    after = [_first_word(command) for command in found[index + 1:]]
    if after:
        result.notes.append(Message(_("The answer goes on to %(names)s, which does not change "
                                      "the request: left out."), {"names": ", ".join(after)}))
    return result


def _first_word(command: Command) -> str:
    return command.words[0].text if command.words else ""
