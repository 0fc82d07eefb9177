"""The top level a reader meets first, and the build that ships it (ARCHITECTURE.md, "The top level").

`contracts/` holds the contract (OpenAPI document, JSON Schemas, examples, claims map) once; the
wheel carries it as the package `eicontract.contract.data` through pyproject's package-dir mapping.
That mapping needs every package listed by name (a `find` cannot see a mapped folder), so these
tests keep the list and the folders in step: a package left out of the list would be missing from
the wheel, and only the slow wheel self-test would notice.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from eicontract import contract

ROOT = Path(__file__).resolve().parents[2]
DATA_PACKAGE = "eicontract.contract.data"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _packages_on_disk(root: Path = ROOT) -> set[str]:
    found = {".".join(init.parent.relative_to(root).parts) for init in (root / "eicontract").rglob("__init__.py")}
    return found | {DATA_PACKAGE}


def test_the_design_cards_top_level_is_there() -> None:
    for name in ("pyproject.toml", "contracts", "tests", "conftest.py", "reports", "ARCHITECTURE.md", "README.md"):
        assert (ROOT / name).exists(), name
    assert not (ROOT / "eicontract" / "contract" / "data").exists(), "a second copy of the contract inside the package"


def test_the_contract_is_one_folder_the_loader_reads() -> None:
    """In a checkout (editable install) the loader reads contracts/ itself, not a copy."""
    assert contract.contracts_dir().resolve() == (ROOT / "contracts").resolve()
    assert {p.name for p in (ROOT / "contracts").iterdir()} >= {"openapi.yaml", "claims.yaml", "schemas", "examples"}


def test_every_package_is_listed_for_the_build() -> None:
    tool = _pyproject()["tool"]["setuptools"]
    assert set(tool["packages"]) == _packages_on_disk()
    assert tool["package-dir"] == {DATA_PACKAGE: "contracts"}


def test_package_data_globs_cover_every_contract_file() -> None:
    globs = _pyproject()["tool"]["setuptools"]["package-data"][DATA_PACKAGE]
    files = [p for p in (ROOT / "contracts").rglob("*")
             if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert files
    uncovered = [str(p.relative_to(ROOT)) for p in files
                 if not any(p.relative_to(ROOT / "contracts").match(g) for g in globs)]
    assert not uncovered, f"contract files the wheel would leave out: {uncovered}"


def test_a_new_package_folder_is_noticed(tmp_path: Path) -> None:
    """The listing check can fail: a package folder added beside the listed ones is found on disk."""
    for package in ("eicontract", "eicontract/oracles", "eicontract/fresh"):
        (tmp_path / package).mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
    listed = {"eicontract", "eicontract.oracles", DATA_PACKAGE}
    assert _packages_on_disk(tmp_path) - listed == {"eicontract.fresh"}
