"""Ranking over the database, the committee's tie decisions, the proposed outcome with
overrides, the two signatures that make it final, and the exports.

The ranking itself is :func:`judging.domain.ranking.compute_ranking` (pure), computed over
whole columns by :func:`judging.domain.ranking_arrays.compute_ranking_arrays` (the same result,
bit for bit); this module only fetches the submitted score sheets — every sheet in one text value
as three text values built in SQL, decoded at once — and stores what comes back.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from typing import Any

import msgspec
import numpy as np

from contest import clock
from contest.db import atomic, existing, fetch, is_sqlite, lock_row
from contest.domain import outcomes as contest_outcomes
from contest.domain.audit import Actor, append_event
from contest.enums import Role
from contest.errors import Conflict, PermissionDenied, ValidationFailed
from contest.i18n import localised, t
from contest.labels import both_labels
from contest.numbers import whole_number
from contest.rules import require_organiser
from contest.spreadsheets import Column, Sheet, write_csv, write_xlsx
from contest.tables import User
from judging.domain.ranking import Criterion as RubricCriterion
from judging.domain.ranking import RankedEntry, Review, Rules, compute_ranking
from judging.domain.ranking_arrays import compute_ranking_arrays, decode_sheets
from judging.domain.round_rows import criteria_of, cut_of, get_round_row
from judging.enums import AssignmentState, RoundState
from judging.tables import Assignment, Decision, Round, RoundEntry, Signature, TieDecision

OUTCOMES = contest_outcomes.OUTCOMES  # kind -> (inside the cut, outside)


def ranking_rules(row: dict[str, Any], criteria: list[dict[str, Any]]) -> Rules:
    """The rules the ranking applies: the round's frozen rules (its stored row and rubric until
    it opens)."""
    frozen = row["rules"] or {}
    return Rules(criteria=tuple(RubricCriterion(c["code"], c["weight"], c["min"], c["max"])
                                for c in frozen.get("criteria", criteria)),
                 normalisation=frozen.get("normalisation", row["normalisation"]),
                 tie_break=tuple(frozen.get("tie_break", row["tie_break"])), cut=cut_of(row))


async def submitted_reviews(round_id: int) -> list[Review]:
    """Every submitted score sheet of a round, one row per review."""
    rows = await fetch("SELECT entry, reviewer, scores FROM judging_assignment WHERE round = {} AND state = {}",
                       round_id, AssignmentState.submitted.value)
    decode = msgspec.json.decode
    return [Review(r["entry"], r["reviewer"], decode(s) if isinstance(s := r["scores"], (str, bytes)) else s)
            for r in rows]


# Every submitted sheet in one row: the entry ids, the reviewer ids and the sheets' scores, each
# joined by commas in the same order (one pass of one query on SQLite; ordered by id on
# PostgreSQL), so 21,000 sheets cross from the database as three values instead of 21,000 rows,
# and are decoded at once.
_SHEETS_SQL = ("SELECT group_concat(entry) AS entries, group_concat(reviewer) AS reviewers, "
               "group_concat(COALESCE(scores, 'null')) AS scores "
               "FROM judging_assignment WHERE round = {} AND state = {}")
_SHEETS_SQL_PG = ("SELECT string_agg(entry::text, ',' ORDER BY id) AS entries, "
                  "string_agg(reviewer::text, ',' ORDER BY id) AS reviewers, "
                  "string_agg(COALESCE(scores::text, 'null'), ',' ORDER BY id) AS scores "
                  "FROM judging_assignment WHERE round = {} AND state = {}")


async def submitted_sheets(round_id: int, codes: list[str]
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | list[Review]:
    """Every submitted score sheet of a round as columns (entry ids, reviewer ids, one score
    column per criterion of ``codes``); as :func:`submitted_reviews` when a sheet does not fit
    them (a criterion missing or unknown, a score that is not a number), for the reference to
    explain."""
    found = (await fetch(_SHEETS_SQL if is_sqlite() else _SHEETS_SQL_PG, round_id,
                         AssignmentState.submitted.value))[0]
    if not found["entries"]:
        return []
    columns = decode_sheets(found["entries"], found["reviewers"], found["scores"], tuple(codes))
    return columns if columns is not None else await submitted_reviews(round_id)


async def tie_positions(round_id: int) -> dict[int, int]:
    """The committee's recorded order inside tied groups: entry id -> position (lower first)."""
    return {d["entry"]: d["position"] for d in await TieDecision.select(TieDecision.entry, TieDecision.position).where(
        TieDecision.round == round_id)}


