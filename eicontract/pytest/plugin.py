"""The pytest11 entry point: thin and lazy, because an installed plugin loads in every pytest
session of its environment. It declares the options (cheap) and does nothing else unless the
run asks for the gate: the contract suite is among the arguments, or an eicontract option is
set. Only then are the hooks and fixtures (and hypothesis, httpx, the settings) brought in.

`pytest --pyargs eicontract.suite --ei-target URL --ei-project-id N` behaves like `eicontract run`.
Every option of ours carries the `--ei-` prefix: another plugin of the same environment may own
`--profile` or `--seed` (pytest-profiling does), and a clash would break every pytest run there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SUITE_MODULE = "eicontract.suite"
SUITE_DIR = Path(__file__).resolve().parents[1] / "suite"
HOOKS_NAME = "eicontract-gate"


def pytest_addoption(parser: pytest.Parser) -> None:
    from eicontract.pytest.options import add_pytest_options

    add_pytest_options(parser)


def _names_suite(arg: str) -> bool:
    """An argument that selects the suite: its module name, or a path inside it (node ids too)."""
    head = arg.split("::", 1)[0]
    if head == SUITE_MODULE or head.startswith(SUITE_MODULE + "."):
        return True
    try:
        path = Path(head).resolve()
    except (OSError, ValueError):
        return False
    return path == SUITE_DIR or SUITE_DIR in path.parents


def wants_gate(config: pytest.Config) -> bool:
    from eicontract.pytest.options import given

    return any(_names_suite(str(arg)) for arg in config.args) or given(config)


def activate(config: pytest.Config) -> None:
    """Register the gate's hooks and fixtures (idempotent)."""
    from eicontract.pytest import fixtures, hooks

    if config.pluginmanager.is_registered(hooks):
        return

    config.pluginmanager.register(hooks, HOOKS_NAME)  # pytest_configure replays for it at once
    config.pluginmanager.register(fixtures, HOOKS_NAME + "-fixtures")


@pytest.hookimpl(tryfirst=True)  # before hypothesis' plugin reads its seed option
def pytest_configure(config: pytest.Config) -> None:
    if wants_gate(config):
        activate(config)
