"""Rounds: the rubric and rules, the committee and its declared conflicts of interest, opening
and closing.

A round is created as a draft, its rules may change while it is a draft, and opening it freezes
them: the rules are stored exactly as hashed (``rules_hash``), and every later change gets 409
``frozen``. Opening a screening round takes the edition's eligible entries; opening a final round
takes the shortlist.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

import geothai

from contest import clock
from contest.db import atomic, existing, fetch, lock_row
from contest.domain import outcomes
from contest.domain.audit import Actor, append_event
from contest.domain.editions import edition_by_id
from contest.enums import EditionState, Role
from contest.errors import Conflict, ValidationFailed
from contest.i18n import both, current_language, t, thai_sorted
from contest.rules import require_organiser
from contest.tables import DeadlineExtension, Organisation, User
from judging.domain.assignments import fill_gaps
from judging.domain.conflicts import conflicts_by_member, declare_conflict, recuse_live
from judging.domain.ranking import NORMALISATIONS, rules_hash
from judging.domain.round_rows import criteria_of, cut_of, edition_row, get_round_row
from judging.enums import RoundKind, RoundState, RoundStates
from judging.tables import Assignment, Criterion, Member, Round, RoundEntry, Signature

KINDS = tuple(RoundKind)
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_CRITERIA = 20

# DGA's published themes for the award, as a starting rubric (0-10 each; weights sum to 100).
DEFAULT_RUBRIC: list[dict[str, Any]] = [
    {"code": "fit", "weight": 20, "min": 0, "max": 10,
     "name_th": "ความสอดคล้องระหว่างปัญหาและความต้องการของประชาชนกับโซลูชันดิจิทัล",
     "name_en": "Fit between local problems or citizens' needs and the digital solution",
     "description_th": "ปัญหาหรือความต้องการของประชาชนในพื้นที่ชัดเจน และโซลูชันดิจิทัลตอบโจทย์นั้นโดยตรง",
     "description_en": "The local problem or citizens' need is clear and the digital solution answers it directly."},
    {"code": "technology", "weight": 20, "min": 0, "max": 10,
     "name_th": "การนำเทคโนโลยีดิจิทัลมาใช้",
     "name_en": "Use of digital technology",
     "description_th": "เลือกใช้เทคโนโลยีอย่างเหมาะสม ปลอดภัย เชื่อมโยงข้อมูล และใช้งานได้จริง",
     "description_en": "Technology chosen appropriately, secure, connects data, and works in practice."},
    {"code": "vision", "weight": 15, "min": 0, "max": 10,
     "name_th": "วิสัยทัศน์และนโยบายของผู้บริหาร",
     "name_en": "Executives' vision and policy",
     "description_th": "ผู้บริหารมีวิสัยทัศน์ นโยบาย และการสนับสนุนการพัฒนาสู่ท้องถิ่นดิจิทัล",
     "description_en": "Executives have a vision, a policy and give support for the digital transformation."},
    {"code": "implementation", "weight": 15, "min": 0, "max": 10,
     "name_th": "การดำเนินงานอย่างมีประสิทธิภาพ",
     "name_en": "Efficient implementation",
     "description_th": "บริหารโครงการ ทรัพยากร และบุคลากรอย่างมีประสิทธิภาพ ให้บริการได้ต่อเนื่อง",
     "description_en": "The project, resources and staff are managed efficiently; the service runs continuously."},
    {"code": "results", "weight": 20, "min": 0, "max": 10,
     "name_th": "ผลลัพธ์และความพึงพอใจของประชาชน",
     "name_en": "Results and citizens' satisfaction",
     "description_th": "มีผลลัพธ์ที่วัดได้ จำนวนผู้ใช้บริการ และความพึงพอใจของประชาชน",
     "description_en": "Measurable results, number of citizens served, and citizens' satisfaction."},
    {"code": "adoption", "weight": 10, "min": 0, "max": 10,
     "name_th": "ศักยภาพในการขยายผลสู่องค์กรปกครองส่วนท้องถิ่นอื่น",
     "name_en": "Potential for other LAOs to adopt",
     "description_th": "องค์กรปกครองส่วนท้องถิ่นอื่นสามารถนำไปใช้หรือต่อยอดได้",
     "description_en": "Other local administrative organisations can adopt or build on it."},
]
DEFAULT_TIE_BREAK = ["results", "fit", "technology"]


# The edition pages read stored JSON columns through this name.


# --- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RoundView:
    id: int
    year: int
    edition_id: int
    kind: str
    state: str
    reviewers_per_entry: int
    normalisation: str
    tie_break: list[str]
    exclude_same_province: bool
    seed: int
    criteria: list[dict[str, Any]]
    rules_hash: str
    decision_hash: str
    opened_at: Any
    closed_at: Any
    signed_at: Any
    members: int
    entries: int
    signatures: list[dict[str, Any]]
    cut: int

    @property
    def frozen(self) -> bool:
        return self.state != RoundState.draft


async def get_round(round_id: int, *, row: dict[str, Any] | None = None) -> RoundView:
    """The round as pages show it; ``row``: its :func:`get_round_row`, when the caller has it."""
    if row is None:
        row = await get_round_row(round_id)
    criteria = row["rules"]["criteria"] if row["rules"] else await criteria_of(round_id)
    counts = (await fetch("SELECT (SELECT COUNT(*) FROM judging_member WHERE round = {}) AS members, "
                          "(SELECT COUNT(*) FROM judging_round_entry WHERE round = {}) AS entries",
                          round_id, round_id))[0]
    members, entries = counts["members"], counts["entries"]
    signatures = await Signature.select(Signature.user, Signature.user._.email, Signature.user._.name,
                                        Signature.signed_at, Signature.decision_hash).where(
        Signature.round == round_id).order_by(Signature.signed_at)
    return RoundView(
        id=row["id"], year=row["edition.year"], edition_id=row["edition"], kind=row["kind"], state=row["state"],
        reviewers_per_entry=row["reviewers_per_entry"], normalisation=row["normalisation"],
        tie_break=row["tie_break"], exclude_same_province=row["exclude_same_province"], seed=row["seed"],
        criteria=criteria, rules_hash=row["rules_hash"], decision_hash=row["decision_hash"],
        opened_at=row["opened_at"], closed_at=row["closed_at"], signed_at=row["signed_at"],
        members=members, entries=entries, cut=cut_of(row),
        signatures=[{"user_id": s["user"], "email": s["user.email"], "name": s["user.name"],
                     "signed_at": s["signed_at"], "decision_hash": s["decision_hash"]} for s in signatures])


async def list_rounds(year: int) -> list[RoundView]:
    edition = await edition_row(year)
    ids = await Round.select(Round.id).where(Round.edition == edition["id"]).order_by(Round.id)
    return [await get_round(r["id"]) for r in ids]


# --- rules --------------------------------------------------------------------------------------

def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def clean_rules(data: dict[str, Any], *, kind: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate a round's rules; returns (values, errors by field). Missing criteria mean DGA's
    default rubric."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if kind is not None:
        if kind not in KINDS:
            errors["kind"] = t("Choose screening or final.")
        values["kind"] = kind
    raw_criteria = data.get("criteria")
    if raw_criteria is None:
        raw_criteria = DEFAULT_RUBRIC
        values.setdefault("tie_break", list(DEFAULT_TIE_BREAK))
    criteria = _clean_criteria(raw_criteria, errors)
    values["criteria"] = criteria
    if "tie_break" in data and data["tie_break"] is not None:
        values["tie_break"] = data["tie_break"]
    _check_tie_break(values.get("tie_break", []), [c["code"] for c in criteria], errors)
    per_entry = data.get("reviewers_per_entry", 3)
    if isinstance(per_entry, bool) or not isinstance(per_entry, int) or not 1 <= per_entry <= 15:
        errors["reviewers_per_entry"] = t("Between 1 and 15 reviewers per entry.")
    values["reviewers_per_entry"] = per_entry
    normalisation = data.get("normalisation", "none")
    if normalisation not in NORMALISATIONS:
        errors["normalisation"] = t("Choose none or zscore.")
    values["normalisation"] = normalisation
    same_province = data.get("exclude_same_province", False)
    if not isinstance(same_province, bool):
        errors["exclude_same_province"] = t("Yes or no.")
    values["exclude_same_province"] = same_province
    if "seed" in data and data["seed"] is not None:
        seed = data["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
            errors["seed"] = t("The seed is a whole number from 0.")
        values["seed"] = seed
    return values, errors


def _clean_criteria(raw_criteria: Any, errors: dict[str, str]) -> list[dict[str, Any]]:
    """The rubric's criteria, each with its code, names, weight and score range; each problem
    is left in ``errors`` under the criterion's field."""
    criteria: list[dict[str, Any]] = []
    if not isinstance(raw_criteria, list) or not raw_criteria:
        errors["criteria"] = t("Give at least one criterion.")
        return criteria
    if len(raw_criteria) > MAX_CRITERIA:
        errors["criteria"] = t("At most {n} criteria.", n=MAX_CRITERIA)
        return criteria
    seen: set[str] = set()
    for i, c in enumerate(raw_criteria):
        field = f"criteria[{i}]"
        if not isinstance(c, dict):
            errors[field] = t("Each criterion needs a code, names, a weight and a score range.")
            continue
        code = str(c.get("code") or "").strip()
        name_th = str(c.get("name_th") or "").strip()
        name_en = str(c.get("name_en") or "").strip()
        weight, low, high = _number(c.get("weight", 1)), _number(c.get("min", 0)), _number(c.get("max", 10))
        if not CODE_RE.match(code):
            errors[f"{field}.code"] = t("A code is lower-case letters, digits or _ and starts with a letter.")
        elif code in seen:
            errors[f"{field}.code"] = t("The code {code} is used twice.", code=code)
        seen.add(code)
        if not name_th or len(name_th) > 255:
            errors[f"{field}.name_th"] = t("Give the Thai name (at most 255 characters).")
        if len(name_en) > 255:
            errors[f"{field}.name_en"] = t("At most {n} characters.", n=255)
        if weight is None or not 0 < weight <= 1000:
            errors[f"{field}.weight"] = t("The weight is a number above 0 and at most 1000.")
        if low is None or high is None or not low < high or abs(low) > 1000 or abs(high) > 1000:
            errors[f"{field}.range"] = t("The score range needs a minimum below its maximum.")
        criteria.append({"code": code, "name_th": name_th, "name_en": name_en,
                         "description_th": str(c.get("description_th") or c.get("description") or "").strip(),
                         "description_en": str(c.get("description_en") or "").strip(),
                         "weight": weight, "min": low, "max": high})
    return criteria