# Rankings already computed, per (round, borderline?): reused while the fingerprint of what they
# were computed from is unchanged. Derived data only: every process checks the fingerprint in the
# database, so nothing another process needs lives here.
_RANKINGS: dict[tuple[int, bool], tuple[tuple[Any, ...], list[RankedEntry]]] = {}
_RANKINGS_MAX = 16


# The rows of :func:`ranking_items` built from a cached ranking (the very list object above).
_ITEMS: dict[tuple[int, bool], tuple[list[RankedEntry], list[dict[str, Any]]]] = {}


def forget_rankings() -> None:
    """Drop this process's computed rankings (the next read computes afresh)."""
    _RANKINGS.clear()
    _ITEMS.clear()


# One statement for both halves of the fingerprint: the sheets (a covering index answers it) and
# the tie decisions.
_FINGERPRINT_SQL = (
    "SELECT s.n, s.v, s.at, t.n AS tn, t.p AS tp, t.at AS tat FROM "
    "(SELECT COUNT(*) AS n, COALESCE(SUM(version), 0) AS v, MAX(updated_at) AS at FROM judging_assignment "
    "WHERE round = {} AND state = 'submitted') s, "
    "(SELECT COUNT(*) AS n, COALESCE(SUM(position), 0) AS p, MAX(created_at) AS at FROM judging_tie_decision "
    "WHERE round = {}) t")

# The tie decisions' half alone, for a caller that has counted the submitted sheets already.
_TIES_SQL = ("SELECT COUNT(*) AS tn, COALESCE(SUM(position), 0) AS tp, MAX(created_at) AS tat "
             "FROM judging_tie_decision WHERE round = {}")

#: The submitted sheets' half of a fingerprint: how many, the sum of their versions, the newest
#: change (``updated_at`` as the database gives it).
SubmittedSums = tuple[int, int, Any]


async def ranking_fingerprint(round_id: int, row: dict[str, Any], submitted: SubmittedSums | None = None
                              ) -> tuple[Any, ...]:
    """What a ranking is computed from, in a few numbers: it changes whenever a submitted sheet,
    a tie decision or the rules change (``version`` is bumped by every save, submit, reopen and recusal).
    A caller that has read the submitted sheets' sums in the same snapshot passes them as ``submitted``."""
    if submitted is None:
        found = (await fetch(_FINGERPRINT_SQL, round_id, round_id))[0]
        submitted = (found["n"], found["v"], found["at"])
    else:
        found = (await fetch(_TIES_SQL, round_id))[0]
    return (row["rules_hash"], row["normalisation"], cut_of(row), submitted[0], submitted[1], str(submitted[2]),
            found["tn"], found["tp"], str(found["tat"]))


