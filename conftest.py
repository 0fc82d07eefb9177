"""The repository's own test session (not the contract suite, which runs through `eicontract run`).

Two rules keep `make check` (every test not marked `slow`) a loop of about a minute:
- everything under tests/selftest is slow: each test there runs the gate or a server as a subprocess;
- any other test whose call takes over SLOW_S seconds without the `slow` marker is named at the
  end of the run, so it gets marked (a report, not a failure: timings drift on shared machines).
"""

from __future__ import annotations

from pathlib import Path

import pytest

SLOW_S = 5.0
SELFTEST = Path(__file__).parent / "tests" / "selftest"


class UnmarkedSlowTests:
    """Collects the calls over SLOW_S s that lack the marker (under xdist: the controller's reports)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, float]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and report.duration > SLOW_S and "slow" not in report.keywords:
            self.seen.append((report.nodeid, report.duration))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.seen:
            terminalreporter.section(f"tests over {SLOW_S:g} s without @pytest.mark.slow")
            for nodeid, seconds in sorted(self.seen, key=lambda s: -s[1]):
                terminalreporter.write_line(f"{seconds:6.1f}s  {nodeid}")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(UnmarkedSlowTests(), "eicontract-unmarked-slow-tests")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SELFTEST in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)
