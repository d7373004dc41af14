"""The browser's scripts are ES modules (static/js) that bring each other in by relative path.
collectstatic gives every file a hashed name, so a module must name the others by their hashed
names too (easportal/storage.py), or a page would load the unhashed files, which browsers cache
without a new name when they change. These tests read what the session's collectstatic wrote
(tests/conftest.py, static_files)."""

import json
import posixpath
import re
from pathlib import Path

from django.conf import settings

from tests.helpers import BASE_DIR

SOURCE = BASE_DIR / "static" / "js"
MODULES = sorted(path.name for path in SOURCE.glob("*.js"))
# The forms collectstatic rewrites: `import ... from "./x.js";`, `export ... from "./x.js";`,
# `import "./x.js";` and `import("./x.js")`.
SPECIFIER = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.{1,2}/[^"']*)\1""")
HASHED = re.compile(r"""(["']\.{1,2}/[^"']*)\.[0-9a-f]{12}(\.js["'])""")


def manifest():
    return json.loads((Path(settings.STATIC_ROOT) / "staticfiles.json").read_text())["paths"]


def collected(name):
    return (Path(settings.STATIC_ROOT) / manifest()[f"js/{name}"]).read_text()


def imports(text):
    return [specifier for _quote, specifier in SPECIFIER.findall(text)]


def test_every_module_brings_in_other_modules_by_a_path_that_exists():
    seen = 0
    for name in MODULES:
        for specifier in imports((SOURCE / name).read_text()):
            seen += 1
            assert specifier.startswith("./") and specifier.endswith(".js"), (name, specifier)
            assert (SOURCE / specifier).is_file(), (name, specifier)
    assert seen >= 8  # the pattern finds the imports there are


def test_the_collected_builder_imports_the_hashed_util_module():
    hashed_util = posixpath.basename(manifest()["js/util.js"])
    assert re.fullmatch(r"util\.[0-9a-f]{12}\.js", hashed_util)
    assert (Path(settings.STATIC_ROOT) / "js" / hashed_util).is_file()
    assert f'from "./{hashed_util}";' in collected("builder.js")


def test_every_collected_module_imports_the_hashed_names_and_is_otherwise_unchanged():
    paths = manifest()
    for name in MODULES:
        source, output = (SOURCE / name).read_text(), collected(name)
        expected = [
            "./" + posixpath.basename(paths[posixpath.normpath(posixpath.join("js", spec))])
            for spec in imports(source)
        ]
        assert imports(output) == expected, name
        # Only the paths changed: the rewriting's patterns also see comments and strings.
        assert HASHED.sub(r"\1\2", output) == source, name


def test_no_module_publishes_a_global():
    for name in MODULES:
        text = (SOURCE / name).read_text()
        assert not re.search(r"\bwindow\.\w+\s*=(?!=)", text), name


def test_templates_load_scripts_as_modules_from_static_js():
    found = []
    for template in (BASE_DIR / "templates").rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*\bsrc=[^>]*>", template.read_text()):
            match = re.fullmatch(r"""<script type="module" src="{% static 'js/([\w-]+\.js)' %}">""",
                                 tag)
            assert match, (template, tag)
            assert match.group(1) in MODULES, (template, tag)
            found.append(match.group(1))
    assert "builder.js" in found and "snippets.js" in found and "chat.js" in found
