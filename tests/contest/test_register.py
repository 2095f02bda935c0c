"""One polite register in Thai: the pages, mails and messages address people as ท่าน. The Thai
catalogues, every template and the Thai written in the code are read for คุณ used as a pronoun
and for ฉัน ("my account" is บัญชีผู้ใช้ของท่าน, not ของฉัน). Words that merely contain คุณ
(คุณสมบัติ, คุณวุฒิ, คุณภาพ, ขอบคุณ, …) are not pronouns and pass."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted((ROOT / "contest" / "locale" / "th" / "LC_MESSAGES").glob("*.po"))
TEMPLATES = sorted(p for folder in ("contest/templates", "judging/templates")
                   for p in (ROOT / folder).rglob("*") if p.suffix in (".html", ".txt", ".eml"))
# Thai written in the code itself: mails, PDFs, the demo's data.
SOURCES = sorted(p for folder in ("contest", "judging") for p in (ROOT / folder).rglob("*.py"))

# คุณ as a pronoun (or a title before a name): not inside a word that only contains it.
PRONOUN_KHUN = re.compile(r"(?<!ขอบ)(?<!พระ)(?<!บุญ)คุณ(?!สมบัติ|วุฒิ|ภาพ|ค่า|ประโยชน์|ลักษณะ|ธรรม|ู)")
# ฉัน in any use (ฉันท์, verse, never appears in this service).
CHAN = re.compile(r"ฉัน(?!ท์)")


def impolite(text: str) -> list[str]:
    return [m.group(0) for pattern in (PRONOUN_KHUN, CHAN) for m in pattern.finditer(text)]


def test_the_check_tells_the_pronoun_from_words_that_contain_it() -> None:
    assert impolite("คุณไม่มีสิทธิ์ดำเนินการนี้") and impolite("บัญชีผู้ใช้ของฉัน") and impolite("ที่คุณต้องการ")
    for fine in ("ผ่านคุณสมบัติ", "คณะกรรมการผู้ทรงคุณวุฒิ", "คุณภาพการให้คะแนน", "ขอขอบคุณที่ร่วมส่งผลงาน",
                 "คุณค่าของบริการ", "บัญชีผู้ใช้ของท่าน"):
        assert not impolite(fine), fine


def test_thai_catalogues_address_people_as_than() -> None:
    found = []
    for path in CATALOGUES:
        with path.open("rb") as f:
            catalogue = read_po(f, locale="th")
        for message in catalogue:
            texts = message.string if isinstance(message.string, tuple) else (message.string or "",)
            for text in texts:
                if impolite(text):
                    found.append(f"{path.name}: {message.id!r} → {text}")
    assert found == [], "\n".join(found)


def test_templates_and_code_address_people_as_than() -> None:
    assert TEMPLATES and SOURCES
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for path in TEMPLATES + SOURCES
             for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if impolite(line)]
    assert found == [], "\n".join(found)
