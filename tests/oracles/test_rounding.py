"""WINDOW-PROBS whatever the variant: the grid a block's values were rounded to is read off all
its windows together (docs/CLAIMS.md reading.probability-rounding). A legal server rounding
each class value to d decimals, or quantising it to a step of its own (shown to a few
decimals or not), passes; a window the block's grid does not explain fails."""

from __future__ import annotations

import random
from typing import Any

import pytest

from eicontract.oracles.rounding import COARSEST_STEP, PROB_TOLERANCE, Grid, block_grid, sum_problem
from eicontract.oracles.window import check_probabilities
from tests.oracles.factories import classification, classify_body, clause_ids

CLASSES = ("idle", "snake", "updown", "wave")


def _body(*windows: tuple[float, ...]) -> dict[str, Any]:
    result = [dict(zip(CLASSES, w, strict=True)) for w in windows]
    return classify_body(total_ms=300, classifications=[classification(windows=len(result), result=result)])


def _softmax(windows: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    out = []
    for _ in range(windows):
        weights = [rng.random() ** 3 for _ in CLASSES]
        out.append([w / sum(weights) for w in weights])
    return out


def _rounded_each(step: float, windows: int, seed: int, shown: int | None = 4) -> list[tuple[float, ...]]:
    """What a legal server sends: softmax outputs, each value rounded to its own grid (no class
    absorbs the rounding), then written with `shown` decimals (None: as the float it is)."""
    return [tuple(v if shown is None else round(v, shown) for v in (round(p / step) * step for p in window))
            for window in _softmax(windows, seed)]


def _decimals(decimals: int, windows: int, seed: int) -> list[tuple[float, ...]]:
    return [tuple(round(p, decimals) for p in window) for window in _softmax(windows, seed)]


def _missed_by(windows: list[tuple[float, ...]]) -> float:
    return max(abs(sum(w) - 1) for w in windows)


@pytest.mark.parametrize("decimals", [1, 2, 3, 4])
def test_values_each_rounded_to_decimals_pass(decimals: int) -> None:
    misses = []
    for seed in range(20):
        windows = _decimals(decimals, 12, seed)
        misses.append(_missed_by(windows))
        assert check_probabilities(_body(*windows)) == []
    assert max(misses) > PROB_TOLERANCE or decimals >= 3  # the rounding shows: not a sum of 1 within 1e-3


def test_three_classes_at_a_third_rounded_to_two_decimals_pass() -> None:
    windows = [(0.33, 0.33, 0.33, 0.0), (0.5, 0.25, 0.25, 0.0), (0.67, 0.17, 0.17, 0.0)]
    assert check_probabilities(_body(*windows)) == []


@pytest.mark.parametrize("step", [1 / 255, 1 / 256, 1 / 100, 1 / 15, 1 / 7, 1 / 3])
@pytest.mark.parametrize("shown", [4, None])
def test_values_each_rounded_to_their_own_grid_pass(step: float, shown: int | None) -> None:
    for seed in range(20):
        windows = _rounded_each(step, 12, seed, shown)
        assert check_probabilities(_body(*windows)) == []


def test_a_coarse_grid_shown_alone_passes() -> None:
    # (0.36, 0.36, 0.28, 0) on a 3-bit grid: 3/7 + 3/7 + 2/7 = 8/7, beyond a 1/15 step
    assert check_probabilities(_body((0.4286, 0.4286, 0.2857, 0.0))) == []


@pytest.mark.parametrize("windows", [
    # probs-unnormalised: the reference's values (4 decimals, 1/256 and 1/100 grids) times 1.2
    [tuple(round(v * 1.2, 6) for v in w) for w in _decimals(4, 12, 1)],
    [tuple(round(v * 1.2, 6) for v in w) for w in _rounded_each(1 / 256, 12, 2, None)],
    [tuple(round(v * 1.2, 6) for v in w) for w in _rounded_each(1 / 100, 12, 3)],
    [(1.0, 1.0, 0.0, 0.0)],  # only 0s and 1s: judged at COARSEST_STEP
    [(0.0, 0.0, 0.0, 0.0)],
    [(0.1, 0.1, 0.1, 0.1)],  # one value, 0 on the grid: a step of at most 0.1
])
def test_sums_no_rounding_explains_fail(windows: list[tuple[float, ...]]) -> None:
    assert clause_ids(check_probabilities(_body(*windows))) == {"WINDOW-PROBS"}


@pytest.mark.parametrize("fine", [_decimals(4, 12, 4), _decimals(2, 12, 5), _rounded_each(1 / 256, 12, 6, None),
                                  _rounded_each(1 / 15, 12, 7)])
@pytest.mark.parametrize("coarse", [(0.6, 0.6, 0.0, 0.0), (0.4286, 0.4286, 0.2857, 0.0)])
def test_a_coarse_window_among_fine_ones_fails(fine: list[tuple[float, ...]], coarse: tuple[float, ...]) -> None:
    """The loophole a grid granted window by window leaves: the coarse window alone passes
    (a legal 0.3 or 1/7 grid explains it), among the block's other windows it does not."""
    assert check_probabilities(_body(coarse)) == []
    assert clause_ids(check_probabilities(_body(*fine, coarse))) == {"WINDOW-PROBS"}
    assert clause_ids(check_probabilities(_body(coarse, *fine))) == {"WINDOW-PROBS"}


def test_a_window_off_the_blocks_grid_is_held_to_the_grid_the_block_shares() -> None:
    fine = _decimals(2, 12, 8)
    assert block_grid([v for w in fine for v in w]) == Grid(0.01)
    on = (0.46, 0.46, 0.09, 0.0)  # 1.01: within 4 x 0.005 + 1e-3 on the block's 1/100 grid
    assert check_probabilities(_body(*fine, on)) == []
    off = (0.4567, 0.4567, 0.0, 0.0)  # 0.9134: the block's values then share a finer grid
    assert block_grid([v for w in [*fine, off] for v in w]).step < 0.01
    assert clause_ids(check_probabilities(_body(*fine, off))) == {"WINDOW-PROBS"}
    assert check_probabilities(_body(off)) == []  # alone, its own 0.4567 / 2 grid explains it


@pytest.mark.parametrize(("window", "ok"), [
    ((0.25, 0.25, 0.25, 0.24), True),  # 0.99: on a 1/100 grid, 4 x 0.005 + 1e-3 = 0.021 either way
    ((0.26, 0.25, 0.25, 0.25), True),  # 1.01
    ((0.27, 0.26, 0.26, 0.23), True),  # 1.02
    ((0.3, 0.3, 0.3, 0.121), True),  # 1.021
    ((0.27, 0.26, 0.26, 0.24), False),  # 1.03
    ((0.25, 0.24, 0.24, 0.24), False),  # 0.97
])
def test_the_bound_is_classes_times_half_a_step(window: tuple[float, ...], ok: bool) -> None:
    problem = sum_problem(window, Grid(0.01))
    assert (problem is None) == ok, problem


@pytest.mark.parametrize(("values", "grid"), [
    ([0.0, 1.0], Grid(COARSEST_STEP)),
    ([], Grid(COARSEST_STEP)),
    ([0.5, 0.5], Grid(0.25)),
    ([0.2, 0.2], Grid(0.2)),  # 0 counts: the grid holds it
    ([0.7, 0.5], Grid(0.1)),  # not the smallest gap (0.2): a grid both lie on
    ([3 / 255, 7 / 255, 1.0], Grid(1 / 255)),
    ([0.1, 0.1 + 1e-12, 0.3], Grid(0.1)),  # float noise is no gap
    ([0.33000001311302185, 0.6600000262260437, 0.01], Grid(0.01)),  # float32 written as doubles
    ([0.33, 0.66, 0.01], Grid(0.01)),  # 0.01 is not 0 read through the decimals
    ([0.5333, 0.3333, 0.2], Grid(0.0666625, 1e-4)),  # 1/15 written with 4 decimals
    ([0.1234567, 0.2718281828, 0.3141592654, 0.2905558518], Grid(0.0)),  # float precision
])
def test_block_grid(values: list[float], grid: Grid) -> None:
    got = block_grid(values)
    assert got.step == pytest.approx(grid.step) and got.shown == pytest.approx(grid.shown)
