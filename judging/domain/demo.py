"""Demo data for judging and the announcement: last year's edition, judged and published.

``contest demo`` loads it after contest's own demo (the registry, the accounts and the current
edition open for submissions), so a visitor to ``make run`` finds a real archive: results, the
showcase, open data, signed rounds with rankings, and the demo committee's past queues. Every
step goes through the domain functions (eligibility, rounds, assignment, scoring, decisions,
signatures, publication); only the submitted entries are inserted directly, because their
deadline lies in the past.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from contest import clock
from contest.domain import announcement, editions, outcomes
from contest.domain.audit import SYSTEM, Actor
from contest.domain.demo import APPLICANTS
from contest.enums import EditionState, EntryState
from contest.errors import DomainError
from contest.tables import Edition, Entry, Organisation, User
from judging.domain import assignments, round_rows, rounds, scoring, shortlist
from judging.enums import RoundKind

ENTRIES = 80
#: Where the first demo applicant's entry stands among the entries (past the four ineligible ones).
OWN_ENTRY = 10

INNOVATIONS = [
    ("ระบบรับแจ้งเหตุเดือดร้อนผ่าน LINE", "ประชาชนแจ้งไฟฟ้าดับ ถนนชำรุด น้ำท่วม ผ่าน LINE พร้อมพิกัดและรูปถ่าย",
     "เดิมต้องเดินทางมาแจ้งที่สำนักงาน เรื่องตกหล่นและติดตามไม่ได้",
     "LINE Official Account เชื่อมแดชบอร์ดมอบหมายงานให้เจ้าหน้าที่และแจ้งสถานะกลับอัตโนมัติ",
     "แก้ไขเรื่องร้องเรียนเร็วขึ้นจาก 7 วันเหลือ 2 วัน ความพึงพอใจร้อยละ 92"),
    ("แผนที่ภาษีและทะเบียนทรัพย์สินดิจิทัล", "จัดเก็บภาษีที่ดินและสิ่งปลูกสร้างด้วยแผนที่ดิจิทัล",
     "ข้อมูลแปลงที่ดินกระจัดกระจาย จัดเก็บภาษีได้ไม่ครบ",
     "ระบบ GIS เชื่อมข้อมูลแปลงที่ดิน สิ่งปลูกสร้าง และการชำระภาษีผ่าน QR Code",
     "รายได้จากภาษีเพิ่มขึ้นร้อยละ 18 ลดเวลาประเมินลงครึ่งหนึ่ง"),
    ("ระบบจองคิวรับบริการออนไลน์", "จองคิวรับบริการงานทะเบียนและชำระค่าธรรมเนียมล่วงหน้า",
     "ประชาชนต้องรอคิวนานหลายชั่วโมง", "เว็บและ LINE สำหรับจองคิว แจ้งเตือนก่อนถึงเวลา",
     "เวลารอเฉลี่ยลดจาก 90 นาทีเหลือ 10 นาที"),
    ("ระบบติดตามรถเก็บขยะด้วย GPS", "ประชาชนดูตำแหน่งรถเก็บขยะแบบเรียลไทม์",
     "ขยะตกค้างและไม่ทราบเวลารถเข้าเก็บ", "อุปกรณ์ GPS บนรถเก็บขยะพร้อมแผนที่สาธารณะและแจ้งเตือน",
     "ข้อร้องเรียนเรื่องขยะลดลงร้อยละ 60 ประหยัดน้ำมันร้อยละ 12"),
    ("แอปพลิเคชันดูแลผู้สูงอายุและผู้ป่วยติดเตียง", "อาสาสมัครบันทึกการเยี่ยมบ้านและสุขภาพผู้สูงอายุ",
     "ข้อมูลการดูแลอยู่ในกระดาษ ส่งต่อโรงพยาบาลล่าช้า",
     "แอปบนมือถือสำหรับ อสม. เชื่อมข้อมูลกับโรงพยาบาลส่งเสริมสุขภาพตำบล",
     "ผู้สูงอายุ 1,200 คนได้รับการติดตามต่อเนื่อง ส่งต่อผู้ป่วยเร็วขึ้น"),
    ("ระบบบริหารจัดการน้ำเพื่อการเกษตรอัจฉริยะ", "เซนเซอร์วัดระดับน้ำและความชื้นดินแจ้งเกษตรกร",
     "ขาดข้อมูลการจัดสรรน้ำในฤดูแล้ง", "IoT วัดระดับน้ำในคลองและความชื้นดิน พร้อมแดชบอร์ดและแจ้งเตือน",
     "ลดความเสียหายจากภัยแล้ง เกษตรกร 800 ครัวเรือนใช้งาน"),
    ("ระบบขออนุญาตก่อสร้างอิเล็กทรอนิกส์", "ยื่นขออนุญาตก่อสร้างและติดตามสถานะออนไลน์",
     "ขั้นตอนยุ่งยาก ต้องเดินทางหลายครั้ง", "e-Service ยื่นเอกสาร ตรวจแบบ และออกใบอนุญาตอิเล็กทรอนิกส์",
     "ระยะเวลาอนุญาตลดจาก 45 วันเหลือ 15 วัน"),
    ("แดชบอร์ดข้อมูลเมืองเปิด", "เปิดเผยข้อมูลงบประมาณ โครงการ และบริการสาธารณะ",
     "ประชาชนเข้าถึงข้อมูลการบริหารงานได้ยาก", "ระบบข้อมูลเปิดพร้อมแดชบอร์ดและดาวน์โหลดชุดข้อมูล",
     "ชุดข้อมูล 45 ชุด ผู้เข้าชม 30,000 ครั้งต่อปี"),
    ("ระบบลงทะเบียนเบี้ยยังชีพออนไลน์", "ลงทะเบียนรับเบี้ยยังชีพผู้สูงอายุและผู้พิการผ่านออนไลน์",
     "ผู้สูงอายุเดินทางลำบาก เอกสารสูญหาย", "ลงทะเบียนผ่านเว็บ ยืนยันตัวตนด้วยบัตรประชาชน เชื่อมฐานข้อมูลกลาง",
     "ผู้มีสิทธิ์ลงทะเบียนครบร้อยละ 98"),
    ("ระบบกล้อง CCTV อัจฉริยะเพื่อความปลอดภัย", "กล้องตรวจจับเหตุและแจ้งศูนย์ควบคุม",
     "จุดเสี่ยงอุบัติเหตุและอาชญากรรมไม่มีการเฝ้าระวัง", "กล้อง AI ตรวจจับเหตุผิดปกติ แจ้งเตือนศูนย์ และ อปพร.",
     "อุบัติเหตุในจุดเสี่ยงลดลงร้อยละ 35"),
]


def _actor(user: dict[str, Any]) -> Actor:
    # The demo's admins sign in with two factors (enrolled with DEMO_TOTP_SECRET).
    return Actor(id=user["id"], email=user["email"], role=user["role"], two_factor=True)


async def load_past_edition(year: int) -> int | None:
    """Last year's edition, judged by the demo committee and panel and published. Returns the
    year, or None when it exists already (safe to run twice)."""
    if await Edition.exists().where(Edition.year == year):
        return None
    rng = random.Random(year)
    closes = clock.now() - timedelta(days=120)
    edition_id = await _create_edition(year, closes)
    entry_ids = await _submitted_entries(rng, edition_id, await _participants(rng), closes)
    ineligible = entry_ids[:4]
    await outcomes.set_eligibility(actor=SYSTEM, entry_ids=entry_ids[4:], eligible=True)
    await outcomes.set_eligibility(actor=SYSTEM, entry_ids=ineligible, eligible=False,
                                   reason="ยังไม่เปิดให้บริการประชาชนจริงในปีที่สมัคร")

    users = {u["email"]: u for u in await User.select(User.id, User.email, User.role)}
    committee = [users[e] for e in sorted(users) if e.startswith("reviewer")]
    panel = [users[e] for e in sorted(users) if e.startswith("panel")]
    admins = [_actor(users[e]) for e in sorted(users) if e.startswith("admin")][:2]
    quality = {e: rng.uniform(4, 9.5) for e in entry_ids}
    await _judge(rng, year, RoundKind.screening, committee, quality, admins)
    await _judge(rng, year, RoundKind.final, panel, quality, admins)
    await announcement.publish_results(actor=admins[0], year=year)
    return year


async def _create_edition(year: int, closes: datetime) -> int:
    """The past edition with its timeline around ``closes`` (its submission deadline)."""
    await editions.create_edition(actor=SYSTEM, data={
        "year": year, "title": f"รางวัลท้องถิ่นดิจิทัล ประจำปี {year}",
        "title_en": f"Digital Local Government Award {year - 543}",
        "description": "ประกวดนวัตกรรมบริการดิจิทัลขององค์กรปกครองส่วนท้องถิ่น",
        "submission_opens_at": closes - timedelta(days=60), "submission_closes_at": closes,
        "screening_closes_at": closes + timedelta(days=30), "final_closes_at": closes + timedelta(days=60),
        "announcement_at": closes + timedelta(days=75), "state": EditionState.open})
    return (await editions.get_edition(year)).id


async def _participants(rng: random.Random) -> list[int]:
    """The organisations that took part (ids): a sample of local governments that includes the
    first demo applicant's, so applicant01 finds a judged entry."""
    orgs = await Organisation.select(Organisation.id).where(
        Organisation.kind.is_in(["pao", "city_municipality", "town_municipality", "subdistrict_municipality", "sao"])
    ).order_by(Organisation.code)
    chosen = rng.sample([o["id"] for o in orgs], ENTRIES)
    first_applicant = await User.select(User.organisation).where(User.email == APPLICANTS[0]).first()
    if first_applicant is not None and first_applicant["organisation"] is not None:
        own = first_applicant["organisation"]
        chosen = [o for o in chosen if o != own]
        chosen.insert(OWN_ENTRY, own)
        chosen = chosen[:ENTRIES]
    return chosen


