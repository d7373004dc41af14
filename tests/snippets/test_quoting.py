"""The quoting every snippet target relies on: each literal must read back as exactly the
value it was made from."""

import ast
import json
import shlex
import subprocess

import pytest
from httpie.cli.argtypes import KeyValueArgType
from httpie.cli.constants import SEPARATOR_GROUP_ALL_ITEMS

from services.snippets.quoting import (
    httpie_cannot_escape,
    httpie_escape,
    js_str,
    py_body,
    py_bytes,
    py_str,
    py_value,
    sh_printf_bytes,
    sh_quote,
    text_of,
)

TRICKY = ["", "plain", "it's", "'", "''", "\"double\"", "both ' and \"", "$HOME ${X} $(id) `id`",
          "\\", "a\\'b",
          "line\nbreak\ttab", "中文 😀 e\u0301", "!event ~user *glob? [a] {b,c} #c ; | &",
          "-starts-with-dash", "%s %% %n", "\r\x1b\x7f\x85\u2028\u00ad"]


# Quoting

@pytest.mark.parametrize("text", TRICKY)
def test_a_shell_word_is_exactly_the_text(text):
    assert shlex.split(sh_quote(text)) == [text]


@pytest.mark.parametrize("shell", ["bash", "dash"])
def test_printf_prints_exactly_the_bytes_in_bash_and_dash(shell):
    data = bytes(range(256)) + b"-%%\\'\\101"
    for body in (data, b"-leading dash", b"%", b"\x000\x017\x0012"):  # digits after octal
        printed = subprocess.run([shell, "-c", sh_printf_bytes(body)], capture_output=True,
                                 check=True, env={"PATH": "/usr/bin:/bin"}).stdout
        assert printed == body


@pytest.mark.parametrize("text", TRICKY)
def test_python_literals_are_exactly_the_value(text):
    assert ast.literal_eval(py_str(text)) == text
    assert ast.literal_eval(py_bytes(text.encode())) == text.encode()
    assert eval(py_body(text.encode())) == text.encode()
    # What a page would mangle is escaped: no raw control or line-separator characters.
    assert all(char.isprintable() for char in py_str(text))


def test_python_literals_keep_readable_text_and_take_json_values():
    assert py_str("中文 😀") == '"中文 😀"'
    assert py_str('{"a": 1}') == """'{"a": 1}'""" and py_bytes(b'"') == """b'"'"""
    assert py_body(b"\xff\x00") == 'b"\\xff\\x00"'
    value = {"a": [True, False, None, 1, -0.0, 1.5e300, "x"], "b": {"c": 10**30}}
    assert ast.literal_eval(py_value(value)) == value


def test_javascript_literals_are_exactly_the_value():
    literals = "[" + ", ".join(js_str(text) for text in TRICKY) + "]"
    printed = subprocess.run(["node", "-e", f"process.stdout.write(JSON.stringify({literals}))"],
                             capture_output=True, check=True).stdout
    assert json.loads(printed) == TRICKY
    assert js_str("\u2028") == '"\\u2028"'


def httpie_parse(item):
    return KeyValueArgType(*SEPARATOR_GROUP_ALL_ITEMS)(item)


@pytest.mark.parametrize("value", ["x", "=json", "@/etc/passwd", "=@f", ":=x", ";x;", "a:b=c@d",
                                   "C:\\dir \\\\share\\", "\\\\:even run", "tok=="])
def test_httpie_reads_a_header_item_as_the_value(value):
    assert not httpie_cannot_escape(value)
    parsed = httpie_parse("X-Name:" + httpie_escape(value))
    assert (parsed.key, parsed.sep, parsed.value) == ("X-Name", ":", value)


@pytest.mark.parametrize("value", ["a\\:b", "\\=", "x\\@", "\\\\\\;"])
def test_httpie_cannot_express_a_backslash_before_a_separator(value):
    assert httpie_cannot_escape(value)


def test_text_is_utf8_made_of_printable_characters():
    assert text_of("中文\n\tok".encode()) == "中文\n\tok"
    assert text_of(b"\xff") is None
    assert text_of(b"a\rb") is None
    assert text_of(b"nul\x00") is None


