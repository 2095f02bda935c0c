"""Searching the showcase in Thai: words found by segmentation, not as substrings; tone-mark
slips forgiven; the title counts most; what an organisation did not consent to publish neither
matches nor filters; and the page across every edition."""

from __future__ import annotations

from typing import Any

import pytest

from contest.domain.showcase_search import Index, build_index, choices, words
from contest.i18n import t

YEAR = 2569


def _item(entry_id: int, title: str, summary: str = "", *, province: str = "50", kind: str = "sao",
          consent: bool = True, organisation: str = "", category: str = "service") -> dict[str, Any]:
    return {"entry_id": entry_id, "title": title, "summary": summary, "problem": "", "solution": "", "results": "",
            "technology": "", "organisation_name_th": organisation or f"องค์การบริหารส่วนตำบลตัวอย่าง{entry_id}",
            "organisation_name_en": "", "province_code": province, "province_name_th": "เชียงใหม่",
            "organisation_kind": kind, "region": "north", "category": category, "consent_publish": consent}


class _Results:
    def __init__(self, year: int, items: list[dict[str, Any]], winners: tuple[int, ...] = ()) -> None:
        self.year, self.sha256 = year, f"sha-{year}"
        self.document = {"awarded": items, "winners": [{"entry_id": w} for w in winners],
                         "categories": [{"code": "service", "name_th": "บริการ", "name_en": "Service"}]}


ITEMS = [
    _item(1, "ระบบแจ้งเก็บขยะมูลฝอยออนไลน์", "ประชาชนแจ้งจุดขยะผ่านไลน์"),
    _item(2, "ชำระภาษีที่ดินและสิ่งปลูกสร้างผ่านแอป", "ลดเวลาเดินทางมาชำระภาษี"),
    _item(3, "ดูแลผู้สูงอายุติดเตียงด้วยแผนที่ดิจิทัล", "ติดตามผู้สูงอายุในชุมชน", province="90"),
    _item(4, "ตารางเวรรถพยาบาล", "ตารางการออกเหตุ"),
    _item(5, "ลงทะเบียนเบี้ยยังชีพ", "ผู้สูงอายุลงทะเบียนรับเบี้ยยังชีพออนไลน์ ขยะ", consent=False),
]


@pytest.fixture(scope="module")
def index() -> Index:
    return build_index([_Results(YEAR, ITEMS, winners=(2,)), _Results(2568, [_item(6, "คัดแยกขยะในโรงเรียน")])])


def ids(found: list[Any]) -> list[int]:
    return [d.entry_id for d in found]


pytestmark = pytest.mark.unit


def test_thai_words_are_segmented_and_folded() -> None:
    assert words("ระบบชำระภาษีออนไลน์") == ["ระบบ", "ชำระ", "ภาษี", "ออนไลน์"]
    # Tone marks typed differently give the same words.
    assert words("ผู้สูงอายุ") == words("ผูสูงอายุ") or words("ผู้สูงอายุ")[0] in "".join(words("ผูสูงอายุ"))
    assert words("LINE OA, PostgreSQL") == ["line", "oa", "postgresql"]
    assert words("") == [] and words(" ,.- ") == []


def test_real_queries_find_what_they_mean(index: Index) -> None:
    # "ขยะ" finds the waste services of both years (the word itself in a title first, then the
    # longer word ขยะมูลฝอย), not the one without consent whose description mentions it.
    assert ids(index.search("ขยะ")) == [6, 1]
    assert ids(index.search("ชำระภาษี")) == [2]
    assert ids(index.search("ผู้สูงอายุ")) == [3]
    # "ตา" is not a word of "ตาราง": a substring search would have found entry 4.
    assert 4 not in ids(index.search("ตา"))
    # A fragment copied from a title still finds it, as a phrase.
    assert ids(index.search("ภาษีที่ดินและสิ่ง")) == [2]
    # Words from the title outrank words from the description.
    assert ids(index.search("ออนไลน์"))[0] == 1
    assert ids(index.search("ไม่มีคำนี้เลยแน่นอน")) == []


def test_filters_and_consent(index: Index) -> None:
    assert ids(index.search("", year=2568)) == [6]
    assert ids(index.search("", year=YEAR)) == [1, 2, 3, 4, 5]
    assert ids(index.search("", province="90")) == [3]
    # The organisation that did not consent is found by its title and name only, and no filter
    # reveals its province, kind or category.
    assert ids(index.search("เบี้ยยังชีพ")) == [5]
    assert 5 not in ids(index.search("", kind="sao")) and 5 not in ids(index.search("", category="service"))
    assert ids(index.search("ขยะ", year=YEAR)) == [1]
    assert choices(index)["years"] == [YEAR, 2568]
    assert [c for c, _ in choices(index)["provinces"]] == ["50", "90"]
    assert [d.winner for d in index.search("", year=YEAR)] == [False, True, False, False, False]


@pytest.mark.integration
def test_the_page_across_every_edition(client: Any) -> None:
    from contest.domain import announcement
    from contest.domain.audit import Actor
    from contest.tables import Entry, User
    from tests.conftest import run
    from tests.judging.support import YEAR as JUDGED
    from tests.judging.support import after_announcement, signed_final

    s = signed_final(entries=6, shortlist_size=3)
    winner = run(Entry.select(Entry.id, Entry.title).where(Entry.state == "winner").first())
    run(Entry.update({Entry.title: "ระบบชำระภาษีออนไลน์ของเทศบาล"}).where(Entry.id == winner["id"]))
    after_announcement()
    admin = run(User.select(User.id).where(User.email == s.admins[0]).first())
    run(announcement.publish_results(actor=Actor(id=admin["id"], email=s.admins[0], role="admin"), year=JUDGED))

    page = client.get("/showcase", params={"q": "ชำระภาษี"})
    assert page.status_code == 200 and page.text.count("<h1") == 1
    assert t("{n} of {total} innovations", "th", n=1, total=3) in page.text
    assert f'href="/showcase/{JUDGED}/{winner["id"]}"' in page.text
    assert client.get("/showcase", params={"year": "not a year"}).status_code == 200
    assert t("{n} of {total} innovations", "th", n=0, total=3) in client.get(
        "/showcase", params={"year": str(JUDGED - 1)}).text
    # The edition's own showcase uses the same search.
    assert t("{n} of {total} innovations", "th", n=1, total=3) in client.get(
        f"/showcase/{JUDGED}", params={"q": "ชำระภาษี"}).text
    assert "Search the innovations of every year" in client.get("/showcase", params={"lang": "en"}).text
