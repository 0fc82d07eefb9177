"""ARCHITECTURE.md's import table is the rule, and this test enforces it on the code.

Every module's imports are read with `ast` (imports inside functions and under TYPE_CHECKING
count too: a lazy or type-only dependency is still a dependency; so does `importlib.import_module`
or `__import__` of a constant name, and a dynamic name is allowed only inside the module's own
package). Each module is judged by its
most specific row of the table ("## Import rules"): the eicontract modules it may import and the
third-party distributions it may import; the standard library is always allowed. A module
without a row, or a row that names nothing that exists, fails too, so the table stays true.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "eicontract"
DOC = ROOT / "ARCHITECTURE.md"
ANYTHING = "everything"


@dataclass(frozen=True)
class Rule:
    pattern: str  # a module under eicontract ("oracles", "http.client", "cli"); it covers its submodules
    internal: frozenset[str]  # eicontract modules (and their submodules) it may import; ANYTHING for the top
    external: frozenset[str]  # top-level third-party names


def _names(cell: str) -> frozenset[str]:
    return frozenset(re.findall(r"`([^`]+)`", cell))


def rules() -> list[Rule]:
    """The rows of the import table in ARCHITECTURE.md."""
    text = DOC.read_text()
    section = text.split("## Import rules", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    out = []
    for row in rows:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        internal = frozenset({ANYTHING}) if ANYTHING in cells[1] else _names(cells[1])
        out.extend(Rule(p, internal, _names(cells[2])) for p in _names(cells[0]))
    return out


def _covers(pattern: str, module: str) -> bool:
    return module == pattern or module.startswith(pattern + ".")


def rule_for(module: str, table: list[Rule]) -> Rule | None:
    """The most specific row covering `module` (a name under eicontract, e.g. "oracles.paging")."""
    matching = [r for r in table if _covers(r.pattern, module)]
    return max(matching, key=lambda r: len(r.pattern)) if matching else None


def modules() -> dict[str, Path]:
    """name under eicontract -> file, for every module of the package (__init__ is its package)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name:  # eicontract/__init__.py itself imports nothing
            out[name] = path
    return out


MODULES = modules()


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module of a `from ... import` (relative imports resolved against `module`)."""
    if not node.level:
        return node.module or ""
    is_package = MODULES.get(module, Path()).name == "__init__.py"
    base = ["eicontract", *module.split(".")][: None if is_package else -1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


DYNAMIC = "<a dynamic name>"
_IMPORTERS = ("import_module", "__import__")


def _dynamic_import(module: str, node: ast.Call) -> str | None:
    """The module an `importlib.import_module(...)` / `__import__(...)` call names; a name built at run
    time counts as the module's own package only when it starts from `__name__`, else DYNAMIC."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name not in _IMPORTERS or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    first = arg.values[0] if isinstance(arg, ast.JoinedStr) and arg.values else None
    if isinstance(first, ast.FormattedValue) and isinstance(first.value, ast.Name) and first.value.id == "__name__":
        return f"eicontract.{module}"
    return DYNAMIC


def imports(module: str) -> set[str]:
    """Every module `module` imports, absolute; `from pkg import name` counts pkg.name when that is a module."""
    tree = ast.parse(MODULES[module].read_text(), filename=str(MODULES[module]))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (dynamic := _dynamic_import(module, node)):
            found.add(dynamic)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            if source == "__future__":
                continue
            found.add(source)
            for alias in node.names:
                inner = f"{source}.{alias.name}"
                if inner.startswith("eicontract.") and inner.removeprefix("eicontract.") in MODULES:
                    found.add(inner)
    return found


