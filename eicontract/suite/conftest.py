"""The contract suite: every test here is glue between an oracle and the target.

Fixtures: `target` (eicontract.pytest.hooks) is the server under test; `dataset` is its full listing,
read once per session, from which every property draws its sample ids, blocks and filter values.
A listing with nothing to draw from ends the run (exit 2, with the reason) rather than failing
every clause: no clause can be judged without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import hypothesis
import pytest

from eicontract.drive.probe import unusable
from eicontract.drive.sweeps import Sweep, sweep
from eicontract.pytest.fixtures import Target
from eicontract.pytest.plugin import activate
from eicontract.reporting.record import Recorder
from eicontract.settings import Settings

ANOMALY_TYPES = {"anomaly", "anomaly-gmm", "keras-anomaly", "keras-visual-anomaly"}


SUITE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    activate(config)  # the suite collected by a path the plugin did not recognise: still the gate


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SUITE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.contract)


@dataclass(frozen=True, repr=False)
class Dataset:
    """The target's unfiltered listing, as the reference for every oracle."""

    listing: Sweep
    samples: list[dict[str, Any]]  # the `sample` objects, in listing order
    blocks: dict[int, str]  # learn block id -> type (only --block-id's when given)
    classify_ids: list[int]  # samples to classify (only --sample-id when given)

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example: keep it short
        return f"Dataset({len(self.samples)} samples, blocks {sorted(self.blocks)})"

    @property
    def ids(self) -> list[int]:
        return self.listing.ids

    def sample(self, sample_id: int) -> dict[str, Any] | None:
        return next((s for s in self.samples if s.get("id") == sample_id), None)


def _blocks(results: list[Any]) -> dict[int, str]:
    blocks: dict[int, str] = {}
    for result in results:
        for classification in (result.get("classifications") or []) if isinstance(result, dict) else []:
            block = classification.get("learnBlock") if isinstance(classification, dict) else None
            if isinstance(block, dict) and isinstance(block.get("id"), int):
                blocks[block["id"]] = str(block.get("type"))
    return blocks


def _cannot_test(recorder: Recorder, reason: str) -> NoReturn:
    """Nothing to draw from: the run cannot judge any clause (exit 2, the reports say why)."""
    recorder.notes.append(reason)
    pytest.exit(f"eicontract: {reason}", returncode=2)


def _unusable_listing(listing: Sweep) -> str:
    first = unusable(listing.exchanges[0]) if listing.exchanges else None
    return first or listing.problem or "it is empty"


@pytest.fixture(scope="session")
def dataset(target: Target, ei_recorder: Recorder) -> Dataset:
    listing = sweep(target.client, target.settings.project_id, page_size=100,
                    max_pages=-(-target.settings.max_listing // 100))
    if listing.bounded:  # paging and filter oracles compare against the whole listing: no guessing
        _cannot_test(ei_recorder, f"the listing holds more than {target.settings.max_listing} samples; raise "
                                  "--max-listing to check it (each filtered sweep then costs more requests)")
    samples = [r["sample"] for r in listing.results if isinstance(r, dict) and isinstance(r.get("sample"), dict)]
    if not samples:
        _cannot_test(ei_recorder, f"the target's listing is unusable, nothing to draw from: "
                                  f"{_unusable_listing(listing)}")
    blocks = _blocks(listing.results)
    if target.settings.block_id is not None:
        blocks = {target.settings.block_id: blocks.get(target.settings.block_id, "unknown")}
    # the listing's own sampleIds: a sample object with a mistyped id must not leave nothing to classify
    classify_ids = [i for i in listing.ids if isinstance(i, int)]
    if target.settings.sample_id is not None:
        classify_ids = [target.settings.sample_id]
    if not blocks:
        _cannot_test(ei_recorder, "the target's listing names no learn block; pass --block-id")
    if not classify_ids:
        _cannot_test(ei_recorder, "the target's listing names no sample id to classify; pass --sample-id")
    return Dataset(listing, samples, blocks, classify_ids)


@pytest.fixture
def run_property(ei_settings: Settings) -> Callable[..., None]:
    """Run a @given property with the run's seed and the profile's example budget."""

    def run(prop: Callable[..., None], examples: int | None = None) -> None:
        chosen = hypothesis.settings(hypothesis.settings.get_profile("eicontract"),
                                     max_examples=examples or ei_settings.profile.examples)
        hypothesis.seed(ei_settings.seed)(chosen(prop))()

    return run
