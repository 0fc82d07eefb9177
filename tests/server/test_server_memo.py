"""The page classification memo: bounded, least recently used out, and invisible to clients."""

from __future__ import annotations

from eicontract.server.classify import ClassificationMemo, classification_json, predictions_json
from eicontract.server.dataset import generate

DATA = generate(seed=2, count=40)
IMPULSE = DATA.impulse


def test_memo_gives_what_direct_computation_gives() -> None:
    memo = ClassificationMemo(IMPULSE, capacity=5)
    for sample in DATA.samples:
        for variant in ("float32", "int8"):
            for block in IMPULSE.learn_blocks:
                assert memo.classification(sample, block, variant) == classification_json(
                    sample, block, IMPULSE, variant)
            assert memo.predictions(sample, variant) == predictions_json(sample, IMPULSE, variant)


def test_memo_is_bounded_and_keeps_the_recently_used() -> None:
    memo = ClassificationMemo(IMPULSE, capacity=3)
    first, *others = DATA.samples[:5]
    kept = memo.predictions(first, "float32")
    for sample in others:
        memo.predictions(sample, "float32")
        assert memo.predictions(first, "float32") is kept  # touched each time: never evicted
        assert len(memo) <= 3
    memo.predictions(DATA.samples[10], "float32")
    memo.predictions(DATA.samples[11], "float32")
    memo.predictions(DATA.samples[12], "float32")
    assert memo.predictions(first, "float32") is not kept  # evicted, computed again
    assert memo.predictions(first, "float32") == kept