def problems(module: str, table: list[Rule]) -> list[str]:
    rule = rule_for(module, table)
    if rule is None:
        return [f"eicontract.{module} has no row in ARCHITECTURE.md's import table"]
    out = []
    for imported in sorted(imports(module)):
        if imported == DYNAMIC:
            out.append(f"eicontract.{module} imports a module named at run time: the table cannot check it")
            continue
        top = imported.split(".")[0]
        if top == "eicontract":
            inner = imported.removeprefix("eicontract").lstrip(".")
            allowed = (not inner or ANYTHING in rule.internal or _covers(rule.pattern, inner)
                       or any(_covers(p, inner) for p in rule.internal))
        else:
            allowed = top in sys.stdlib_module_names or top in rule.external
        if not allowed:
            out.append(f"eicontract.{module} imports {imported}: its row (`{rule.pattern}`) does not allow it")
    return out


TABLE = rules()


def test_the_table_has_rows_and_every_row_names_a_real_module() -> None:
    assert len(TABLE) >= 10
    for rule in TABLE:
        assert any(_covers(rule.pattern, m) for m in MODULES), f"row `{rule.pattern}` names no module"
        for name in rule.internal - {ANYTHING}:
            assert any(_covers(name, m) for m in MODULES) or name in MODULES, f"`{rule.pattern}` allows `{name}`"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_only_what_its_layer_allows(module: str) -> None:
    assert problems(module, TABLE) == []


# --- the checker itself, on rules it must enforce ---------------------------------------------

