"""Differential replay (docs/MUTATION.md, "Replay"): a corpus's requests against the clean and a
mutated reference server, in-process (httpx's ASGITransport on a private event loop), responses compared on the
contract's fields (status and JSON body; the text of a non-JSON body).

Pure parts: `differences` (two responses -> the JSON paths where they differ, array indices
folded to []), `free_rows` (the claims map's rows with free_fields), `classify_paths` (paths ->
the free rows that cover them and those none covers). The I/O part replays a corpus in a
subprocess whose PYTHONPATH puts a workspace copy (mutated or not) first:
`python -m eicontract.proof.mutation.replay OUT_DIR CORPUS...` writes OUT_DIR/{k}.jsonl, one answer a
line (`json.dumps(answer, sort_keys=True)`, written as it comes); with `--listings OUT_DIR SPEC` it
reads the whole listings of page requests (the free choices of a page: choices.py). The parent
reads an answer file as an `AnswerFile`: the offsets of its lines in memory, an answer parsed only
when asked for, and its line as written (two equal lines are equal answers: no parse needed).

Jobs run with job_seconds 0 in a replay (no request waits for a clock), and the clean server is
replayed twice: a path that differs between two clean replays is noise (a timestamp, a race),
left out of the comparison and counted as `unstable` in the evidence.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import subprocess
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVarTuple, overload, runtime_checkable

import yaml

from eicontract.proof.mutation.corpus import KEY_PLACEHOLDER, Corpus, read
from eicontract.proof.mutation.corpus import request as corpus_request

CLASSIFY, JOB_STATUS, PAGE = "classifySampleByLearnBlockV2", "getJobStatus", "getClassifyJobResultPage"
OPERATIONS = (("/classify/anomaly-gmm/", CLASSIFY), ("/jobs/", JOB_STATUS), ("/classify/all/result/page", PAGE))
STRUCTURE = "!"  # the suffix of a difference in shape, never in value
MAX_PATHS = 40  # differing paths kept in the evidence (a broken mutant differs everywhere)
REPLAY_TIMEOUT_S = 900.0
# A listing read whole (free choices of a page, choices.py): pages of LISTING_LIMIT (one reply
# for the window corpora's listings), at most MAX_LISTING samples and MAX_LISTING_REPLIES replies.
LISTING_LIMIT = 1000
MAX_LISTING = 2000
MAX_LISTING_REPLIES = 64
SETTLE_STEPS = 64  # event-loop passes after a reply for the server's own tasks to finish
FOLLOW_ATTEMPTS = 5  # a job's request sent again at most this often (jobs run at once in a replay)


def operation(path: str) -> str:
    return next((op for marker, op in OPERATIONS if marker in path), "other")


# --- comparing (pure) --------------------------------------------------------------------------

def differences(a: Any, b: Any, at: str = "body") -> list[str]:
    """Where two JSON values differ: dotted paths, array elements as []. A difference of shape (a
    key only one has, another length, another type) ends in STRUCTURE: no free field covers it."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                out.append(f"{at}.{key}{STRUCTURE}")
            else:
                out += differences(a[key], b[key], f"{at}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [at + STRUCTURE]
        return [p for x, y in zip(a, b, strict=True) for p in differences(x, y, f"{at}[]")]
    if type(a) is not type(b) and not {type(a), type(b)} <= {int, float}:
        return [at + STRUCTURE]
    return [at] if a != b else []


def response_paths(request: Mapping[str, Any], clean: Mapping[str, Any], other: Mapping[str, Any]) -> list[str]:
    """`operationId:path` of every difference between two responses to one request."""
    op = operation(str(request.get("path", "")))
    found = ["status"] if clean.get("status") != other.get("status") else []
    found += differences(clean.get("body"), other.get("body"))
    return [f"{op}:{p}" for p in found]


def compare(requests: Sequence[Mapping[str, Any]], clean: Sequence[Mapping[str, Any]],
            again: Sequence[Mapping[str, Any]], mutant: Sequence[Mapping[str, Any]],
            clock: Sequence[str] = ()) -> tuple[set[str], int]:
    """(the paths where the mutant differs from the clean server, the count of unstable ones: paths
    where two clean replays already differ, or clock values, which say nothing about the mutant)."""
    differing: set[str] = set()
    unstable: set[str] = set()
    for request, c, c2, m in zip(requests, clean, again, mutant, strict=True):
        if c == c2 == m:  # the common case, compared in C: no paths to walk
            continue
        noise = set(response_paths(request, c, c2)) if c != c2 else set()
        unstable |= noise
        found = set(response_paths(request, c, m)) - noise
        ticking = {p for p in found if any(fnmatch.fnmatchcase(p, _glob(q)) for q in clock)}
        unstable |= ticking
        differing |= found - ticking
    return differing, len(unstable)


def claims_rows(claims_file: Path | None) -> list[dict[str, Any]]:
    if claims_file is None:
        from eicontract.contract import contracts_dir

        claims_file = Path(str(contracts_dir())) / "claims.yaml"
    rows: list[dict[str, Any]] = yaml.safe_load(claims_file.read_text(encoding="utf-8"))["claims"]
    return rows


def free_rows(claims_file: Path | None = None) -> dict[str, list[str]]:
    """Claims rows that mark fields free: row id -> its free_fields patterns (`operationId:path`,
    fnmatch, e.g. `classifySampleByLearnBlockV2:body.classifications[].result[].*`). A row with
    `clock: true` is not among them: its fields are read from the clock (clock_patterns)."""
    return {str(r["id"]): [str(p) for p in r["free_fields"]] for r in claims_rows(claims_file)
            if r.get("free_fields") and not r.get("clock")}


def free_choice_rows(claims_file: Path | None = None) -> dict[str, str]:
    """The choices the claims map leaves to the server (`free_choices` of a row, normalised by
    choices.py): choice name -> the row that leaves it free."""
    return {str(name): str(r["id"]) for r in claims_rows(claims_file) for name in r.get("free_choices") or ()}


def clock_patterns(claims_file: Path | None = None) -> list[str]:
    """The free_fields of rows with `clock: true`: values the server reads from its clock (a job's
    times), which may differ between any two replays whatever the code. They are noise, like the
    paths two clean replays disagree on: left out of the comparison and counted as unstable."""
    return [str(p) for r in claims_rows(claims_file) if r.get("clock") for p in r.get("free_fields") or ()]


def matches(path: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, _glob(p)) for p in patterns)


