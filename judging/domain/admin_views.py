"""Read queries for the organisers' judging pages: what the pages list, grouped and paginated in
SQL so a page stays fast with thousands of entries. No state changes here; the pages call the
domain functions in ``rounds``, ``scoring``, ``shortlist`` and ``contest.domain.outcomes`` for those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from piccolo.query.functions.aggregate import Count

from contest import db
from contest.db import fetch
from contest.enums import EntryStates, Role
from contest.errors import NotFound
from contest.i18n import thai_sorted
from contest.tables import Edition, Entry, Organisation, User
from judging.enums import AssignmentState, RoundKind, RoundState
from judging.tables import Assignment, Member, Round, RoundEntry, TieDecision

# The entries eligibility is about: submitted ones and those already marked either way.
ELIGIBILITY_STATES = EntryStates.JUDGEABLE


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)


def clamp_page(page: int | None, total: int, per_page: int) -> int:
    pages = max(1, -(-total // per_page))
    return min(max(1, page or 1), pages)


# --- one round's heading -------------------------------------------------------------------------

@dataclass(frozen=True)
class RoundHead:
    """What every round page shows at the top, read in one query (each query costs about 2 ms
    on SQLite whatever it does, and the progress page has 100 ms in all)."""

    id: int
    year: int
    kind: str
    state: str
    rules_hash: str
    members: int
    entries: int

    @property
    def frozen(self) -> bool:
        return self.state != RoundState.draft


# The head's counts beside a round's row read already (``round_rows.get_round_row``).
_HEAD_COUNTS_SQL = ("SELECT (SELECT COUNT(*) FROM judging_member m WHERE m.round = {}) AS members, "
                    "(SELECT COUNT(*) FROM judging_round_entry re WHERE re.round = {}) AS entries")


async def round_head(round_id: int, row: dict[str, Any] | None = None) -> RoundHead:
    """The head; a page that has read the round's row (``get_round_row``) passes it as ``row``,
    and only the counts are read."""
    if row is not None:
        counts = (await fetch(_HEAD_COUNTS_SQL, round_id, round_id))[0]
        return RoundHead(id=row["id"], year=row["edition.year"], kind=row["kind"], state=row["state"],
                         rules_hash=row["rules_hash"], members=counts["members"], entries=counts["entries"])
    rows = await Round.raw(
        "SELECT r.id, r.kind, r.state, r.rules_hash, e.year, "
        "(SELECT COUNT(*) FROM judging_member m WHERE m.round = r.id) AS members, "
        "(SELECT COUNT(*) FROM judging_round_entry re WHERE re.round = r.id) AS entries "
        "FROM judging_round r JOIN edition e ON e.id = r.edition WHERE r.id = {}", round_id)
    if not rows:
        raise NotFound("No such round.", code="round_not_found")
    r = rows[0]
    return RoundHead(id=r["id"], year=r["year"], kind=r["kind"], state=r["state"], rules_hash=r["rules_hash"],
                     members=r["members"], entries=r["entries"])


# --- the judging overview -----------------------------------------------------------------------

async def judging_overview() -> list[dict[str, Any]]:
    """Every edition (newest first) with its entry counts by state and its rounds (kind, state,
    entries, members, rules hash): four grouped queries whatever the number of editions."""
    editions = await Edition.select(Edition.id, Edition.year, Edition.title, Edition.state,
                                    Edition.submission_closes_at, Edition.shortlist_size, Edition.winners).order_by(
        Edition.year, ascending=False)
    state_counts: dict[int, dict[str, int]] = {}
    for r in await Entry.select(Entry.edition, Entry.state, Count(Entry.id).as_alias("n")).group_by(
            Entry.edition, Entry.state):
        state_counts.setdefault(r["edition"], {})[r["state"]] = r["n"]
    rounds = await Round.select(Round.id, Round.edition, Round.kind, Round.state, Round.rules_hash,
                                Round.reviewers_per_entry, Round.opened_at, Round.closed_at,
                                Round.signed_at).order_by(Round.id)
    members = {r["round"]: r["n"] for r in await Member.select(
        Member.round, Count(Member.id).as_alias("n")).group_by(Member.round)}
    taken = {r["round"]: r["n"] for r in await RoundEntry.select(
        RoundEntry.round, Count(RoundEntry.id).as_alias("n")).group_by(RoundEntry.round)}
    by_edition: dict[int, list[dict[str, Any]]] = {}
    for r in rounds:
        by_edition.setdefault(r["edition"], []).append(
            {**r, "members": members.get(r["id"], 0), "entries": taken.get(r["id"], 0)})
    out = []
    for e in editions:
        counts = state_counts.get(e["id"], {})
        out.append({**e, "counts": counts, "total": sum(counts.values()),
                    "rounds": by_edition.get(e["id"], []),
                    "missing_kinds": [k for k in RoundKind
                                      if k not in {r["kind"] for r in by_edition.get(e["id"], [])}]})
    return out


# --- eligibility --------------------------------------------------------------------------------

def _eligibility_filter(edition_id: int, state: str | None, province: str | None, category: str | None) -> Any:
    where = (Entry.edition == edition_id) & (
        (Entry.state == state) if state in ELIGIBILITY_STATES else Entry.state.is_in(list(ELIGIBILITY_STATES)))
    if province:
        where &= Entry.organisation._.province_code == province
    if category:
        where &= Entry.category == category
    return where


async def eligibility_entries(edition_id: int, *, state: str | None = None, province: str | None = None,
                              category: str | None = None, page: int = 1, per_page: int = 100) -> Page:
    """Submitted, eligible and ineligible entries of an edition with the filters, one page, and
    counts per state over the whole edition (drafts and withdrawn included, for the record)."""
    where = _eligibility_filter(edition_id, state, province, category)
    total = await Entry.count().where(where)
    page = clamp_page(page, total, per_page)
    rows = await Entry.select(
        Entry.id, Entry.title, Entry.category, Entry.state, Entry.eligibility_reason, Entry.submitted_at,
        Entry.organisation._.code, Entry.organisation._.name_th, Entry.organisation._.province_name_th,
        Entry.organisation._.kind,
    ).where(where).order_by(Entry.id).limit(per_page).offset((page - 1) * per_page)
    counts = {r["state"]: r["n"] for r in await Entry.select(Entry.state, Count(Entry.id).as_alias("n")).where(
        Entry.edition == edition_id).group_by(Entry.state)}
    return Page(rows, total, page, per_page, counts)


async def eligibility_ids(edition_id: int, *, state: str | None = None, province: str | None = None,
                          category: str | None = None) -> list[int]:
    """The ids of every entry the filters match (a bulk action on "all matching")."""
    rows = await Entry.select(Entry.id).where(_eligibility_filter(edition_id, state, province, category)).order_by(
        Entry.id)
    return [r["id"] for r in rows]


async def entry_provinces(edition_id: int) -> list[dict[str, str]]:
    """The provinces the edition's submitted entries come from, for the filter."""
    rows = await Entry.select(Entry.organisation._.province_code.as_alias("code"),
                              Entry.organisation._.province_name_th.as_alias("name")).where(
        (Entry.edition == edition_id) & Entry.state.is_in(list(ELIGIBILITY_STATES))).distinct()
    return sorted(({"code": r["code"], "name": r["name"]} for r in rows if r["code"]), key=lambda p: p["name"])