async def _submitted_entries(rng: random.Random, edition_id: int, chosen: list[int], closes: datetime) -> list[int]:
    """One submitted entry per organisation (inserted directly: the deadline lies in the past)."""
    opens = closes - timedelta(days=60)
    rows = []
    for i, org_id in enumerate(chosen):
        title, summary, problem, solution, results = INNOVATIONS[i % len(INNOVATIONS)]
        # Spread over the submission window, most of them in the last weeks, as entries arrive.
        submitted = closes - timedelta(minutes=int(60 * 24 * 59 * rng.random() ** 1.8) + 30)
        created = opens + (submitted - opens) * rng.random()
        rows.append(Entry(edition=edition_id, organisation=org_id, state=EntryState.submitted, title=title,
                          category=rng.choice(["service", "management", "participation", "data"]), summary=summary,
                          problem=problem, solution=solution, results=results, technology="LINE OA, PostgreSQL, GIS",
                          citizens_served=rng.randrange(500, 60000), contact_name="ผู้ประสานงาน",
                          contact_email="it@demo.test", consent_publish=rng.random() < 0.85,
                          links=["https://www.dga.or.th/"], created_at=created, updated_at=submitted,
                          submitted_at=submitted, submitted_revision=1, submission_count=1))
    inserted = await Entry.insert(*rows).returning(Entry.id)
    return [r["id"] for r in inserted]