def _judge(module: str, source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    path = tmp_path / "probe.py"
    path.write_text(source)
    monkeypatch.setitem(MODULES, module, path)
    return problems(module, TABLE)


@pytest.mark.parametrize(("module", "source"), [
    ("oracles.paging", "import httpx\n"),
    ("oracles.paging", "def f():\n    import pytest\n"),  # inside a function: still an import
    ("oracles.paging", "from eicontract.http import client\n"),
    ("oracles.paging", "from ..pytest import fixtures\n"),  # relative
    ("oracles.paging", "from eicontract.suite import conftest\n"),
    ("reporting.summary", "from eicontract.pytest import hooks\n"),
    ("server.app", "from eicontract.oracles import paging\n"),
    ("http.client", "import pytest\n"),
    ("schemathesis", "import hypothesis\n"),
    ("oracles.paging", "import importlib\nimportlib.import_module('eicontract.http.client')\n"),
    ("oracles.paging", "from importlib import import_module\nimport_module('httpx')\n"),
    ("oracles.paging", "__import__('eicontract.pytest.hooks')\n"),
    ("oracles.paging", "import importlib\nname = 'x'\nimportlib.import_module(name)\n"),
])
def test_the_checker_catches_a_forbidden_import(module: str, source: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    found = _judge(module, source, tmp_path, monkeypatch)
    assert found and all(f"eicontract.{module} imports" in problem for problem in found)


@pytest.mark.parametrize(("module", "source"), [
    ("oracles.paging", "import json\nfrom eicontract.oracles.filters import SAMPLE_FIELDS\nfrom . import envelope\n"),
    ("oracles.schema", "from eicontract import contract\n"),
    ("server.app", "from eicontract.server import config\nimport starlette.routing\n"),
    ("cli", "from eicontract.server import FAULTS\nimport pytest\n"),
    ("server", "import importlib\nimportlib.import_module(f'{__name__}.app')\n"),
    ("oracles.paging", "import importlib\nimportlib.import_module('eicontract.oracles.filters')\n"),
])
def test_the_checker_passes_an_allowed_import(module: str, source: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert _judge(module, source, tmp_path, monkeypatch) == []


# --- tests/ and scripts/: anything public, never another layer's private module or name -----------

# the layers each test folder proves (it may use their private helpers); any other folder: public only
TEST_LAYERS = {
    "tests/oracles": ("oracles",),
    "tests/server": ("server",),
    "tests/contract_data": ("contract",),
    "tests/harness": ("http", "drive", "pytest", "reporting", "suite", "schemathesis", "cli", "proof",
                      "drift", "settings", "violations", "clauses", "contract"),
}


def _private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def outside_files() -> list[Path]:
    files = [*sorted((ROOT / "tests").rglob("*.py")), *sorted((ROOT / "scripts").rglob("*.py"))]
    return [*files, ROOT / "conftest.py"]


def private_reaches(relative: str, source: str) -> list[str]:
    """The private eicontract modules or names a file (its path under the root, its text) imports
    from a layer its folder does not prove."""
    folder = relative.rsplit("/", 1)[0] if "/" in relative else ""
    own = next((layers for prefix, layers in TEST_LAYERS.items() if folder.startswith(prefix)), ())
    out = []
    for node in ast.walk(ast.parse(source, filename=relative)):
        targets: list[tuple[str, list[str]]] = []
        if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("eicontract"):
            targets.append((node.module or "", [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            targets += [(a.name, []) for a in node.names if a.name.startswith("eicontract")]
        for module, names in targets:
            inner = module.removeprefix("eicontract").lstrip(".")
            if any(_covers(layer, inner) for layer in own):
                continue
            if any(_private(part) for part in inner.split(".")) or any(_private(n) for n in names):
                out.append(f"{relative} imports {module} {', '.join(names)}".rstrip())
    return out


def test_tests_and_scripts_use_only_public_modules_of_other_layers() -> None:
    found = [problem for path in outside_files()
             for problem in private_reaches(path.relative_to(ROOT).as_posix(), path.read_text())]
    assert found == []


PRIVATE_IMPORTS = "from eicontract.oracles._common import clip\nfrom eicontract.pytest.hooks import _failure_record\n"


def test_the_private_check_catches_a_private_import_from_another_layer() -> None:
    assert len(private_reaches("tests/selftest/probe.py", PRIVATE_IMPORTS)) == 2
    assert len(private_reaches("scripts/probe.py", PRIVATE_IMPORTS)) == 2
    assert private_reaches("tests/oracles/probe.py", PRIVATE_IMPORTS) == [  # its own layer's: allowed
        "tests/oracles/probe.py imports eicontract.pytest.hooks _failure_record"]


# --- modules over 400 lines: each named, with its reason, in ARCHITECTURE.md ----------------------

MAX_LINES = 400


def oversized_rows() -> set[str]:
    """The modules (paths under eicontract/) ARCHITECTURE.md's "Modules over 400 lines" table names."""
    section = DOC.read_text().split("## Modules over 400 lines", 1)[1].split("\n## ", 1)[0]
    return {re.findall(r"`([^`]+)`", line)[0] for line in section.splitlines() if line.startswith("| `")}


def size_problems(lines: dict[str, int], listed: set[str]) -> list[str]:
    """A module over the limit without a row, or a row whose module is gone or back under it (wc -l)."""
    over = {path for path, count in lines.items() if count > MAX_LINES}
    return ([f"eicontract/{p} has {lines[p]} lines and no row in ARCHITECTURE.md's modules over "
             f"{MAX_LINES} lines" for p in sorted(over - listed)]
            + [f"ARCHITECTURE.md lists eicontract/{p} as over {MAX_LINES} lines: it "
               f"{'is gone' if p not in lines else f'has {lines[p]}'}" for p in sorted(listed - over)])


def test_every_module_over_400_lines_is_named_with_its_reason() -> None:
    lines = {path.relative_to(PACKAGE).as_posix(): path.read_text().count("\n")  # what wc -l counts
             for path in sorted(PACKAGE.rglob("*.py"))}
    assert size_problems(lines, oversized_rows()) == []


def test_the_size_check_catches_an_unlisted_module_and_a_stale_row() -> None:
    lines = {"oracles/big.py": 401, "oracles/small.py": 400, "drive/shrunk.py": 120}
    assert size_problems(lines, {"oracles/big.py"}) == []
    assert size_problems(lines, set()) == [
        "eicontract/oracles/big.py has 401 lines and no row in ARCHITECTURE.md's modules over 400 lines"]
    assert size_problems(lines, {"oracles/big.py", "drive/shrunk.py", "gone.py"}) == [
        "ARCHITECTURE.md lists eicontract/drive/shrunk.py as over 400 lines: it has 120",
        "ARCHITECTURE.md lists eicontract/gone.py as over 400 lines: it is gone"]
