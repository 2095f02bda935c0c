"""Organisation search as officials type it, on the whole demo registry (7,554 organisations
made from geothai's real provinces, districts and tambons): the organisation meant comes first."""

from __future__ import annotations

import pytest

from contest.domain import organisations
from contest.domain.audit import SYSTEM
from contest.domain.demo_registry import generate_demo_registry
from contest.domain.registry import (
    KIND_LABELS,
    OrgRecord,
    SearchReading,
    match_key,
    name_key,
    read_search,
)
from tests.conftest import run

REGISTRY = generate_demo_registry()
SHORT = {"pao": "อบจ.", "city_municipality": "ทน.", "town_municipality": "ทม.", "subdistrict_municipality": "ทต.",
         "sao": "อบต."}
TONES = str.maketrans("", "", "\u0e48\u0e49\u0e4a\u0e4b")

# What officials type, and the organisation they mean (demo registry, seed 2569).
TYPED = [
    ("อบต.สันทราย", "5500906"),  # three SAOs are called สันทราย in Chiang Mai: the first in Thai order
    ("อบต.สันทราย อ.สารภี", "5501911"),
    ("อบต. สันทราย อำเภอพร้าว", "5501105"),
    ("ทต.สันทรายหลวง", "4501401"),
    ("ทต สันทราย หลวง", "4501401"),
    ("เทศบาลตำบลสันทรายหลวง", "4501401"),
    ("เทศบาล สันทรายหลวง", "4501401"),
    ("San Sai Luang", "4501401"),
    ("หนองจ้อม", "5501407"),  # the registry spells it หนองจ๊อม
    ("หนองจอม", "5501407"),
    ("อบต.หนอง จ๊อม", "5501407"),
    ("อบตหนองจ๊อม", "5501407"),
    ("5501407", "5501407"),
    ("ทม.สันทราย", "3501401"),
    ("เทศบาลเมืองสันทราย", "3501401"),
    ("อบจ.เชียงใหม่", "1500000"),
    ("องค์การบริหารส่วนจังหวัดเชียงใหม่", "1500000"),
    ("ทน.เชียงใหม่", "2500101"),
    ("เทศบาลนครเชียงใหม่", "2500101"),
    ("ทน.หาดใหญ่", "2901101"),
    ("กทม.", "6100000"),
    ("กรุงเทพมหานคร", "6100000"),
    ("เมืองพัทยา", "7200401"),
]


def _constructed() -> list[tuple[str, str]]:
    """More of the same, made from the registry: every 19th town municipality, 150th subdistrict
    municipality and 300th SAO, typed with its kind abbreviated, without its tone marks, and with
    its district and province where its name alone is shared by organisations of its kind."""
    from collections import Counter

    def base(r: OrgRecord) -> str:
        name = r.name_th.removeprefix(KIND_LABELS[r.kind][0])
        return name.split(" อำเภอ")[0].split(" (")[0]

    shared = Counter((r.kind, base(r)) for r in REGISTRY)
    typed = []
    sample = [r for kind, step in (("town_municipality", 19), ("subdistrict_municipality", 150), ("sao", 300))
              for r in [r for r in REGISTRY if r.kind == kind][::step]]
    for r in sample:
        query = f"{SHORT[r.kind]}{base(r).translate(TONES)}"
        if shared[(r.kind, base(r))] > 1:
            query += f" อ.{r.district_name_th} จ.{r.province_name_th}"
        typed.append((query, r.code))
    return typed


CONSTRUCTED = _constructed()


@pytest.mark.unit
def test_the_kind_is_read_from_an_abbreviation_or_the_written_out_name() -> None:
    assert read_search("อบต.สันทราย") == [SearchReading(frozenset({"sao"}), ("สันทราย",))]
    assert read_search("ทต. สันทราย หลวง") == [SearchReading(frozenset({"subdistrict_municipality"}),
                                                             ("สันทราย", "หลวง"))]
    assert read_search("เทศบาล ตำบล สันทรายหลวง")[0].kinds == {"subdistrict_municipality"}
    assert read_search("เทศบาลสันทราย")[0].kinds == {"city_municipality", "town_municipality",
                                                       "subdistrict_municipality"}
    assert read_search("องค์การบริหารส่วนจังหวัดลำพูน")[0] == SearchReading(frozenset({"pao"}), ("ลำพูน",))
    assert read_search("กทม.") == [SearchReading(frozenset({"bangkok"}), ())]
    # Run into the name, the abbreviation may also be part of a name: both readings are kept.
    assert read_search("อบตหนองจ๊อม") == [SearchReading(frozenset({"sao"}), ("หนองจอม",)),
                                         SearchReading(None, ("อบตหนองจอม",))]
    # District and province markers are left out; the places stay as words.
    assert read_search("อบต.หนองจ๊อม อ.สันทราย จ.เชียงใหม่")[0].words == ("หนองจอม", "สันทราย", "เชียงใหม")
    assert read_search("  . ") == [] and read_search("แม่ แรม") == [SearchReading(None, ("แม", "แรม"))]


