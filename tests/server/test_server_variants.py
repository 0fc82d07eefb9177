"""Every legal variant is wired: it visibly changes the behaviour, and stays inside the contract."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from eicontract.server import LEGAL_VARIANTS, LegalVariant, ServerConfig, start_in_thread
from eicontract.server.render import iso
from eicontract.server.variants import SLOW_JOB_FACTOR, VariantSet
from tests.server.server_helpers import (
    CLASSIFIER,
    PAGE,
    TESTING,
    check_registry,
    classify_path,
    make_client,
    status_path,
    wait_for_job,
)

JOB_SECONDS = 0.05
# A short native-rate sample (its result comes back directly on a clean server), and one
# that needs resampling (a job on any server).
DIRECT = next(s for s in TESTING if s.frequency == 100 and s.total_length_ms <= 2000)
RESAMPLED = next(s for s in TESTING if s.frequency != 100 and s.total_length_ms <= 2000)
FULL_LISTING = [s.id for s in TESTING]

CHECKS, check = check_registry()


def body_of(reply: httpx.Response) -> dict[str, Any]:
    assert reply.status_code == 200, reply.text[:300]
    body: dict[str, Any] = reply.json()
    assert body["success"] is True and "error" not in body
    return body


def page(c: httpx.Client, **query: Any) -> dict[str, Any]:
    return body_of(c.get(PAGE, params=query))


def ids(c: httpx.Client, **query: Any) -> list[int]:
    return [r["sampleId"] for r in page(c, **{"limit": 10_000, **query})["result"]]


def classify(c: httpx.Client, sample_id: int = DIRECT.id, **query: Any) -> dict[str, Any]:
    return body_of(c.post(classify_path(CLASSIFIER, sample_id), params=query))


def sweep(c: httpx.Client, size: int, **query: Any) -> list[int]:
    """Concatenated pages of `size`, stepping by what each page returned (as the gate does)."""
    out: list[int] = []
    while True:
        got = [r["sampleId"] for r in page(c, limit=size, offset=len(out), **query)["result"]]
        assert len(got) <= size
        if not got:
            return out
        out += got


def is_job(body: dict[str, Any]) -> bool:
    return "classifications" not in body and isinstance(body.get("id"), int)


def without_extras(value: Any) -> Any:
    """The body with every extra-fields addition removed (recursively)."""
    if isinstance(value, dict):
        return {k: without_extras(v) for k, v in value.items() if k not in ("x-debug", "newField")}
    if isinstance(value, list):
        return [without_extras(v) for v in value]
    return value


# -- the variants -------------------------------------------------------------------------

@check("order-desc")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    listing = ids(variant)
    assert listing == FULL_LISTING[::-1] == ids(clean)[::-1]
    for size in (1, 7, 100):  # pages concatenate to the full listing, no gaps, no repeats
        assert sweep(variant, size) == listing
    assert ids(variant, limit=5, offset=5) == ids(variant, limit=5, offset=5)  # stable
    filtered = ids(variant, dataType="image")
    assert filtered == sorted(ids(clean, dataType="image"), reverse=True)
    assert sweep(variant, 3, dataType="image") == filtered  # filtering commutes with paging


@check("always-job")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    assert not is_job(classify(clean))  # short and native: a clean server answers at once
    started = classify(variant)
    assert is_job(started)
    assert classify(variant) == started  # the same job while it runs
    assert wait_for_job(variant, started["id"])["finishedSuccessful"] is True
    assert classify(variant) == classify(clean)  # then the cached result, the same result
    assert is_job(classify(variant, truncateStructuredLabels="true"))  # another cache key
    assert is_job(classify(variant, variant="int8"))
    assert page(variant, limit=3) == page(clean, limit=3)  # the page is unchanged


@check("inclusive-bounds")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    tie = max(TESTING, key=lambda s: sum(t.added == s.added for t in TESTING)).added
    bounds: list[tuple[str, Any, Callable[[Any], Any]]] = [
        ("Length", 1000, lambda s: s.total_length_ms),
        ("Frequency", 100, lambda s: s.frequency),
        ("Date", iso(tie), lambda s: iso(s.added)),
    ]
    for name, value, field in bounds:
        on_edge = {s.id for s in TESTING if field(s) == value}
        assert on_edge
        for bound in (f"min{name}", f"max{name}"):
            strict, inclusive = set(ids(clean, **{bound: value})), set(ids(variant, **{bound: value}))
            assert inclusive == strict | on_edge and not strict & on_edge
    for explicit in ({"minId": DIRECT.id}, {"maxId": DIRECT.id}, {"minLabel": 3}, {"maxLabel": 3}):
        assert ids(variant, **explicit) == ids(clean, **explicit)  # documented bounds stay


@check("extra-fields")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    result = classify(variant)
    for doc in (result, result["sample"], result["sample"]["sample"], result["classifications"][0]):
        assert doc["newField"] == 1 and isinstance(doc["x-debug"], dict)
    assert without_extras(result) == classify(clean)
    listing = page(variant, limit=3)
    entry = listing["result"][0]
    for doc in (listing, entry, entry["sample"], *entry["classifications"],
                listing["predictions"][0]):
        assert "x-debug" in doc and "newField" in doc
    assert without_extras(listing) == page(clean, limit=3)
    started = classify(variant, RESAMPLED.id)
    assert is_job(started) and "x-debug" in started
    status = body_of(variant.get(status_path(started["id"])))
    assert "x-debug" in status and "x-debug" in status["job"]
    failure = variant.get(status_path(999_999))  # failure bodies stay exactly the envelope
    assert failure.status_code == 404 and set(failure.json()) == {"success", "error"}


@check("no-total-count")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    for query in ({"limit": 5}, {"limit": 5, "offset": 10_000}, {"dataType": "image"}):
        body = page(variant, **query)
        assert "totalCount" not in body
        assert body == {k: v for k, v in page(clean, **query).items() if k != "totalCount"}


@check("slow-jobs")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    quick = wait_for_job(clean, classify(clean, RESAMPLED.id)["id"])
    job = wait_for_job(variant, classify(variant, RESAMPLED.id)["id"])
    assert job["finishedSuccessful"] is True
    assert job["computeTime"] >= SLOW_JOB_FACTOR * JOB_SECONDS * 0.9
    assert quick["computeTime"] < job["computeTime"]
    assert classify(variant, RESAMPLED.id) == classify(clean, RESAMPLED.id)


# -- the catalogue and the config ---------------------------------------------------------

def test_every_variant_has_a_check() -> None:
    assert set(CHECKS) == set(LEGAL_VARIANTS)


def test_catalogue_entries() -> None:
    assert all(isinstance(v, LegalVariant) and v.name == name and v.description
               for name, v in LEGAL_VARIANTS.items())


def test_unknown_variant_name_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="order-desc") as caught:
        ServerConfig(variants=frozenset({"no-such-variant"}))
    assert "no-such-variant" in str(caught.value)


def test_variants_are_a_frozenset_after_construction() -> None:
    config = ServerConfig(variants=["order-desc"])  # type: ignore[arg-type]
    assert config.variants == frozenset({"order-desc"})
    assert ServerConfig().variants == frozenset()


def test_a_misspelt_variant_in_a_hook_is_an_error() -> None:
    with pytest.raises(KeyError):
        _ = "no-such-variant" in VariantSet()


@pytest.fixture(scope="module")
def clean() -> Iterator[httpx.Client]:
    # its own clean server: jobs here must run JOB_SECONDS, like the variant servers' jobs
    with start_in_thread(ServerConfig(job_seconds=JOB_SECONDS)) as running, \
            make_client(running) as c:
        yield c


@pytest.mark.parametrize("name", sorted(LEGAL_VARIANTS))
def test_variant_is_wired_and_legal(name: str, clean: httpx.Client) -> None:
    config = ServerConfig(variants=frozenset({name}), job_seconds=JOB_SECONDS)
    with start_in_thread(config) as running, make_client(running) as variant:
        CHECKS[name](variant, clean)


def test_variants_combine() -> None:
    config = ServerConfig(variants=frozenset(LEGAL_VARIANTS), job_seconds=0.01)
    with start_in_thread(config) as running, make_client(running) as c:
        listing = page(c, limit=10_000)
        assert "totalCount" not in listing and "x-debug" in listing
        assert [r["sampleId"] for r in listing["result"]] == FULL_LISTING[::-1]
        started = classify(c)
        assert is_job(started)
        wait_for_job(c, started["id"])
        assert "classifications" in classify(c)
