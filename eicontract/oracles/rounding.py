"""How far one block's class values may lie from the probabilities they stand for: the grid
they were rounded to, read off the block's values as a whole (WINDOW-PROBS).

How a model variant rounds is undocumented (docs/CLAIMS.md reading.probability-rounding): float32
may be shown to 4 or 2 decimals, int8 and akida quantised to a step of their own, a quantised
value shown to a few decimals. A legal server rounds each probability p to a grid point within
half a step of p. The step is granted to the block, never to a window: one window off the grid
the block's other values share leaves only a finer grid (or none) to explain its sum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# The claims rows (contracts/claims.yaml) this module implements.
CLAIMS: tuple[str, ...] = ("reading.probability-rounding",)

# A model's own float error: float32 probabilities sum to 1 within far less.
PROB_TOLERANCE = 1e-3
# 2 bits (0, 1/3, 2/3, 1): the coarsest grid that tells more than yes or no; a coarser one would
# let almost any sum pass.
COARSEST_STEP = 1 / 3
# The finest grid looked for past the decimals shown: a finer one explains at most classes x
# FINEST_STEP / 2, next to PROB_TOLERANCE for any usual class count.
FINEST_STEP = 1e-4
# A grid read through written decimals is looked for only this many times coarser than them.
SHOWN_RATIO = 10
# Decimals a server may show (0.1 ... 1e-5); past them values are float noise.
MAX_DECIMALS = 5
# How far a value may lie off a grid and still be on it: float32 values written as doubles
# (0.33 as 0.33000001311302185), or rounded to 6 decimals, are off by less.
GRID_NOISE = 1e-6


@dataclass(frozen=True, slots=True)
class Grid:
    """step: the grid the values were rounded to (0: none, float precision); shown: the
    decimal step they were then written to, when it is not the grid itself (1/15 as 0.0667)."""
    step: float
    shown: float = 0.0

    @property
    def error(self) -> float:
        """How far each value may lie from its probability: half a step, plus the step it was
        shown to (half of it for the writing, the rest for the step's own error as read off
        values written that way)."""
        return self.step / 2 + self.shown


def block_grid(values: Sequence[float]) -> Grid:
    """The coarsest grid all of one block's values (every window's, each in [0, 1]) lie on.

    Every value 0 (or none): COARSEST_STEP, since any grid holds 0. A grid holds 0 (rounding to
    d decimals does; affine quantisation keeps 0 on its grid), so the largest value is K x q for
    a whole K. Values written with D decimals (decimal_step) lie on D x g exactly (g: the gcd of
    the values in units of D), or, rounded to a coarser q first (1/15 as 0.0667), on q within
    D / 2: such a q is looked for down to SHOWN_RATIO x D only, where a value fits it by chance
    with odds of about 1 / SHOWN_RATIO. Values showing no decimals: the coarsest q they lie on
    (coarsest_step), else float precision (a step of 0)."""
    nonzero = sorted({v for v in values if v > GRID_NOISE}, reverse=True)
    if not nonzero:
        return Grid(COARSEST_STEP)
    shown = decimal_step(nonzero)
    if not shown:
        return Grid(coarsest_step(nonzero, 0.0, FINEST_STEP))
    through = coarsest_step(nonzero, shown, SHOWN_RATIO * shown)
    if through:  # the decimals are the writing of a coarser grid, or that grid itself
        return Grid(through, 0.0 if coarsest_step(nonzero, 0.0, through) == through else shown)
    units = math.gcd(*(round(v / shown) for v in nonzero))
    return Grid(_capped(units * shown))


def _capped(step: float) -> float:
    """The coarsest grid at most COARSEST_STEP that holds every point of step's grid."""
    return step / max(1, math.ceil(step / COARSEST_STEP - GRID_NOISE))


def decimal_step(values: Sequence[float]) -> float:
    """The coarsest 10**-d (d = 1 .. MAX_DECIMALS) all values are multiples of; 0.0 if none."""
    return next((10.0 ** -d for d in range(1, MAX_DECIMALS + 1)
                 if all(abs(v - round(v / 10.0 ** -d) * 10.0 ** -d) <= GRID_NOISE for v in values)), 0.0)


def coarsest_step(nonzero: Sequence[float], shown: float, finest: float) -> float:
    """The coarsest q in [finest, COARSEST_STEP] the values lie on, written with decimals of
    step `shown` (0: exactly, within GRID_NOISE); 0.0 if none. nonzero: descending, each above
    GRID_NOISE. The candidates are top / K (top: the largest value). Written values are within
    shown / 2 of their point k x q, and top within shown / 2 of K x q, so a value v reads within
    shown / 2 x (1 + (v + shown / 2) / (top - shown / 2)) of k x top / K (_slack)."""
    top, second = nonzero[0], nonzero[min(1, len(nonzero) - 1)]
    first = max(1, math.ceil((top - _slack(top, top, shown)) / COARSEST_STEP))
    for k in range(first, math.floor(top / finest) + 1):
        step = top / k
        # the second value alone first: it rules out almost every candidate, and cheaply
        if _fits(second, step, _slack(second, top, shown)) \
                and all(_fits(v, step, _slack(v, top, shown)) for v in nonzero):
            return step
    return 0.0


def _slack(value: float, top: float, shown: float) -> float:
    half = shown / 2
    return half * (1 + (value + half) / max(top - half, half)) + 2 * GRID_NOISE


def _fits(value: float, step: float, slack: float) -> bool:
    return abs(value - round(value / step) * step) <= slack


def sum_problem(values: Sequence[float], grid: Grid) -> str | None:
    """One window's values (each in [0, 1]) against a sum of 1, on its block's grid.

    Why the bound holds: a server rounding each class probability p_i to its grid sends v_i with
    |v_i - p_i| <= e (Grid.error), and p_i lies in [0, 1], so p_i lies in
    [max(0, v_i - e), min(1, v_i + e)]; the p_i sum to 1 (within PROB_TOLERANCE), so 1 lies
    between the sums of those bounds, widened by PROB_TOLERANCE. Unclipped that is
    |sum(v) - 1| <= n x e + PROB_TOLERANCE for n classes: rounding each of n values to a step q
    moves the sum by at most n x q / 2. No server rounding to the block's grid is failed."""
    error = grid.error
    low = math.fsum(max(0.0, v - error) for v in values)
    high = math.fsum(min(1.0, v + error) for v in values)
    if low <= 1.0 + PROB_TOLERANCE and high >= 1.0 - PROB_TOLERANCE:
        return None
    within = f"within {PROB_TOLERANCE:g}"
    if error:
        within += f" plus {error:.4g} a value (the block's values lie on a grid of {grid.step:.4g}"
        within += f", shown to {grid.shown:g})" if grid.shown else ")"
    return f"values sum to {math.fsum(values):.6g}, expected 1 {within}"
