"""WINDOW-PROBS for a quantised variant: the step is read off the reply's values (no fixed akida
step): a legal server rounding each class value to its own grid, however coarse, passes; sums
no rounding explains still fail (docs/CLAIMS.md reading.probability-rounding)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from eicontract.oracles.window import COARSEST_STEP, check_probabilities, quantisation_step
from tests.oracles.factories import classification, classify_body, clause_ids

CLASSES = ("idle", "snake", "updown", "wave")


def _body(*windows: tuple[float, ...]) -> dict[str, Any]:
    result = [dict(zip(CLASSES, w, strict=True)) for w in windows]
    return classify_body(total_ms=300, classifications=[classification(windows=len(result), result=result)])


def _rounded_each(step: float, windows: int, seed: int) -> list[tuple[float, ...]]:
    """What a legal server sends: softmax outputs, each value rounded to its own grid, shown
    to 4 decimals (so no class absorbs the rounding)."""
    rng = random.Random(seed)
    out = []
    for _ in range(windows):
        weights = [rng.random() ** 3 for _ in CLASSES]
        out.append(tuple(round(round(w / sum(weights) / step) * step, 4) for w in weights))
    return out


@pytest.mark.parametrize("step", [1 / 255, 1 / 256, 1 / 15, 1 / 7, 1 / 3])
@pytest.mark.parametrize("variant", ["int8", "akida"])
def test_values_each_rounded_to_their_own_grid_pass(step: float, variant: str) -> None:
    for seed in range(20):
        windows = _rounded_each(step, 12, seed)
        assert check_probabilities(_body(*windows), variant) == []


def test_akida_coarser_than_4_bits_passes() -> None:
    # (0.36, 0.36, 0.28, 0) on a 3-bit grid: 3/7 + 3/7 + 2/7 = 8/7, beyond the former 1/15 step
    assert check_probabilities(_body((0.4286, 0.4286, 0.2857, 0.0)), "akida") == []


@pytest.mark.parametrize("variant", ["int8", "akida"])
@pytest.mark.parametrize("windows", [
    # probs-unnormalised: the reference's values (1/100 and 1/256 grids) times 1.2
    [tuple(round(v * 1.2, 6) for v in w) for w in _rounded_each(1 / 100, 12, 1)],
    [tuple(round(v * 1.2, 6) for v in w) for w in _rounded_each(1 / 256, 12, 2)],
    [(1.0, 1.0, 0.0, 0.0)],  # only 0s and 1s: no gap finer than COARSEST_STEP
    [(0.0, 0.0, 0.0, 0.0)],
    [(0.1, 0.1, 0.1, 0.1)],  # one value, 0 on the grid: a step of at most 0.1
    # a 1/15 grid shown by the reply, but a window summing to 1.2
    [*_rounded_each(1 / 15, 12, 3), (0.6, 0.6, 0.0, 0.0)],
])
def test_sums_no_rounding_explains_still_fail(variant: str, windows: list[tuple[float, ...]]) -> None:
    assert clause_ids(check_probabilities(_body(*windows), variant)) == {"WINDOW-PROBS"}


def test_float32_keeps_the_tight_bound() -> None:
    windows = _rounded_each(1 / 15, 12, 4)
    assert any(abs(sum(w) - 1) > 1e-3 for w in windows)
    assert clause_ids(check_probabilities(_body(*windows), "float32")) == {"WINDOW-PROBS"}
    assert clause_ids(check_probabilities(_body(*windows))) == {"WINDOW-PROBS"}


@pytest.mark.parametrize(("values", "step"), [
    ([0.0, 1.0], COARSEST_STEP),
    ([], COARSEST_STEP),
    ([0.5, 0.5], COARSEST_STEP),
    ([0.2, 0.2], 0.2),  # 0 counts: the grid holds it
    ([3 / 255, 7 / 255, 1.0], 3 / 255),
    ([0.1, 0.1 + 1e-12, 0.3], 0.1),  # float noise is no gap
])
def test_quantisation_step(values: list[float], step: float) -> None:
    assert quantisation_step(values) == pytest.approx(step)