def _check_tie_break(tie_break: Any, codes: list[str], errors: dict[str, str]) -> None:
    if not isinstance(tie_break, list) or not all(isinstance(c, str) for c in tie_break):
        errors["tie_break"] = t("The tie-break chain is a list of criterion codes.")
        return
    unknown = [c for c in tie_break if c not in codes]
    if unknown:
        errors["tie_break"] = t("Not criteria of this rubric: {codes}.", codes=", ".join(unknown))
    elif len(set(tie_break)) != len(tie_break):
        errors["tie_break"] = t("A criterion appears twice in the tie-break chain.")


def _rules_document(row: dict[str, Any], criteria: list[dict[str, Any]]) -> dict[str, Any]:
    """The rules exactly as frozen and hashed."""
    return {"edition": row["edition.year"], "kind": row["kind"], "criteria": criteria,
            "reviewers_per_entry": row["reviewers_per_entry"], "normalisation": row["normalisation"],
            "tie_break": row["tie_break"], "exclude_same_province": row["exclude_same_province"],
            "cut": cut_of(row), "seed": row["seed"]}


async def _write_criteria(round_id: int, criteria: list[dict[str, Any]]) -> None:
    await Criterion.delete().where(Criterion.round == round_id)
    if criteria:
        await Criterion.insert(*[Criterion(round=round_id, code=c["code"], name_th=c["name_th"], name_en=c["name_en"],
                                           description_th=c["description_th"], description_en=c["description_en"],
                                           weight=c["weight"], min_score=c["min"], max_score=c["max"], position=i)
                                 for i, c in enumerate(criteria)])


