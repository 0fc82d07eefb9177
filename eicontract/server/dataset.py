"""The synthetic project: one impulse, two learn blocks and a few hundred samples.

Everything is a pure function of (seed, count). Each attribute is drawn from a small pool that
is repeated to the dataset size and shuffled, so every pool value occurs (given enough
samples) and values repeat: that is what gives every page filter hits, misses and ties
exactly on its boundaries.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

T = TypeVar("T")

PROJECT_ID = 1
PROJECT_NAME = "Reference gestures"
PROJECT_OWNER = "eicontract"

CLASS_LABELS: tuple[str, ...] = ("idle", "snake", "updown", "wave")
# Regression-like labels, with a repeated value so minLabel/maxLabel have ties.
NUMERIC_LABELS: tuple[str, ...] = ("0.5", "1.25", "2", "3", "3", "7.5", "10")
# 100 Hz is the impulse frequency; the others need resampling (so classify starts a job).
FREQUENCIES: tuple[float, ...] = (100.0, 100.0, 100.0, 50.0, 62.5, 200.0)
# Nominal lengths in ms; snapped to a whole number of readings at the sample's frequency.
# 1000 = the window size (several ties), 8000 = the default job threshold (not above it).
NOMINAL_LENGTHS_MS: tuple[int, ...] = (
    250, 500, 750, 1000, 1000, 1000, 1250, 1500, 2000, 2000, 2000, 3000, 4000, 6000,
    8000, 9000, 12000,
)
CHART_TYPES: tuple[str, ...] = ("chart",) * 5 + ("image", "video", "table")
CATEGORIES: tuple[str, ...] = ("testing",) * 5 + ("training",)
SIGNATURES: tuple[bool, ...] = (True, True, True, False)
# None = no metadata key at all; {} = an empty object. Both count as "no metadata".
METADATA_CHOICES: tuple[dict[str, str] | None, ...] = (
    None,
    {},
    {"site": "buildingA"},
    {"site": "buildingB"},
    {"site": "buildingA", "device": "dev-1"},
    {"device": "dev-2", "operator": "alice", "distance": "1.5"},
    {"distance": "2.9"},
    {"site": "buildingB", "device": "dev-1", "distance": "1.5"},
    # A third site: "site = B or site != C" differs from "site = B and site != C", so the
    # gate's two-item metadata candidates tell OR from AND (a server that ANDs them shows).
    {"site": "buildingC", "operator": "bob"},
)
ID_GAPS: tuple[int, ...] = (1, 1, 1, 1, 2, 3, 7)
TIE_GROUPS: tuple[int, ...] = (1, 1, 1, 2, 3, 4)
FILENAME_EXTENSIONS: tuple[str, ...] = ("abc", "xyz", "cbor", "json")
# Index into the filename patterns of _filename(): plain names dominate, wildcards are rarer.
FILENAME_PATTERN_WEIGHTS: tuple[int, ...] = (0, 0, 0, 1, 1, 2, 2, 3, 4)
FIRST_SAMPLE_ID = 101
# Samples whose processing failed (the Sample schema's processingError): every 25th testing
# sample from the 13th, by id. Placed by position, not drawn, so the other draws stay as they
# were and the first page of 100 testing samples holds four of them at every seed.
PROCESSING_ERROR_EVERY = 25
PROCESSING_ERROR_FROM = 12
BASE_ADDED = datetime(2025, 1, 6, 8, 0, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LearnBlock:
    id: int
    type: str  # "keras" (classifier) or "anomaly-gmm"
    name: str
    title: str
    dsp: tuple[int, ...]
    threshold_key: str
    threshold: float


@dataclass(frozen=True, slots=True)
class Impulse:
    id: int
    frequency_hz: float
    window_size_ms: int
    window_increase_ms: int
    dsp_block_id: int
    learn_blocks: tuple[LearnBlock, ...]
    created_at: str

    @property
    def classifier(self) -> LearnBlock:
        return next(b for b in self.learn_blocks if b.type == "keras")

    def learn_block(self, block_id: int) -> LearnBlock | None:
        return next((b for b in self.learn_blocks if b.id == block_id), None)


@dataclass(frozen=True, slots=True)
class Segment:
    """A structured label: value indices, end inclusive."""

    start_index: int
    end_index: int
    label: str


@dataclass(frozen=True, slots=True)
class SampleRecord:
    id: int
    filename: str
    label: str
    category: str
    frequency: float
    values_count: int
    chart_type: str
    signature_valid: bool
    added: datetime
    created: datetime
    metadata: dict[str, str] | None
    segments: tuple[Segment, ...] = field(default=())  # non-empty = multi-label sample
    sha256: str = ""
    processing_error: bool = False  # processing failed: no classify job of it succeeds

    @property
    def interval_ms(self) -> float:
        return 1000.0 / self.frequency

    @property
    def total_length_ms(self) -> float:
        return self.values_count * self.interval_ms

    @property
    def is_multi_label(self) -> bool:
        return bool(self.segments)

    @property
    def has_metadata(self) -> bool:
        return bool(self.metadata)

    @property
    def numeric_label(self) -> float | None:
        """The label as a number when it is one (regression labels); None otherwise."""
        try:
            value = float(self.label)
        except ValueError:
            return None
        return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Dataset:
    seed: int
    impulse: Impulse
    samples: tuple[SampleRecord, ...]  # ascending id
    ids: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _by_id: dict[int, SampleRecord] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", tuple(s.id for s in self.samples))
        object.__setattr__(self, "_by_id", {s.id: s for s in self.samples})

    def sample(self, sample_id: int) -> SampleRecord | None:
        return self._by_id.get(sample_id)


def default_impulse() -> Impulse:
    created = "2025-01-02T09:30:08.416Z"
    return Impulse(
        id=1,
        frequency_hz=100.0,
        window_size_ms=1000,
        window_increase_ms=250,
        dsp_block_id=2,
        created_at=created,
        learn_blocks=(
            LearnBlock(3, "keras", "NN Classifier", "Classification", (2,), "min_score", 0.6),
            LearnBlock(4, "anomaly-gmm", "Anomaly detection (GMM)", "Anomaly Detection (GMM)",
                       (2,), "min_anomaly_score", 0.3),
        ),
    )


def spread(rng: random.Random, pool: Sequence[T], count: int) -> list[T]:
    """`count` values drawn from `pool` so that each pool entry occurs (when count allows)."""
    repeated = list(pool) * (max(count, len(pool)) // len(pool) + 1)
    del repeated[max(count, len(pool)):]
    _shuffle(rng, repeated)
    return repeated[:count]


def _below(rng: random.Random) -> Callable[[int], int]:
    """rng._randbelow (Random's own algorithm, so the draws are Random.choice's and
    Random.shuffle's exactly), without the method lookups: 100,000 samples make ~2 million."""
    getrandbits = rng.getrandbits

    def below(n: int) -> int:
        k = n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return r

    return below


def _shuffle(rng: random.Random, items: list[T]) -> None:
    """rng.shuffle(items), the same permutation, inlined (it is most of a 100k generation)."""
    getrandbits = rng.getrandbits
    for i in range(len(items) - 1, 0, -1):
        n = i + 1
        k = n.bit_length()
        j = getrandbits(k)
        while j >= n:
            j = getrandbits(k)
        items[i], items[j] = items[j], items[i]


def generate(seed: int = 1, count: int = 300) -> Dataset:
    rng = random.Random(seed)
    ids = _ids(rng, count)
    frequencies = spread(rng, FREQUENCIES, count)
    lengths = spread(rng, NOMINAL_LENGTHS_MS, count)
    labels = spread(rng, CLASS_LABELS * 3 + NUMERIC_LABELS, count)
    multi = spread(rng, (True, False, False, False), count)
    added = _added_dates(rng, count)
    columns = zip(
        ids, frequencies, lengths, labels, multi, added,
        spread(rng, CHART_TYPES, count), spread(rng, CATEGORIES, count),
        spread(rng, SIGNATURES, count), spread(rng, METADATA_CHOICES, count),
        strict=True,
    )
    samples = []
    below = _below(rng)
    created_before = [timedelta(seconds=30 + k) for k in range(7)]
    sha256 = hashlib.sha256
    for i, (sid, freq, length, label, is_multi, when, chart, category, sig, meta) in enumerate(
        columns
    ):
        values = max(1, round(length / (1000.0 / freq)))
        segments = _segments(rng, values) if is_multi and label in CLASS_LABELS else ()
        if segments:
            label = segments[0].label  # a multi-label sample's label is its first segment's
        samples.append(SampleRecord(  # positional (field order): a third faster than keywords
            sid, _filename(below, label, i), label, category, freq, values, chart, sig, when,
            when - created_before[i % 7], None if meta is None else dict(meta), segments,
            sha256(f"{seed}:{sid}".encode()).hexdigest(),
        ))
    return Dataset(seed=seed, impulse=default_impulse(), samples=_processing_failed(samples))


def _processing_failed(samples: list[SampleRecord]) -> tuple[SampleRecord, ...]:
    """The samples, with every PROCESSING_ERROR_EVERY-th testing one marked processingError."""
    testing = [i for i, s in enumerate(samples) if s.category == "testing"]
    for i in testing[PROCESSING_ERROR_FROM::PROCESSING_ERROR_EVERY]:
        samples[i] = replace(samples[i], processing_error=True)
    return tuple(samples)


def _ids(rng: random.Random, count: int) -> list[int]:
    gaps = spread(rng, ID_GAPS, count)
    ids, current = [], FIRST_SAMPLE_ID
    for gap in gaps:
        ids.append(current)
        current += gap
    return ids


def _added_dates(rng: random.Random, count: int) -> list[datetime]:
    """Ascending timestamps in groups that share one instant (ties), with millisecond parts."""
    below = _below(rng)  # the draws of rng.choice and rng.randint(1, 90), inlined
    steps = [[timedelta(minutes=m, milliseconds=ms) for ms in _ADDED_MS] for m in range(1, 91)]
    dates: list[datetime] = []
    current = BASE_ADDED
    while len(dates) < count:
        dates.extend([current] * TIE_GROUPS[below(len(TIE_GROUPS))])
        minutes = below(90)  # randint(1, 90) - 1
        current += steps[minutes][below(len(_ADDED_MS))]
    return dates[:count]


_ADDED_MS = (0, 125, 500, 999)


_OTHER_LABELS = {label: tuple(o for o in CLASS_LABELS if o != label) for label in CLASS_LABELS}


def _segments(rng: random.Random, values: int) -> tuple[Segment, ...]:
    """3-5 contiguous segments over all values, neighbours labelled differently."""
    if values < 40:
        return ()
    parts = rng.choice((3, 4, 5))
    cuts = sorted(rng.sample(range(5, values - 5), parts - 1))
    bounds = [0, *cuts, values]
    labels: list[str] = []
    below = _below(rng)
    for _ in range(parts):
        options = _OTHER_LABELS[labels[-1]] if labels else CLASS_LABELS
        labels.append(options[below(len(options))])  # rng.choice(options)
    return tuple(
        Segment(bounds[k], bounds[k + 1] - 1, labels[k]) for k in range(parts)
    )


def _filename(below: Callable[[int], int], label: str, index: int) -> str:
    """Names sharing substrings, differing in case, some with LIKE wildcards (% and _).

    below: the generator's _below (draws as rng.choice draws them)."""
    stem = label if label in CLASS_LABELS else "level"
    other = CLASS_LABELS[below(len(CLASS_LABELS))]
    ext = FILENAME_EXTENSIONS[below(len(FILENAME_EXTENSIONS))]
    n = index + 1
    pattern = FILENAME_PATTERN_WEIGHTS[below(len(FILENAME_PATTERN_WEIGHTS))]
    if pattern == 0:
        return f"{stem}{n:02d}.{ext}"
    if pattern == 1:
        return f"{stem.upper()}{n:02d}.{ext}"
    if pattern == 2:
        return f"{stem.title()}.{other}.{n}.{ext}"
    if pattern == 3:
        return f"{stem}_{n}.{ext}"
    return f"{n}%{stem}.{ext}"