def _glob(pattern: str) -> str:
    """A free_fields pattern as fnmatch reads it: its [] are arrays, not character classes."""
    return pattern.replace("[]", "[[]]")


def classify_paths(paths: Iterable[str], rows: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str]]:
    """(the rows whose free_fields cover some path, the paths no row covers). A status or a shape
    is never free: only values are."""
    used, unmatched = set(), []
    for path in paths:
        covering = [] if path.endswith(STRUCTURE) or path.endswith(":status") else \
            [rid for rid, patterns in rows.items() if any(fnmatch.fnmatchcase(path, _glob(p)) for p in patterns)]
        if covering:
            used.add(covering[0])
        else:
            unmatched.append(path)
    return sorted(used), sorted(unmatched)


def verdict(differing: Sequence[str], rows: Mapping[str, Sequence[str]]) -> tuple[str, list[str], list[str]]:
    """equivalent (nothing differs), contract_free (every path covered by a free row), else gap."""
    if not differing:
        return "equivalent", [], []
    used, unmatched = classify_paths(differing, rows)
    return ("contract_free" if not unmatched else "gap"), used, unmatched


# --- replaying (in the workspace's process) ----------------------------------------------------

def _response(response: Any) -> dict[str, Any]:
    try:
        body: Any = response.json()
    except ValueError:
        body = {"text": response.text[:2000]}
    return {"status": response.status_code, "body": body}


_Ts = TypeVarTuple("_Ts")


def _skipping_loop() -> Any:
    """An event loop whose clock jumps to its next timer when asked (`skip_to_next_timer`): a
    server task that waits on a timer (a job that sleeps before it starts, in any mutant) is done
    while the replay settles, as it would be for a client that waits, in no real time."""
    import asyncio
    import contextvars

    class SkippingLoop(asyncio.SelectorEventLoop):
        def __init__(self) -> None:
            super().__init__()
            self.ahead = 0.0
            self.timers: list[asyncio.TimerHandle] = []  # every timer set (call_later and sleep come here)

        def time(self) -> float:
            return super().time() + self.ahead

        def call_at(self, when: float, callback: Callable[[*_Ts], object], *args: *_Ts,
                    context: contextvars.Context | None = None) -> asyncio.TimerHandle:
            handle = super().call_at(when, callback, *args, context=context)
            self.timers.append(handle)
            return handle

        def skip_to_next_timer(self) -> None:
            now = self.time()
            self.timers = [h for h in self.timers if not h.cancelled() and h.when() > now]  # the rest ran or will
            if self.timers:
                self.ahead += min(h.when() for h in self.timers) - now

    return SkippingLoop()


