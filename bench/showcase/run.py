"""The showcase search across every edition, at 2,000 awarded innovations (50 published
editions of 40): building the index once, then ``GET /showcase?q=…`` through the whole app
(search, filters, adoption figures, the page rendered), for real Thai queries.

Run by hand (not a test)::

    .venv/bin/python -m bench.showcase.run                                  # a throw-away SQLite file
    DATABASE_URL=postgres://… .venv/bin/python -m bench.showcase.run        # an empty PostgreSQL database

The innovations' texts are made from Thai phrases with a seeded generator, so every run searches
the same texts. Prints the index build time, then per query the number found, the median and the
slowest of ``--runs`` requests in milliseconds, and the search alone (without HTTP) beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

EDITIONS, PER_EDITION = 50, 40
FIRST_YEAR = 2520
QUERIES = ("ขยะ", "ชำระภาษี", "ผู้สูงอายุ", "น้ำประปา", "แจ้งเหตุ ออนไลน์", "LINE", "ระบบสารสนเทศภูมิศาสตร์", "")
SUBJECTS = ("การจัดการขยะมูลฝอย", "ชำระภาษีที่ดินและสิ่งปลูกสร้าง", "ดูแลผู้สูงอายุติดเตียง", "แจ้งเหตุเดือดร้อนรำคาญ",
            "น้ำประปาหมู่บ้าน", "เบี้ยยังชีพผู้พิการ", "ระบบสารสนเทศภูมิศาสตร์ตำบล", "จองคิวรับบริการ",
            "ขออนุญาตก่อสร้างอาคาร", "ศูนย์พัฒนาเด็กเล็ก", "ไฟฟ้าส่องสว่างสาธารณะ", "การท่องเที่ยวชุมชน")
MEANS = ("ผ่านไลน์ LINE OA", "ด้วยแอปพลิเคชันบนมือถือ", "บนเว็บไซต์ของเทศบาล", "ด้วยแผนที่ดิจิทัล", "ผ่านระบบออนไลน์")
SENTENCES = ("ประชาชนไม่ต้องเดินทางมาที่สำนักงาน", "ลดเวลารอคอยจากหลายวันเหลือไม่กี่นาที", "เจ้าหน้าที่ติดตามงานได้ทันที",
             "ข้อมูลถูกเก็บอย่างปลอดภัยและตรวจสอบได้", "ผู้บริหารเห็นภาพรวมของพื้นที่ทั้งหมด",
             "ชุมชนมีส่วนร่วมในการแก้ปัญหา", "ใช้งานง่ายสำหรับผู้สูงอายุ", "ประหยัดงบประมาณของท้องถิ่น")
PROVINCES = (("10", "กรุงเทพมหานคร"), ("50", "เชียงใหม่"), ("90", "สงขลา"), ("40", "ขอนแก่น"), ("20", "ชลบุรี"))
KINDS = ("sao", "subdistrict_municipality", "town_municipality", "city_municipality", "pao")


def _paragraph(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(SENTENCES) for _ in range(n))


def document(year: int, first_id: int, rng: random.Random) -> dict[str, Any]:
    items = []
    for k in range(PER_EDITION):
        subject, means = rng.choice(SUBJECTS), rng.choice(MEANS)
        code, province = rng.choice(PROVINCES)
        items.append({
            "entry_id": first_id + k, "title": f"{subject}{means}", "award": "digital_local_government",
            "organisation_code": f"{first_id + k:07d}", "organisation_name_th": f"เทศบาลตำบลตัวอย่าง{first_id + k}",
            "organisation_name_en": "", "organisation_kind": rng.choice(KINDS), "province_code": code,
            "province_name_th": province, "region": "central", "consent_publish": rng.random() > 0.1,
            "winner": k == 0, "final_rank": 1 if k == 0 else None, "category": "service",
            "summary": f"{subject}{means} " + _paragraph(rng, 3), "problem": _paragraph(rng, 4),
            "solution": f"พัฒนา{subject}{means} " + _paragraph(rng, 4), "results": _paragraph(rng, 3),
            "technology": rng.choice(("LINE OA, PostgreSQL", "Laravel, MySQL", "QGIS, PostGIS", "Google Sheets")),
        })
    return {"schema": 2, "year": year, "title": f"รางวัลท้องถิ่นดิจิทัล {year}", "published_at": "2026-01-01T00:00:00Z",
            "categories": [{"code": "service", "name_th": "บริการ", "name_en": "Service"}],
            "winners": [dict(items[0], award="dg_awards")], "awarded": items, "outcomes": []}


async def seed() -> None:
    from contest.cli import migrate_all
    from contest.domain.announcement import digest
    from contest.tables import Edition, ResultSnapshot

    await migrate_all()
    if await ResultSnapshot.count() >= EDITIONS:
        return
    rng = random.Random(2569)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(EDITIONS):
        year = FIRST_YEAR + n
        rows = await Edition.insert(Edition(year=year, title=f"รางวัลท้องถิ่นดิจิทัล {year}", state="announced",
                                            submission_opens_at=at, submission_closes_at=at,
                                            announcement_at=at, published_at=at)).returning(Edition.id)
        payload = json.dumps(document(year, 100000 + n * PER_EDITION, rng), ensure_ascii=False, sort_keys=True,
                             separators=(",", ":"))
        await ResultSnapshot.insert(ResultSnapshot(edition=rows[0]["id"], published_at=at, payload=payload,
                                                   sha256=digest(payload)))


def main(runs: int) -> None:
    from litestar.testing import TestClient

    from contest.app import create_app
    from contest.domain import showcase_search

    asyncio.run(seed())
    with TestClient(create_app()) as client:
        start = time.perf_counter()
        client.get("/showcase")  # builds the index
        print(f"{EDITIONS * PER_EDITION:,} innovations in {EDITIONS} editions; index built in "
              f"{(time.perf_counter() - start) * 1000:,.0f} ms (first request)")
        index = showcase_search.cached_index()
        assert index is not None
        print(f"{runs} runs each (ms)")
        print(f"{'query':<28} {'found':>6} {'page median':>12} {'slowest':>8} {'search alone':>13}")
        for q in QUERIES:
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                resp = client.get("/showcase", params={"q": q} if q else None)
                times.append((time.perf_counter() - t0) * 1000)
                assert resp.status_code == 200, resp.text[:300]
            alone = []
            for _ in range(runs):
                t0 = time.perf_counter()
                found = index.search(q)
                alone.append((time.perf_counter() - t0) * 1000)
            print(f"{q or '(none: every innovation)':<28} {len(found):>6} {statistics.median(times):>12.1f} "
                  f"{max(times):>8.1f} {statistics.median(alone):>13.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        folder = tempfile.mkdtemp(prefix="contest-showcase-")
        os.environ["VAR_DIR"] = folder
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    main(args.runs)
