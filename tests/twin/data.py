"""Deterministic project data and a stub model: a pure function of (seed, sample count)."""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

TEXT_LABELS = ["idle", "wave", "snake", "updown"]
NUMERIC_LABELS = ["0.5", "1.5", "3", "10", "12.5"]
TS_FREQS = [25.0, 50.0, 62.5, 100.0, 200.0]
AUDIO_FREQS = [8000.0, 16000.0]
META_VALUES = {
    "site": ["buildingA", "buildingB", "lab-3"],
    "deviceId": ["val1", "val2", "dev-9", "dev-10"],
    "distance": ["1.5", "2.9", "4"],
    "comments": ["faulty", "ok"],
}
UNICODE_STEMS = ["grüße", "温度", "café", "Ωmega", "naïve"]
EPOCH = datetime(2023, 1, 1, tzinfo=timezone.utc)
TRUNCATE_SLICE = 3          # structured labels kept when truncateStructuredLabels=true
JOB_VALUES_THRESHOLD = 12000  # more readings than this -> classification runs as a job
PAYLOAD_ROWS = 32           # payload values returned (totalPayloadLength carries the full count)


def iso(dt: datetime) -> str:
    """UTC date-time with milliseconds and a Z, like the seed examples."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


@dataclass
class LearnBlock:
    id: int
    type: str
    name: str
    title: str
    dsp: list[int]
    impulse_id: int
    min_confidence: float

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "name": self.name, "dsp": self.dsp,
                "title": self.title, "primaryVersion": True, "createdBy": "createImpulse",
                "createdAt": iso(EPOCH - timedelta(days=30 - self.id))}


@dataclass
class Impulse:
    id: int
    window_size_ms: int
    window_increase_ms: int
    blocks: list[LearnBlock]


@dataclass
class Sample:
    id: int
    filename: str
    label: str                      # dominant label (the longest segment)
    segments: list[tuple[int, int, str]]  # structured labels, endIndex inclusive
    category: str
    frequency: float
    original_frequency: float
    values_count: int
    added: datetime
    created: datetime
    metadata: dict[str, str]
    signature_valid: bool
    data_type: str                  # "time-series" | "audio"
    device_name: str
    device_type: str
    processing_error: bool
    sha256: str
    labels: list[str] = field(default_factory=list)  # unique labels, in order of appearance

    @property
    def interval_ms(self) -> float:
        return 1000.0 / self.frequency

    @property
    def length_ms(self) -> float:
        return round(self.values_count * self.interval_ms, 3)

    @property
    def resampled(self) -> bool:
        return self.frequency != self.original_frequency

    @property
    def sensors(self) -> list[dict[str, str]]:
        if self.data_type == "audio":
            return [{"name": "audio", "units": "wav"}]
        return [{"name": n, "units": "m/s2"} for n in ("accX", "accY", "accZ")]

    def to_json(self, truncate: bool, project_id: int) -> dict[str, Any]:
        segs = self.segments
        if truncate and len(segs) > 1:
            segs = segs[:TRUNCATE_SLICE]
        return {
            "id": self.id, "filename": self.filename, "signatureValidate": self.signature_valid,
            "signatureMethod": "HS256", "signatureKey": "twin-shared-key",
            "created": iso(self.created), "lastModified": iso(self.added),
            "category": self.category, "coldstorageFilename": f"coldstorage/{self.sha256[:16]}.cbor",
            "label": self.label, "intervalMs": round(self.interval_ms, 6), "frequency": self.frequency,
            "originalIntervalMs": round(1000.0 / self.original_frequency, 6),
            "originalFrequency": self.original_frequency, "deviceName": self.device_name,
            "deviceType": self.device_type, "sensors": self.sensors,
            "valuesCount": self.values_count, "totalLengthMs": self.length_ms,
            "added": iso(self.added), "boundingBoxes": [], "boundingBoxesType": "object_detection",
            "chartType": "chart", "isDisabled": False, "isProcessing": False,
            "processingError": self.processing_error,
            **({"processingErrorString": "corrupt CBOR payload"} if self.processing_error else {}),
            "isCropped": False, "metadata": dict(self.metadata), "projectId": project_id,
            "projectOwnerName": "Twin Owner", "projectName": "twin-project",
            "projectLabelingMethod": "single_label", "sha256Hash": self.sha256,
            "structuredLabels": [{"startIndex": a, "endIndex": b, "label": lab} for a, b, lab in segs],
            "structuredLabelsList": list(self.labels), "datastreams": [],
        }

    def payload(self) -> dict[str, Any]:
        axes = len(self.sensors)
        rows = [[round(math.sin((i + 1) * (k + 1) * 0.1 + self.id) * 9.81, 4) for k in range(axes)]
                for i in range(min(self.values_count, PAYLOAD_ROWS))]
        return {"device_name": self.device_name, "device_type": self.device_type,
                "sensors": self.sensors, "values": rows}

    def label_at(self, start_idx: int, end_idx: int) -> str:
        """Label covering most of [start_idx, end_idx]; ties go to the earlier segment."""
        best, best_n = self.segments[0][2], -1
        for a, b, lab in self.segments:
            n = min(b, end_idx) - max(a, start_idx) + 1
            if n > best_n:
                best, best_n = lab, n
        return best


@dataclass
class Project:
    id: int
    seed: int
    impulses: dict[int, Impulse]
    default_impulse: int
    samples: list[Sample]
    by_id: dict[int, Sample]
    classes: list[str]

    def block(self, block_id: int) -> LearnBlock | None:
        for imp in self.impulses.values():
            for b in imp.blocks:
                if b.id == block_id:
                    return b
        return None


def _segments(rng: random.Random, n_values: int, multi: bool) -> list[tuple[int, int, str]]:
    if not multi:
        return [(0, n_values - 1, rng.choice(TEXT_LABELS))]
    cuts = sorted(rng.sample(range(1, n_values - 1), rng.randint(1, 5)))
    bounds = [0, *cuts, n_values]
    segs, prev = [], ""
    for a, b in zip(bounds, bounds[1:]):
        lab = rng.choice([x for x in TEXT_LABELS if x != prev])
        segs.append((a, b - 1, lab))
        prev = lab
    return segs


def generate(seed: int, n: int, project_id: int) -> Project:
    rng = random.Random(seed)
    imp1 = Impulse(1, rng.choice([1000, 1500, 2000]), rng.choice([250, 500]), [
        LearnBlock(3, "keras", "NN Classifier", "Classification (Keras)", [2], 1, 0.6),
        LearnBlock(5, "anomaly-gmm", "Anomaly detection (GMM)", "Anomaly Detection (GMM)", [2], 1, 0.3)])
    imp2 = Impulse(2, 3000, 1000, [
        LearnBlock(9, "keras", "NN Classifier v2", "Classification (Keras)", [8], 2, 0.7)])
    w = imp1.window_size_ms
    samples: list[Sample] = []
    sid = 100 + rng.randint(0, 20)
    for i in range(n):
        sid += rng.choice([1, 1, 1, 2, 3, 7])
        # a corrupt sample is long, so it reaches the job path and the job fails
        perr = (i == n // 2 and n >= 20) or rng.random() < 0.005
        audio = not perr and rng.random() < 0.15
        freq = rng.choice(AUDIO_FREQS if audio else TS_FREQS)
        orig = freq
        if perr or (not audio and rng.random() < 0.15):  # resampled: frequency is the resampled one
            orig, freq = freq, (100.0 if freq != 100.0 else 50.0)
        r = 0.99 if perr else rng.random()
        if r < 0.1:
            target_ms = rng.randint(200, w - 1)            # shorter than one window
        elif r < 0.85 or audio:
            target_ms = rng.randint(w, 10000)
        else:
            target_ms = rng.randint(20000, 90000)          # long: many windows, often a job
        values = max(3, int(target_ms * freq / 1000))
        multi = not audio and values >= 20 and rng.random() < 0.12
        segs = _segments(rng, values, multi)
        if not multi and rng.random() < 0.12:
            segs = [(0, values - 1, rng.choice(NUMERIC_LABELS))]
        dominant = max(segs, key=lambda s: s[1] - s[0])[2]
        seen: list[str] = []
        for _, _, lab in segs:
            if lab not in seen:
                seen.append(lab)
        added = EPOCH + timedelta(seconds=rng.randint(0, 3 * 365 * 86400),
                                  milliseconds=rng.choice([0, 0, rng.randint(1, 999)]))
        meta: dict[str, str] = {}
        if rng.random() >= 0.25:
            for key, vals in META_VALUES.items():
                if rng.random() < 0.55:
                    meta[key] = rng.choice(vals)
            if not meta:
                meta["site"] = rng.choice(META_VALUES["site"])
        stem = rng.choice(UNICODE_STEMS) if rng.random() < 0.1 else dominant
        token = "".join(rng.choice("abcdefghABCDEFGH0123456789") for _ in range(4))
        fn = f"{stem}{i % 100:02d}.{token}"
        dev = ":".join(f"{rng.randint(0, 255):02x}" for _ in range(6))
        samples.append(Sample(
            id=sid, filename=fn, label=dominant, segments=segs,
            category="testing" if rng.random() < 0.5 else "training",
            frequency=freq, original_frequency=orig, values_count=values, added=added,
            created=added - timedelta(minutes=rng.randint(0, 600)), metadata=meta,
            signature_valid=rng.random() < 0.7, data_type="audio" if audio else "time-series",
            device_name=dev, device_type="MICROPHONE" if audio else "DISCO-L475VG-IOT01A",
            processing_error=perr,
            sha256=hashlib.sha256(f"{seed}:{sid}".encode()).hexdigest(), labels=seen))
    classes = sorted({lab for s in samples for lab in s.labels} | set(TEXT_LABELS))
    return Project(project_id, seed, {1: imp1, 2: imp2}, 1, samples,
                   {s.id: s for s in samples}, classes)


# ---------------------------------------------------------------- stub model

def windows(sample: Sample, imp: Impulse, drop_last: bool = False) -> list[tuple[float, float]]:
    """Every window that starts inside the sample and reaches its end or beyond: full windows,
    plus a zero-padded partial last window when the increase does not land on the end; a
    sample shorter than one window yields a single zero-padded window [0, windowSizeMs]."""
    size, inc, length = imp.window_size_ms, imp.window_increase_ms, sample.length_ms
    if length < size:
        return [(0.0, float(size))]
    count = int((length - size) // inc) + 1
    if drop_last:
        count -= 1 if count > 1 else 0  # regression 'drop-last-window' (full windows only, minus one)
    elif (length - size) % inc > 0:
        count += 1  # the partial last window, zero-padded
    return [(float(k * inc), float(k * inc + size)) for k in range(count)]


def _quantise(x: float, variant: str) -> float:
    if variant == "int8":
        return round(x * 255) / 255
    if variant == "akida":
        return round(x * 15) / 15
    return x


def classify(project: Project, sample: Sample, block: LearnBlock, variant: str,
             drop_last: bool = False) -> dict[str, Any]:
    """One classification (ClassifySampleResponseClassification) for one block."""
    imp = project.impulses[block.impulse_id]
    wins = windows(sample, imp, drop_last)
    results, expected = [], []
    for k, (start, end) in enumerate(wins):
        a = int(round(start / sample.interval_ms))
        b = min(sample.values_count - 1, int(round(end / sample.interval_ms)) - 1)
        truth = sample.label_at(a, max(a, b))
        expected.append({"startIndex": a, "endIndex": max(a, b), "label": truth})
        rng = random.Random(f"{project.seed}/{sample.id}/{block.id}/{k}")
        if block.type == "anomaly-gmm":
            score = rng.uniform(-1.0, 0.4) + (0.8 if sample.id % 11 == 0 else 0.0)
            results.append({"anomaly": round(_quantise(score, variant), 4)})
            continue
        raw = {c: rng.random() ** 3 for c in project.classes}
        raw[truth] += 1.5 if rng.random() < 0.8 else 0.0  # mostly right, sometimes not
        total = sum(raw.values())
        results.append({c: round(_quantise(v / total, variant), 4) for c, v in raw.items()})
    thr_key = "min_anomaly_score" if block.type == "anomaly-gmm" else "min_score"
    return {
        "learnBlock": block.to_json(), "result": results, "resultCount": len(results),
        "intervalMs": round(sample.interval_ms, 6), "frequencyHz": sample.frequency,
        "minimumConfidenceRating": block.min_confidence, "expectedLabels": expected,
        "thresholds": [{"key": thr_key, "description": "Score threshold",
                        "helpText": "Windows scoring below this are reported as uncertain.",
                        "suggestedValue": block.min_confidence, "value": block.min_confidence}],
    }


def predictions(sample: Sample, cls: dict[str, Any], imp: Impulse) -> list[dict[str, Any]]:
    """One ModelPrediction per window of a classifier block."""
    out = []
    for k, (res, exp) in enumerate(zip(cls["result"], cls["expectedLabels"])):
        best = max(res, key=lambda c: (res[c], c))
        pred = best if res[best] >= cls["minimumConfidenceRating"] else "uncertain"
        start = float(k * imp.window_increase_ms)
        item = {"sampleId": sample.id, "startMs": start, "endMs": start + imp.window_size_ms,
                "label": exp["label"], "prediction": pred}
        if pred != "uncertain":  # no verdict on a window the model declined to call
            item["predictionCorrect"] = pred == exp["label"]
        out.append(item)
    return out
