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


# Which seam each hook of faults.FaultSet / variants.VariantSet (and store_seams) plugs into,
# by where attached.Switched (or variant_wire, or store_seams) calls it.
HOOK_SEAM = {
    "request": "checks_auth accepts_near_key error_text rejects_variant default_variant negative_paging_value "
               "on_malformed_metadata metadata_json leap_second refuses_leap_second ignores_unparsable_metadata "
               "truncate ignores_limit default_offset refused_number refuses_variant unknown_id_status "
               "page_default_variant refused_filter",
    "plan": "page_plan _filters _metadata past_end_plan deep_page_plan deep_total_count "
            "total_count has_total_count",
    "reply": "success_reply made_up_sample result_subject classification variant_classification "
             "rounded_windows expected_labels truncated_labels sample classify_reply "
             "page_predictions foreign_prediction_sample job_status unknown_job "
             "job_status_checks_project classify_result prediction windows_of predictions_of "
             "precise extra_fields model_values page_blocks page_expected_labels empty_label_lists",
    "jobs": "on_running_job jobs_finish reports_finish_at_start job_seconds serves_cached_results "
            "first_job_id jobs_fail_first jobs_succeed always_job job_outcome classifies_failed_processing "
            "tells_failure keeps_failure joins_running_job result_while_running running_refusal",
    "wire": "on_the_wire gzip throttled closes_connections rewrites_bodies rewrite_body "
            "failure_status",
    "data": "dataset",
    "store": "labels_also_ids switched_reading",
}


def _name_tables(tree: ast.Module, names: set[str]) -> dict[str, set[str]]:
    """Module constants that hold catalogue names (e.g. the `<name>-ignored` table)."""
    tables: dict[str, set[str]] = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name):
            tables[target.id] = {c.value for c in ast.walk(node)
                                 if isinstance(c, ast.Constant) and c.value in names}
    return tables


def seams_in_source() -> dict[str, set[str]]:
    """For each catalogue name, the seams of the hooks whose code names it (directly, or through
    a module constant such as a table of names)."""
    seam_of_hook = {hook: seam for seam, hooks in HOOK_SEAM.items() for hook in hooks.split()}
    names = set(NAMES)
    found: dict[str, set[str]] = {name: set() for name in NAMES}
    for module in ("faults", "variants", "store_seams"):
        tree = ast.parse((SERVER / f"{module}.py").read_text())
        tables = _name_tables(tree, names)
        tables.pop("_CATALOGUE", None)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in seam_of_hook:
                named = {c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and c.value in names}
                named |= {n for c in ast.walk(node) if isinstance(c, ast.Name) for n in tables.get(c.id, ())}
                for name in named:
                    found[name].add(seam_of_hook[node.name])
    return found


def test_seam_of_says_where_each_hook_acts() -> None:
    """SEAM_OF is what the code does: each name's seams are those of the hooks that name it."""
    assert {name: set(seams) for name, seams in SEAM_OF.items()} == seams_in_source()
