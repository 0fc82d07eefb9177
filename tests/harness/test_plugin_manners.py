"""Plugin manners: a pytest11 plugin is loaded into every pytest run of its environment, so it must
not break someone else's. The plugin is installed in a fresh venv next to pytest-profiling (whose
`--profile` our plugin once took) and pytest-xdist, and an unrelated test suite runs green with
each of them at work. Our options all carry the `--ei-` prefix; the old spellings live only on
`eicontract run`."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

import eicontract
from eicontract.pytest.options import OPTIONS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("manners")]

PACKAGE = Path(eicontract.__file__).resolve().parent
TIMEOUT_S = 120
NEIGHBOURS = ("pytest-profiling", "gprof2dot", "six", "pytest-xdist", "execnet")  # the plugins and what they need

THEIR_TESTS = """
def test_adds():
    assert 1 + 1 == 2


def test_joins():
    assert "-".join("ab") == "a-b"
"""


@dataclass
class Venv:
    python: Path
    env: dict[str, str]

    def pytest(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.python), "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                              env=self.env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def _link(target: Path, entry: Path) -> None:
    if not (target / entry.name).exists():
        (target / entry.name).symlink_to(entry)


def _site_folder(target: Path) -> Path:
    """Symlinks to this venv's packages without any eicontract, then the neighbours (wherever they
    are installed), then our package with an entry point of its own, as an install would make it."""
    target.mkdir()
    purelib = Path(sysconfig.get_paths()["purelib"])
    for entry in purelib.iterdir():
        if "eicontract" not in entry.name.lower() and not entry.name.endswith(".pth"):
            _link(target, entry)
    for name in NEIGHBOURS:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} is part of the test extra: pip install -e '.[test]'")
        for file in dist.files or ():
            top = Path(str(dist.locate_file(file.parts[0])))
            if file.parts[0] != ".." and top.exists():
                _link(target, top)
    _link(target, PACKAGE)
    info = target / "eicontract-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: eicontract\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[pytest11]\neicontract = eicontract.pytest.plugin\n")
    return target


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    base = tmp_path_factory.mktemp("manners")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(base / "venv")], check=True,
                   capture_output=True, timeout=TIMEOUT_S)
    python = base / "venv" / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True, timeout=TIMEOUT_S).stdout.strip()
    (Path(purelib) / "zz_site.pth").write_text(f"{_site_folder(base / 'site')}\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("EI_", "PYTHON", "VIRTUAL_ENV", "PYTEST", "COV_", "COVERAGE"))}
    yield Venv(python, env)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "test_theirs.py").write_text(THEIR_TESTS)
    return tmp_path


def _green(done: subprocess.CompletedProcess[str]) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "2 passed" in output, output[-3000:]
    return output


def test_an_unrelated_suite_runs_green_with_our_plugin_loaded(venv: Venv, project: Path) -> None:
    _green(venv.pytest(project, "-q"))
    assert not (project / "reports").exists()  # and the plugin stayed inert
    help_text = venv.pytest(project, "--help").stdout
    assert "--ei-target" in help_text  # our plugin was loaded beside the others


def test_pytest_profiling_keeps_its_profile_option(venv: Venv, project: Path) -> None:
    _green(venv.pytest(project, "-q", "--profile"))
    assert (project / "prof" / "combined.prof").is_file()  # pytest-profiling's own output


def test_pytest_xdist_runs_the_suite_on_two_workers(venv: Venv, project: Path) -> None:
    output = _green(venv.pytest(project, "-n", "2"))
    assert "2 workers" in output


def test_every_pytest_option_of_ours_carries_the_prefix(venv: Venv, project: Path) -> None:
    help_text = venv.pytest(project, "--help").stdout
    for option in OPTIONS:
        assert option.pytest_flag.startswith("--ei-")
        assert option.pytest_flag in help_text
