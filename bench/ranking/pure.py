"""Benchmark of the pure judging functions at contest scale (not part of the test run).

    python bench/ranking/pure.py

7,000 entries x 3 reviewers x 6 criteria from 40 reviewers (with per-reviewer harshness, so
z-score normalisation has work to do) for ``compute_ranking`` including the leave-one-reviewer-out
borderline analysis, and for ``compute_ranking_arrays`` (numpy) on the same sheets; 7,000 entries
x 3 per entry over 60 reviewers for ``plan_assignments``.
Prints the best of 5 runs of each.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from judging.domain.planner import EntryRef, ReviewerRef, plan_assignments  # noqa: E402
from judging.domain.ranking import Criterion, Review, Rules, compute_ranking  # noqa: E402
from judging.domain.ranking_arrays import compute_ranking_arrays, sheet_arrays  # noqa: E402

ENTRIES = 7_000
PER_ENTRY = 3
RANKING_REVIEWERS = 40
ASSIGNMENT_REVIEWERS = 60
RUNS = 5
CRITERIA = (
    Criterion("impact", 30, 0, 10),
    Criterion("citizens", 20, 0, 10),
    Criterion("innovation", 15, 0, 10),
    Criterion("operation", 15, 0, 10),
    Criterion("sustainability", 10, 0, 10),
    Criterion("replicability", 10, 0, 10),
)


def best_of(runs: int, fn):
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def committee(rng: random.Random, n_reviewers: int) -> tuple[list[EntryRef], list[ReviewerRef]]:
    provinces = [f"{p:02d}" for p in range(10, 97)][:77]
    entries = [EntryRef(e, f"LAO{e:05d}", rng.choice(provinces)) for e in range(1, ENTRIES + 1)]
    reviewers = [
        ReviewerRef(
            r,
            rng.choice(provinces),
            frozenset(f"LAO{rng.randrange(1, ENTRIES + 1):05d}" for _ in range(5)),
        )
        for r in range(1, n_reviewers + 1)
    ]
    return entries, reviewers


def synthetic_reviews(rng: random.Random) -> list[Review]:
    entries, reviewers = committee(rng, RANKING_REVIEWERS)
    plan = plan_assignments(entries, reviewers, PER_ENTRY, seed=1)
    quality = {e.entry_id: rng.gauss(5.5, 1.5) for e in entries}
    harshness = {r.reviewer_id: rng.gauss(0, 1.0) for r in reviewers}
    reviews = []
    for entry_id, reviewer_id in plan.new:
        base = quality[entry_id] - harshness[reviewer_id]
        scores = {c.code: min(10.0, max(0.0, round(2 * (base + rng.gauss(0, 1.2))) / 2)) for c in CRITERIA}
        reviews.append(Review(entry_id, reviewer_id, scores))
    return reviews


def main() -> None:
    rng = random.Random(2569)
    reviews = synthetic_reviews(rng)
    print(
        f"ranking: {len({r.entry_id for r in reviews}):,} entries, {len(reviews):,} reviews,"
        f" {len(CRITERIA)} criteria, {len({r.reviewer_id for r in reviews})} reviewers"
        f" ({len(reviews) * len(CRITERIA):,} scores); best of {RUNS}"
    )
    codes = tuple(c.code for c in CRITERIA)
    columns = sheet_arrays(reviews, codes)
    assert columns is not None
    for normalisation in ("zscore", "none"):
        rules = Rules(CRITERIA, normalisation, codes[:2], 40)
        plain, _ = best_of(RUNS, lambda rules=rules: compute_ranking(reviews, rules, with_borderline=False))
        full, result = best_of(RUNS, lambda rules=rules: compute_ranking(reviews, rules))
        borderline = sum(r.borderline for r in result)
        tied = sum(r.tied for r in result)
        print(
            f"  compute_ranking {normalisation:>6}: {full * 1000:6.1f} ms with borderline"
            f" ({plain * 1000:6.1f} ms without); {borderline} borderline, {tied} tied"
        )
        started = time.process_time()
        fast, same = best_of(RUNS, lambda rules=rules: compute_ranking_arrays(*columns, rules))
        cpu = (time.process_time() - started) / RUNS
        fast_plain, _ = best_of(RUNS, lambda rules=rules: compute_ranking_arrays(*columns, rules,
                                                                                with_borderline=False))
        print(
            f"  compute_ranking_arrays {normalisation:>6}: {fast * 1000:6.1f} ms with borderline"
            f" (CPU {cpu * 1000:6.1f} ms a run; {fast_plain * 1000:6.1f} ms without);"
            f" {'the same' if same == result else 'DIFFERENT'} result"
        )

    entries, reviewers = committee(random.Random(7), ASSIGNMENT_REVIEWERS)
    print(
        f"assignment: {len(entries):,} entries x {PER_ENTRY} over {len(reviewers)} reviewers"
        f" (5 declared conflicts each); best of {RUNS}"
    )
    for exclude in (False, True):
        elapsed, plan = best_of(
            RUNS,
            lambda exclude=exclude: plan_assignments(entries, reviewers, PER_ENTRY, seed=1,
                                                    exclude_same_province=exclude),
        )
        loads = plan.loads.values()
        print(
            f"  plan_assignments exclude_same_province={exclude!s:>5}: {elapsed * 1000:6.1f} ms;"
            f" {len(plan.new):,} assignments, loads {min(loads)}..{max(loads)}, {len(plan.problems)} problems"
        )


if __name__ == "__main__":
    main()
