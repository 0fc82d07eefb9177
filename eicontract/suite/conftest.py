"""The contract suite: every test here is glue between an oracle and the target.

Fixtures: `target` (eicontract.pytest.hooks) is the server under test; `dataset` is what discovery
read of its listing, once per session and bounded whatever the listing's size (its end, regions at
offsets, id windows read whole), from which every property draws its sample ids, blocks and filter
values; `whole_listing` is the full listing, read by the thorough profile only.
A listing with nothing to draw from ends the run (exit 2, with the reason) rather than failing
every clause: no clause can be judged without it.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import hypothesis
import pytest

from eicontract.drive.evidence import judged
from eicontract.drive.pagesize import read_page
from eicontract.drive.probe import broken, empty_but_expected, unusable
from eicontract.drive.sweeps import Sweep, sweep
from eicontract.drive.windows import (
    REGION,
    End,
    Region,
    Window,
    bounds_between,
    find_end,
    fit_window,
    partition,
    plan_offsets,
    plan_windows,
    read_region,
)
from eicontract.oracles.paging import PageRead, common_total, page_ids, page_results
from eicontract.pytest.fixtures import Target
from eicontract.pytest.hooks import SETTINGS_KEY, abort, fail_run
from eicontract.pytest.plugin import activate
from eicontract.reporting.record import EXAMPLE_REPR, Recorder
from eicontract.settings import Settings
from eicontract.suite.dataset import Counts, Dataset

ANOMALY_TYPES = {"anomaly", "anomaly-gmm", "keras-anomaly", "keras-visual-anomaly"}


SUITE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    activate(config)  # the suite collected by a path the plugin did not recognise: still the gate


_CONFIGURED = pytest.StashKey[set[str]]()  # the suite modules handed the run's settings


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Module | pytest.Class, name: str, obj: object) -> None:
    """A suite module that builds its tests from the run's settings (test_schema: schemathesis
    makes its items from seeded schemas) gets them through its `configure`, once, after its import
    and before any of its tests become items: the settings live on the config, not in a global."""
    configure = getattr(collector.module, "configure", None)
    done = collector.config.stash.setdefault(_CONFIGURED, set())
    if callable(configure) and collector.module.__name__ not in done:
        done.add(collector.module.__name__)
        configure(collector.config.stash[SETTINGS_KEY])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SUITE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.contract)


REGIONS = 6  # unfiltered regions of 100 samples read at drawn offsets (first and deepest included)
WINDOWS = 5  # id windows read whole (lowest and highest ids included)
# The claims the quick profile judges on samples of the listing, not on all of it (the summary says so).
SAMPLED_CLAUSES = ("PAGE-LIMIT", "PAGE-DISJOINT", "PAGE-COMPLETE", "PAGE-STABLE", "PAGE-TOTAL",
                   "PAGE-PREDICTIONS", "FILTER-SOUND", "FILTER-COMPLETE", "FILTER-COMPOSE", "FILTER-PAGING")


def _blocks(results: list[Any]) -> dict[int, str]:
    blocks: dict[int, str] = {}
    for result in results:
        for classification in (result.get("classifications") or []) if isinstance(result, dict) else []:
            block = classification.get("learnBlock") if isinstance(classification, dict) else None
            if isinstance(block, dict) and isinstance(block.get("id"), int):
                blocks[block["id"]] = str(block.get("type"))
    return blocks


def _samples(reads: list[PageRead]) -> list[dict[str, Any]]:
    by_id: dict[object, dict[str, Any]] = {}
    for result in (r for read in reads for r in (page_results(read.body) or [])):
        sample = result.get("sample") if isinstance(result, dict) else None
        if isinstance(sample, dict):
            by_id.setdefault(sample.get("id"), sample)
    return list(by_id.values())


def _results(reads: list[PageRead]) -> list[Any]:
    return [r for read in reads for r in (page_results(read.body) or [])]


def _discover(target: Target, recorder: Recorder) -> tuple[End, list[Region], list[Window]]:
    """The listing's end, regions at offsets across it, id windows across its ids (seeded)."""
    client, project = target.client, target.settings.project_id
    rng = random.Random(target.settings.seed)
    exchange, limit = read_page(client, project, {"limit": REGION, "offset": 0})  # at most the target's maximum
    reason = unusable(exchange, target.known)
    violation = broken(exchange, f"the listing with limit={limit}, offset=0", target.known) if reason is None else None
    if violation is None and reason is None and not page_results(exchange.body):
        violation = empty_but_expected(target.expected_samples)
    if violation is not None:
        fail_run(recorder, judged(exchange, [violation])[0], "discovery (its first page)")
    if reason is not None or not page_results(exchange.body):
        abort(recorder, f"the target's listing is unusable, nothing to draw from: {reason or 'it is empty'}")
    first = Region(0, REGION, [PageRead(limit, 0, exchange.body)], exchanges=[exchange])
    if limit < REGION:  # the target's pages are smaller: the rest of the first region, page by page
        got = len(page_results(exchange.body) or [])
        rest = read_region(client, project, got, REGION - got, REGION)
        first = Region(0, REGION, first.reads + rest.reads, exchanges=first.exchanges + rest.exchanges)
    end = find_end(client, project, len(first.ids))
    length = next((n for n in (end.length, end.estimate) if n is not None), len(first.ids))
    offsets = plan_offsets(length, REGIONS, rng)
    regions = [first, *(read_region(client, project, o, REGION, REGION) for o in offsets if o != 0)]
    seen = [i for region in regions for i in region.ids]
    windows = [fit_window(client, project, lo, hi) for lo, hi in plan_windows(seen, length, WINDOWS, rng)]
    return end, regions, windows


