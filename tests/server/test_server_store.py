"""The SQL store against plain-Python statements of the documented filter semantics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from eicontract.server.attached import Switched
from eicontract.server.dataset import Dataset, SampleRecord, generate
from eicontract.server.faults import FaultSet
from eicontract.server.store import (
    MetadataFilter,
    MetadataItem,
    PageFilters,
    PagePlan,
    Reading,
    Store,
    sql_int,
)
from eicontract.server.store_seams import SwitchedReading
from eicontract.server.variants import VariantSet

Predicate = Callable[[SampleRecord], bool]
DATA = generate(seed=1, count=300)


@pytest.fixture(scope="module")
def store() -> Store:
    return Store(DATA)


def listing(store: Store, filters: PageFilters) -> list[int]:
    plan = PagePlan(filters, limit=10_000, offset=0)
    ids = store.page_ids(plan)
    assert store.count(plan) == len(ids)
    return ids


def expected(data: Dataset, category: str, predicate: Predicate) -> list[int]:
    return [s.id for s in data.samples if s.category == category and predicate(s)]


def _lengths() -> list[int]:
    return sorted({int(s.total_length_ms) for s in DATA.samples})


ADDED_TIE = max({s.added for s in DATA.samples},
                key=lambda d: sum(s.added == d for s in DATA.samples))
SOME_ID = DATA.samples[40].id
GAP_ID = next(i for i in range(DATA.samples[0].id, DATA.samples[-1].id) if DATA.sample(i) is None)

# (filters, the documented meaning as a Python predicate)
CASES: list[tuple[PageFilters, Predicate]] = [
    (PageFilters(), lambda s: True),
    (PageFilters(labels=("idle", "snake")), lambda s: s.label in ("idle", "snake")),
    (PageFilters(labels=()), lambda s: False),
    (PageFilters(labels=("3",)), lambda s: s.label == "3"),
    (PageFilters(filename="idle"), lambda s: "idle" in s.filename.lower()),
    (PageFilters(filename="IDLE0"), lambda s: "idle0" in s.filename.lower()),
    (PageFilters(filename="%"), lambda s: "%" in s.filename),
    (PageFilters(filename="_"), lambda s: "_" in s.filename),
    (PageFilters(filename="nothing-like-this"), lambda s: False),
    *[(PageFilters(min_length=v), lambda s, v=v: s.total_length_ms > v) for v in _lengths()],
    *[(PageFilters(max_length=v), lambda s, v=v: s.total_length_ms < v) for v in _lengths()],
    (PageFilters(min_length=1000, max_length=2000), lambda s: 1000 < s.total_length_ms < 2000),
    *[(PageFilters(min_frequency=v), lambda s, v=v: s.frequency > v)
      for v in (50.0, 62.5, 100.0, 200.0, 99.99)],
    *[(PageFilters(max_frequency=v), lambda s, v=v: s.frequency < v)
      for v in (50.0, 62.5, 100.0, 200.0, 100.01)],
    (PageFilters(signature_valid=True), lambda s: s.signature_valid),
    (PageFilters(signature_valid=False), lambda s: not s.signature_valid),
    *[(PageFilters(min_label=v), lambda s, v=v: s.numeric_label is not None
       and s.numeric_label >= v) for v in (0.5, 1.25, 3.0, 10.0, 10.5, -100.0)],
    *[(PageFilters(max_label=v), lambda s, v=v: s.numeric_label is not None
       and s.numeric_label < v) for v in (0.5, 1.25, 3.0, 10.0, 100.0)],
    (PageFilters(search=("idle",)), lambda s: "idle" in s.filename.lower()),
    (PageFilters(search=(str(SOME_ID),)), lambda s: s.id == SOME_ID
     or str(SOME_ID) in s.filename.lower()),
    (PageFilters(search=("IDLE", "abc")), lambda s: "idle" in s.filename.lower()
     and "abc" in s.filename.lower()),
    *[(PageFilters(data_type=t), lambda s, t=t: s.chart_type == t)
      for t in ("chart", "image", "video", "table", "Chart")],
    (PageFilters(min_id=SOME_ID), lambda s: s.id >= SOME_ID),
    (PageFilters(max_id=SOME_ID), lambda s: s.id < SOME_ID),
    (PageFilters(min_id=GAP_ID, max_id=GAP_ID + 20), lambda s: GAP_ID <= s.id < GAP_ID + 20),
    (PageFilters(min_id=10**30), lambda s: False),
    (PageFilters(max_id=-(10**30)), lambda s: False),
    (PageFilters(min_length=10**30), lambda s: False),
    (PageFilters(min_date=ADDED_TIE), lambda s: s.added > ADDED_TIE),
    (PageFilters(max_date=ADDED_TIE), lambda s: s.added < ADDED_TIE),
    (PageFilters(min_date=ADDED_TIE - timedelta(microseconds=1),
                 max_date=ADDED_TIE + timedelta(microseconds=1)),
     lambda s: s.added == ADDED_TIE),
    (PageFilters(labels=("wave",), signature_valid=True, max_length=5000),
     lambda s: s.label == "wave" and s.signature_valid and s.total_length_ms < 5000),
]


@pytest.mark.parametrize(("filters", "predicate"), CASES)
@pytest.mark.parametrize("category", ["testing", "training"])
def test_filter_matches_its_documented_meaning(store: Store, filters: PageFilters,
                                               predicate: Predicate, category: str) -> None:
    filters = replace(filters, category=category)
    assert listing(store, filters) == expected(DATA, category, predicate)


def test_boundary_filters_have_hits_and_misses(store: Store) -> None:
    for filters in (PageFilters(min_length=1000), PageFilters(max_length=1000),
                    PageFilters(min_label=3.0), PageFilters(max_label=3.0),
                    PageFilters(min_date=ADDED_TIE), PageFilters(max_frequency=100.0)):
        hits = listing(store, filters)
        assert 0 < len(hits) < len(listing(store, PageFilters()))


def test_date_filter_accepts_any_offset(store: Store) -> None:
    shifted = ADDED_TIE.astimezone(datetime.fromisoformat("2025-01-01T00:00:00+05:30").tzinfo)
    assert listing(store, PageFilters(min_date=shifted)) == listing(
        store, PageFilters(min_date=ADDED_TIE))


def meta(s: SampleRecord) -> dict[str, str]:
    return s.metadata or {}


METADATA_CASES: list[tuple[MetadataFilter, Predicate]] = [
    (MetadataFilter((MetadataItem("eq", "site", ("buildingA",)),)),
     lambda s: meta(s).get("site") == "buildingA"),
    (MetadataFilter((MetadataItem("neq", "site", ("buildingA",)),)),
     lambda s: "site" in meta(s) and meta(s)["site"] != "buildingA"),
    (MetadataFilter((MetadataItem("eq", "device"),)), lambda s: "device" in meta(s)),
    (MetadataFilter((MetadataItem("neq", "device"),)), lambda s: "device" not in meta(s)),
    (MetadataFilter((MetadataItem("none"),)), lambda s: not s.metadata),
    (MetadataFilter((MetadataItem("eq", "site", ("buildingA",)),
                     MetadataItem("eq", "distance", ("1.5", "2.9")))),
     lambda s: meta(s).get("site") == "buildingA" or meta(s).get("distance") in ("1.5", "2.9")),
    (MetadataFilter((MetadataItem("eq", "site", ("buildingB",)),
                     MetadataItem("eq", "distance", ("1.5",))), combinator="and"),
     lambda s: meta(s).get("site") == "buildingB" and meta(s).get("distance") == "1.5"),
    (MetadataFilter((MetadataItem("none"), MetadataItem("eq", "operator"))),
     lambda s: not s.metadata or "operator" in meta(s)),
    (MetadataFilter(()), lambda s: True),
]


@pytest.mark.parametrize(("metadata", "predicate"), METADATA_CASES)
def test_metadata_filter(store: Store, metadata: MetadataFilter, predicate: Predicate) -> None:
    got = listing(store, PageFilters(metadata=metadata))
    assert got == expected(DATA, "testing", predicate)
    if metadata.items:
        assert got, "every metadata case should have hits in the default data"


def test_unknown_category_is_empty(store: Store) -> None:
    assert listing(store, PageFilters(category="no-such-category")) == []


def test_pages_concatenate_to_the_listing(store: Store) -> None:
    filters = PageFilters(max_length=5000)
    full = listing(store, filters)
    for size in (1, 7, 50):
        pages = [store.page_ids(PagePlan(filters, size, off)) for off in range(0, len(full), size)]
        assert [i for page in pages for i in page] == full
        assert all(len(page) <= size for page in pages)


def test_offset_past_end_and_huge_values(store: Store) -> None:
    assert store.page_ids(PagePlan(PageFilters(), 10, 10_000)) == []
    assert store.page_ids(PagePlan(PageFilters(), 10**30, 2**62)) == []
    assert store.page_ids(PagePlan(PageFilters(), 0, 0)) == []


def readings_store(**knobs: object) -> Store:
    """A store on the same data whose SQL reading has these knobs (store_seams.py)."""
    return Store(DATA, SwitchedReading(**knobs))  # type: ignore[arg-type]


def test_readings_used_by_faults(store: Store) -> None:
    base = PagePlan(PageFilters(max_id=SOME_ID), 10_000, 0)
    inclusive = readings_store(max_id_op="<=").page_ids(base)
    assert inclusive == [*store.page_ids(base), SOME_ID]
    assert store.page_ids(replace(base, descending=True)) == store.page_ids(base)[::-1]
    ored = PagePlan(PageFilters(labels=("idle",), max_id=SOME_ID), 10_000, 0)
    assert set(readings_store(combinator="or").page_ids(ored)) == (
        set(listing(store, PageFilters(labels=("idle",)))) | set(store.page_ids(base)))


@pytest.mark.parametrize("category", ["testing", "training"])
def test_the_faults_unfiltered_count_is_the_categorys_listing(store: Store, category: str) -> None:
    """total-wrong and filtered-total-unfiltered answer the category's size, counted from the
    data (the store holds exactly its samples) on the fault side, not in the store."""
    faulty = Switched(FaultSet({"filtered-total-unfiltered"}), VariantSet())
    filtered = PageFilters(category=category, max_id=SOME_ID)
    size = store.count(PagePlan(PageFilters(category=category)))
    assert faulty.total_count(store.count(PagePlan(filtered)), category, DATA, 0) == size
    assert size != store.count(PagePlan(filtered))
    assert Switched(FaultSet({"total-wrong"}), VariantSet()).total_count(3, category, DATA, 0) == size + 1


def test_filter_after_paging_filters_the_slice(store: Store) -> None:
    """The filter-after-paging reading: the unfiltered page first, then the filter on it."""
    labels = PageFilters(labels=("idle",))
    for descending in (False, True):
        page = PagePlan(PageFilters(), 20, 10, descending=descending)
        idle = set(listing(store, labels))
        sliced = readings_store(filters_the_slice=True).page_ids(replace(page, filters=labels))
        assert sliced == [i for i in store.page_ids(page) if i in idle]
        assert sliced != store.page_ids(replace(page, filters=labels))



def test_readings_used_by_variants_and_new_faults(store: Store) -> None:
    at_least = PagePlan(PageFilters(min_length=1000), 10_000, 0)
    exactly = {s.id for s in DATA.samples if s.category == "testing" and s.total_length_ms == 1000}
    assert exactly
    assert set(readings_store(inclusive_bounds=True).page_ids(at_least)) == (
        set(store.page_ids(at_least)) | exactly)
    images = PagePlan(PageFilters(data_type="image"), 10_000, 0)
    with_metadata = {s.id for s in DATA.samples if s.metadata}
    joining = readings_store(metadata_drops_empty=True)
    joined = joining.page_ids(images)
    assert joined == [i for i in store.page_ids(images) if i in with_metadata] != store.page_ids(images)
    unfiltered = PagePlan(limit=10_000)
    assert joining.page_ids(unfiltered) == listing(store, PageFilters())  # no filter, no join


def test_the_contract_reading_is_the_switched_reading_with_no_knob() -> None:
    """The clean Reading and a SwitchedReading with every knob off write the same SQL."""
    filters = [PageFilters(labels=("idle",), filename="a", min_length=1, max_frequency=2.0,
                           min_label=0.5, search=("x", "y"), max_id=SOME_ID, min_date=datetime(2020, 1, 1, tzinfo=UTC)),
               PageFilters(metadata=MetadataFilter((MetadataItem("neq", "k", ("v",)),
                                                   MetadataItem("none")), "and"))]
    for f in filters:
        assert Reading().where(f) == SwitchedReading().where(f)


def sql_page(store: Store, plan: PagePlan) -> list[int]:
    """The page as SQL's LIMIT/OFFSET reads it: what a slice of the listing must equal."""
    where, params = store.reading.where(plan.filters)
    sql = (f"SELECT s.id FROM samples s WHERE s.category = ?{where} "
           f"ORDER BY s.id {'DESC' if plan.descending else 'ASC'} LIMIT ? OFFSET ?")
    args = [plan.filters.category, *params, sql_int(plan.limit), sql_int(plan.offset)]
    return [row[0] for row in store._db.execute(sql, args)]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("filters", [PageFilters(), PageFilters(max_length=5000),
                                     PageFilters(labels=("idle", "wave"), min_id=SOME_ID),
                                     PageFilters(category="training")])
