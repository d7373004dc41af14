"""Issue 15: the Simplified Chinese catalog is complete, current and careful, and no text a person
reads is left out of it (docs/i18n.md).

- Every entry of locale/zh_Hans/LC_MESSAGES/django.po is translated, none is fuzzy, and each
  keeps its msgid's placeholders; the EAS console's terms are used for the EAS words.
- The catalog is current: makemessages, run on a copy of the code, finds the same messages.
- The compiled catalog (`make messages`) says what the .po file says.
- Templates have no text and no title, placeholder, alt or aria-label outside {% translate %}.
- Python code hands no bare string literal to the places a person reads it from: messages,
  refusals, form and model errors, labels and help texts."""

import ast
import gettext
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.template.base import Lexer, TokenType

from tests.helpers import BASE_DIR

CATALOG = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOG.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")


def unquote(lines):
    return "".join(ast.literal_eval(line) for line in lines)


def entries(path):
    """The catalog's entries but its header: dicts of msgctxt, msgid, msgid_plural and msgstr
    (a list, one per form), flags and references, read the way msgfmt reads them."""
    found = []
    for block in path.read_text().split("\n\n"):
        entry, key, parts = {"flags": set(), "refs": [], "msgstr": []}, None, {}
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#:"):
                entry["refs"] += line[2:].split()
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):
                parts[key].append(line)
            else:
                key, _space, rest = line.partition(" ")
                parts[key] = [rest]
        for key, lines in parts.items():
            if key.startswith("msgstr"):
                entry["msgstr"].append(unquote(lines))
            else:
                entry[key] = unquote(lines)
        if entry.get("msgid"):
            found.append(entry)
    return found


def test_the_reader_reads_a_catalog(tmp_path):
    path = tmp_path / "django.po"
    path.write_text('msgid ""\nmsgstr "Language: x\\n"\n\n#: a.py:1\n#, fuzzy, python-format\n'
                    'msgid "%(n)s call"\nmsgid_plural "%(n)s "\n"calls"\nmsgstr[0] "%(n)s 次"\n\n'
                    'msgid "Save"\nmsgstr ""\n')
    assert entries(path) == [
        {"flags": {"fuzzy", "python-format"}, "refs": ["a.py:1"], "msgid": "%(n)s call",
         "msgid_plural": "%(n)s calls", "msgstr": ["%(n)s 次"]},
        {"flags": set(), "refs": [], "msgid": "Save", "msgstr": [""]}]


CATALOG_ENTRIES = entries(CATALOG)


def test_the_catalog_has_the_portals_messages():
    assert len(CATALOG_ENTRIES) > 500
    assert any(entry["msgid"] == "Log in" for entry in CATALOG_ENTRIES)


def test_every_entry_is_translated_and_none_is_fuzzy():
    untranslated = [entry["msgid"] for entry in CATALOG_ENTRIES
                    if not all(entry["msgstr"]) or not entry["msgstr"]]
    fuzzy = [entry["msgid"] for entry in CATALOG_ENTRIES if "fuzzy" in entry["flags"]]
    assert untranslated == [], f"{len(untranslated)} untranslated, the first: {untranslated[:5]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy, the first: {fuzzy[:5]}"


def test_every_translation_keeps_its_placeholders():
    broken = [(entry["msgid"], text) for entry in CATALOG_ENTRIES for text in entry["msgstr"]
              if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(
                  entry.get("msgid_plural", entry["msgid"])))]
    assert broken == []


# The EAS console's own words (its Chinese documentation), wherever the English says them.
EAS_TERMS = {"shared gateway": "共享网关", "dedicated gateway": "专属网关",
             "public endpoint": "公网地址", "vpc endpoint": "VPC 地址"}


@pytest.mark.parametrize("english", sorted(EAS_TERMS))
def test_the_eas_terms_are_the_consoles(english):
    using = [entry for entry in CATALOG_ENTRIES if english in entry["msgid"].lower()]
    assert using, f"no message says {english!r}"
    assert [entry["msgid"] for entry in using
            if not all(EAS_TERMS[english] in text for text in entry["msgstr"])] == []


