"""Demo data: the registry, demo accounts and an edition open for submissions right now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from contest import clock
from contest.domain import accounts, editions, notices, organisations, twofactor
from contest.domain.audit import SYSTEM
from contest.domain.demo_registry import generate_demo_registry
from contest.settings import get_settings
from contest.tables import Edition, Organisation, User

ADMINS = [f"admin{i}@demo.test" for i in (1, 2)]
REVIEWERS = [f"reviewer{i:02d}@demo.test" for i in range(1, 21)]
PANEL = [f"panel{i:02d}@demo.test" for i in range(1, 8)]
APPLICANTS = [f"applicant{i:02d}@demo.test" for i in range(1, 6)]


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
    return DemoReport(organisations=report.created + report.updated + report.unchanged, users=users,
                      edition_year=year)