class LoopClient:
    """A synchronous client of an ASGI app on a private event loop in this thread (httpx's
    ASGITransport): no thread between the replay and the app, so a request costs no thread hops
    and the order in which the server's own tasks run is the same in every replay. After each
    reply the loop runs until the server's tasks (jobs: job_seconds 0) are done or
    SETTLE_STEPS passes have gone by, its clock skipping to the next timer on each pass: "the job
    has finished" before the next request, as it would be for a client that waits, and never a
    race between two replays."""

    def __init__(self, app: Any) -> None:
        import httpx

        self._loop = _skipping_loop()
        # raise_app_exceptions=False: an exception is the 500 a user would get, not a crash of ours
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app, raise_app_exceptions=False),
                                         base_url="http://testserver")

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        async def sent() -> Any:
            response = await self._client.request(method, url, **kwargs)
            await self._settle()
            return response

        return self._loop.run_until_complete(sent())

    @staticmethod
    async def _settle() -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        for _ in range(SETTLE_STEPS):
            if all(t.done() or t is asyncio.current_task() for t in asyncio.all_tasks()):
                return
            loop.skip_to_next_timer()  # type: ignore[attr-defined]
            await asyncio.sleep(0)

    def close(self) -> None:
        import asyncio

        self._loop.run_until_complete(self._client.aclose())
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        self._loop.close()


@contextlib.contextmanager
def _client(corpus: Corpus) -> Iterator[tuple[Any, str]]:
    """A client of a fresh app of the corpus's configuration, and its API key. No lifespan
    reaches the app, as under uvicorn (runner.py: lifespan="off")."""
    from eicontract.server import ServerConfig, build_app

    config = ServerConfig(seed=corpus.setup.seed, samples=corpus.setup.samples, job_seconds=0.0,
                          variants=frozenset(corpus.setup.variants), error_style=corpus.setup.error_style)
    client = LoopClient(build_app(config))
    try:
        yield client, config.api_key
    finally:
        client.close()


def _send(client: Any, key: str, r: Mapping[str, Any]) -> Any:
    headers = {k: v.replace(KEY_PLACEHOLDER, key) for k, v in r["headers"].items()}
    content = r["body"].encode("latin-1") or None
    if r.get("raw"):  # recorded: the target exactly as it was sent
        return client.request(r["method"], "http://testserver" + r["raw"], headers=headers, content=content)
    return client.request(r["method"], r["path"], params=[tuple(q) for q in r["query"]], headers=headers,
                          content=content)


def is_job(answer: Mapping[str, Any]) -> bool:
    """A StartJobResponse: success with an integer job id and no result."""
    body = answer.get("body")
    return (answer.get("status") == 200 and isinstance(body, dict) and body.get("success") is True
            and type(body.get("id")) is int and "classifications" not in body)


def replay(corpus: Corpus) -> list[dict[str, Any]]:
    """Every request of the corpus, in order, against a fresh app of the corpus's configuration;
    then each classify answered with a job is sent again (`followed`: what it yields, for the
    free choice job-or-result) and its job's status read (`followed_status`), after the corpus's
    last request so that no answer of the corpus changes."""
    answers: list[dict[str, Any]] = []
    _replayed(corpus, answers.append)  # the jobs are answers' own dicts, followed in place
    return answers


def replay_to(corpus: Corpus, out: Path) -> None:
    """replay(corpus) written to out, one `json.dumps(answer, sort_keys=True)` line each: every
    answer written as it comes, only the jobs (followed after the corpus) held, and their lines
    put in by a second pass over the file. A corpus's answers are never all in memory."""
    part = out.with_name(out.name + ".part")
    with part.open("w", encoding="utf-8") as sink:
        jobs = _replayed(corpus, lambda answer: sink.write(json.dumps(answer, sort_keys=True) + "\n"))
    with part.open(encoding="utf-8") as first, out.open("w", encoding="utf-8") as final:
        for n, line in enumerate(first):
            final.write(json.dumps(jobs[n], sort_keys=True) + "\n" if n in jobs else line)
    part.unlink()


