"""The assignment planner: balanced, conflict-free assignment of reviewers to entries — a pure
function, no I/O.

:func:`plan_assignments` gives each entry ``per_entry`` distinct reviewers and spreads the work as
evenly as the conflicts allow. The planner only computes: ``judging.domain.assignments`` reads the
round, its committee and conflicts from the database, asks the planner, and stores the plan's
``new`` pairs.

Rules
-----

* A reviewer is never assigned an entry they are conflicted with: a declared conflict of interest
  with the entry's organisation (``ReviewerRef.conflicts``), the same province when
  ``exclude_same_province`` is set (only when both provinces are known), or an earlier recusal from
  that entry — a recused pair is never assigned again.
* Existing assignments that are ``assigned`` or ``submitted`` are never moved or removed; they count
  towards the entry's ``per_entry`` and towards the reviewer's load. A re-run only fills gaps (an
  entry that already has ``per_entry`` or more live reviewers gets nothing new).
* Balance: the final loads (existing live + new) minimise the sum of squared loads over the
  committee, which for this problem also minimises the largest load and maximises the smallest.
  Without binding conflicts (and without lopsided existing work) that means ``max - min <= 1``.
  Method: a greedy pass (tightest entries first, each takes its least-loaded eligible reviewers,
  ties broken by the seeded RNG) and then a repair pass that moves *new* assignments along
  augmenting paths — reviewer A gives an entry to B, B gives another entry to C, … — until no
  reviewer can hand work, directly or along such a chain, to one with at least two fewer. That
  stopping condition is exactly the optimality condition of the equivalent convex min-cost flow
  (no negative cycle in the residual graph), so the result is optimal, not just "close".
* Deterministic: inputs are sorted by id first, so the same seed gives the same plan whatever the
  order of the inputs.
* Infeasible: when some entry has fewer eligible reviewers than it still needs, the plan assigns
  **nothing at all** and ``problems`` explains, per entry, in Thai and English, how many it needs,
  how many are available and why the others are excluded. All-or-nothing keeps the caller simple:
  fix the committee (add members, review conflicts) and run again.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from judging.enums import AssignmentState, AssignmentStates

__all__ = ["EntryRef", "Existing", "Plan", "Problem", "ReviewerRef", "plan_assignments"]

LIVE_STATES = frozenset(AssignmentStates.LIVE)
STATES = frozenset(AssignmentState)


@dataclass(frozen=True, slots=True)
class EntryRef:
    entry_id: int
    organisation_code: str
    province_code: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewerRef:
    reviewer_id: int
    province_code: str | None = None
    conflicts: frozenset[str] = frozenset()  # organisation codes the reviewer declared a conflict with

    def __post_init__(self) -> None:
        object.__setattr__(self, "conflicts", frozenset(self.conflicts))


@dataclass(frozen=True, slots=True)
class Existing:
    entry_id: int
    reviewer_id: int
    state: AssignmentState


@dataclass(frozen=True, slots=True)
class Problem:
    """Why an entry cannot get the reviewers it needs (Thai first, then English)."""

    entry_id: int
    needed: int  # reviewers still to assign
    available: int  # eligible reviewers not yet on the entry
    message_th: str
    message_en: str
    code: str = "too_few_reviewers"


@dataclass(frozen=True, slots=True)
class Plan:
    new: list[tuple[int, int]]  # (entry_id, reviewer_id), sorted
    loads: dict[int, int]  # reviewer_id -> live load (existing assigned/submitted + new)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _problem(
    entry_id: int, need: int, have: int, available: int, total: int, reasons: dict[str, int]
) -> Problem:
    th_names = {
        "recused": "เคยถอนตัวจากผลงานนี้",
        "organisation": "มีส่วนได้เสียกับหน่วยงาน",
        "province": "อยู่จังหวัดเดียวกัน",
        "assigned": "ได้รับมอบหมายผลงานนี้อยู่แล้ว",
    }
    en_names = {
        "recused": "recused from this entry before",
        "organisation": "declared a tie with the organisation",
        "province": "are in the same province",
        "assigned": "are already assigned to it",
    }
    th_why = ", ".join(f"{th_names[k]} {v} คน" for k, v in reasons.items() if v)
    en_why = ", ".join(f"{v} {en_names[k]}" for k, v in reasons.items() if v)
    if have:
        th = (
            f"ผลงาน #{entry_id} ต้องการกรรมการอีก {need} คน (มีอยู่แล้ว {have} คน)"
            f" แต่มีกรรมการอื่นที่ไม่มีส่วนได้เสียเพียง {available} คน"
        )
        en = (
            f"Entry #{entry_id} needs {need} more reviewer{'s' if need != 1 else ''} (has {have})"
            f" but only {available} other{'s' if available != 1 else ''} have no conflict"
        )
    else:
        th = f"ผลงาน #{entry_id} ต้องการกรรมการ {need} คน แต่มีกรรมการที่ไม่มีส่วนได้เสียเพียง {available} คน"
        en = (
            f"Entry #{entry_id} needs {need} reviewer{'s' if need != 1 else ''}"
            f" but only {available} {'has' if available == 1 else 'have'} no conflict"
        )
    if th_why:
        th += f" (กรรมการทั้งหมด {total} คน: {th_why})"
        en += f" (of {total} committee members: {en_why})"
    return Problem(entry_id, need, available, th, en)


def plan_assignments(
    entries: Iterable[EntryRef],
    reviewers: Iterable[ReviewerRef],
    per_entry: int,
    *,
    existing: Iterable[Existing] = (),
    seed: int,
    exclude_same_province: bool = False,
) -> Plan:
    """Plan new assignments so every entry has ``per_entry`` eligible reviewers, loads balanced.

    See the module docstring for the rules. Raises ``ValueError`` for malformed input (duplicate
    ids or pairs, unknown state, negative ``per_entry``).
    """
    if isinstance(per_entry, bool) or not isinstance(per_entry, int) or per_entry < 0:
        raise ValueError("per_entry must be a non-negative integer")
    entry_list = sorted(entries, key=lambda e: e.entry_id)
    reviewer_list = sorted(reviewers, key=lambda r: r.reviewer_id)
    if len({e.entry_id for e in entry_list}) != len(entry_list):
        raise ValueError("duplicate entry id")
    if len({r.reviewer_id for r in reviewer_list}) != len(reviewer_list):
        raise ValueError("duplicate reviewer id")
    reviewer_ids = [r.reviewer_id for r in reviewer_list]
    count = len(reviewer_list)

    live_on, recused_on, loads = _existing_state(existing, reviewer_ids)
    banned, on, needs, problems = _constraints(entry_list, reviewer_list, per_entry, live_on, recused_on,
                                               exclude_same_province)
    if problems:
        return Plan(new=[], loads=dict(sorted(loads.items())), problems=problems)

    rng = random.Random(seed)
    load = [loads[r] for r in reviewer_ids]
    new_of: list[dict[int, None]] = [{} for _ in range(count)]  # reviewer -> entries (ordered set)
    _greedy(rng, banned, on, needs, load, new_of, count)
    _repair(banned, on, load, new_of, count)

    new = sorted((entry_list[e].entry_id, reviewer_ids[r]) for r in range(count) for e in new_of[r])
    for r in range(count):
        loads[reviewer_ids[r]] = load[r]
    return Plan(new=new, loads=dict(sorted(loads.items())), problems=[])


def _existing_state(existing: Iterable[Existing], reviewer_ids: list[int]
                    ) -> tuple[dict[int, set[int]], dict[int, set[int]], dict[int, int]]:
    """(entry -> reviewers live on it, committee or not; entry -> reviewers recused from it;
    reviewer -> live load) from the existing assignments."""
    live_on: dict[int, set[int]] = {}
    recused_on: dict[int, set[int]] = {}
    loads: dict[int, int] = dict.fromkeys(reviewer_ids, 0)
    pairs: set[tuple[int, int]] = set()
    for row in sorted(existing, key=lambda x: (x.entry_id, x.reviewer_id)):
        if row.state not in STATES:
            raise ValueError(f"unknown assignment state {row.state!r}")
        pair = (row.entry_id, row.reviewer_id)
        if pair in pairs:
            raise ValueError(f"entry {pair[0]} and reviewer {pair[1]} appear twice in existing")
        pairs.add(pair)
        if row.state in LIVE_STATES:
            live_on.setdefault(row.entry_id, set()).add(row.reviewer_id)
            loads[row.reviewer_id] = loads.get(row.reviewer_id, 0) + 1
        else:
            recused_on.setdefault(row.entry_id, set()).add(row.reviewer_id)
    return live_on, recused_on, loads


def _constraints(entry_list: list[EntryRef], reviewer_list: list[ReviewerRef], per_entry: int,
                 live_on: dict[int, set[int]], recused_on: dict[int, set[int]], exclude_same_province: bool,
                 ) -> tuple[list[frozenset[int] | set[int]], list[set[int]], list[int], list[Problem]]:
    """Per entry (in ``entry_list`` order): the committee indices that may not take it (recused,
    conflicted by organisation or province, already on it), those on it now, how many more it
    needs; and a problem for each entry that cannot get them."""
    index = {r.reviewer_id: i for i, r in enumerate(reviewer_list)}
    count = len(reviewer_list)
    by_organisation: dict[str, set[int]] = {}
    by_province: dict[str, set[int]] = {}
    for i, reviewer in enumerate(reviewer_list):
        for code in reviewer.conflicts:
            by_organisation.setdefault(code, set()).add(i)
        if reviewer.province_code is not None:
            by_province.setdefault(reviewer.province_code, set()).add(i)

    empty: frozenset[int] = frozenset()
    banned: list[frozenset[int] | set[int]] = []
    on: list[set[int]] = []
    needs: list[int] = []
    problems: list[Problem] = []
    for entry in entry_list:
        live = live_on.get(entry.entry_id, set())
        recused = {index[r] for r in recused_on.get(entry.entry_id, ()) if r in index}
        organisation = by_organisation.get(entry.organisation_code, empty)
        province = (
            by_province.get(entry.province_code, empty)
            if exclude_same_province and entry.province_code is not None
            else empty
        )
        current = {index[r] for r in live if r in index}
        excluded = (
            recused | organisation | province | current
            if (recused or organisation or province or current)
            else empty
        )
        need = max(0, per_entry - len(live))
        available = count - len(excluded)
        if need > available:
            reasons = {"recused": len(recused)}
            reasons["organisation"] = len(organisation - recused)
            reasons["province"] = len(province - recused - organisation)
            reasons["assigned"] = len(current - recused - organisation - province)
            problems.append(_problem(entry.entry_id, need, len(live), available, count, reasons))
        banned.append(excluded)
        on.append(set(current))
        needs.append(need)
    return banned, on, needs, problems


def _greedy(
    rng: random.Random,
    banned: list,
    on: list[set[int]],
    needs: list[int],
    load: list[int],
    new_of: list[dict[int, None]],
    count: int,
) -> None:
    """Tightest entries first; each takes its least-loaded eligible reviewers (seeded tie-break)."""
    priority = [rng.random() for _ in needs]
    order = sorted(
        (e for e, need in enumerate(needs) if need),
        key=lambda e: (count - len(banned[e]) - needs[e], priority[e]),
    )
    buckets: dict[int, list[int]] = {}
    for r in range(count):
        buckets.setdefault(load[r], []).append(r)
    for e in order:
        excluded = banned[e]
        chosen: list[int] = []
        for level in sorted(buckets):
            candidates = [r for r in buckets[level] if r not in excluded]
            take = needs[e] - len(chosen)
            chosen.extend(candidates if len(candidates) <= take else rng.sample(candidates, take))
            if len(chosen) == needs[e]:
                break
        for r in chosen:
            bucket = buckets[load[r]]
            bucket.remove(r)
            if not bucket:
                del buckets[load[r]]
            load[r] += 1
            buckets.setdefault(load[r], []).append(r)
            new_of[r][e] = None
            on[e].add(r)


def _repair(
    banned: list, on: list[set[int]], load: list[int], new_of: list[dict[int, None]], count: int
) -> None:
    """Move new assignments along augmenting paths until no cost-reducing path is left.

    A path r0 -e1-> r1 -e2-> … -> rk means: r0 hands its new entry e1 to r1, r1 hands e2 to r2, …;
    only the two ends change load. It improves the balance iff load(rk) <= load(r0) - 2. When no
    such path exists from any reviewer, the loads minimise the sum of squares (optimal).
    """
    while True:
        improved = False
        levels = sorted(set(load), reverse=True)
        lowest = levels[-1] if levels else 0
        for level in levels:
            if level < lowest + 2:
                break
            path = _find_path(banned, on, load, new_of, count, level)
            if path is not None:
                for giver, e, taker in path:
                    del new_of[giver][e]
                    new_of[taker][e] = None
                    on[e].discard(giver)
                    on[e].add(taker)
                    load[giver] -= 1
                    load[taker] += 1
                improved = True
                break
        if not improved:
            return


def _find_path(
    banned: list, on: list[set[int]], load: list[int], new_of: list[dict[int, None]], count: int, level: int
) -> list[tuple[int, int, int]] | None:
    """Breadth-first from every reviewer at ``level`` to one at ``level - 2`` or below."""
    parent: dict[int, tuple[int, int]] = {}
    sources = [r for r in range(count) if load[r] == level]
    seen = set(sources)
    unseen = [r for r in range(count) if r not in seen]
    queue = deque(sources)
    while queue and unseen:
        giver = queue.popleft()
        entries = new_of[giver]
        still_unseen = []
        for taker in unseen:
            for e in entries:
                if taker not in banned[e] and taker not in on[e]:
                    parent[taker] = (giver, e)
                    if load[taker] <= level - 2:
                        path = []
                        node = taker
                        while node in parent:
                            previous, entry = parent[node]
                            path.append((previous, entry, node))
                            node = previous
                        path.reverse()
                        return path
                    queue.append(taker)
                    break
            else:
                still_unseen.append(taker)
        unseen = still_unseen
    return None