# --- committee ----------------------------------------------------------------------------------

async def organisation_names(codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await Organisation.select(Organisation.code, Organisation.name_th).where(
        Organisation.code.is_in(sorted(set(codes))))
    return {r["code"]: r["name_th"] for r in rows}


#: How many people a committee search lists at most.
CANDIDATES_SHOWN = 30


async def committee_candidates(round_id: int, q: str, *,
                               limit: int = CANDIDATES_SHOWN) -> tuple[list[dict[str, Any]], int]:
    """Active committee accounts whose name or e-mail address contains ``q`` (case folded), in
    Thai dictionary order of their names, at most ``limit`` of them, and how many match in all.
    Each says whether it already sits on the round's committee, and its organisation's province
    (the province the same-province rule uses when none is given)."""
    q = q.strip()
    if not q:
        return [], 0
    where = ((User.role == Role.reviewer) & (User.is_active == True)  # noqa: E712 - a SQL comparison
             & (db.contains('"app_user"."email"', q) | db.contains('"app_user"."name"', q)))
    total = await User.count().where(where)
    rows = await User.select(User.id, User.email, User.name, User.organisation._.name_th,
                             User.organisation._.province_code).where(where).order_by(User.email).limit(500)
    rows = thai_sorted(rows, key=lambda r: r["name"] or r["email"])[:limit]
    members = {r["user"]: r["province_code"] for r in await Member.select(Member.user, Member.province_code).where(
        (Member.round == round_id) & Member.user.is_in([r["id"] for r in rows] or [0]))}
    return [{"user_id": r["id"], "email": r["email"], "name": r["name"],
             "organisation": r["organisation.name_th"] or "",
             "organisation_province": r["organisation.province_code"] or "",
             "member": r["id"] in members, "province_code": members.get(r["id"], "")} for r in rows], total


async def member_of(round_id: int, user_id: int) -> dict[str, Any]:
    row = await Member.select(Member.user, Member.province_code, Member.user._.email, Member.user._.name).where(
        (Member.round == round_id) & (Member.user == user_id)).first()
    if row is None:
        # A member may have left while keeping assignments; their account still names them.
        user = await User.select(User.id, User.email, User.name).where(User.id == user_id).first()
        if user is None or not await Assignment.exists().where(
                (Assignment.round == round_id) & (Assignment.reviewer == user_id)):
            raise NotFound("No such member in this round.", code="member_not_found")
        return {"user_id": user["id"], "email": user["email"], "name": user["name"], "province_code": ""}
    return {"user_id": row["user"], "email": row["user.email"], "name": row["user.name"],
            "province_code": row["province_code"]}


async def recusals(round_id: int, *, limit: int = 200) -> tuple[list[dict[str, Any]], int]:
    """The round's recused assignments, newest first, with who, which entry, why, and whether
    the review had been submitted when it was recused (its submission time is kept)."""
    where = (Assignment.round == round_id) & (Assignment.state == AssignmentState.recused)
    total = await Assignment.count().where(where)
    rows = await Assignment.select(
        Assignment.id, Assignment.entry, Assignment.recuse_reason, Assignment.submitted_at, Assignment.updated_at,
        Assignment.entry._.title, Assignment.entry._.organisation._.code, Assignment.entry._.organisation._.name_th,
        Assignment.reviewer, Assignment.reviewer._.name, Assignment.reviewer._.email,
    ).where(where).order_by(Assignment.updated_at, ascending=False).order_by(Assignment.id, ascending=False).limit(
        limit)
    return rows, total


ASSIGNMENT_COLUMNS = (Assignment.id, Assignment.entry, Assignment.state, Assignment.recuse_reason,
                      Assignment.submitted_at, Assignment.updated_at, Assignment.entry._.title,
                      Assignment.entry._.organisation._.name_th, Assignment.entry._.organisation._.province_name_th)


async def member_assignments(round_id: int, user_id: int, *, state: str | None = None, page: int = 1,
                             per_page: int = 100) -> Page:
    """One member's assignments in a round, one page, with counts per state."""
    where = (Assignment.round == round_id) & (Assignment.reviewer == user_id)
    counts = {r["state"]: r["n"] for r in await Assignment.select(
        Assignment.state, Count(Assignment.id).as_alias("n")).where(where).group_by(Assignment.state)}
    if state in tuple(AssignmentState):
        where &= Assignment.state == state
    total = await Assignment.count().where(where)
    page = clamp_page(page, total, per_page)
    rows = await Assignment.select(*ASSIGNMENT_COLUMNS).where(where).order_by(Assignment.id).limit(
        per_page).offset((page - 1) * per_page)
    return Page(rows, total, page, per_page, counts)


async def assignment_row(assignment_id: int) -> dict[str, Any]:
    """One assignment as a member's page lists it, with its round and reviewer."""
    row = await Assignment.select(*ASSIGNMENT_COLUMNS, Assignment.round, Assignment.reviewer).where(
        Assignment.id == assignment_id).first()
    if row is None:
        raise NotFound("No such assignment.", code="assignment_not_found")
    return row


# --- the final's presentation slots -------------------------------------------------------------

async def finalists(round_id: int) -> list[dict[str, Any]]:
    """The entries a final round judges, with their organisation, in entry order."""
    rows = await RoundEntry.select(RoundEntry.entry, RoundEntry.entry._.title, RoundEntry.entry._.organisation._.code,
                                   RoundEntry.entry._.organisation._.name_th,
                                   RoundEntry.entry._.organisation._.province_name_th).where(
        RoundEntry.round == round_id).order_by(RoundEntry.entry)
    return [{"entry_id": r["entry"], "title": r["entry.title"], "organisation_code": r["entry.organisation.code"],
             "organisation_name_th": r["entry.organisation.name_th"],
             "province_name_th": r["entry.organisation.province_name_th"]} for r in rows]


# --- ranking ------------------------------------------------------------------------------------

async def tie_decisions(round_id: int) -> list[dict[str, Any]]:
    """The committee's recorded orders for tied entries, oldest first."""
    rows = await TieDecision.select(TieDecision.entry, TieDecision.position, TieDecision.reason,
                                    TieDecision.created_at, TieDecision.entry._.title).where(
        TieDecision.round == round_id).order_by(TieDecision.created_at, TieDecision.position)
    return rows


def tied_groups(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Entries the score and the tie-break chain left tied, grouped by their shared rank."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        if item.get("tied") and item.get("rank") is not None:
            groups.setdefault(item["rank"], []).append(item)
    return [groups[rank] for rank in sorted(groups) if len(groups[rank]) > 1]