def test_the_compiled_catalog_says_what_the_catalog_says():
    assert COMPILED.exists(), "no compiled catalog: run `make messages`"
    with COMPILED.open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    expected = {}
    for entry in CATALOG_ENTRIES:
        key = entry["msgid"]
        if "msgctxt" in entry:
            key = f"{entry['msgctxt']}\x04{key}"
        if "msgid_plural" in entry:
            expected |= {(key, n): text for n, text in enumerate(entry["msgstr"])}
        else:
            expected[key] = entry["msgstr"][0]
    compiled_entries = {key: text for key, text in catalog.items() if key != ""}
    assert compiled_entries == expected, "the compiled catalog is stale: run `make messages`"


def test_makemessages_finds_no_message_the_catalog_lacks(tmp_path):
    """Every marked string is in the catalog, and the catalog holds no message the code no
    longer has: makemessages on a copy of the code changes nothing."""
    for folder in ("easportal", "services", "emulator", "templates", "locale"):
        shutil.copytree(BASE_DIR / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy(BASE_DIR / "manage.py", tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete",
         "--no-location", "--verbosity", "0"],
        cwd=tmp_path, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "tests.settings",
             "PYTHONPATH": str(BASE_DIR)})
    assert result.returncode == 0, result.stderr
    fresh = entries(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")

    def messages(found):
        return {(entry.get("msgctxt"), entry["msgid"], entry.get("msgid_plural"))
                for entry in found}

    assert messages(fresh) - messages(CATALOG_ENTRIES) == set(), "not in the catalog yet"
    assert messages(CATALOG_ENTRIES) - messages(fresh) == set(), "no longer in the code"


# Text a person reads in a template, besides what {% translate %} says: words of two letters
# or more. The brand, units and a time zone's name are the same in every language.
WORD = re.compile(r"[A-Za-z]{2,}")
SAME_IN_EVERY_LANGUAGE = {"easportal", "ms", "UTC"}
VISIBLE_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label"}


def untranslated_text(source):
    """(line, text) of each piece of text in a template that a translate tag does not cover.
    Tags, variables, comments and translate blocks become "§", then the HTML is parsed:
    text outside <script>, <style>, <pre> and <code>, and the visible attributes."""
    flat, skipping = [], 0
    for token in Lexer(source).tokenize():
        name = (token.contents.split() or [""])[0]
        if token.token_type == TokenType.BLOCK:
            skipping += name in ("blocktranslate", "comment")
            skipping -= name in ("endblocktranslate", "endcomment")
            flat.append("§")
        elif token.token_type == TokenType.VAR:
            flat.append("§")
        elif token.token_type == TokenType.TEXT and not skipping:
            flat.append(token.contents)
    found = []

    def words(text):
        return [word for word in WORD.findall(text) if word not in SAME_IN_EVERY_LANGUAGE]

    class Reader(HTMLParser):
        hidden: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style", "pre", "code"):
                self.hidden.append(tag)
            found.extend((self.getpos()[0], f"{tag} {name}={value!r}") for name, value in attrs
                         if name in VISIBLE_ATTRIBUTES and value and words(value))

        def handle_endtag(self, tag):
            if self.hidden and self.hidden[-1] == tag:
                self.hidden.pop()

        def handle_data(self, data):
            if not self.hidden and words(data):
                found.append((self.getpos()[0], data.strip()[:80]))

    reader = Reader()
    reader.feed("".join(flat))
    reader.close()
    return found


def test_the_template_reader_finds_untranslated_text():
    source = ('{% load i18n %}<p title="Copy">{% translate "Save" %} {{ name }}</p>'
              '<pre>curl</pre>{% blocktranslate %}Sent {{ n }}{% endblocktranslate %}\n'
              '<input placeholder="{% translate \'Path\' %}"><b>Send now</b> 12 ms')
    assert untranslated_text(source) == [(1, "p title='Copy'"), (2, "Send now")]


TEMPLATES = sorted((BASE_DIR / "templates").rglob("*.html"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_templates_translate_every_text(path):
    assert untranslated_text(path.read_text()) == []


# Where Python hands a person a text: the message framework, refusals (pages and the API's
# "detail"), validation errors, and the labels and help texts of forms and models. A literal
# there is English whatever the language; a name of a query parameter (one lowercase word) is
# code, and stays.
MESSAGE_CALLS = {"debug": 1, "info": 1, "success": 1, "warning": 1, "error": 1,
                 "Refusal": 1, "HttpError": 1, "ValidationError": 0}
TEXT_KEYWORDS = {"label", "help_text", "verbose_name", "verbose_name_plural", "empty_label"}


def is_bare_text(node):
    if isinstance(node, ast.JoinedStr):
        return True
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)
            and not re.fullmatch(r"[a-z_]*", node.value) and bool(WORD.search(node.value)))


def bare_texts(source):
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        position = MESSAGE_CALLS.get(name)
        if position is not None and len(node.args) > position and is_bare_text(
                node.args[position]):
            found.append((node.lineno, name))
        found += [(node.lineno, keyword.arg) for keyword in node.keywords
                  if keyword.arg in TEXT_KEYWORDS and is_bare_text(keyword.value)]
        if name == "JsonResponse" and node.args and isinstance(node.args[0], ast.Dict):
            found += [(node.lineno, "detail") for key, value in zip(
                node.args[0].keys, node.args[0].values, strict=True)
                if isinstance(key, ast.Constant) and key.value == "detail"
                and is_bare_text(value)]
    return found


def test_the_python_reader_finds_bare_texts():
    source = ('messages.success(request, "Saved.")\nraise Refusal(404, _("No such call."))\n'
              'f = forms.CharField(label="Name", help_text=_("Shown on pages"))\n'
              'g = forms.IntegerField(label="cursor")\nraise HttpError(400, f"bad {x}")\n'
              'JsonResponse({"detail": "Gone."}, status=410)\nraise ValidationError(_("No."))')
    assert bare_texts(source) == [(1, "success"), (3, "label"), (5, "HttpError"),
                                  (6, "detail")]


PYTHON = sorted(path for folder in ("services", "easportal")
                for path in (BASE_DIR / folder).rglob("*.py") if "migrations" not in path.parts)


@pytest.mark.parametrize("path", PYTHON, ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_python_hands_people_translated_texts(path):
    assert bare_texts(path.read_text()) == []


# The scripts show only texts that the page hands them (json_script, translated by the server):
# no string literal in static/js/ reads like a label or a sentence (a capitalised word and
# another, or words ending a sentence). HTTP's reason phrases (the status line is protocol),
# the highlighter's keywords and an error only the console shows are not interface.
JS_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`([^`]*)`')
NOT_INTERFACE = {status.phrase for status in HTTPStatus} | {
    "Content Too Large", "Unprocessable Content",  # RFC 9110's names for 413 and 422
    "uPlot did not load"}
INTERFACE_LIKE = re.compile(r"[A-Z][a-z]+ [A-Za-z]|.* [a-z]{2,}[.!?…]")


def interface_texts(source):
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r"(?m)^\s*//.*$|\s//\s.*$", "", source)
    return [text for match in JS_STRING.finditer(source)
            for text in [next(group for group in match.groups() if group is not None)]
            if INTERFACE_LIKE.match(text) and text not in NOT_INTERFACE
            and not text.startswith("False None True")]


def test_the_script_reader_finds_interface_text():
    source = ('// a "Quoted comment" here\nimport { x } from "./util.js";\n'
              'el.textContent = "Saved it.";\nel.title = `Copy the snippet`;\nel.id = "new-key";'
              'q("tr.saved-row td"); s = "Not Found"; e.textContent = "it is saved now.";')
    assert interface_texts(source) == ["Saved it.", "Copy the snippet", "it is saved now."]


@pytest.mark.parametrize("path", sorted((BASE_DIR / "static" / "js").glob("*.js")),
                         ids=lambda path: path.name)
def test_scripts_write_no_interface_text(path):
    assert interface_texts(path.read_text()) == []