def test_sliced_pages_equal_sql_limit_offset(store: Store, filters: PageFilters, descending: bool) -> None:
    """Pages are slices of a kept listing; they must be exactly SQL's LIMIT/OFFSET pages."""
    total = store.count(PagePlan(filters))
    for limit in (0, 1, 7, 100, 10_000):
        for offset in (0, 1, 5, total - 3, total - 1, total, total + 5, 2**62):
            plan = PagePlan(filters, limit, max(0, offset), descending=descending)
            assert store.page_ids(plan) == sql_page(store, plan), (limit, offset)


def test_listings_kept_are_bounded_and_still_right(store: Store) -> None:
    from eicontract.server.store import LISTINGS_KEPT

    plans = [PagePlan(PageFilters(max_id=SOME_ID + k), 10_000) for k in range(LISTINGS_KEPT + 5)]
    first = [store.page_ids(p) for p in plans]
    assert len(store._listings) == LISTINGS_KEPT
    assert [store.page_ids(p) for p in plans] == first == [sql_page(store, p) for p in plans]


def test_no_fault_or_variant_hands_the_store_a_negative_limit_or_offset() -> None:
    """Store.page_ids slices its listing and has no branch for a negative limit or offset:
    params refuses one (or makes it negative_paging_value(), never negative), and no plan
    seam of any fault or legal variant makes one from non-negative ones."""
    from eicontract.server.faults import ACCEPTED_FAULTS
    from eicontract.server.params import MAX_LIMIT, MAX_OFFSET
    from eicontract.server.variants import ACCEPTED_VARIANTS

    ids = [s.id for s in DATA.samples]
    chosen = [Switched(FaultSet({f}), VariantSet()) for f in ACCEPTED_FAULTS]
    chosen += [Switched(FaultSet(), VariantSet({v})) for v in ACCEPTED_VARIANTS]
    for seams in chosen:
        assert seams.negative_paging_value() in (None, 0)
        for limit in (0, 1, 7, 100, MAX_LIMIT):
            for offset in (0, 1, 99, 101, 5_000, 5_001, MAX_OFFSET):
                for total in (0, 1, 100, 10_000):
                    plan = seams.sliced_plan(seams.page_plan(PagePlan(PageFilters(), limit, offset), ids), total)
                    assert plan.limit >= 0 and plan.offset >= 0, (seams.faults, seams.variants, plan)
