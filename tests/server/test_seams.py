"""The reference server is the contract plus seams: the clean modules know no fault or variant.

Faults and legal variants attach at the seams (seams.py) in attached.py, store_seams.py and
variant_wire.py; the clean modules below must neither import those nor name a fault or variant.
"""

from __future__ import annotations

import ast
import asyncio
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from eicontract.server import ServerConfig
from eicontract.server.app import make_app
from eicontract.server.attached import SEAM_OF, SEAMS, Switched, build_app
from eicontract.server.config import DEFAULT_API_KEY
from eicontract.server.faults import ACCEPTED_FAULTS, FaultSet
from eicontract.server.seams import Seams
from eicontract.server.variants import ACCEPTED_VARIANTS, VariantSet

SERVER = Path(__file__).resolve().parents[2] / "eicontract" / "server"
CLEAN = ("app", "params", "store", "classify", "jobs", "errors", "render", "fragments",
         "dataset", "seams", "config")
SWITCHED = ("faults", "variants", "variant_wire", "switches", "attached", "store_seams", "chaos")
NAMES = sorted({*ACCEPTED_FAULTS, *ACCEPTED_VARIANTS})


def imported_modules(source: str) -> set[str]:
    """Every module an `import` / `from ... import` names, at any depth (TYPE_CHECKING too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def named_switches(source: str) -> list[str]:
    """The fault and variant names in a source text, as written or as an identifier
    (`a-b` or `a_b`), whole words only, any case."""
    out = []
    for name in NAMES:
        for form in {name, name.replace("-", "_")}:
            if re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", source, re.IGNORECASE):
                out.append(form)
    return out


# config checks the chosen names against the catalogues when a ServerConfig is made (a typo is a
# usage error at construction), so it imports them there; at load it imports none (checked below).
@pytest.mark.parametrize("module", [m for m in CLEAN if m != "config"])
def test_clean_modules_import_no_fault_or_variant_module(module: str) -> None:
    imports = imported_modules((SERVER / f"{module}.py").read_text())
    forbidden = {f"eicontract.server.{m}" for m in SWITCHED}
    assert not imports & forbidden


@pytest.mark.parametrize("module", CLEAN)
def test_clean_modules_name_no_fault_or_variant(module: str) -> None:
    assert named_switches((SERVER / f"{module}.py").read_text()) == []


def test_the_name_check_finds_names() -> None:
    """The two checks above can fail: they see a name or an import where one is."""
    assert named_switches("if 'limit-plus-one' in faults: pass") == ["limit-plus-one"]
    assert named_switches("plan.search_whole = True") == ["search_whole"]
    assert named_switches("a `Limit-Cap`") == ["limit-cap"]
    assert named_switches("limit-plus-ones and page_skipped") == []
    assert "eicontract.server.faults" in imported_modules(
        "if TYPE_CHECKING:\n    from eicontract.server.faults import FaultSet\n")


def test_importing_the_clean_server_loads_no_fault_or_variant_module() -> None:
    clean = ", ".join(f"eicontract.server.{m}" for m in CLEAN)
    code = (f"import sys, {clean}\n"
            f"print(sorted(m for m in sys.modules if m.rsplit('.', 1)[-1] in {SWITCHED!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_every_fault_and_variant_says_its_seams() -> None:
    assert sorted(SEAM_OF) == NAMES
    assert all(seams and set(seams) <= set(SEAMS) for seams in SEAM_OF.values())


def _answers(app: object) -> list[tuple[int, bytes]]:
    """A few answers of every kind; a clean server's are the same on every run."""
    key = {"x-api-key": DEFAULT_API_KEY}
    base = "/v1/api/1/"
    requests = [
        ("GET", base + "classify/all/result/page?limit=3&offset=2", key),
        ("GET", base + 'classify/all/result/page?limit=5&labels=["idle"]&minLength=2000'
                       '&metadata=[{"key":"site","op":"neq","values":["buildingB"]}]', key),
        ("GET", base + "classify/all/result/page?limit=2&truncateStructuredLabels=true", key),
        ("GET", base + "classify/all/result/page?limit=-1", key),
        ("GET", base + "jobs/999/status", key),
        ("GET", base + "classify/all/result/page", {}),
        ("DELETE", base + "classify/all/result/page", key),
    ]
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]

    async def run() -> list[tuple[int, bytes]]:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return [((r := await client.request(m, u, headers=h)).status_code, r.content)
                    for m, u, h in requests]

    return asyncio.run(run())


def test_the_seams_defaults_are_the_switched_seams_with_nothing_chosen() -> None:
    """Seams() (the contract at every seam, what build_app serves when nothing is chosen)
    answers byte for byte as the fault and variant hooks with none switched on; one fault is
    enough to change an answer."""
    config = ServerConfig(samples=60)
    clean = _answers(build_app(config))
    assert clean == _answers(make_app(config, Switched(FaultSet(), VariantSet())))
    assert clean != _answers(build_app(ServerConfig(samples=60, faults=frozenset({"limit-plus-one"}))))


def test_a_clean_config_serves_the_contracts_own_seams() -> None:
    assert type(build_app(ServerConfig(samples=5)).state.ctx.seams) is Seams
    assert isinstance(build_app(ServerConfig(samples=5, variants=frozenset({"gzip"}))).state.ctx.seams,
                      Switched)