def _replayed(corpus: Corpus, keep: Callable[[dict[str, Any]], object]) -> dict[int, dict[str, Any]]:
    """Each answer handed to keep as it comes; returns the classify answers that are jobs (by
    index), each with `followed` and `followed_status` added after the corpus's last request."""
    jobs: dict[int, dict[str, Any]] = {}
    with _client(corpus) as (client, key):
        for n, request in enumerate(corpus.requests):
            answer = _response(_send(client, key, request))
            if operation(str(request.get("path", ""))) == CLASSIFY and is_job(answer):
                jobs[n] = answer
            keep(answer)
        for n, answer in jobs.items():
            request = corpus.requests[n]
            answer["followed"] = _call_again(client, key, request)
            status = corpus_request("GET", f"{request['path'].split('/classify/')[0]}/jobs/{answer['body']['id']}"
                                           f"/status", headers=request["headers"])
            answer["followed_status"] = _response(_send(client, key, status))
    return jobs


def _call_again(client: Any, key: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """The answer to a job's request sent again: a job still running (or failed, and started again),
    or a 429, is asked again, at most FOLLOW_ATTEMPTS times."""
    answer: dict[str, Any] = {}
    for _ in range(FOLLOW_ATTEMPTS):
        answer = _response(_send(client, key, request))
        if answer["status"] != 429 and not is_job(answer):
            break
    return answer


def read_listing(client: Any, key: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """A page request's whole listing (its query without limit and offset), page by page until an
    empty page: {complete, result, predictions}. A page refused (limit-max-10, window-cap: legal
    servers refuse large limits or pages past a result window) is asked again at half the limit.
    Bounded: past MAX_LISTING samples or MAX_LISTING_REPLIES replies it is cut (incomplete, `cut`,
    the samples read so far kept: its beginning still decides a prefix); incomplete and empty at
    a page refused at limit 1, or a reply that is not a page (a 429 is asked again)."""
    result: list[Any] = []
    predictions: list[Any] = []
    limit = LISTING_LIMIT
    for _ in range(MAX_LISTING_REPLIES):
        query = [*request["query"], ["limit", str(limit)], ["offset", str(len(result))]]
        answer = _response(_send(client, key, {**request, "query": query}))
        if answer["status"] == 429:
            continue  # throttle-429: the same page again (Retry-After 0)
        body = answer["body"]
        if 400 <= answer["status"] < 500 and limit > 1:
            limit //= 2
            continue
        if answer["status"] != 200 or not isinstance(body, dict) or not isinstance(body.get("result"), list):
            break
        if not body["result"]:
            return {"complete": True, "result": result, "predictions": predictions}
        result += body["result"]
        predictions += body.get("predictions") or []
        if len(result) > MAX_LISTING:
            break
    if result:
        return {"complete": False, "cut": True, "result": result, "predictions": predictions}
    return {"complete": False, "result": [], "predictions": []}


def listings(corpus: Corpus, requests: Sequence[Mapping[str, Any]], ids_only: bool = False) -> list[dict[str, Any]]:
    """The whole listing of each request, in order, in one fresh app of the corpus's configuration;
    ids_only: each result reduced to its sampleId, no predictions (all a listing order needs)."""
    return list(each_listing(corpus, requests, ids_only))


def each_listing(corpus: Corpus, requests: Sequence[Mapping[str, Any]], ids_only: bool = False
                 ) -> Iterator[dict[str, Any]]:
    """listings(), one at a time (each reduced as soon as it is read): never all in memory."""
    with _client(corpus) as (client, key):
        for request in requests:
            found = read_listing(client, key, request)
            yield _ids_only(found) if ids_only else found


def _ids_only(found: Mapping[str, Any]) -> dict[str, Any]:
    return {"complete": found["complete"], "predictions": [], **({"cut": True} if found.get("cut") else {}),
            "result": [{"sampleId": i.get("sampleId") if isinstance(i, dict) else None} for i in found["result"]]}


def _run(root: Path, args: Sequence[str], timeout_s: float) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EI_", "PYTEST_", "COV_"))}
    env.update(PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1", PYTHONWARNINGS="ignore")
    done = subprocess.run([sys.executable, "-m", "eicontract.proof.mutation.replay", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"replay failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]}")


def replay_in(root: Path, corpus_files: Sequence[Path], out_dir: Path, timeout_s: float = REPLAY_TIMEOUT_S
              ) -> list[Path]:
    """Replay every corpus in one subprocess that imports the package copy under root (mutated
    or not): one interpreter start per mutant, whatever the number of corpora. Returns the answer
    files (out_dir/{k}.jsonl, earlier ones removed first): read each as an AnswerFile."""
    return [path for path in replay_files(root, corpus_files, out_dir, timeout_s=timeout_s) if path is not None]


def replay_files(root: Path, corpus_files: Sequence[Path], out_dir: Path, tolerate: bool = False,
                 timeout_s: float = REPLAY_TIMEOUT_S) -> list[Path | None]:
    """As replay_in. tolerate: a corpus whose server does not start (a configuration the server
    refuses) is None, not a failed replay."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in [*out_dir.glob("*.jsonl"), *out_dir.glob("*.failed")]:
        old.unlink()
    _run(root, [*(["--tolerate"] if tolerate else []), str(out_dir), *map(str, corpus_files)], timeout_s)
    return [None if (out_dir / f"{k}.failed").is_file() else out_dir / f"{k}.jsonl" for k in range(len(corpus_files))]


@runtime_checkable
class Serialised(Protocol):
    """Answers that also give each one's serialisation (an AnswerFile): equal lines, equal answers."""

    def line(self, k: int) -> bytes: ...


class AnswerFile(Sequence[dict[str, Any]]):
    """The answers of one replayed corpus (a file of replay_in) without reading them: the offsets
    of its lines are held, `line(k)` reads answer k as written, `[k]` parses it (each time: keep
    what you need). `parses` counts them. A context manager: the file stays open until closed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parses = 0
        self._file = path.open("rb")
        starts = array("q", [0])
        for line in self._file:  # one line in memory at a time
            starts.append(starts[-1] + len(line))
        self._starts = starts

    def line(self, k: int) -> bytes:
        n = k + len(self) if k < 0 else k
        if not 0 <= n < len(self):
            raise IndexError(k)
        return os.pread(self._file.fileno(), self._starts[n + 1] - self._starts[n], self._starts[n])

    @overload
    def __getitem__(self, k: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, k: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, k: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(k, slice):
            return [self[n] for n in range(len(self))[k]]
        self.parses += 1
        answer: dict[str, Any] = json.loads(self.line(k))
        return answer

    def __len__(self) -> int:
        return len(self._starts) - 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> AnswerFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def listings_in(root: Path, jobs: Sequence[tuple[Path, Sequence[Mapping[str, Any]]]], out_dir: Path,
                ids_only: bool = False, timeout_s: float = REPLAY_TIMEOUT_S) -> list[Path]:
    """For each (corpus, listing requests): a file of their listings, one JSON line each in the
    requests' order, read in one subprocess that imports the package copy under root (as
    replay_in); read them a line at a time (`listing_lines`) or as an AnswerFile."""
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = out_dir / "listings.json"
    spec.write_text(json.dumps({"ids_only": ids_only, "jobs": [{"corpus": str(c), "requests": list(r)}
                                                               for c, r in jobs]}), encoding="utf-8")
    _run(root, ["--listings", str(out_dir), str(spec)], timeout_s)
    return [out_dir / f"listings-{k}.jsonl" for k in range(len(jobs))]


def listing_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The listings of a listings_in file, one parsed at a time."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            found: dict[str, Any] = json.loads(line)
            yield found


def _main(argv: Sequence[str]) -> int:
    if argv[:1] == ["--listings"]:
        out_dir, spec = Path(argv[1]), json.loads(Path(argv[2]).read_text(encoding="utf-8"))
        for k, job in enumerate(spec["jobs"]):
            with (out_dir / f"listings-{k}.jsonl").open("w", encoding="utf-8") as out:
                for found in each_listing(read(Path(job["corpus"])), job["requests"], spec["ids_only"]):
                    out.write(json.dumps(found) + "\n")
        return 0
    tolerate = argv[:1] == ["--tolerate"]
    argv = argv[1:] if tolerate else argv
    out_dir, corpus_files = Path(argv[0]), [Path(a) for a in argv[1:]]
    for k, corpus_file in enumerate(corpus_files):
        try:
            replay_to(read(corpus_file), out_dir / f"{k}.jsonl")
        except Exception as exc:  # a configuration that does not start, noted as such
            if not tolerate:
                raise
            (out_dir / f"{k}.jsonl").unlink(missing_ok=True)
            (out_dir / f"{k}.failed").write_text(f"{type(exc).__name__}: {exc}"[:2000], encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
