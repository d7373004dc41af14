"""The shape of the code, as docs/architecture.md gives it: no private names imported across
modules, no import circles, no file over 400 lines, the parts importing each other exactly as
the architecture's table says, one module each for the network and the cipher, and a README
whose layout map matches the tree."""

import ast
import re
from pathlib import Path

import pytest

from tests.helpers import BASE_DIR

OURS = ("services", "emulator", "easportal")
CHECKED = ("services", "emulator")
MAX_LINES = 400


def python_files(*folders):
    return sorted(path for folder in folders for path in (BASE_DIR / folder).rglob("*.py")
                  if "__pycache__" not in path.parts)


def module_name(path):
    parts = list(path.relative_to(BASE_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in python_files(*OURS)}


def imports_of(path):
    """(line, module imported, names taken from it) for every import statement, anywhere in
    the file, of our own modules. `from package import submodule` counts as importing the
    submodule."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in MODULES:
                    found.append((node.lineno, submodule, ()))
                else:
                    found.append((node.lineno, node.module, (alias.name,)))
    return [(line, module, names) for line, module, names in found
            if module.split(".")[0] in OURS]


def test_the_walk_sees_the_code():
    assert {"services.calls", "services.net.client", "services.api.urls", "emulator.app",
            "services.models.teams"} <= set(MODULES)
    assert ("services.net.client" in
            {module for _line, module, _names in imports_of(MODULES["services.calls"])})


def test_no_module_imports_a_private_name_from_another_module():
    private = []
    for module, path in MODULES.items():
        if not module.startswith(CHECKED):
            continue
        for line, imported, names in imports_of(path):
            hidden = [name for name in names if name.startswith("_")]
            hidden += [part for part in imported.split(".") if part.startswith("_")
                       and part not in ("__init__", "__main__")]
            if hidden and imported != module:
                private.append(f"{path.relative_to(BASE_DIR)}:{line} {imported} {hidden}")
    assert private == []


def import_graph():
    return {module: {imported for _line, imported, _names in imports_of(path)
                     if imported in MODULES and imported != module}
            for module, path in MODULES.items()}


def find_circle(graph):
    """One circle of imports as a list of modules, or None."""
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                return [*stack[stack.index(imported):], imported]
            if imported not in state:
                circle = visit(imported)
                if circle:
                    return circle
        stack.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            circle = visit(module)
            if circle:
                return circle
    return None


def test_there_are_no_import_circles():
    graph = import_graph()
    assert find_circle(graph) is None


def test_find_circle_finds_one():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("path", python_files(*CHECKED), ids=lambda path: str(path))
def test_no_file_is_over_400_lines(path):
    assert len(path.read_text("utf-8").splitlines()) <= MAX_LINES


# docs/architecture.md, "The parts": part | where | imports, between two markers.

ARCHITECTURE = BASE_DIR / "docs" / "architecture.md"


def documented_parts():
    text = ARCHITECTURE.read_text("utf-8")
    table = text.split("<!-- parts:", 1)[1].split("<!-- /parts -->", 1)[0]
    parts = {}
    for row in table.splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("part", "") or set(cells[0]) <= {"-"}:
            continue
        where = tuple(place.strip().strip("`") for place in cells[1].split(","))
        imports = {name.strip() for name in cells[2].split(",") if name.strip()}
        parts[cells[0]] = (where, imports)
    return parts


def part_of(path, parts):
    relative = path.relative_to(BASE_DIR).as_posix()
    matches = [(len(place), name) for name, (where, _imports) in parts.items() for place in where
               if relative == place or (place.endswith("/") and relative.startswith(place))]
    return max(matches, default=(0, None))[1]


def test_every_module_belongs_to_a_documented_part():
    parts = documented_parts()
    assert len(parts) >= 15
    homeless = [str(path.relative_to(BASE_DIR)) for path in python_files(*OURS)
                if part_of(path, parts) is None]
    assert homeless == []


def test_the_parts_import_each_other_as_the_architecture_says():
    parts = documented_parts()
    actual = {name: set() for name in parts}
    for module, path in MODULES.items():
        mine = part_of(path, parts)
        for imported in import_graph()[module]:
            theirs = part_of(MODULES[imported], parts)
            if theirs != mine:
                actual[mine].add(theirs)
    assert actual == {name: imports for name, (_where, imports) in parts.items()}


# One module each for the network and the cipher.

def importers_of(prefixes, folders=CHECKED):
    found = set()
    for path in python_files(*folders):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            if any(name == prefix or name.startswith(prefix + ".")
                   for name in names for prefix in prefixes):
                found.add(path.relative_to(BASE_DIR).as_posix())
    return found


def test_only_the_call_functions_reach_the_network():
    reaching = importers_of(["services.net.client", "services.net.stream"])
    assert {path for path in reaching if not path.startswith("services/net/")} == {
        "services/calls.py", "services/streams.py", "services/gateway.py"}


def test_only_the_client_uses_an_http_client_library():
    assert importers_of(["requests", "httpx", "urllib3", "http.client"]) == {
        "services/net/client.py", "services/net/transport.py"}


def test_only_tokens_touches_the_cipher():
    assert importers_of(["cryptography"], folders=("services", "emulator", "easportal")) == {
        "services/tokens.py"}


def test_nothing_points_outside_the_repository():
    tracked = [*python_files(*OURS, "tests"), *(BASE_DIR / "docs").glob("*.md"),
               BASE_DIR / "README.md", *(BASE_DIR / "templates").rglob("*.html"),
               *(BASE_DIR / "static" / "js").glob("*.js")]
    pointing = [str(path.relative_to(BASE_DIR)) for path in tracked
                if path != Path(__file__) and re.search(
                    r"DESIGN\.md|\.\./shared", path.read_text("utf-8"))]
    assert pointing == []


# The README's layout map ("What's here") and the tree.

def readme_map():
    text = (BASE_DIR / "README.md").read_text("utf-8")
    section = text.split("## What's here", 1)[1]
    return section.split("```", 2)[1]


def tree_entries():
    """Every file and folder of the project, as relative paths; folders end with "/"."""
    skipped = {".git", ".venv", "var", "__pycache__", "node_modules", ".pytest_cache",
               ".ruff_cache", ".mypy_cache", "staticfiles"}
    entries = set()
    for path in BASE_DIR.rglob("*"):
        relative = path.relative_to(BASE_DIR)
        if skipped & set(relative.parts):
            continue
        entries.add(relative.as_posix() + ("/" if path.is_dir() else ""))
    return entries


def test_every_path_in_the_readme_map_exists():
    # A name in the map is a path from the top (services/net/) or from the folder it is
    # listed under (teams.py under models/).
    path = r"(?:[\w.-]+/)+(?:[\w.-]+\.\w+)?|[\w.-]+\.(?:py|md|json|js|sh|txt)"
    names = re.findall(rf"(?<![\w./-])({path})", readme_map())
    assert len(names) >= 40
    entries = tree_entries()
    missing = [name for name in names
               if name not in entries and not any(entry.endswith("/" + name) for entry in entries)]
    assert missing == []


def test_the_readme_map_names_every_part_of_the_code():
    block = readme_map()
    entries = [path for folder in ("services", "emulator") for path in (BASE_DIR / folder).iterdir()
               if path.name not in ("__init__.py", "__pycache__", "migrations")]
    entries += [path for path in (BASE_DIR / "tests").iterdir() if path.is_dir()
                and path.name != "__pycache__"]
    unnamed = [str(path.relative_to(BASE_DIR)) for path in entries
               if (path.name + ("/" if path.is_dir() else "")) not in block]
    assert unnamed == []