async def create_round(*, actor: Actor, year: int, data: dict[str, Any]) -> int:
    """Create a draft round with its rubric (DGA's default when none is given). One round of
    each kind per edition."""
    require_organiser(actor)
    edition = await edition_row(year)
    kind = data.get("kind")
    values, errors = clean_rules(data, kind="" if kind is None else kind)  # a new round must say its kind
    if errors:
        raise ValidationFailed(errors=errors)
    async with atomic():
        await lock_row("edition", edition["id"])
        if await Round.exists().where((Round.edition == edition["id"]) & (Round.kind == values["kind"])):
            raise Conflict("This edition already has a {kind} round.", code="round_exists", kind=values["kind"])
        rows = await Round.insert(Round(
            edition=edition["id"], kind=values["kind"], reviewers_per_entry=values["reviewers_per_entry"],
            normalisation=values["normalisation"], tie_break=values.get("tie_break", []),
            exclude_same_province=values["exclude_same_province"],
            seed=values.get("seed", random.SystemRandom().randrange(2**31)), created_by=actor.id,
        )).returning(Round.id)
        round_id = rows[0]["id"]
        await _write_criteria(round_id, values["criteria"])
        await append_event(actor=actor, action="round.create", subject_type="round", subject_id=round_id,
                           after={"edition": year, **{k: v for k, v in values.items()}})
    return round_id


