"""Factories: build what a test needs through the domain functions, not fixture files."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from contest import clock
from contest.domain import accounts, editions, notices, organisations, twofactor
from contest.domain.audit import SYSTEM
from contest.domain.registry import OrgRecord
from contest.settings import get_settings

PASSWORD = "correct-horse-battery"

#: Every field an entry needs to be submitted (its files aside).
COMPLETE = {
    "title": "ระบบแจ้งเหตุเดือดร้อนออนไลน์", "category": "service", "summary": "ประชาชนแจ้งเหตุผ่าน LINE",
    "problem": "แจ้งเหตุล่าช้า", "solution": "แชตบอตและแดชบอร์ด", "citizens_served": 12000,
    "results": "ตอบสนองเร็วขึ้น 3 เท่า", "in_service_since": "2024-06-01", "technology": "LINE OA, PostgreSQL",
    "links": ["https://example.go.th/service"], "video_url": "https://video.example/x",
    "contact_name": "สมหญิง ใจดี", "contact_email": "it@example.go.th", "contact_phone": "053 123 456",
    "consent_publish": True,
}

#: Every admin and committee member the factories make signs in with two factors, from this key.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_seq = count(1)


async def make_org(code: str | None = None, *, name_th: str | None = None, kind: str = "sao",
                   province_code: str = "50", province_name_th: str = "เชียงใหม่") -> str:
    n = next(_seq)
    code = code or f"59{n:05d}"
    rec = OrgRecord(code=code, name_th=name_th or f"องค์การบริหารส่วนตำบลทดสอบ{n}", name_en=f"Test SAO {n}",
                    kind=kind, province_code=province_code, province_name_th=province_name_th,
                    province_name_en="Chiang Mai", district_code="5001", district_name_th="เมืองเชียงใหม่",
                    district_name_en="Mueang Chiang Mai")
    await organisations.import_organisations([rec], actor=SYSTEM)
    return code


async def make_user(role: str = "applicant", *, email: str | None = None, org: str | None = None,
                    password: str = PASSWORD) -> int:
    n = next(_seq)
    email = email or f"{role}{n}@example.go.th"
    if role == "applicant" and org is None:
        org = await make_org()
    user_id = await accounts.create_user(actor=SYSTEM, email=email, password=password, role=role,
                                         name=f"{role} {n}", organisation_code=org)
    await notices.accept_current(user_id, "operator")  # the privacy notice in force, if any
    if twofactor.required_for(role):
        await twofactor.enrol_known_secret(actor=SYSTEM, user_id=user_id, secret=TOTP_SECRET)
    return user_id


def fresh_otp(email: str, *, real_time: bool = False) -> str | None:
    """The current code of an account with two-factor sign-in (None without it). Tests log the
    same person in many times within one 30-second step, so the step last used is forgotten
    first; that a code works only once is tested on its own. ``real_time``: for a server in its
    own process, whose clock is not the test's (possibly frozen) one."""
    from concurrent.futures import ThreadPoolExecutor

    from contest.tables import User
    from tests.conftest import run

    def read_and_forget() -> dict[str, Any] | None:
        row = run(User.select(User.id, User.totp_secret, User.totp_enabled_at).where(User.email == email).first())
        if row is not None:
            run(User.update({User.totp_last_step: None}).where(User.id == row["id"]))
        return row

    # Its own thread: a browser test calls this while Playwright's event loop runs in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        row = pool.submit(read_and_forget).result()
    if row is None or not row["totp_enabled_at"]:
        return None
    now = datetime.now(UTC) if real_time else clock.now()
    return twofactor.code_at(row["totp_secret"], int(now.timestamp()) // twofactor.STEP_SECONDS)


def edition_data(year: int = 2569, **overrides: Any) -> dict[str, Any]:
    now = clock.now()
    data = {
        "year": year, "title": f"รางวัลท้องถิ่นดิจิทัล {year}",
        "submission_opens_at": now - timedelta(days=10),
        "submission_closes_at": now + timedelta(days=20),
        "announcement_at": now + timedelta(days=90),
    }
    data.update(overrides)
    return data


async def make_edition(year: int = 2569, **overrides: Any) -> editions.EditionView:
    return await editions.create_edition(actor=SYSTEM, data=edition_data(year, **overrides))


def iso(value: datetime) -> str:
    return value.isoformat()


def mails(to: str | None = None) -> list[str]:
    """Messages written by the embedded mailer, oldest first."""
    directory: Path = get_settings().mail_dir
    if not directory.exists():
        return []
    out = []
    for path in sorted(directory.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        text = path.read_bytes().decode("utf-8", "replace")
        if to is None or f"To: {to}" in text:
            out.append(text)
    return out


def decoded_body(eml: str) -> str:
    import email
    from email import policy

    msg = email.message_from_string(eml, policy=policy.default)
    return msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def link_in(eml: str, path_prefix: str) -> str:
    body = decoded_body(eml)
    match = re.search(re.escape(path_prefix) + r"[A-Za-z0-9_\-]+", body)
    assert match, f"no {path_prefix} link in mail:\n{body}"
    return match.group(0)


def login_token(client: Any, email: str, password: str = PASSWORD) -> dict[str, str]:
    body = {"email": email, "password": password}
    if otp := fresh_otp(accounts.normalise_email(email)):
        body["otp"] = otp
    resp = client.post("/api/v1/auth/token", json=body)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def csrf(client: Any) -> str:
    """The CSRF token a page would embed (the client keeps the csrftoken cookie)."""
    page = client.get("/login")
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert match
    return match.group(1)


def browser_login(client: Any, email: str, password: str = PASSWORD) -> None:
    token = csrf(client)
    resp = client.post("/login", data={"email": email, "password": password, "_csrf": token},
                       follow_redirects=False)
    if resp.status_code == 200 and 'name="challenge"' in resp.text:  # the second step
        challenge = re.search(r'name="challenge" value="([^"]+)"', resp.text)
        assert challenge, resp.text
        resp = client.post("/login/otp", data={"challenge": challenge.group(1), "_csrf": token,
                                               "otp": fresh_otp(accounts.normalise_email(email)) or ""},
                           follow_redirects=False)
    assert resp.status_code == 303, resp.text


def wait_for_mails(to: str, count: int = 1, timeout: float = 15.0) -> list[str]:
    """Mail sent through the app: its in-process runner may be sending it right now, so run
    what is due here too and poll until ``count`` messages to ``to`` exist."""
    import asyncio
    import time

    from contest import jobs  # noqa: F401 - registers the handlers
    from contest.domain import outbox

    deadline = time.monotonic() + timeout
    while True:
        asyncio.run(outbox.run_due())
        found = mails(to)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


async def make_submitted_entries(year: int, n: int, *, provinces: tuple[str, ...] = ("50",),
                                 state: str = "submitted") -> list[int]:
    """``n`` entries of edition ``year``, each from its own new organisation, already in ``state``
    (inserted directly: judging tests need many entries, not the submission path again)."""
    from contest.tables import Edition, Entry

    edition = await Edition.select(Edition.id).where(Edition.year == year).first()
    records = []
    for i in range(n):
        k = next(_seq)
        province = provinces[i % len(provinces)]
        records.append(OrgRecord(code=f"7{k:06d}", name_th=f"เทศบาลตำบลทดสอบ{k}", name_en=f"Test town {k}",
                                 kind="subdistrict_municipality", province_code=province,
                                 province_name_th=f"จังหวัด{province}", province_name_en=f"Province {province}",
                                 district_code=f"{province}01", district_name_th="เมือง", district_name_en="Mueang"))
    await organisations.import_organisations(records, actor=SYSTEM)
    from contest.tables import Organisation
    orgs = {o["code"]: o["id"] for o in await Organisation.select(Organisation.id, Organisation.code).where(
        Organisation.code.is_in([r.code for r in records]))}
    now = clock.now()
    rows = await Entry.insert(*[Entry(edition=edition["id"], organisation=orgs[r.code], state=state,
                                      title=f"นวัตกรรมบริการดิจิทัล {r.code}", category="service",
                                      summary="สรุป", problem="ปัญหา", solution="ทางแก้", results="ผลลัพธ์",
                                      contact_name="ผู้ประสานงาน", contact_email="it@example.go.th",
                                      consent_publish=True, submitted_at=now, submitted_revision=1)
                                for r in records]).returning(Entry.id)
    return [r["id"] for r in rows]


async def worker_burst(redis_url: str) -> None:
    """The arq worker, as deployed, run until its queue is empty (a worker coming back up)."""
    from arq.connections import RedisSettings
    from arq.worker import Worker

    from contest.worker import WorkerSettings

    worker = Worker(functions=WorkerSettings.functions, redis_settings=RedisSettings.from_dsn(redis_url),
                    burst=True, poll_delay=0.05, max_jobs=5, handle_signals=False)
    try:
        await worker.main()
    finally:
        await worker.close()