@pytest.mark.unit
def test_tone_marks_spaces_and_dots_do_not_matter() -> None:
    assert match_key("หนองจ้อม") == match_key("หนอง จ๊อม") == match_key("หนองจอม") == "หนองจอม"
    assert match_key("ต.ป่าแดด") == match_key("ตปาแดด")
    assert match_key("San  Sai") == "sansai"


@pytest.mark.unit
def test_the_name_ranked_on_is_without_kind_and_district() -> None:
    assert name_key("องค์การบริหารส่วนตำบลสันทราย อำเภอสารภี") == "สันทราย"
    assert name_key("เทศบาลตำบลหนองจ๊อม") == "หนองจอม"
    assert name_key("องค์การบริหารส่วนตำบลบ้านใหม่ (5500101)") == "บานใหม"
    assert name_key("กรุงเทพมหานคร") == "กรุงเทพมหานคร" and name_key("เมืองพัทยา") == "เมืองพัทยา"


@pytest.mark.integration
def test_exact_before_prefix_before_contains_and_the_kind_counts(db: str) -> None:
    orgs = {
        "exact, the kind typed": ("5500906", "องค์การบริหารส่วนตำบลสันทราย อำเภอฝาง", "sao"),
        "start, the kind typed": ("5570411", "องค์การบริหารส่วนตำบลสันทรายงาม", "sao"),
        "exact": ("3501401", "เทศบาลเมืองสันทราย", "town_municipality"),
        "part, the kind typed": ("5501999", "องค์การบริหารส่วนตำบลบ้านสันทราย", "sao"),
        "start": ("4501401", "เทศบาลตำบลสันทรายหลวง", "subdistrict_municipality"),
        "part": ("4501999", "เทศบาลตำบลบ้านสันทราย", "subdistrict_municipality"),
        "district only": ("5501407", "องค์การบริหารส่วนตำบลหนองจ๊อม", "sao"),
    }
    records = [OrgRecord(code=code, name_th=name, name_en="", kind=kind, province_code="50",
                         province_name_th="เชียงใหม่", province_name_en="Chiang Mai", district_code="5014",
                         district_name_th="สันทราย", district_name_en="San Sai")
               for code, name, kind in reversed(orgs.values())]
    run(organisations.import_organisations(records, actor=SYSTEM))
    found = run(organisations.search_organisations(q="อบต.สันทราย"))
    assert [i["code"] for i in found.items] == [code for code, _, _ in orgs.values()] and found.total == 7
    # Without a search: Thai dictionary order (เทศบาลเมือง… under ท, with the other เทศบาล…).
    listed = [i["name_th"] for i in run(organisations.search_organisations()).items]
    assert listed[:3] == ["เทศบาลตำบลบ้านสันทราย", "เทศบาลตำบลสันทรายหลวง", "เทศบาลเมืองสันทราย"]


@pytest.mark.unit
def test_constructed_queries_cover_every_kind_below_province_level() -> None:
    kinds = {r.kind for r in REGISTRY if r.code in {code for _, code in CONSTRUCTED}}
    assert {"sao", "subdistrict_municipality", "town_municipality"} <= kinds and len(CONSTRUCTED) >= 40


@pytest.mark.integration
def test_the_organisation_meant_comes_first_on_the_whole_registry(db: str) -> None:
    run(organisations.import_organisations(REGISTRY, actor=SYSTEM))
    names = {r.code: r.name_th for r in REGISTRY}
    wrong = []
    for typed, code in TYPED + CONSTRUCTED:
        page = run(organisations.search_organisations(q=typed, per_page=5))
        first = page.items[0]["code"] if page.items else None
        if first != code:
            wrong.append(f"{typed!r}: {first} {names.get(first or '')}, not {code} {names[code]}")
    assert wrong == []
    # The abbreviation alone lists that kind; the kind filter and the province filter still apply.
    assert run(organisations.search_organisations(q="ทน.")).total == 30
    both = run(organisations.search_organisations(q="สันทราย", kind="sao", province="50", per_page=100))
    assert [i["code"] for i in both.items][:3] == ["5500906", "5501105", "5501911"]
    assert all(i["kind"] == "sao" and i["province_code"] == "50" for i in both.items)
    # Wildcards and lone punctuation find nothing.
    for nothing in ("%", "_", "...", "ไม่มีชื่อนี้"):
        assert run(organisations.search_organisations(q=nothing)).total == 0, nothing