def _frozen() -> Conflict:
    return Conflict("The rules of this round are frozen since it opened; they cannot change.", code="frozen")


async def update_round(*, actor: Actor, round_id: int, data: dict[str, Any]) -> None:
    """Change a draft round's rules; 409 ``frozen`` once it has opened."""
    require_organiser(actor)
    row = await get_round_row(round_id)
    if row["state"] != RoundState.draft:
        raise _frozen()
    current = {"criteria": await criteria_of(round_id), "tie_break": row["tie_break"],
               "reviewers_per_entry": row["reviewers_per_entry"], "normalisation": row["normalisation"],
               "exclude_same_province": row["exclude_same_province"], "seed": row["seed"]}
    merged = {**current, **{k: v for k, v in data.items() if k in current and v is not None}}
    values, errors = clean_rules(merged, kind=None)
    if errors:
        raise ValidationFailed(errors=errors)
    async with atomic():
        updated = await Round.update({
            Round.reviewers_per_entry: values["reviewers_per_entry"], Round.normalisation: values["normalisation"],
            Round.tie_break: values["tie_break"], Round.exclude_same_province: values["exclude_same_province"],
            Round.seed: values.get("seed", row["seed"]), Round.updated_at: clock.now(),
        }).where((Round.id == round_id) & (Round.state == RoundState.draft)).returning(Round.id)
        if not updated:
            raise _frozen()
        await _write_criteria(round_id, values["criteria"])
        await append_event(actor=actor, action="round.update", subject_type="round", subject_id=round_id,
                           before=current, after=values)


# --- committee ----------------------------------------------------------------------------------

