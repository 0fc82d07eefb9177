"""`eicontract drift`: the only part of drift that reads files and URLs.

Exit codes: 0 no breaking drift (or only drift the baseline already knows), 1 breaking drift,
2 drift could not run (a source that cannot be read or is not an OpenAPI document).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from eicontract import contract
from eicontract.drift.compare import Change, compare_documents
from eicontract.drift.model import DocumentError
from eicontract.drift.report import Report, known_keys, render_text
from eicontract.drift.wire import RecordingError, compare_exchanges, load_exchanges

EXIT_OK, EXIT_BREAKING, EXIT_CANNOT_RUN = 0, 1, 2
FETCH_TIMEOUT_S = 30.0


class SourceError(Exception):
    """A source could not be read; the message says which and why."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--against", metavar="FILE_OR_URL",
                   help="another OpenAPI document (JSON or YAML; a path or an http(s) URL), "
                        "e.g. the vendor's newest spec")
    p.add_argument("--recorded", metavar="DIR", help="responses saved by `eicontract run --record DIR`")
    p.add_argument("--json", action="store_true", help="print the JSON report instead of text")
    p.add_argument("--output", metavar="FILE", help="also write the JSON report to FILE")
    p.add_argument("--baseline", metavar="FILE",
                   help="a previous JSON report (or a JSON list of keys): its breaking changes are known "
                        "and do not fail the run")


def fetch(url: str, transport: httpx.BaseTransport | None = None) -> str:
    try:
        with httpx.Client(timeout=FETCH_TIMEOUT_S, follow_redirects=True, transport=transport) as client:
            response = client.get(url, headers={"accept": "application/json, application/yaml;q=0.9, */*;q=0.1"})
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise SourceError(f"cannot fetch {url}: HTTP {response.status_code}")
    return response.text


def parse_document(text: str, origin: str) -> dict[str, Any]:
    """JSON first (fast on a large vendor spec), YAML otherwise."""
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError:
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SourceError(f"{origin} is neither JSON nor YAML: {exc}") from exc
    if not isinstance(loaded, dict) or not isinstance(loaded.get("paths"), dict):
        raise SourceError(f"{origin} is not an OpenAPI document (no `paths` object)")
    return loaded


def load_document(source: str, transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    if source.startswith(("http://", "https://")):
        return parse_document(fetch(source, transport), source)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {source}: {getattr(exc, 'strerror', None) or exc}") from exc
    return parse_document(text, source)


def build_report(args: argparse.Namespace, transport: httpx.BaseTransport | None = None) -> Report:
    ours = contract.bundled_openapi()
    changes: list[Change] = []
    manifest: dict[str, Any] = {}
    try:
        if args.against:
            changes += compare_documents(ours, load_document(args.against, transport))
        if args.recorded:
            manifest, exchanges = load_exchanges(Path(args.recorded))
            changes += compare_exchanges(ours, exchanges)
    except (RecordingError, DocumentError) as exc:
        raise SourceError(str(exc)) from exc
    known = load_baseline(Path(args.baseline)) if args.baseline else frozenset()
    return Report(args.against, args.recorded, changes, known, manifest)


def load_baseline(path: Path) -> frozenset[str]:
    try:
        return known_keys(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise SourceError(f"cannot read the baseline {path}: {exc}") from exc


def main(args: argparse.Namespace, transport: httpx.BaseTransport | None = None) -> int:
    if not args.against and not args.recorded:
        print("eicontract drift: give --against FILE_OR_URL, --recorded DIR, or both", file=sys.stderr)
        return EXIT_CANNOT_RUN
    try:
        report = build_report(args, transport)
        document = json.dumps(report.as_dict(), indent=2) + "\n"
        if args.output:
            Path(args.output).parent.mkdir(parents=True, exist_ok=True)
            Path(args.output).write_text(document, encoding="utf-8")
    except (SourceError, OSError) as exc:
        print(f"eicontract drift: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    sys.stdout.write(document if args.json else render_text(report))
    return EXIT_BREAKING if report.breaking else EXIT_OK
