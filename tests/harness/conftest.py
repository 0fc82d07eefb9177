"""Fixtures of the harness-layer tests.

`pytester` is registered here rather than with `pytest_plugins = ["pytester"]`: pytest refuses
`pytest_plugins` in a conftest below the root when the whole suite runs (`pytest` from the repo
root loads this file after configuration). Registering the plugin from `pytest_configure` works
both for `pytest tests/harness` and for the full run.
"""

from __future__ import annotations

from collections.abc import Iterator

import hypothesis
import pytest
from hypothesis.errors import InvalidArgument

# Imported here, not first inside an in-process pytester run (which forgets the modules it imported):
# the plugin imports eicontract.reporting at session end and build_settings imports the server config.
import eicontract.reporting
import eicontract.server.config
from eicontract.pytest import hooks

_PRELOADED = (eicontract.reporting, eicontract.server.config, hooks)

EI_ENV = ("EI_API_URL", "EI_API_KEY", "EI_PROJECT_ID", "EI_PROFILE", "EI_MAX_REQUESTS", "EI_RPS")


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No EI_* variable from the developer's shell leaks into a test."""
    for name in EI_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def keep_plugin_globals() -> Iterator[None]:
    """An in-process pytester run registers the hypothesis profile again (hypothesis' own global
    registry; the plugin's run state lives on each run's config): give the outer run its profile back."""
    try:
        saved_profile: hypothesis.settings | None = hypothesis.settings.get_profile("eicontract")
    except InvalidArgument:
        saved_profile = None
    yield
    if saved_profile is not None:
        hypothesis.settings.register_profile("eicontract", parent=saved_profile)
