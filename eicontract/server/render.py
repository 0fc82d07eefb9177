"""Wire shapes of samples and learn blocks (the JSON the two endpoints share)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from eicontract.server.dataset import (
    PROJECT_ID,
    PROJECT_NAME,
    PROJECT_OWNER,
    Impulse,
    LearnBlock,
    SampleRecord,
)

JSON = dict[str, Any]

# truncateStructuredLabels=true keeps this many leading segments of a multi-label sample.
TRUNCATED_SEGMENTS = 2
# The payload carries only the first readings; totalPayloadLength still counts them all.
PAYLOAD_ROWS = 4

_AXES: dict[str, tuple[tuple[str, str], ...]] = {  # (name, SenML units) per chart type
    "chart": (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2")),
    "table": (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2")),
    "image": (("image", "rgba"),),
    "video": (("video", "rgba"),),
}
DEVICE_TYPE = "DISCO-L475VG-IOT01A"
PROCESSING_ERROR_TEXT = "processing failed: the sample's data could not be read"


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, the form the seed documents show."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sensors(sample: SampleRecord) -> list[JSON]:
    """Sensor axes; `index` (required by the newest client) numbers them within the sample."""
    return [{"index": i, "name": name, "units": units}
            for i, (name, units) in enumerate(_AXES[sample.chart_type])]


def device_name(sample: SampleRecord) -> str:
    return f"ac:87:a3:0a:{sample.id // 256 % 256:02x}:{sample.id % 256:02x}"


def segments_json(sample: SampleRecord, truncate: bool) -> list[JSON]:
    segments = sample.segments[:TRUNCATED_SEGMENTS] if truncate else sample.segments
    return [{"startIndex": s.start_index, "endIndex": s.end_index, "label": s.label}
            for s in segments]


def datastream_json(sample: SampleRecord) -> JSON:
    return {
        "index": 0,
        "chartType": sample.chart_type,
        "intervalMs": sample.interval_ms,
        "frequencyHz": sample.frequency,
        "sensors": sensors(sample),
        "valuesCount": sample.values_count,
        "totalLengthMs": sample.total_length_ms,
    }


def sample_json(sample: SampleRecord, truncate: bool = False) -> JSON:
    """The Sample object: every field the spec or the newest client requires, plus extras."""
    doc: JSON = {
        "id": sample.id,
        "filename": sample.filename,
        "signatureValidate": sample.signature_valid,
        "signatureMethod": "HS256",
        "signatureKey": "ei_reference_signing_key" if sample.signature_valid else "unknown",
        "created": iso(sample.created),
        "lastModified": iso(sample.added),
        "category": sample.category,
        "coldstorageFilename": f"ei-coldstorage/{PROJECT_ID}/{sample.sha256[:16]}.cbor",
        "label": sample.label,
        "intervalMs": sample.interval_ms,
        "frequency": sample.frequency,
        "originalIntervalMs": sample.interval_ms,
        "originalFrequency": sample.frequency,
        "deviceName": device_name(sample),
        "deviceType": DEVICE_TYPE,
        "sensors": sensors(sample),
        "valuesCount": sample.values_count,
        "totalLengthMs": sample.total_length_ms,
        "added": iso(sample.added),
        "boundingBoxes": [],
        "boundingBoxesType": "object_detection",
        "chartType": sample.chart_type,
        "isDisabled": False,
        "isProcessing": False,
        "processingError": sample.processing_error,
        "isCropped": False,
        "projectId": PROJECT_ID,
        "projectOwnerName": PROJECT_OWNER,
        "projectName": PROJECT_NAME,
        "projectLabelingMethod": "single_label",
        "sha256Hash": sample.sha256,
        "datastreams": [datastream_json(sample)],
    }
    if sample.metadata is not None:  # absent and {} are both "no metadata"; keep both forms
        doc["metadata"] = dict(sample.metadata)
    if sample.processing_error:
        doc["processingErrorString"] = PROCESSING_ERROR_TEXT
    if sample.is_multi_label:
        labels = segments_json(sample, truncate)
        doc["structuredLabels"] = labels
        doc["structuredLabelsList"] = [s["label"] for s in labels]
    return doc


def payload_json(sample: SampleRecord) -> JSON:
    axes = len(_AXES[sample.chart_type])
    rows = min(PAYLOAD_ROWS, sample.values_count)
    values = [[round(9.81 * math.sin(sample.id * 0.7 + row * 1.3 + axis), 3)
               for axis in range(axes)] for row in range(rows)]
    return {
        "device_name": device_name(sample),
        "device_type": DEVICE_TYPE,
        "sensors": sensors(sample),
        "values": values,
        "cropStart": 0,
        "cropEnd": sample.values_count,
        "intervalMs": sample.interval_ms,
        "frequencyHz": sample.frequency,
    }


def raw_sample_json(sample: SampleRecord, truncate: bool = False) -> JSON:
    """RawSampleData; `datastreamPayloads` is required by the newest client."""
    payload = payload_json(sample)
    return {
        "sample": sample_json(sample, truncate),
        "payload": payload,
        "totalPayloadLength": sample.values_count,
        "datastreamPayloads": [
            {"index": 0, "payload": payload, "totalPayloadLength": sample.values_count},
        ],
    }


def learn_block_json(block: LearnBlock, impulse: Impulse) -> JSON:
    return {
        "id": block.id,
        "type": block.type,
        "name": block.name,
        "dsp": list(block.dsp),
        "title": block.title,
        "createdBy": "createImpulse",
        "createdAt": impulse.created_at,
        "primaryVersion": True,
    }


def thresholds_json(block: LearnBlock) -> list[JSON]:
    text = "Score threshold" if block.type == "keras" else "Anomaly threshold"
    return [{
        "key": block.threshold_key,
        "description": text,
        "helpText": f"{text}: windows scoring below it are not reported.",
        "suggestedValue": block.threshold,
        "suggestedValueText": str(block.threshold),
        "value": block.threshold,
    }]