async def compute_round_ranking(round_id: int, *, with_borderline: bool = True, row: dict[str, Any] | None = None
                                ) -> tuple[dict[str, Any], list[RankedEntry]]:
    """The round's row (``row``, its :func:`get_round_row`, when the caller has it) and its ranking."""
    if row is None:
        row = await get_round_row(round_id)
    if row["state"] == RoundState.draft:
        raise Conflict("The round has not opened yet.", code="round_state", state=row["state"])
    fingerprint = await ranking_fingerprint(round_id, row)
    cached = _RANKINGS.get((round_id, with_borderline))
    if cached is not None and cached[0] == fingerprint:
        return row, cached[1]
    rules = ranking_rules(row, await criteria_of(round_id))
    sheets = await submitted_sheets(round_id, [c.code for c in rules.criteria])
    positions = await tie_positions(round_id)
    if isinstance(sheets, list):
        ranking = compute_ranking(sheets, rules, positions, with_borderline=with_borderline)
    else:
        ranking = compute_ranking_arrays(*sheets, rules, positions, with_borderline=with_borderline)
    if len(_RANKINGS) >= _RANKINGS_MAX:
        _RANKINGS.pop(next(iter(_RANKINGS)))
    _RANKINGS[(round_id, with_borderline)] = (fingerprint, ranking)
    return row, ranking


async def ranking_view(round_id: int, *, with_borderline: bool = True) -> dict[str, Any]:
    """The ranking with each entry's title and organisation; unreviewed entries listed last."""
    view = await ranking_items(round_id, with_borderline=with_borderline)
    info = await _entry_info(round_id)
    for item in view["items"]:
        item.update(info.get(item["entry_id"]) or {})
    return view


async def ranking_items(round_id: int, *, with_borderline: bool = True, row: dict[str, Any] | None = None,
                        shared: bool = False) -> dict[str, Any]:
    """The ranking as :func:`ranking_view` gives it, without the entries' titles and
    organisations: a page shows a hundred of 7,000 and looks up only those
    (:func:`with_entry_info`). ``row``: the round's :func:`get_round_row`, when the caller has it.
    The items are the caller's own, unless ``shared``: then the ranked ones are this process's
    cached rows, to be read only (copy one before changing it)."""
    row, ranking = await compute_round_ranking(round_id, with_borderline=with_borderline, row=row)
    built = _ITEMS.get((round_id, with_borderline))
    if built is None or built[0] is not ranking:
        built = (ranking, [{"entry_id": r.entry_id, "rank": r.rank, "score": r.score, "raw_score": r.raw_score,
                            "reviewers": r.reviewers, "spread": r.spread, "borderline": r.borderline,
                            "criterion_means": r.criterion_means, "tied": r.tied} for r in ranking])
        if len(_ITEMS) >= _RANKINGS_MAX:
            _ITEMS.pop(next(iter(_ITEMS)))
        _ITEMS[(round_id, with_borderline)] = built
    items = list(built[1]) if shared else list(map(dict.copy, built[1]))
    in_round = (await fetch("SELECT COUNT(*) AS n FROM judging_round_entry WHERE round = {}", round_id))[0]["n"]
    if in_round > len(ranking):  # entries nobody has scored yet, listed last
        ranked = {r.entry_id for r in ranking}
        rows = await fetch("SELECT entry FROM judging_round_entry WHERE round = {} ORDER BY entry", round_id)
        items += [{"entry_id": r["entry"], "rank": None, "score": None, "raw_score": None, "reviewers": 0,
                   "spread": None, "borderline": False, "criterion_means": {}, "tied": False}
                  for r in rows if r["entry"] not in ranked]
    return {"round_id": round_id, "kind": row["kind"], "state": row["state"], "cut": cut_of(row),
            "rules_hash": row["rules_hash"], "items": items}


_INFO_FIELDS = ("title", "category", "organisation_code", "organisation_name_th", "province_name_th",
                "organisation_kind")
_INFO_SQL = ("SELECT e.id AS entry_id, e.title, e.category, o.code AS organisation_code, "
             "o.name_th AS organisation_name_th, o.province_name_th, o.kind AS organisation_kind "
             "FROM entry e JOIN organisation o ON o.id = e.organisation")


async def _entry_info(round_id: int) -> dict[int, dict[str, Any]]:
    """Title and organisation of every entry in the round (one joined query)."""
    rows = await fetch(f"{_INFO_SQL} JOIN judging_round_entry re ON re.entry = e.id WHERE re.round = {{}}", round_id)
    return {r.pop("entry_id"): r for r in rows}


