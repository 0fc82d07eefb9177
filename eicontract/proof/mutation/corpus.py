"""The replay corpora: the requests a differential replay sends (docs/MUTATION.md, "Replay").

Two kinds, one file format (JSON lines: a header, then one request a line):
- gate: the requests the quick (or thorough) gate sends, recorded at the embedded server by an
  ASGI middleware that wraps the app this module builds (the server's code is not touched):
  `python -m eicontract.proof.mutation.corpus record OUT [run flags]`;
- window: every operation, with every model variant and both truncate settings, over every
  sample id of a window of the listing and the ids at its ends, for every learn block (made
  here, no gate run; the 100k-samples corpus is this one with --samples 100000).

The API key is stored as "$KEY": the replay puts the configuration's key back. A corpus names
the server configuration it was recorded on; it is replayed on that configuration.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

KEY_PLACEHOLDER = "$KEY"
KEPT_HEADERS = ("x-api-key", "accept-encoding", "content-type", "accept")
MODEL_VARIANTS = ("int8", "float32", "akida")
MAX_BODY = 65536  # a request body longer than this is cut (the three operations send none)
API = "/v1/api/{project}"
LISTING_PAGE = 100


@dataclass(frozen=True, slots=True)
class ServerSetup:
    """The reference server configuration a corpus was recorded on (eicontract.server.ServerConfig)."""

    seed: int = 1
    samples: int = 300
    variants: tuple[str, ...] = ()
    error_style: str = "http"


@dataclass(slots=True)
class Corpus:
    name: str
    setup: ServerSetup
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        """Names the corpus by its content: two corpora with one id hold the same requests."""
        blob = json.dumps([asdict(self.setup), self.requests], sort_keys=True).encode()
        return f"{self.name}@{hashlib.sha256(blob).hexdigest()[:12]}"


def write(corpus: Corpus, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"corpus": corpus.name, "setup": asdict(corpus.setup)}) + "\n")
        for request in corpus.requests:
            out.write(json.dumps(request, sort_keys=True) + "\n")


def read(path: Path) -> Corpus:
    lines = path.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0])
    setup = head["setup"]
    return Corpus(head["corpus"], ServerSetup(setup["seed"], setup["samples"], tuple(setup["variants"]),
                                              setup["error_style"]),
                  [json.loads(line) for line in lines[1:] if line.strip()])


def request(method: str, path: str, query: Sequence[tuple[str, str]] = (), key: str = KEY_PLACEHOLDER,
            headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {"method": method, "path": path, "query": [list(q) for q in query],
            "headers": {"x-api-key": key, **(headers or {})}, "body": ""}


# --- the window corpus (no gate run) -----------------------------------------------------------

def window_requests(ids: Sequence[int], blocks: Sequence[int], window: int, project: int = 1) -> list[dict[str, Any]]:
    """Every operation over every id of the listing's first and last window (so its ends too):
    classify per (block, model variant, truncate), twice (a job's answer the first time, the
    result the second: replays run jobs at once), the listing's first, last, partial last and
    past-the-end pages per (variant, truncate), and one page without a limit. Bounded: 2 x 2
    windows x blocks x 6 classifies, 25 pages."""
    root = API.format(project=project)
    picked = list(dict.fromkeys([*ids[:window], *ids[-window:]]))
    out = []
    for variant in MODEL_VARIANTS:
        for truncate in ("false", "true"):
            options = [("variant", variant), ("truncateStructuredLabels", truncate)]
            for block in blocks:
                calls = [request("POST", f"{root}/classify/anomaly-gmm/v2/{block}/{sample}", options)
                         for sample in picked]
                out += calls + calls
            out += [request("GET", f"{root}/classify/all/result/page", [*options, ("limit", str(window)),
                                                                         ("offset", str(offset))])
                    for offset in _page_offsets(len(ids), window)]
    # the page without a limit (nor any option): the server's default page, which only a page
    # that sends no limit shows (a default limit changed is otherwise never replayed)
    return [*out, request("GET", f"{root}/classify/all/result/page")]


def _page_offsets(count: int, window: int) -> list[int]:
    """The first page, the last full one, a last page one short (a partial page: its slice is cut
    by the end) and a page at the end (past it: empty)."""
    return sorted({0, max(0, count - window), max(0, count - window + 1), count})


def window_corpus(setup: ServerSetup, window: int) -> Corpus:
    """The window corpus of a configuration: the ids in the listing's order, read from its listing."""
    from eicontract.proof.mutation.replay import LoopClient  # (replay imports this module)
    from eicontract.server import ServerConfig, build_app

    config = ServerConfig(seed=setup.seed, samples=setup.samples, variants=frozenset(setup.variants),
                          error_style=setup.error_style)
    app = build_app(config)
    blocks = [b.id for b in app.state.ctx.dataset.impulse.learn_blocks]
    ids: list[int] = []
    client = LoopClient(app)
    try:
        for offset in range(0, setup.samples + 1, LISTING_PAGE):  # bounded: the listing holds at most `samples`
            page = client.request("GET", f"{API.format(project=1)}/classify/all/result/page",
                                  params={"limit": LISTING_PAGE, "offset": offset},
                                  headers={"x-api-key": config.api_key}).json()
            ids += [r["sampleId"] for r in page.get("result", [])]
            if len(page.get("result", [])) < LISTING_PAGE:
                break
    finally:
        client.close()
    name = f"window-s{setup.seed}-n{setup.samples}-w{window}" + "".join(f"-{v}" for v in setup.variants) + \
        ("-body" if setup.error_style == "body" else "")
    return Corpus(name, setup, window_requests(ids, blocks, window))