async def _users_by(user_ids: list[int], emails: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    found: list[dict[str, Any]] = []
    unknown: list[str] = []
    columns = (User.id, User.email, User.name, User.role, User.organisation, User.organisation._.code,
               User.organisation._.province_code, User.is_active)
    if user_ids:
        rows = await User.select(*columns).where(User.id.is_in(user_ids))
        by_id = {r["id"]: r for r in rows}
        for uid in user_ids:
            if uid in by_id:
                found.append(by_id[uid])
            else:
                unknown.append(str(uid))
    if emails:
        wanted = [e.strip().lower() for e in emails]
        rows = await User.select(*columns).where(User.email.is_in(wanted))
        by_email = {r["email"].lower(): r for r in rows}
        for email in wanted:
            if email in by_email:
                found.append(by_email[email])
            else:
                unknown.append(email)
    return found, unknown


def province_name(code: str) -> str:
    """A province code as people read it: "เชียงใหม่ (50)" (the code alone when unknown)."""
    province = geothai.province(code) if re.fullmatch(r"[0-9]{2}", code or "") else None
    if province is None:
        return code
    return f"{province.name_en if current_language.get() == 'en' else province.name_th} ({code})"


def same_province_applies(row: dict[str, Any]) -> bool:
    """The same-province rule binds screening rounds only: in the final every panel member
    scores every finalist unless recused for a declared conflict."""
    return bool(row["exclude_same_province"]) and row["kind"] == RoundKind.screening


def _clean_provinces(provinces: Any, emails: set[str], errors: dict[str, str]) -> dict[str, str]:
    """``{email: province code}``, each a real province (the official two-digit codes) of a member
    named in the same request."""
    if provinces is None:
        return {}
    if not isinstance(provinces, dict):
        errors["provinces"] = t("Give provinces as email: province code.")
        return {}
    out: dict[str, str] = {}
    for key, value in provinces.items():
        email = str(key).strip().lower()
        code = value.strip() if isinstance(value, str) else ""
        if not re.fullmatch(r"[0-9]{2}", code) or geothai.province(code) is None:
            errors[f"provinces.{email}"] = t("No province has the code {code}: give the official two-digit "
                                             "province code (e.g. 50 for Chiang Mai).", code=str(value))
        elif email not in emails:
            errors[f"provinces.{email}"] = t("{who} is not among the members named in this request.", who=email)
        else:
            out[email] = code
    return out


async def _declared_conflicts(conflicts: list[Any], errors: dict[str, str]) -> list[tuple[dict[str, Any], str, str]]:
    """The conflicts a request declares, as (member's account, organisation code, reason); each
    unusable line leaves its message in ``errors``."""
    declared: list[tuple[str, str, str]] = []  # (email, org code, reason)
    for i, c in enumerate(conflicts):
        if not isinstance(c, dict):
            errors[f"conflicts[{i}]"] = t("Each conflict needs an email and an organisation code.")
            continue
        declared.append((str(c.get("email") or "").strip().lower(), str(c.get("organisation_code") or "").strip(),
                         str(c.get("reason") or "").strip()))
    codes = {code for _, code, _ in declared}
    known_codes = {r["code"] for r in await Organisation.select(Organisation.code).where(
        Organisation.code.is_in(list(codes) or [""]))}
    declaring, _ = await _users_by([], [email for email, _, _ in declared])
    by_email = {u["email"].lower(): u for u in declaring}
    resolved: list[tuple[dict[str, Any], str, str]] = []
    for i, (email, code, reason) in enumerate(declared):
        if email not in by_email:
            errors[f"conflicts[{i}].email"] = t("No such account: {who}.", who=email or "-")
        if code not in known_codes:
            errors[f"conflicts[{i}].organisation_code"] = t("No organisation with code {code}.", code=code or "-")
        if email in by_email and code in known_codes:
            resolved.append((by_email[email], code, reason))
    return resolved


def _require_committee_changeable(state: str) -> None:
    if state not in RoundStates.COMMITTEE_CHANGEABLE:
        raise Conflict("The round is {state}: its committee can no longer change.", code="round_state", state=state)


async def add_members(*, actor: Actor, round_id: int, user_ids: list[int] | None = None,
                      emails: list[str] | None = None, provinces: dict[str, str] | None = None,
                      conflicts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Add committee members (reviewer accounts), set their provinces and record their declared
    conflicts of interest with organisations (``judging.domain.conflicts``). A member who works
    for an organisation has a conflict with it automatically. A conflict declared after
    assignment recuses the member from that organisation's entries, and a province given (or
    changed) after assignment in a round with the same-province rule recuses the member from
    their province's entries, submitted reviews included; every assignment so
    recused is listed in the answer (``recused``) and in the audit trail, and the gaps are
    filled. ``warnings`` names members the same-province rule cannot apply to (no province).
    Members, their conflicts and their provinces change in one transaction."""
    require_organiser(actor)
    row = await get_round_row(round_id)
    _require_committee_changeable(row["state"])
    users, unknown = await _users_by([int(u) for u in (user_ids or [])], list(emails or []))
    errors: dict[str, str] = {}
    if unknown:
        errors["members"] = t("No such account: {who}.", who=", ".join(unknown))
    not_reviewers = [u["email"] for u in users if u["role"] != Role.reviewer or not u["is_active"]]
    if not_reviewers:
        errors["members"] = t("Not an active committee account: {who}.", who=", ".join(not_reviewers))
    resolved = await _declared_conflicts(list(conflicts or []), errors)
    provinces = _clean_provinces(provinces, {u["email"].lower() for u in users}, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    current_province = {r["user"]: r["province_code"] for r in await Member.select(
        Member.user, Member.province_code).where(Member.round == round_id)}
    recused: list[dict[str, Any]] = []
    async with atomic():
        await lock_row("judging_round", round_id)
        _require_committee_changeable((await existing(Round.select(Round.state).where(Round.id == round_id)))["state"])
        added, moved = await _enrol(actor, round_id, users, provinces, current_province, resolved)
        member_ids = {u["id"] for u in users}
        for u, _, _ in resolved:
            if u["id"] not in current_province and u["id"] not in member_ids:
                raise ValidationFailed(errors={"conflicts": t("{who} is not a member of this round.", who=u["email"])})
        for u, code, reason in resolved:
            recused += await declare_conflict(actor=actor, round_id=round_id, user_id=u["id"],
                                              organisation_code=code, reason=reason)
        for u, old, new in moved:
            recused += await _moved_province(actor, row, u["id"], old, new)
        if added:
            await append_event(actor=actor, action="round.members", subject_type="round", subject_id=round_id,
                               after={"added": added})
    if recused:
        await fill_gaps(actor=actor, round_id=round_id)
    return {"added": added, "members": len(current_province), "recused": recused,
            "warnings": await committee_warnings(round_id, row)}


async def _enrol(actor: Actor, round_id: int, users: list[dict[str, Any]], provinces: dict[str, str],
                 current_province: dict[int, str], resolved: list[tuple[dict[str, Any], str, str]],
                 ) -> tuple[list[int], list[tuple[dict[str, Any], str, str]]]:
    """Inside the caller's transaction: insert the new members and set given provinces. Returns
    (added member ids, (member, old province, new province) for each province changed);
    ``current_province`` is updated, and each new member's own organisation joins ``resolved``
    as a conflict."""
    added: list[int] = []
    moved: list[tuple[dict[str, Any], str, str]] = []
    for u in users:
        given = provinces.get(u["email"].lower())
        if u["id"] in current_province:
            if given and given != current_province[u["id"]]:
                await Member.update({Member.province_code: given}).where(Member.key == f"{round_id}:{u['id']}")
                moved.append((u, current_province[u["id"]] or "", given))
                current_province[u["id"]] = given
            continue
        province = given or u["organisation.province_code"] or ""
        await Member.insert(Member(key=f"{round_id}:{u['id']}", round=round_id, user=u["id"],
                                   province_code=province, added_by=actor.id))
        current_province[u["id"]] = province
        added.append(u["id"])
        if u["organisation.code"]:
            resolved.append((u, u["organisation.code"], both("Works for this organisation.")))
    return added, moved


async def _moved_province(actor: Actor, row: dict[str, Any], user_id: int, old: str, new: str) -> list[dict[str, Any]]:
    """Inside the caller's transaction: a member's province changed; with the same-province rule
    they are recused from their new province's entries. Audited; returns what was recused."""
    taken_off: list[dict[str, Any]] = []
    if same_province_applies(row):
        taken_off = await recuse_live(
            actor=actor, round_id=row["id"], user_id=user_id,
            where=Assignment.entry._.organisation._.province_code == new,
            reason=both("From the member's own province ({province}).", province=new))
    await append_event(actor=actor, action="round.member_province", subject_type="round", subject_id=row["id"],
                       before={"user": user_id, "province": old},
                       after={"user": user_id, "province": new, "recused": taken_off})
    return taken_off


async def committee_warnings(round_id: int, row: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """What the committee page warns about: with the same-province rule, members with no
    province are exempt from it (the rule can only compare known provinces)."""
    row = row or await get_round_row(round_id)
    if not same_province_applies(row):
        return []
    rows = await Member.select(Member.user, Member.user._.email).where(
        (Member.round == round_id) & (Member.province_code == "")).order_by(Member.user._.email)
    if not rows:
        return []
    emails = [r["user.email"] for r in rows]
    return [{"code": "no_province", "emails": emails, "user_ids": [r["user"] for r in rows],
             "message": t("The same-province rule cannot apply to {n} members with no province: {who}. Give their "
                          "province codes.", n=len(rows), who=", ".join(emails))}]


async def list_members(round_id: int) -> list[dict[str, Any]]:
    rows = await Member.select(Member.user, Member.user._.email, Member.user._.name, Member.province_code).where(
        Member.round == round_id).order_by(Member.user._.email)
    rows = thai_sorted(rows, key=lambda r: r["user.name"])
    by_user = await conflicts_by_member(round_id)
    return [{"user_id": r["user"], "email": r["user.email"], "name": r["user.name"],
             "province_code": r["province_code"], "conflicts": by_user.get(r["user"], [])} for r in rows]


# --- opening and closing -----------------------------------------------------------------------

async def _submission_closed_at(edition: dict[str, Any]) -> Any:
    latest = await DeadlineExtension.select(DeadlineExtension.closes_at).where(
        DeadlineExtension.edition == edition["id"]).order_by(DeadlineExtension.closes_at, ascending=False).first()
    closes = edition["submission_closes_at"]
    return max(closes, latest["closes_at"]) if latest else closes


async def open_round(*, actor: Actor, round_id: int) -> str:
    """Freeze the rules (returns their hash) and take the entries: the eligible ones for
    screening (only once every submission deadline has passed and every submitted entry has an
    eligibility decision), the shortlist for the final."""
    require_organiser(actor)
    row = await get_round_row(round_id)
    if row["state"] != RoundState.draft:
        raise Conflict("This round has already opened.", code="already_open")
    edition = await edition_by_id(row["edition"])
    async with atomic():
        await lock_row("judging_round", round_id)
        if row["kind"] == RoundKind.screening:
            closes = await _submission_closed_at(edition)
            if clock.now() < closes:
                from contest.i18n import format_date
                raise Conflict("Submissions are open until {closes}; screening opens after that.",
                               code="submissions_open", closes=format_date(closes))
            pending = await outcomes.count_in_state(edition["id"], "submitted")
            if pending:
                # Opening takes only eligible entries: a submitted entry nobody judged would be
                # left out for good, without a reason the organisation could read.
                raise Conflict("{count} submitted entries have no eligibility decision yet. Mark each one eligible "
                               "or not eligible, then open the round.", code="eligibility_pending", count=pending)
            await outcomes.advance_edition(actor=actor, edition_id=edition["id"], to=EditionState.screening)
            taken = await outcomes.entries_in_state(edition["id"], "eligible")
        else:
            screening = await Round.select(Round.state).where(
                (Round.edition == edition["id"]) & (Round.kind == RoundKind.screening)).first()
            if screening is None or screening["state"] != RoundState.signed:
                raise Conflict("The final round opens after the screening decision is signed.",
                               code="screening_not_signed")
            await outcomes.advance_edition(actor=actor, edition_id=edition["id"], to=EditionState.final)
            taken = await outcomes.entries_in_state(edition["id"], "shortlisted")
        if not taken:
            raise Conflict("There are no entries for this round to judge.", code="no_entries")
        criteria = await criteria_of(round_id)
        document = _rules_document(row, criteria)
        digest = rules_hash(document)
        claimed = await Round.update({Round.state: RoundState.open, Round.rules: document, Round.rules_hash: digest,
                                      Round.opened_at: clock.now(), Round.updated_at: clock.now()}).where(
            (Round.id == round_id) & (Round.state == RoundState.draft)).returning(Round.id)
        if not claimed:
            raise Conflict("This round has already opened.", code="already_open")
        for start in range(0, len(taken), 1000):
            await RoundEntry.insert(*[RoundEntry(key=f"{round_id}:{e['id']}", round=round_id, entry=e["id"])
                                      for e in taken[start:start + 1000]])
        await append_event(actor=actor, action="round.open", subject_type="round", subject_id=round_id,
                           after={"rules_hash": digest, "entries": len(taken)})
    return digest


async def close_round(*, actor: Actor, round_id: int) -> None:
    """Stop scoring: submitted reviews count, unsubmitted ones do not."""
    require_organiser(actor)
    async with atomic():
        updated = await Round.update({Round.state: RoundState.closed, Round.closed_at: clock.now(),
                                      Round.updated_at: clock.now()}).where(
            (Round.id == round_id) & (Round.state == RoundState.open)).returning(Round.id)
        if not updated:
            row = await get_round_row(round_id)
            raise Conflict("Only an open round can be closed (this one is {state}).", code="round_state",
                           state=row["state"])
        await append_event(actor=actor, action="round.close", subject_type="round", subject_id=round_id,
                           after={"state": "closed"})