def _whole(target: Target, size: int, recorder: Recorder) -> Sweep | None:
    """The thorough profile also reads the whole listing, when it is within --max-listing."""
    settings = target.settings
    if settings.profile.name != "thorough":
        return None
    if size > settings.max_listing:
        recorder.notes.append(f"thorough profile: the listing holds {size} samples, more than --max-listing "
                              f"{settings.max_listing}; whole-listing claims judged on samples only")
        return None
    return sweep(target.client, settings.project_id, page_size=100, max_pages=size // 100 + 5)


def _sampled_note(data: Dataset) -> str:
    windows = sum(len(w.ids) for w in data.windows)
    return (f"quick profile: {', '.join(SAMPLED_CLAUSES)} judged on samples of the listing "
            f"({data.size} samples by offsets): "
            f"{len(data.regions)} regions of up to {REGION} samples at offsets "
            f"{[r.offset for r in data.regions]}, {len(data.windows)} id windows read whole "
            f"({windows} samples); {len(data.samples)} distinct samples read")


@pytest.fixture(scope="session")
def dataset(target: Target, ei_recorder: Recorder) -> Dataset:
    end, regions, windows = _discover(target, ei_recorder)
    reads = [read for region in regions for read in region.reads]
    window_reads = [read for w in windows for read in w.sweep.reads]
    samples = _samples(reads + window_reads)
    if not samples:
        abort(ei_recorder, "the target's listing is unusable, nothing to draw from: its results "
                                  "carry no sample objects")
    results = _results(reads + window_reads)
    blocks = _blocks(results)
    if target.settings.block_id is not None:
        blocks = {target.settings.block_id: blocks.get(target.settings.block_id, "unknown")}
    # the listing's own sampleIds: a sample object with a mistyped id must not leave nothing to classify
    classify_ids = list(dict.fromkeys(i for read in reads for i in page_ids(read.body)))
    if target.settings.sample_id is not None:
        classify_ids = [target.settings.sample_id]
    if not blocks:
        abort(ei_recorder, "the target's listing names no learn block; pass --block-id")
    if not classify_ids:
        abort(ei_recorder, "the target's listing names no sample id to classify; pass --sample-id")
    data = Dataset(end, regions, windows, samples, blocks, classify_ids)
    ei_recorder.listed(data.size, common_total(regions[0].reads))  # the listing's size, for a baseline
    whole = _whole(target, data.size, ei_recorder)
    if whole is None:
        ei_recorder.notes.append(_sampled_note(data))
    return replace(data, whole=whole)


PARTITION = 16  # id windows whose totalCounts must add up to the listing's


@pytest.fixture(scope="session")
def counts(target: Target, dataset: Dataset) -> Counts:
    bounds = bounds_between(dataset.ids, PARTITION - 1)
    reads = []
    for lo, hi in partition(bounds):
        query = {**({"minId": str(lo)} if lo is not None else {}), **({"maxId": str(hi)} if hi is not None else {})}
        exchange = target.client.page(target.settings.project_id, {**query, "limit": 1, "offset": 0})
        reads.append(PageRead(1, 0, exchange.body))
    totals = [common_total([read]) for read in reads]
    windows_total = sum(t for t in totals if t is not None) if None not in totals else None
    return Counts(dataset.end.length, common_total(dataset.reads + dataset.end.probes), windows_total, reads)


@pytest.fixture
def whole_listing(dataset: Dataset) -> Sweep:
    """The full listing, for the claims only it can judge: thorough profile only."""
    if dataset.whole is None:
        pytest.skip("judged on samples of the listing (the whole listing is read by the thorough profile, "
                    "up to --max-listing)")
    return dataset.whole


@pytest.fixture
def run_property(ei_settings: Settings, ei_recorder: Recorder) -> Callable[..., None]:
    """Run a @given property with the run's seed and the profile's example budget (shrink=False: a
    failure is reported as drawn). Each call's arguments are kept for the report: hypothesis calls
    the test last with the minimal failing example (after shrinking), so the last call of a failed
    property is that example."""

    def run(prop: Callable[..., None], examples: int | None = None, shrink: bool = True) -> None:
        profile = hypothesis.settings.get_profile("eicontract")
        phases = profile.phases if shrink else tuple(p for p in profile.phases if p != hypothesis.Phase.shrink)
        chosen = hypothesis.settings(profile, max_examples=examples or ei_settings.profile.examples, phases=phases)
        _trace_examples(prop, ei_recorder)
        hypothesis.seed(ei_settings.seed)(chosen(prop))()

    return run


def _trace_examples(prop: Callable[..., None], recorder: Recorder) -> None:
    """Wrap the property's inner test (hypothesis' documented, reassignable `inner_test`) so each
    example's arguments land in the recorder before the test body runs."""
    inner = prop.hypothesis.inner_test  # type: ignore[attr-defined]

    @functools.wraps(inner)
    def traced(*args: Any, **kwargs: Any) -> None:
        shown = {f"arg{i}": value for i, value in enumerate(args)} | kwargs
        recorder.example = {name: repr(value)[:EXAMPLE_REPR] for name, value in shown.items()}
        inner(*args, **kwargs)

    prop.hypothesis.inner_test = traced  # type: ignore[attr-defined]