# --- the gate corpus: recorded at the server ---------------------------------------------------

class RecordingMiddleware:
    """ASGI: keeps each request (method, path, query, a few headers, body) in arrival order."""

    def __init__(self, app: Any, sink: list[dict[str, Any]], key: str) -> None:
        self.app, self.sink, self.key = app, sink, key
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)  # the runner reads the app's state through the wrapper

    def _headers(self, scope: Mapping[str, Any]) -> dict[str, str]:
        kept = {}
        for name, value in scope.get("headers", []):
            text = name.decode("latin-1").lower()
            if text in KEPT_HEADERS:
                kept[text] = value.decode("latin-1").replace(self.key, KEY_PLACEHOLDER)

        return kept

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # the raw target as sent (percent-encoded): a fuzzer's path may not survive decoding
        raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        entry = {"method": scope["method"], "path": scope["path"], "raw": raw + (f"?{query}" if query else ""),
                 "query": [list(q) for q in parse_qsl(query, keep_blank_values=True)],
                 "headers": self._headers(scope), "body": ""}
        body = bytearray()

        async def keep(message: Any = None) -> Any:
            message = await receive()
            if message.get("type") == "http.request" and len(body) < MAX_BODY:
                body.extend(message.get("body", b"")[:MAX_BODY - len(body)])
            return message

        with self.lock:
            self.sink.append(entry)
        try:
            await self.app(scope, keep, send)
        finally:
            entry["body"] = body.decode("latin-1")


def record_gate(out: Path, name: str, run_flags: Sequence[str]) -> int:
    """`eicontract run` (embedded server) with the recording middleware around the server's app."""
    from eicontract import cli
    from eicontract.server import runner

    sink: list[dict[str, Any]] = []
    configs: list[Any] = []
    original = runner.build_app

    def recording_app(config: Any) -> Any:
        configs.append(config)
        return RecordingMiddleware(original(config), sink, config.api_key)

    runner.build_app = recording_app  # this process only
    try:
        code = cli.main(["run", *run_flags])
    finally:
        runner.build_app = original
    if not configs:
        print("eicontract mutation corpus: the run started no embedded server: nothing recorded", file=sys.stderr)
        return 2
    config = configs[0]
    setup = ServerSetup(config.seed, config.samples, tuple(sorted(config.variants)), config.error_style)
    write(Corpus(name, setup, sink), out)
    print(f"recorded {len(sink)} requests of the gate (exit {code}) in {out}")
    return 0 if code in (0, 1) else 2


