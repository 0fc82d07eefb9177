"""NO-5XX, the 5xx hunt: every operation, with every model variant and both truncate settings,
over every sample id of a window of the listing and the ids at the listing's ends, for every
learn block. Any 5xx is a violation, wherever it appears (oracles/server_errors.py).

Bounded by the profile: the window holds at most HUNT_IDS[profile] ids (plus the ends), so the
hunt costs ids x blocks x 6 classify flows and 6 pages. Every classify is sent once first (a
job starts), then followed to its result (classify, job status, classify again): the jobs of a
pass run side by side, so the waiting is one job's, not one per combination.
"""

from __future__ import annotations

import pytest

from eicontract.drive.jobflow import classify_until_result
from eicontract.oracles.options import VARIANTS
from eicontract.oracles.paging import page_ids
from eicontract.oracles.server_errors import check_answers
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import expect_no_violations

HUNT_IDS = {"quick": 6, "thorough": 40}  # ids of the window hunted, per profile
TRUNCATE = (False, True)


def hunted_ids(dataset: Dataset, bound: int) -> list[int]:
    """The ids of the smallest non-empty id window (at most `bound`), and the listing's ends: its
    first and last listed ids and its lowest and highest ids seen."""
    windows = sorted((w for w in dataset.windows if w.ids), key=lambda w: len(w.ids))
    picked = list(windows[0].ids[:bound]) if windows else []
    ends = []
    if dataset.regions and dataset.regions[0].ids:
        ends.append(dataset.regions[0].ids[0])
    last = [i for probe in dataset.end.probes for i in page_ids(probe.body)]
    ends += last[-1:]
    seen = [s["id"] for s in dataset.samples if isinstance(s, dict) and isinstance(s.get("id"), int)]
    if seen:
        ends += [min(seen), max(seen)]
    return list(dict.fromkeys([*picked, *ends]))


@pytest.mark.clause("NO-5XX")
def test_no_operation_answers_a_5xx(target: Target, dataset: Dataset) -> None:
    ids = hunted_ids(dataset, HUNT_IDS.get(target.settings.profile.name, HUNT_IDS["quick"]))
    if not ids:
        pytest.skip("discovery read no sample ids to hunt on")
    project, client = target.settings.project_id, target.client
    combos = [(block, sample, variant, truncate) for block in sorted(dataset.blocks) for sample in ids
              for variant in VARIANTS for truncate in TRUNCATE]
    answers: list[tuple[str, int | None]] = []
    for block, sample, variant, truncate in combos:  # first pass: every job starts
        sent = client.classify(project, block, sample, variant=variant, truncate=truncate)
        answers.append((f"classify block {block} sample {sample} variant={variant} truncate={truncate}",
                        sent.status))
    for block, sample, variant, truncate in combos:  # second pass: every result, through its job
        flow = classify_until_result(client, project, block, sample, variant=variant, truncate=truncate,
                                     history=target.job_history, deadline=target.settings.job_deadline)
        name = f"block {block} sample {sample} variant={variant} truncate={truncate}"
        answers += [(f"classify {name}", e.status) for e in [flow.first, *flow.after_finish]]
        answers += [(f"job status {flow.job_id} ({name})", e.status) for e in flow.statuses]
    window = {"minId": str(min(ids)), "maxId": str(max(ids) + 1), "limit": str(len(ids) + 1)}
    for variant in VARIANTS:
        for truncate in TRUNCATE:
            query = {**window, "variant": variant, "truncateStructuredLabels": str(truncate).lower()}
            answers.append((f"page {query}", client.page(project, query).status))
    expect_no_violations(check_answers(answers))
