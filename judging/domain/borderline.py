"""Borderline entries: which side of the cut each entry is on when one reviewer is left out.

The definition is in :mod:`judging.domain.ranking`'s docstring; this is the fast way to compute it
from a :class:`~judging.domain.ranking_model.ScoreModel` (the tests check it against recomputing
the whole ranking once per reviewer).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Container, Mapping

from judging.domain.ranking_model import Key, ScoreModel, final_keys


def _head(order: list[int], keys: list[Key], excluded: Container[int], cut: int) -> list[Key]:
    """The first ``cut`` keys (ascending) of entries not in ``excluded``."""
    head: list[Key] = []
    for e, key in zip(order, keys, strict=False):
        if e not in excluded:
            head.append(key)
            if len(head) == cut:
                break
    return head


def borderline_entries(
    model: ScoreModel,
    order: list[int],
    final: dict[int, Key],
    groups: dict[Key, list[int]],
    base: dict[int, Key],
    positions: Mapping[int, int],
    cut: int,
) -> set[int]:
    """Entries whose side of the cut changes when some single reviewer is left out.

    In any ranking, an entry is inside iff its key <= the cut-th smallest key (with multiplicity),
    or there are fewer than ``cut`` entries: with competition ranks, rank <= cut exactly then.
    Leaving reviewer r out changes only the keys of r's entries (every other reviewer's
    normalisation is their own) and of entries sharing a tie group with them (a recorded decision
    applies to complete groups only). So each scenario recomputes those keys, finds its threshold
    by merging them into the unchanged head of the original order, and re-checks the changed
    entries plus the unchanged ones lying between the old and the new threshold. The result equals
    a full recomputation per reviewer (tests check this against the naive way).
    """
    n = len(order)
    if cut == 0 or n == 0:
        return set()  # nobody is ever inside
    keys = [final[e] for e in order]  # ascending
    inside_count = n if n < cut else bisect_right(keys, keys[cut - 1])
    inside = set(order[:inside_count])

    result: set[int] = set()
    spans = model.spans
    span_of_review = model.span_of_review
    span_entries = model.entry_of_span
    decided_groups = {key for key, members in groups.items() if any(m in positions for m in members)}
    measures = model.key_measures()
    for reviewer_indices in model.by_reviewer.values():
        # (entry, span start, span end, index of the review left out); an entry left with no
        # review cannot be ranked and counts as outside in this scenario (key None).
        scenario = []
        for i in reviewer_indices:
            s = span_of_review[i]
            a, b = spans[s]
            scenario.append((span_entries[s], a, b, i))
        if positions:
            changed, head = _decided_scenario(model, measures, scenario, order, keys, cut, groups, base, positions,
                                              decided_groups)
        else:
            changed, head = _plain_scenario(model, measures, scenario, order, keys, cut)

        result.update(_switched(changed, head, order, keys, inside, inside_count, cut))
    return result


def _switched(changed: dict[int, Key | None], head: list[Key], order: list[int], keys: list[Key],
              inside: set[int], inside_count: int, cut: int) -> list[int]:
    """The entries on the other side of the cut in one scenario: its threshold is the cut-th key of
    the unchanged head merged with the changed keys (``head`` is extended and sorted in place)."""
    n = len(order)
    head.extend(k for k in changed.values() if k is not None)
    if len(head) < cut:
        threshold = None
        new_inside_count = n
    else:
        head.sort()
        threshold = head[cut - 1]
        new_inside_count = bisect_right(keys, threshold)

    switched = []
    for e, k in changed.items():
        now_inside = k is not None and (threshold is None or k <= threshold)
        if now_inside != (e in inside):
            switched.append(e)
    # An unchanged entry switches side iff it lies between the old and the new threshold.
    low, high = sorted((inside_count, new_inside_count))
    switched.extend(e for e in order[low:high] if e not in changed)
    return switched


_Scenario = list[tuple[int, int, int, int]]  # (entry, span start, span end, review left out)


def _decided_scenario(model: ScoreModel, measures: list[tuple[bool, list, float, float]], scenario: _Scenario,
                      order: list[int], keys: list[Key], cut: int, groups: dict[Key, list[int]],
                      base: dict[int, Key], positions: Mapping[int, int], decided_groups: set[Key],
                      ) -> tuple[dict[int, Key | None], list[Key]]:
    """One reviewer left out, with recorded tie decisions: the changed keys (of the reviewer's
    entries and of the decided groups they leave or join) and the unchanged head of the order."""
    affected = {e: model.key_without(measures, a, b, i) if b - a > 1 else None for e, a, b, i in scenario}
    changed: dict[int, Key | None] = {e: None if k is None else (*k, 0) for e, k in affected.items()}
    arriving: dict[Key, list[int]] = defaultdict(list)
    for e, k in affected.items():
        if k is not None:
            arriving[k].append(e)
    touched = {base[e] for e in affected} | arriving.keys()
    for key in touched:
        # Only a group with a decided member can have its decision switched on or off.
        if key in decided_groups or any(e in positions for e in arriving.get(key, ())):
            members = [e for e in groups.get(key, ()) if e not in affected]
            members += arriving.get(key, [])
            changed.update(final_keys({key: members}, positions))
    return changed, _head(order, keys, changed, cut)


def _plain_scenario(model: ScoreModel, measures: list[tuple[bool, list, float, float]], scenario: _Scenario,
                    order: list[int], keys: list[Key], cut: int) -> tuple[dict[int, Key | None], list[Key]]:
    """One reviewer left out, without tie decisions: the changed keys and the unchanged head."""
    score_measure, tie_measures = measures[0], measures[1:]
    component_without = model.component_without
    head = _head(order, keys, {e for e, _, _, _ in scenario}, cut)
    # The scenario's threshold is no worse than the cut-th unchanged key, so an entry whose new
    # score alone is already worse is outside and cannot move the threshold: its tie-break means
    # are not needed.
    bound = head[-1][0] if len(head) == cut else None
    changed: dict[int, Key | None] = {}
    for e, a, b, i in scenario:
        if b - a == 1:
            changed[e] = None
            continue
        first = component_without(score_measure, a, b, i)
        if bound is not None and first > bound:
            changed[e] = None
        else:
            changed[e] = (first, *(component_without(m, a, b, i) for m in tie_measures), 0)
    return changed, head
