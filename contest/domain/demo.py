"""Demo data: the registry, demo accounts and an edition open for submissions right now, with
entries arriving since it opened (drafts and submitted ones, spread over the days), so the
edition cockpit has figures to show. Deterministic for a given day: the randomness is seeded."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from contest import clock
from contest.domain import accounts, editions, notices, organisations, twofactor
from contest.domain.audit import SYSTEM
from contest.domain.demo_registry import generate_demo_registry
from contest.enums import EntryState
from contest.settings import get_settings
from contest.tables import Edition, Entry, Organisation, User

ADMINS = [f"admin{i}@demo.test" for i in (1, 2)]
REVIEWERS = [f"reviewer{i:02d}@demo.test" for i in range(1, 21)]
PANEL = [f"panel{i:02d}@demo.test" for i in range(1, 8)]
APPLICANTS = [f"applicant{i:02d}@demo.test" for i in range(1, 6)]
#: Entries other organisations have started in the open edition (the applicants' own have none).
CURRENT_ENTRIES = 60
_TITLES = ("ระบบรับแจ้งเรื่องร้องเรียนออนไลน์", "ระบบจองคิวรับบริการ", "แผนที่ภาษีดิจิทัล", "ระบบติดตามรถเก็บขยะ",
           "แอปดูแลผู้สูงอายุ", "ระบบขออนุญาตก่อสร้างออนไลน์", "แดชบอร์ดข้อมูลเปิดของเมือง",
           "ระบบลงทะเบียนเบี้ยยังชีพ", "ระบบเตือนภัยน้ำท่วมชุมชน", "ระบบชำระค่าธรรมเนียมด้วย QR Code")


@dataclass(frozen=True)
class DemoReport:
    organisations: int
    users: list[tuple[str, str, str]]  # email, role, organisation
    edition_year: int


async def is_empty() -> bool:
    return not await Organisation.exists() and not await User.exists()


def current_be_year() -> int:
    return clock.to_bangkok(clock.now()).year + 543


async def load_demo(password: str) -> DemoReport:
    """Load the demo registry, accounts and the current edition. Safe to run twice."""
    records = generate_demo_registry()
    report = await organisations.import_organisations(records, actor=SYSTEM)
    users: list[tuple[str, str, str]] = []
    existing = {r["email"] for r in await User.select(User.email)}
    # Applicants belong to a few well-known organisations so a visitor can try submitting.
    applicant_orgs = [r.code for r in records if r.kind in ("city_municipality", "pao", "sao")][:len(APPLICANTS)]
    plan = ([(e, "admin", None) for e in ADMINS] + [(e, "reviewer", None) for e in REVIEWERS]
            + [(e, "reviewer", None) for e in PANEL]
            + [(e, "applicant", code) for e, code in zip(APPLICANTS, applicant_orgs, strict=False)])
    for email, role, org in plan:
        if email not in existing:
            name = email.split("@")[0].replace("applicant", "เจ้าหน้าที่ ").replace("reviewer", "กรรมการ ") \
                .replace("panel", "ผู้ทรงคุณวุฒิ ").replace("admin", "ผู้ดูแล ")
            user_id = await accounts.create_user(actor=SYSTEM, email=email, password=password, role=role,
                                                 name=name, organisation_code=org)
            await notices.accept_current(user_id, "demo")
            if twofactor.required_for(role):
                # Admins and committee members sign in with two factors, from the documented key.
                await twofactor.enrol_known_secret(actor=SYSTEM, user_id=user_id,
                                                   secret=get_settings().demo_totp_secret)
        users.append((email, role, org or ""))
    year = current_be_year()
    applicant_org_ids = {u["organisation"] for u in await User.select(User.organisation).where(
        User.email.is_in(APPLICANTS))}
    if not await Edition.exists().where(Edition.year == year):
        today = clock.to_bangkok(clock.now()).replace(hour=0, minute=0, second=0, microsecond=0)
        opens = today - timedelta(days=14)
        closes = (today + timedelta(days=45)).replace(hour=16, minute=30)
        await editions.create_edition(actor=SYSTEM, data={
            "year": year,
            "title": f"รางวัลท้องถิ่นดิจิทัล ประจำปี {year}",
            "title_en": f"Digital Local Government Award {year - 543}",
            "description": "ประกวดนวัตกรรมบริการดิจิทัลขององค์กรปกครองส่วนท้องถิ่น",
            "submission_opens_at": opens,
            "submission_closes_at": closes,
            "screening_closes_at": closes + timedelta(days=30),
            "final_closes_at": closes + timedelta(days=60),
            "announcement_at": (closes + timedelta(days=75)).replace(hour=10, minute=0),
            "state": "open",
        })
        await _arriving_entries(year, opens, applicant_org_ids)
    return DemoReport(organisations=report.created + report.updated + report.unchanged, users=users,
                      edition_year=year)




async def _arriving_entries(year: int, opens: datetime, skip: set[int | None]) -> None:
    """Entries of the open edition from other organisations, created since it opened (more each
    day), about two in three of them submitted a few days after being started."""
    rng = random.Random(year)
    now = clock.now()
    edition_id = (await editions.get_edition(year)).id
    orgs = [o["id"] for o in await Organisation.select(Organisation.id).where(
        Organisation.kind.is_in(["city_municipality", "town_municipality", "subdistrict_municipality", "sao"]))
        .order_by(Organisation.code) if o["id"] not in skip]
    rows = []
    for i, org_id in enumerate(rng.sample(orgs, min(CURRENT_ENTRIES, len(orgs)))):
        created = opens + (now - opens) * rng.random() ** 0.7
        submitted = created + timedelta(hours=rng.randrange(2, 96)) if rng.random() < 0.68 else None
        if submitted is not None and submitted >= now:
            submitted = None
        rows.append(Entry(edition=edition_id, organisation=org_id, title=_TITLES[i % len(_TITLES)],
                          category=rng.choice(["service", "management", "participation", "data"]),
                          state=EntryState.submitted if submitted else EntryState.draft, created_at=created,
                          updated_at=submitted or created, submitted_at=submitted,
                          submitted_revision=1 if submitted else None, submission_count=1 if submitted else 0,
                          contact_name="ผู้ประสานงาน", contact_email=f"it{i + 1:02d}@demo.test"))
    if rows:
        await Entry.insert(*rows)