async def with_entry_info(items: list[dict[str, Any]]) -> None:
    """Add each item's entry title, category and organisation (in place), in one read: by id
    for a page of them, the whole round's for all of them."""
    wanted = sorted({i["entry_id"] for i in items})
    info: dict[int, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        marks = ", ".join("{}" for _ in chunk)
        for r in await fetch(f"{_INFO_SQL} WHERE e.id IN ({marks})", *chunk):
            info[r.pop("entry_id")] = r
    for item in items:
        item.update(info.get(item["entry_id"]) or {})


# --- tie decisions ------------------------------------------------------------------------------

async def record_tie_decision(*, actor: Actor, round_id: int, entry_ids: list[int], reason: str) -> None:
    """Record the committee's order for entries the score and the tie-break chain left tied
    (first listed wins). Never inferred from ids: the ranking leaves a group tied until every
    entry in it has a recorded position."""
    require_organiser(actor)
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    ids = [int(i) for i in entry_ids or []]
    if len(ids) < 2 or len(set(ids)) != len(ids):
        errors["entry_ids"] = t("List the tied entries, each once, best first.")
    if not reason:
        errors["reason"] = t("Record how the committee decided.")
    if errors:
        raise ValidationFailed(errors=errors)
    row = await get_round_row(round_id)
    if row["state"] not in (RoundState.open, RoundState.closed):
        raise Conflict("The round is {state}: its decisions can no longer change.", code="round_state",
                       state=row["state"])
    inside = {r["entry"] for r in await RoundEntry.select(RoundEntry.entry).where(
        (RoundEntry.round == round_id) & RoundEntry.entry.is_in(ids))}
    if len(inside) != len(ids):
        raise ValidationFailed(errors={"entry_ids": t("Some entries are not in this round.")})
    async with atomic():
        await lock_row("judging_round", round_id)
        await TieDecision.delete().where((TieDecision.round == round_id) & TieDecision.entry.is_in(ids))
        await TieDecision.insert(*[TieDecision(key=f"{round_id}:{e}", round=round_id, entry=e, position=i,
                                               reason=reason, decided_by=actor.id) for i, e in enumerate(ids, 1)])
        await append_event(actor=actor, action="round.tie_decision", subject_type="round", subject_id=round_id,
                           after={"order": ids, "reason": reason})


# --- the proposal -------------------------------------------------------------------------------

def decision_warnings(kind: str, inside: int, cut: int) -> list[dict[str, Any]]:
    """What an organiser should see before signing: a proposal with more or fewer entries
    inside than the edition's number (overrides, or fewer ranked entries than the cut)."""
    if inside == cut:
        return []
    label = OUTCOMES[kind][0]
    if inside > cut:
        message = t("{n} entries are proposed as {outcome}: {d} more than the {cut} the edition sets.", n=inside,
                    outcome=t(label), d=inside - cut, cut=cut)
    else:
        message = t("{n} entries are proposed as {outcome}: {d} fewer than the {cut} the edition sets.", n=inside,
                    outcome=t(label), d=cut - inside, cut=cut)
    return [{"code": "inside_count", "inside": inside, "cut": cut, "message": message}]


def decision_digest(rules_hash: str, outcomes: list[dict[str, Any]]) -> str:
    body = json.dumps({"rules_hash": rules_hash, "outcomes": [
        [o["entry_id"], o["outcome"], o["rank"], o["score"], o["reason"]] for o in sorted(
            outcomes, key=lambda o: o["entry_id"])]}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


async def decide(*, actor: Actor, round_id: int, overrides: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Propose the outcome of a closed round: the top N (the edition's shortlist size, or its
    number of winners in the final) inside, everyone else outside, then the admins' overrides,
    each with its reason. A tie straddling the cut must first be settled by a recorded committee
    decision. A new proposal replaces the previous one and voids its signatures."""
    require_organiser(actor)
    row, ranking = await compute_round_ranking(round_id, with_borderline=False)
    if row["state"] == RoundState.open:
        raise Conflict("Close the round before deciding.", code="round_open")
    if row["state"] == RoundState.signed:
        raise Conflict("This decision is final; it was signed by two administrators.", code="already_final")
    if not ranking:
        raise Conflict("No review has been submitted in this round, so there is nothing to decide.",
                       code="no_reviews")
    inside_label, outside_label = OUTCOMES[row["kind"]]
    cut = cut_of(row)
    inside = [r for r in ranking if r.rank <= cut]
    if len(inside) > cut:
        last = inside[-1].rank
        group = [r.entry_id for r in ranking if r.rank == last]
        raise Conflict("Entries {ids} are tied across the cut at {cut}; record the committee's decision on "
                       "their order first.", code="unresolved_tie", ids=", ".join(map(str, group)), cut=cut,
                       entry_ids=group)
    by_entry = {r.entry_id: r for r in ranking}
    taken = [r["entry"] for r in await RoundEntry.select(RoundEntry.entry).where(RoundEntry.round == round_id)]
    inside_ids = {r.entry_id for r in inside}
    proposal: dict[int, dict[str, Any]] = {}
    for entry_id in taken:
        r = by_entry.get(entry_id)
        label = inside_label if entry_id in inside_ids else outside_label
        proposal[entry_id] = {"entry_id": entry_id, "rank": r.rank if r else None, "score": r.score if r else None,
                              "proposed": label, "outcome": label, "reason": ""}
    _apply_overrides(proposal, list(overrides or []), (inside_label, outside_label))
    items = sorted(proposal.values(), key=lambda o: (o["rank"] is None, o["rank"] or 0, o["entry_id"]))
    digest = decision_digest(row["rules_hash"], items)
    async with atomic():
        await lock_row("judging_round", round_id)
        current = await existing(Round.select(Round.state, Round.decision_hash).where(Round.id == round_id))
        if current["state"] != RoundState.closed:
            raise Conflict("This decision is final; it was signed by two administrators.", code="already_final")
        if current["decision_hash"] != digest:
            await _replace_decision(actor, round_id, items, digest, inside_label)
    return await decision_view(round_id)


def _apply_overrides(proposal: dict[int, dict[str, Any]], overrides: list[Any], labels: tuple[str, str]) -> None:
    """The admins' overrides, each with its reason, applied to the proposal; any unusable one
    refuses them all (ValidationFailed naming each problem) and changes nothing."""
    errors: dict[str, str] = {}
    seen: set[int] = set()
    changes: list[tuple[int, str, str]] = []
    for i, o in enumerate(overrides):
        field = f"overrides[{i}]"
        if not isinstance(o, dict):
            errors[field] = t("Each override needs an entry, an outcome and a reason.")
            continue
        entry_id = whole_number(o.get("entry_id"))
        outcome, reason = o.get("outcome"), str(o.get("reason") or "").strip()
        if entry_id is None:
            errors[f"{field}.entry_id"] = t("Give the entry's number (a whole number).")
        elif entry_id in seen:
            errors[f"{field}.entry_id"] = t("Entry {id} is listed twice: give one override per entry.", id=entry_id)
        elif entry_id not in proposal:
            errors[f"{field}.entry_id"] = t("Entry {id} is not in this round.", id=o.get("entry_id"))
        if entry_id is not None:
            seen.add(entry_id)
        if outcome not in labels:
            errors[f"{field}.outcome"] = t("The outcome is {a} or {b}.", a=labels[0], b=labels[1])
        if not reason:
            errors[f"{field}.reason"] = t("Give the reason for this change.")
        if entry_id is not None and not errors.get(f"{field}.entry_id") and outcome in labels and reason:
            changes.append((entry_id, str(outcome), reason))
    if errors:
        raise ValidationFailed(errors=errors)
    for entry_id, outcome, reason in changes:
        proposal[entry_id]["outcome"] = outcome
        proposal[entry_id]["reason"] = reason


async def _replace_decision(actor: Actor, round_id: int, items: list[dict[str, Any]], digest: str,
                            inside_label: str) -> None:
    """Inside the caller's transaction: the new proposal replaces the old one and voids its
    signatures. Audited with what changed."""
    voided = await Signature.select(Signature.user).where(Signature.round == round_id)
    await Signature.delete().where(Signature.round == round_id)
    await Decision.delete().where(Decision.round == round_id)
    for start in range(0, len(items), 1000):
        await Decision.insert(*[Decision(key=f"{round_id}:{o['entry_id']}", round=round_id, entry=o["entry_id"],
                                         rank=o["rank"], score=o["score"], proposed=o["proposed"],
                                         outcome=o["outcome"], override_reason=o["reason"], decided_by=actor.id)
                                for o in items[start:start + 1000]])
    await Round.update({Round.decision_hash: digest, Round.updated_at: clock.now()}).where(Round.id == round_id)
    await append_event(actor=actor, action="round.decide", subject_type="round", subject_id=round_id,
                       after={"decision_hash": digest,
                              "inside": [o["entry_id"] for o in items if o["outcome"] == inside_label],
                              "overrides": [{"entry_id": o["entry_id"], "outcome": o["outcome"],
                                             "reason": o["reason"]} for o in items if o["reason"]],
                              "voided_signatures": [v["user"] for v in voided]})


async def decision_view(round_id: int) -> dict[str, Any]:
    row = await get_round_row(round_id)
    decisions = await Decision.select().where(Decision.round == round_id)
    info = await _entry_info(round_id)
    inside_label, _ = OUTCOMES[row["kind"]]
    items = sorted(({"entry_id": d["entry"], "rank": d["rank"], "score": d["score"], "proposed": d["proposed"],
                     "outcome": d["outcome"], "reason": d["override_reason"], **info.get(d["entry"], {})}
                    for d in decisions), key=lambda o: (o["outcome"] != inside_label, o["rank"] is None,
                                                        o["rank"] or 0, o["entry_id"]))
    signatures = await Signature.select(Signature.user, Signature.user._.email, Signature.user._.name,
                                        Signature.signed_at).where(Signature.round == round_id).order_by(Signature.id)
    inside = sum(1 for o in items if o["outcome"] == inside_label)
    return {"round_id": round_id, "kind": row["kind"], "state": row["state"], "cut": cut_of(row),
            "decision_hash": row["decision_hash"], "rules_hash": row["rules_hash"],
            "inside": inside, "warnings": decision_warnings(row["kind"], inside, cut_of(row)) if items else [],
            "outcomes": items,
            "signatures": [{"user_id": s["user"], "email": s["user.email"], "name": s["user.name"],
                            "signed_at": s["signed_at"]} for s in signatures],
            "final": row["state"] == RoundState.signed}


# --- signatures ---------------------------------------------------------------------------------

async def _feedback(round_id: int, kind: str, criteria: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Aggregated feedback per entry: criterion means (only from two reviewers up) and the
    comments, never names or individual scores (what an applicant may later read)."""
    reviews = await submitted_reviews(round_id)
    sums: dict[int, dict[str, float]] = {}
    counts: dict[int, int] = {}
    for r in reviews:
        s = sums.setdefault(r.entry_id, {})
        for code, value in r.scores.items():
            s[code] = s.get(code, 0.0) + value
        counts[r.entry_id] = counts.get(r.entry_id, 0) + 1
    comments: dict[int, list[str]] = {}
    for a in await Assignment.select(Assignment.entry, Assignment.comment).where(
            (Assignment.round == round_id) & (Assignment.state == AssignmentState.submitted)
            & (Assignment.comment != "")):
        comments.setdefault(a["entry"], []).append(a["comment"])
    out = {}
    for entry_id, n in counts.items():
        hidden = n < contest_outcomes.MIN_REVIEWERS_FOR_MEANS
        out[entry_id] = {
            "kind": kind,
            "reviewers": n,
            "means_hidden": hidden,
            "criteria": [] if hidden else [
                {"code": c["code"], "name_th": c["name_th"], "name_en": c["name_en"], "max": c["max"],
                 "mean": round(sums[entry_id].get(c["code"], 0.0) / n, 2)} for c in criteria],
            "comments": sorted(comments.get(entry_id, [])),
        }
    return out


async def _require_trusted_signer(actor: Actor, round_id: int) -> None:
    """Two real people sign: each an administrator since before the round opened (an admin
    created afterwards cannot be the second signature), each signed in with two factors."""
    if actor.id is None:
        raise PermissionDenied("A decision is signed by administrators in person.", code="admin_only")
    if not actor.two_factor:
        raise PermissionDenied("Sign in with two-factor before signing a decision.", code="two_factor_required")
    opened = await existing(Round.select(Round.opened_at).where(Round.id == round_id))
    user = await existing(User.select(User.role, User.admin_since).where(User.id == actor.id))
    if user["role"] != Role.admin or user["admin_since"] is None or (
            opened["opened_at"] is not None and user["admin_since"] > opened["opened_at"]):
        raise PermissionDenied("Only administrators who were administrators before the round opened can sign "
                               "its decision.", code="signer_too_new")


async def sign_decision(*, actor: Actor, round_id: int, decision_hash: str | None = None) -> dict[str, Any]:
    """Sign the current proposal. Two different administrators must sign; the second signature
    makes it final: every entry of the round gets its outcome (with rank, score and aggregated
    feedback: the screening committee's, or the expert panel's beside it for finalists) and the
    round is locked. The same admin twice, or a third signature, is 409."""
    require_organiser(actor)
    row = await get_round_row(round_id)
    if row["state"] == RoundState.signed:
        raise Conflict("This decision is final; it was signed by two administrators.", code="already_final")
    if row["state"] != RoundState.closed or not row["decision_hash"]:
        raise Conflict("There is no proposed decision to sign yet.", code="no_decision")
    if decision_hash and decision_hash != row["decision_hash"]:
        raise Conflict("The proposal changed since you read it. Review it again before signing.",
                       code="stale_decision")
    criteria = row["rules"].get("criteria") or await criteria_of(round_id)
    feedback = await _feedback(round_id, row["kind"], criteria)
    async with atomic():
        await lock_row("judging_round", round_id)
        current = await existing(Round.select(Round.state, Round.decision_hash).where(Round.id == round_id))
        if current["state"] == RoundState.signed:
            raise Conflict("This decision is final; it was signed by two administrators.", code="already_final")
        if current["decision_hash"] != row["decision_hash"]:
            raise Conflict("The proposal changed since you read it. Review it again before signing.",
                           code="stale_decision")
        await _require_trusted_signer(actor, round_id)
        signed = await Signature.select(Signature.user).where(Signature.round == round_id)
        if any(s["user"] == actor.id for s in signed):
            raise Conflict("You have already signed this decision; a different administrator must sign.",
                           code="already_signed")
        await Signature.insert(Signature(key=f"{round_id}:{actor.id}", round=round_id, user=actor.id,
                                         decision_hash=current["decision_hash"]))
        await append_event(actor=actor, action="round.sign", subject_type="round", subject_id=round_id,
                           after={"decision_hash": current["decision_hash"], "signature": len(signed) + 1})
        if len(signed) + 1 >= 2:
            decisions = await Decision.select().where(Decision.round == round_id)
            await contest_outcomes.record_outcomes(actor=actor, kind=row["kind"], outcomes={
                d["entry"]: {"outcome": d["outcome"], "rank": d["rank"], "score": d["score"],
                             "feedback": feedback.get(d["entry"])}
                for d in decisions})
            await Round.update({Round.state: RoundState.signed, Round.signed_at: clock.now(),
                                Round.updated_at: clock.now()}).where(Round.id == round_id)
            await append_event(actor=actor, action="round.final", subject_type="round", subject_id=round_id,
                               after={"decision_hash": current["decision_hash"], "entries": len(decisions)})
    return await decision_view(round_id)


# --- exports ------------------------------------------------------------------------------------

# Each column's label and meaning (message ids, Thai in judging_admin.po): the XLSX shows the
# labels under the codes and lists them in its data dictionary; the CSV keeps one header row of
# stable codes so that programs can read it.
EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("rank", "Rank", "Competition rank (1, 2, 2, 4): entries still tied share a rank.", "whole", 8),
    Column("entry_id", "Entry number", "The entry's stable id in this system.", "id", 10),
    Column("organisation_code", "Organisation code", "The local administrative organisation's registry code.",
           width=12),
    Column("organisation_name_th", "Organisation", "The organisation's name in Thai.", width=36),
    Column("province_name_th", "Province", "The organisation's province, in Thai.", width=16),
    Column("title", "Innovation title", "The title as the organisation typed it.", width=48),
    Column("score", "Score", "The score the ranking uses: the mean over reviewers after the round's normalisation.",
           "score", 10),
    Column("raw_score", "Raw score", "The mean of the reviewers' weighted totals, before normalisation.", "score", 10),
    Column("reviewers", "Reviewers", "How many submitted score sheets the entry has.", "whole", 10),
    Column("spread", "Spread", "How far the reviewers' totals differ (standard deviation).", "score", 10),
    Column("borderline", "Borderline", "TRUE when leaving out any single reviewer moves the entry across the cut.",
           "bool", 10),
    Column("tied", "Tied", "TRUE when the score and the tie-break chain leave the entry tied with another.",
           "bool", 8),
    Column("outcome", "Outcome", "The proposed or signed outcome; empty before a decision is proposed.",
           width=26, words=partial(both_labels, "outcome")),
)


def _criterion_columns(criteria: list[dict[str, Any]]) -> list[Column]:
    about = "The criterion's mean score over the entry's reviewers (after normalisation), from {low} to {high}."
    columns = []
    for c in criteria:
        low, high = f"{c['min']:g}", f"{c['max']:g}"
        columns.append(Column(
            f"mean_{c['code']}", t("Mean: {name}", "en", name=localised(c, language="en")),
            t(about, "en", low=low, high=high), "score", 14,
            label_th=t("Mean: {name}", "th", name=localised(c, language="th")),
            about_th=t(about, "th", low=low, high=high)))
    return columns


async def _export(round_id: int) -> tuple[list[Column], list[list[Any]]]:
    view = await ranking_view(round_id)
    decisions = {d["entry"]: d["outcome"] for d in await Decision.select(Decision.entry, Decision.outcome).where(
        Decision.round == round_id)}
    criteria = (await get_round_row(round_id))["rules"].get("criteria", [])
    codes = [c["code"] for c in criteria]
    columns = [*EXPORT_COLUMNS, *_criterion_columns(criteria)]
    rows = []
    for item in view["items"]:
        values = {**item, "outcome": decisions.get(item["entry_id"], "")}
        rows.append([values.get(c.code) for c in EXPORT_COLUMNS] + [item["criterion_means"].get(c) for c in codes])
    return columns, rows


async def export_csv(round_id: int) -> bytes:
    """The ranking as CSV: one header row of stable codes (the XLSX's data dictionary explains
    them), UTF-8 with a BOM, every text cell neutralised against formula injection."""
    columns, rows = await _export(round_id)
    return write_csv(columns, rows)


async def export_xlsx(round_id: int) -> bytes:
    """The ranking as XLSX (``contest.spreadsheets.write_xlsx``): codes, then Thai and English
    labels, scores to 2 decimals, outcomes in words, and a data-dictionary sheet."""
    columns, rows = await _export(round_id)
    return write_xlsx([Sheet("ranking", columns, rows)])