async def _judge(rng: random.Random, year: int, kind: RoundKind, members: list[dict[str, Any]],
                 quality: dict[int, float], admins: list[Actor]) -> int:
    """One round from creation to two signatures: every sheet scored by the entry's quality, the
    member's harshness and some noise."""
    round_id = await rounds.create_round(actor=SYSTEM, year=year, data={
        "kind": kind, "reviewers_per_entry": 3,
        "normalisation": "zscore" if kind == RoundKind.screening else "none"})
    await rounds.add_members(actor=SYSTEM, round_id=round_id, user_ids=[m["id"] for m in members])
    await rounds.open_round(actor=SYSTEM, round_id=round_id)
    await assignments.assign_reviewers(actor=SYSTEM, round_id=round_id)
    harsh = {m["id"]: rng.uniform(-1.5, 1) for m in members}
    criteria = await round_rows.criteria_of(round_id)
    for a in await assignments.list_assignments(SYSTEM, round_id):
        member = _actor({"id": a["reviewer"], "email": "", "role": "reviewer"})
        sheet = {c["code"]: max(c["min"], min(c["max"], round(quality[a["entry"]] + harsh[a["reviewer"]]
                                                                + rng.gauss(0, 0.8), 1))) for c in criteria}
        await scoring.save_scores(actor=member, assignment_id=a["id"], scores=sheet,
                                  comment=rng.choice(["", "ผลลัพธ์ชัดเจน ควรขยายผล", "ควรวัดความพึงพอใจให้ชัดเจนขึ้น",
                                                      "ใช้เทคโนโลยีเหมาะสมกับบริบทพื้นที่"]))
        await scoring.submit_scores(actor=member, assignment_id=a["id"])
    await rounds.close_round(actor=SYSTEM, round_id=round_id)
    await _decide(round_id)
    for admin in admins:
        await shortlist.sign_decision(actor=admin, round_id=round_id)
    return round_id


async def _decide(round_id: int) -> None:
    """The round's decision; a tie across the cut is ordered by raw score, as the demo committee's."""
    try:
        await shortlist.decide(actor=SYSTEM, round_id=round_id)
    except DomainError:
        view = await shortlist.ranking_view(round_id, with_borderline=False)
        row = await round_rows.get_round_row(round_id)
        cut = round_rows.cut_of(row)
        last = [i for i in view["items"] if i["rank"] is not None and i["rank"] <= cut][-1]["rank"]
        tied = [i for i in view["items"] if i["rank"] == last]
        tied.sort(key=lambda i: (-(i["raw_score"] or 0), i["entry_id"]))
        await shortlist.record_tie_decision(actor=SYSTEM, round_id=round_id,
                                            entry_ids=[i["entry_id"] for i in tied],
                                            reason="มติคณะกรรมการ (ข้อมูลตัวอย่าง)")
        await shortlist.decide(actor=SYSTEM, round_id=round_id)
