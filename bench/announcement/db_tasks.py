"""Database side of the announcement benchmark, run in a subprocess whose environment names the
throw-away database (``VAR_DIR``, ``DATABASE_URL``)::

    python -m bench.announcement.db_tasks seed N PASSWORD    # prints JSON facts

The seed is the state the final round's second signature leaves behind, inserted directly (as
``bench/ranking/db_tasks.py`` does) instead of 7,000 submissions and two rounds of judging: N
organisations in every province, one confirmed applicant each (one argon2 hash shared), N entries
of edition 2569 of which 1 is the winner, 39 more are finalists and the rest not shortlisted, each
with the screening committee's aggregated feedback; the announcement time has just passed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from typing import Any

YEAR = 2569
BATCH = 500  # well under asyncpg's 32,767 parameters and SQLite's variable limit
FINALISTS = 40  # the winner included
ADMIN_EMAIL = "admin@bench.dga.or.th"
CRITERIA = (("fit", "ความสอดคล้องกับความต้องการของประชาชน", "Fit with citizens' needs", 20),
            ("technology", "การนำเทคโนโลยีดิจิทัลมาใช้", "Use of digital technology", 20),
            ("results", "ผลลัพธ์และความพึงพอใจของประชาชน", "Results and satisfaction", 30))


def applicant_email(i: int) -> str:
    return f"org{i:05d}@bench.go.th"


def _feedback(i: int) -> str:
    return json.dumps({"reviewers": 3, "comments": ["ผลงานชัดเจน ควรวัดผลลัพธ์ให้ละเอียดขึ้น", "ดี"],
                       "criteria": [{"code": c, "name_th": th, "name_en": en, "max": top,
                                     "mean": round(top * (0.4 + (i % 50) / 100), 2)} for c, th, en, top in CRITERIA]},
                      ensure_ascii=False, sort_keys=True)


async def seed(n: int, password: str) -> dict[str, Any]:
    from bench.signin import BENCH_TOTP_SECRET, accept_privacy_notice
    from contest import clock
    from contest.domain import accounts, editions
    from contest.domain.audit import SYSTEM
    from contest.domain.registry import KINDS, PROVINCE_REGION
    from contest.tables import Entry, Membership, Organisation, User

    now = clock.now()
    await editions.create_edition(actor=SYSTEM, data={
        "year": YEAR, "title": f"รางวัลท้องถิ่นดิจิทัล {YEAR}", "submission_opens_at": now - timedelta(days=120),
        "submission_closes_at": now - timedelta(days=90), "announcement_at": now - timedelta(minutes=5)})
    edition_id = (await editions.get_edition(YEAR)).id
    provinces = sorted(PROVINCE_REGION)
    orgs = []
    for i in range(n):
        province = provinces[i % len(provinces)]
        kind = KINDS[i % 5]
        orgs.append(Organisation(code=f"8{i:06d}", name_th=f"เทศบาลตำบลทดสอบ{i}", name_en=f"Bench town {i}",
                                 kind=kind, province_code=province, province_name_th=f"จังหวัด{province}",
                                 province_name_en=f"Province {province}", region=PROVINCE_REGION[province],
                                 search_text=f"เทศบาลตำบลทดสอบ{i}"))
    for start in range(0, n, BATCH):
        await Organisation.insert(*orgs[start:start + BATCH])
    org_ids = [o["id"] for o in await Organisation.select(Organisation.id).order_by(Organisation.id)]

    password_hash = accounts.hash_password(password)
    users = [User(email=applicant_email(i), name=f"ผู้ประสานงาน {i}", password_hash=password_hash, role="applicant",
                  organisation=org_id, email_confirmed_at=now, is_active=True) for i, org_id in enumerate(org_ids)]
    users.append(User(email=ADMIN_EMAIL, name="ผู้ดูแล", password_hash=password_hash, role="admin",
                      email_confirmed_at=now, is_active=True, totp_secret=BENCH_TOTP_SECRET, totp_enabled_at=now))
    for start in range(0, len(users), BATCH):
        await User.insert(*users[start:start + BATCH])
    await accept_privacy_notice()
    # Each organisation's account is its verified member (as an operator's vouching makes it).
    members = await User.select(User.id, User.organisation).where(User.role == "applicant")
    rows = [Membership(user=m["id"], organisation=m["organisation"], state="verified", decided_at=now)
            for m in members]
    for start in range(0, len(rows), BATCH):
        await Membership.insert(*rows[start:start + BATCH])

    def state(i: int) -> str:
        return "winner" if i == 0 else "finalist" if i < FINALISTS else "not_shortlisted"

    entries = [Entry(edition=edition_id, organisation=org_id, state=state(i), title=f"นวัตกรรมบริการดิจิทัล {i}",
                     category=("service", "health", "education")[i % 3],
                     summary="ประชาชนแจ้งเรื่องผ่าน LINE และติดตามสถานะได้เอง " * 4,
                     problem="เดิมต้องเดินทางมาที่สำนักงาน ใช้เวลาหลายวันกว่าจะได้รับการแก้ไข " * 6,
                     solution="แพลตฟอร์มรับเรื่อง แจ้งเจ้าหน้าที่อัตโนมัติ และแผนที่จุดปัญหา " * 6,
                     results="เวลาเฉลี่ยในการแก้ไขลดลงจาก 7 วันเหลือ 2 วัน " * 6, citizens_served=1000 + i,
                     technology="LINE OA, PostgreSQL", links=["https://service.example.go.th/"],
                     video_url="https://video.example.org/watch?v=1", contact_name="ผู้ประสานงาน",
                     contact_email="it@example.go.th", consent_publish=i % 7 != 3,
                     outcome_rank=1 if i == 0 else i + 1, feedback=_feedback(i),
                     submitted_at=now - timedelta(days=95), submitted_revision=1)
               for i, org_id in enumerate(org_ids)]
    for start in range(0, n, BATCH):
        await Entry.insert(*entries[start:start + BATCH])
    return {"organisations": n, "applicants": n, "entries": n, "winners": 1, "finalists": FINALISTS - 1,
            "admin_email": ADMIN_EMAIL}


def main(argv: list[str]) -> None:
    from contest.cli import with_db

    if argv[0] != "seed":
        raise SystemExit(f"unknown command {argv[0]}")
    print(json.dumps(asyncio.run(with_db(seed(int(argv[1]), argv[2])))))


if __name__ == "__main__":
    main(sys.argv[1:])
