"""Two checkouts' reference servers, answer for answer: a refactoring of the server keeps
every fault's and legal variant's behaviour exactly when this prints no difference.

    python scripts/server_differential.py BEFORE_ROOT AFTER_ROOT

For the clean server and for each accepted fault and legal variant alone (results-
nondeterministic aside: unseeded on purpose), each checkout's `build_app` (in a child process,
that checkout first on sys.path) answers the same fixed requests in process
(httpx.ASGITransport: no socket): pages with every filter and malformed ones, classify with
each model variant, jobs and their status, auth and routing failures. Timestamps
(created/started/finished, computeTime) are masked; everything else, status, headers and body
bytes, must be equal. Exit 0: equal; 1: a difference (the first few printed); 2: a child failed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PAGE = "/v1/api/1/classify/all/result/page"
PAGES = [
    "", "?limit=7&offset=3", "?limit=0", "?limit=-1", "?offset=-2", "?limit=3&offset=100000",
    "?limit=5&offset=5001", '?labels=["idle"]&limit=20', '?labels=["idle","wave"]&minLength=2000&limit=20',
    '?labels=["Idl"]&limit=20', "?labels=[]", "?filename=SAMPLE&limit=20",
    "?minLength=1000&maxLength=5000&limit=50", "?minFrequency=62.5&maxFrequency=100&limit=30",
    "?signatureValidity=valid&limit=10", "?minLabel=1&maxLabel=3&limit=20", "?search=1 2&limit=20",
    "?search=sample%201&limit=9", "?dataType=audio&limit=5", "?dataType=hologram&limit=5",
    "?minId=10&maxId=40&limit=50", "?maxId=12&limit=50",
    '?metadata=[{"key":"site","op":"eq","values":["buildingB","buildingC"]}]&limit=30',
    '?metadata=[{"key":"site","op":"neq","values":["buildingB"]},{"no_metadata":true}]&limit=30',
    '?metadata=[{"key":"site","op":"eq"},{"key":"device","op":"neq"},{"filters_combinator":"and"}]&limit=30',
    '?metadata=[{"key":"site","op":"eq","values":["buildingB"]},{"key":"operator","op":"eq","values":["bob"]},'
    '{"filters_combinator":"or"}]&limit=30',
    '?metadata=[{"key":"site","op":"eq","values":"buildingB"}]', "?metadata=nope", '?metadata={"a":1}',
    '?metadata=[{"key":"site","op":"neq","values":["x"]},{"no_metadata":true},{"filters_combinator":"and"}]&limit=30',
    "?minDate=2016-12-31T23:59:60Z&limit=10", "?minDate=2020-01-01T00:00:00Z&maxDate=2030-01-01T00:00:00Z&limit=10",
    "?maxDate=2024-06-01T00:00:00.000Z&limit=10", "?limit=3&truncateStructuredLabels=true",
    "?limit=3&variant=int8", "?limit=3&variant=akida", "?limit=99999999999", "?limit=2147483648",
    "?minId=9223372036854775808", "?impulseId=99", "?category=training&limit=4",
    '?limit=10&labels=["idle"]&minLength=1500&maxId=200',
]
CLASSIFY_QUERIES = ["", "?variant=int8", "?truncateStructuredLabels=true&variant=akida", "?variant=bogus"]
MASKED = re.compile(rb'"(created|started|finished)":"[^"]*"|"computeTime":[0-9.e-]+')
SKIPPED = {"results-nondeterministic"}
DEEP_SAMPLES = 6_000  # the deep faults act past offset 5,000


async def _answers(app: Any, key: str) -> list[Any]:
    import httpx

    out: list[Any] = []
    headers = {"x-api-key": key}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1") as client:
        async def call(method: str, url: str, given: dict[str, str] = headers) -> Any:
            reply = await client.request(method, url, headers=given)
            shown = {k: v for k, v in reply.headers.items() if k != "content-length"}
            out.append([method, url, reply.status_code, shown,
                        MASKED.sub(b"T", reply.content).decode("latin-1")])
            return reply

        for query in PAGES:
            await call("GET", PAGE + query)
        await call("GET", PAGE + "?limit=2", {})
        await call("GET", PAGE + "?limit=2", {"x-api-key": "wrong-key"})
        await call("DELETE", PAGE)
        await call("GET", "/v1/nothing")
        data = app.state.ctx.dataset
        ids, blocks = data.ids, [b.id for b in data.impulse.learn_blocks][:2]
        for sample in (ids[0], ids[1], ids[5], ids[-1], ids[len(ids) // 2], 99_999_999):
            for query in CLASSIFY_QUERIES:
                for block in blocks:
                    url = f"/v1/api/1/classify/anomaly-gmm/v2/{block}/{sample}{query}"
                    reply = await call("POST", url)
                    if reply.status_code == 200 and b'"classifications"' not in reply.content \
                            and b'"id"' in reply.content:
                        job = reply.json()["id"]
                        await call("POST", url)  # its job still running
                        for _ in range(20):  # job_seconds=0: a few loop turns end it
                            await asyncio.sleep(0.001)
                        await call("GET", f"/v1/api/1/jobs/{job}/status")
                        await call("GET", f"/v1/api/2/jobs/{job}/status")
                        await call("POST", url)
        await call("GET", "/v1/api/1/jobs/123456/status")
        await call("POST", "/v1/api/2/classify/anomaly-gmm/v2/1/1")
    return out


def child(out_path: str) -> int:
    """In the checkout's own interpreter path: every configuration's answers, as JSON."""
    import logging

    from eicontract.server import ServerConfig, build_app
    from eicontract.server.config import DEFAULT_API_KEY
    from eicontract.server.faults import ACCEPTED_FAULTS, DEEP_FAULTS
    from eicontract.server.variants import ACCEPTED_VARIANTS

    logging.disable(logging.CRITICAL)  # the 500 faults log their tracebacks
    deep = {f.name for f in DEEP_FAULTS}
    result: dict[str, Any] = {}
    for name in ["", *sorted(ACCEPTED_FAULTS), *sorted(ACCEPTED_VARIANTS)]:
        if name in SKIPPED:
            continue
        chosen = frozenset({name} if name else ())
        config = ServerConfig(samples=DEEP_SAMPLES if name in deep else 300, seed=3, job_seconds=0,
                              faults=chosen if name in ACCEPTED_FAULTS else frozenset(),
                              variants=chosen if name in ACCEPTED_VARIANTS else frozenset())
        result[name] = asyncio.run(_answers(build_app(config), DEFAULT_API_KEY))
    Path(out_path).write_text(json.dumps(result))
    return 0


def _run(root: Path, out: Path) -> None:
    code = (f"import sys; sys.path.insert(0, {str(root)!r}); sys.path.insert(1, {str(Path(__file__).parent)!r}); "
            f"import server_differential as d; sys.exit(d.child({str(out)!r}))")
    # one hash seed for both children: Starlette lists a 405's Allow methods in set order
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=1800, cwd=root, env=env)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: server_differential.py BEFORE_ROOT AFTER_ROOT", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        outs = [Path(tmp) / "before.json", Path(tmp) / "after.json"]
        try:
            for root, out in zip(argv, outs, strict=True):
                _run(Path(root).resolve(), out)
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"server_differential: a child failed: {exc}", file=sys.stderr)
            return 2
        before, after = (json.loads(p.read_text()) for p in outs)
    differences: list[tuple[Any, ...]] = [(name, a[:3], b[:3]) for name in sorted(set(before) | set(after))
                   for a, b in zip(before.get(name, []), after.get(name, []), strict=False) if a != b]
    differences += [(name, "answers", len(before.get(name, [])), len(after.get(name, [])))
                    for name in set(before) | set(after)
                    if len(before.get(name, [])) != len(after.get(name, []))]
    answers = sum(len(v) for v in before.values())
    for row in differences[:10]:
        print("differs:", *row)
    print(f"{len(before)} configurations, {answers} answers, {len(differences)} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
