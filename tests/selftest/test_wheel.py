"""The wheel alone carries the gate: built, installed outside the checkout, run from an empty folder.

How the proof stays honest: the wheel is built from a copy of the package sources (what the
Dockerfile sees), and installed with `--no-deps --no-index` into a fresh venv under tmp_path.
That venv reaches the dependencies through one .pth line naming a folder of symlinks to the
project venv's site-packages MINUS everything of eicontract (its dist-info, the editable
finder and every .pth file). Lines of a .pth only extend sys.path; .pth files inside the
folder they name are not run, so nothing of the checkout can be imported: eicontract comes
from the wheel or not at all (checked first). `pip check` then proves the wheel's declared
dependencies are met by what it sees. The commands run in empty folders, never the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]  # one build per run: keep the module on one worker

ROOT = Path(__file__).resolve().parents[2]
EXCERPT = ROOT / "tests" / "data" / "edge-impulse-openapi-excerpt.json"
# what the build needs is what the Dockerfile copies (.dockerignore): the checkout minus these
NOT_SOURCES = (".git", ".venv", ".ci", "reports", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
               ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", ".schemathesis", "tests", "scripts",
               "docs")
TIMEOUT_S = 600


def _is_eicontract(name: str) -> bool:
    return name.startswith(("eicontract", "__editable__")) or name.endswith(".pth")


@dataclass(frozen=True)
class Install:
    venv: Path
    env: dict[str, str]

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    @property
    def eicontract(self) -> str:
        return str(self.venv / "bin" / "eicontract")

    def run(self, *command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=TIMEOUT_S,
                              check=False)


def _must(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, f"{done.args}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _deps_folder(target: Path) -> Path:
    """Symlinks to the project venv's site-packages, without eicontract or any .pth."""
    site = Path(sysconfig.get_paths()["purelib"])
    target.mkdir()
    for entry in site.iterdir():
        if not _is_eicontract(entry.name):
            (target / entry.name).symlink_to(entry)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Install]:
    base = tmp_path_factory.mktemp("wheel")
    sources = base / "sources"
    shutil.copytree(ROOT, sources, ignore=shutil.ignore_patterns(*NOT_SOURCES), symlinks=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("EI_", "PYTHON", "VIRTUAL_ENV", "PYTEST", "SCHEMATHESIS"))}
    _must(subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(base / "dist"),
                          str(sources)], env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False))
    wheel = next((base / "dist").glob("eicontract-*.whl"))
    venv = base / "venv"
    _must(subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True,
                         timeout=TIMEOUT_S, check=False))
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "zz_eicontract_test_deps.pth").write_text(f"{_deps_folder(base / 'deps')}\n")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    install = Install(venv, env)
    _must(install.run(install.python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel),
                      cwd=base))
    yield install


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_eicontract_comes_from_the_wheel_and_its_dependencies_are_met(installed: Install, empty: Path) -> None:
    done = installed.run(installed.python, "-c", "import eicontract, eicontract.contract as c; "
                         "print(eicontract.__file__); print(c.__file__)", cwd=empty)
    _must(done)
    for line in done.stdout.split():
        assert Path(line).is_relative_to(installed.venv), f"{line} is not the wheel's"
    _must(installed.run(installed.python, "-m", "pip", "check", cwd=empty))


def test_the_reference_servers_dependencies_are_the_server_extra(installed: Install, empty: Path) -> None:
    done = installed.run(installed.python, "-c", "import importlib.metadata as m, json; d = m.metadata('eicontract'); "
                         "print(json.dumps([d.get_all('Provides-Extra'), d.get_all('Requires-Dist')]))", cwd=empty)
    _must(done)
    extras, requires = json.loads(done.stdout)
    assert "server" in extras
    server = [r for r in requires if "extra" in r and "server" in r]
    for name in ("starlette", "uvicorn", "orjson"):  # only with the extra: a live-target gate needs none
        assert any(r.startswith(name) for r in server) and not any(r.startswith(name) and "extra" not in r
                                                                  for r in requires)


def test_eicontract_run_passes_and_writes_reports_here(installed: Install, empty: Path) -> None:
    done = installed.run(installed.eicontract, "run", cwd=empty)
    _must(done)
    summary = json.loads((empty / "reports" / "summary.json").read_text())
    assert summary["verdict"] == "pass" and summary["counts"]["failed"] == 0


def test_python_m_eicontract_lists_the_faults(installed: Install, empty: Path) -> None:
    done = installed.run(installed.python, "-m", "eicontract", "faults", cwd=empty)
    _must(done)
    assert "limit-plus-one" in done.stdout


def test_pytest_pyargs_runs_the_suite_like_eicontract_run(installed: Install, empty: Path) -> None:
    done = installed.run(installed.python, "-m", "pytest", "--pyargs", "eicontract.suite", "--ei-clause", "PAGE-LIMIT",
                         "-p", "no:cacheprovider", cwd=empty)
    _must(done)
    summary = json.loads((empty / "reports" / "summary.json").read_text())
    assert summary["clauses"]["PAGE-LIMIT"]["status"] == "passed"


def test_drift_against_the_vendor_excerpt_lists_differences(installed: Install, empty: Path) -> None:
    done = installed.run(installed.eicontract, "drift", "--against", str(EXCERPT), cwd=empty)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stderr and done.stdout.strip()


def test_openapi_prints_the_bundled_document(installed: Install, empty: Path) -> None:
    done = installed.run(installed.eicontract, "openapi", cwd=empty)
    _must(done)
    document = json.loads(done.stdout)
    assert document["openapi"].startswith("3.1") and len(document["paths"]) == 3


INERT_TEST = '''
import sys

import hypothesis
import pytest
from hypothesis.errors import InvalidArgument


def test_the_installed_plugin_stays_inert(pytestconfig):
    manager = pytestconfig.pluginmanager
    assert manager.get_plugin("eicontract") is not None  # the pytest11 entry point is loaded...
    assert manager.get_plugin("eicontract-gate") is None  # ...and registered nothing else
    assert pytestconfig.getoption("hypothesis_seed", None) is None
    with pytest.raises(InvalidArgument):
        hypothesis.settings.get_profile("eicontract")
    heavy = {"eicontract.pytest.hooks", "eicontract.pytest.fixtures", "eicontract.http.client", "eicontract.reporting",
             "eicontract.server", "httpx"}
    assert heavy.isdisjoint(sys.modules)
'''


def test_the_plugin_is_inert_in_someone_elses_pytest_run(installed: Install, empty: Path) -> None:
    (empty / "test_theirs.py").write_text(INERT_TEST)
    done = installed.run(installed.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_theirs.py",
                         cwd=empty)
    _must(done)
    assert not (empty / "reports").exists()