DEFAULT_WINDOW = 5
SEEDS = (1, 2, 3)


def default_setups(seeds: Sequence[int] = SEEDS, samples: int = 300) -> list[ServerSetup]:
    """Every configuration the gate is proven on (clean, every legal variant, the body error
    style) at the first seed, and the clean one at the other seeds."""
    from eicontract.server import LEGAL_VARIANTS

    first = seeds[0]
    return [ServerSetup(first, samples), *(ServerSetup(first, samples, (name,)) for name in LEGAL_VARIANTS),
            ServerSetup(first, samples, error_style="body"), *(ServerSetup(s, samples) for s in seeds[1:])]


def build_defaults(folder: Path, window: int = DEFAULT_WINDOW, seeds: Sequence[int] = SEEDS, samples: int = 300,
                   gate: bool = False) -> list[Path]:
    """The window corpus of every default setup; with gate, also the quick gate's requests at each
    seed and the thorough gate's at the first (minutes each)."""
    written = []
    for setup in default_setups(seeds, samples):
        corpus = window_corpus(setup, window)
        path = folder / f"{corpus.name}.jsonl"
        write(corpus, path)
        written.append(path)
    if gate:
        runs = [(f"gate-quick-s{s}", ["--seed", str(s)]) for s in seeds] + \
            [(f"gate-thorough-s{seeds[0]}", ["--seed", str(seeds[0]), "--profile", "thorough"])]
        for name, flags in runs:
            if record_gate(folder / f"{name}.jsonl", name, [*flags, "--no-shrink", "--server-samples", str(samples),
                                                            "--report-dir", str(folder / "reports")]) == 0:
                written.append(folder / f"{name}.jsonl")
    return written


def _main(argv: Iterable[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eicontract.proof.mutation.corpus")
    sub = p.add_subparsers(dest="kind", required=True)
    rec = sub.add_parser("record", help="the requests of a gate run: record OUT NAME -- [run flags]")
    rec.add_argument("out", type=Path)
    rec.add_argument("name")
    rec.add_argument("flags", nargs=argparse.REMAINDER)
    win = sub.add_parser("window", help="every operation over every id of a window")
    win.add_argument("out", type=Path)
    win.add_argument("--seed", type=int, default=1)
    win.add_argument("--samples", type=int, default=300)
    win.add_argument("--window", type=int, default=20)
    win.add_argument("--variant", action="append", default=[])
    every = sub.add_parser("defaults", help="the window corpus of every configuration (and, with --gate, "
                                            "the gate's requests) into a folder")
    every.add_argument("folder", type=Path)
    every.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    every.add_argument("--samples", type=int, default=300, help="samples in project 1 (100000: the big corpus)")
    every.add_argument("--seed", type=int, action="append", default=[], help=f"seeds (default {SEEDS})")
    every.add_argument("--gate", action="store_true", help="also record the gate's requests (minutes per run)")
    args = p.parse_args(list(argv) if argv is not None else None)
    if args.kind == "defaults":
        paths = build_defaults(args.folder, args.window, tuple(args.seed) or SEEDS, args.samples, args.gate)
        print(f"{len(paths)} corpora in {args.folder}")
        return 0
    if args.kind == "record":
        return record_gate(args.out, args.name, [f for f in args.flags if f != "--"])
    corpus = window_corpus(ServerSetup(args.seed, args.samples, tuple(args.variant)), args.window)
    write(corpus, args.out)
    print(f"{corpus.id}: {len(corpus.requests)} requests in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
