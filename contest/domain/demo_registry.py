"""The demo registry: a realistic LAO registry built from geothai's real places, for the demo and
the benchmarks.

``generate_demo_registry(seed)`` builds a realistic registry from geothai's real provinces,
districts (amphoe) and subdistricts (tambon):

* 76 ``pao`` (one per province except Bangkok), province-wide, so ``district_code == ""``;
* 30 ``city_municipality``: the real เทศบาลนคร list (see ``_CITY_MUNICIPALITIES``);
* 190 ``town_municipality`` in district seats, named after the district: first the capital
  district of every province whose capital has no city municipality ("เมืองลำพูน" gives
  "เทศบาลเมืองลำพูน": the "เมือง" of the district name is dropped), then other districts drawn
  at random (never a district that hosts a city municipality, nor Bang Lamung, Pattaya's);
* every non-Bangkok tambon hosts exactly one subdistrict-level LAO (``subdistrict_municipality``
  or ``sao``). geothai has 7,256 such tambons, fewer than the real ~7,540 subdistrict-level LAOs
  (in reality some tambons are split between a municipality and an SAO), so the real ratio
  2,240 : 5,300 is scaled to the tambons available: 2,156 subdistrict municipalities and
  5,100 SAOs (see ``demo_kind_counts``). The tambon of each district seat (code ``XXXX01``) is
  twice as likely to be a municipality;
* one ``bangkok`` and one ``pattaya`` (Chon Buri, Bang Lamung).

Total 7,554 with geothai 3.2.1 (data 2026.10.23).

Names are unique within a province: where two tambons of one province share a name and become
LAOs of the same kind, both names get their district appended ("… อำเภอบ้านโป่ง",
"… (Ban Pong District)").

Codes (7 digits, shaped like the Department of Local Administration's codes):
``K`` (kind digit) followed by six digits of place:

==========================  ====  =========================================  ============
kind                        K     place                                      example
==========================  ====  =========================================  ============
pao                         1     province code + "0000"                     ``1500000``
city_municipality           2     district code + running number (01, 02…)   ``2500101``
town_municipality           3     district code + "01"                       ``3510101``
subdistrict_municipality    4     tambon code                                ``4500102``
sao                         5     tambon code                                ``5500203``
bangkok                     6     "100000"                                   ``6100000``
pattaya                     7     district code (Bang Lamung) + "01"         ``7200401``
==========================  ====  =========================================  ============

So a code is unique (one LAO of a kind per place) and depends only on the LAO's kind and place;
the seed only decides which tambons are municipalities and which districts get a town
municipality.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import geothai

from contest.domain.registry import BANGKOK, CHON_BURI_BANG_LAMUNG, KIND_LABELS, OrgRecord, make_record

# The 30 เทศบาลนคร: (name after "เทศบาลนคร", English name, province code, district name_th).
_CITY_MUNICIPALITIES: tuple[tuple[str, str, str, str], ...] = (
    ("สมุทรปราการ", "Samut Prakan", "11", "เมืองสมุทรปราการ"),
    ("นนทบุรี", "Nonthaburi", "12", "เมืองนนทบุรี"),
    ("ปากเกร็ด", "Pak Kret", "12", "ปากเกร็ด"),
    ("รังสิต", "Rangsit", "13", "ธัญบุรี"),
    ("พระนครศรีอยุธยา", "Phra Nakhon Si Ayutthaya", "14", "พระนครศรีอยุธยา"),
    ("แหลมฉบัง", "Laem Chabang", "20", "ศรีราชา"),
    ("เจ้าพระยาสุรศักดิ์", "Chao Phraya Surasak", "20", "ศรีราชา"),
    ("ระยอง", "Rayong", "21", "เมืองระยอง"),
    ("นครราชสีมา", "Nakhon Ratchasima", "30", "เมืองนครราชสีมา"),
    ("อุบลราชธานี", "Ubon Ratchathani", "34", "เมืองอุบลราชธานี"),
    ("ขอนแก่น", "Khon Kaen", "40", "เมืองขอนแก่น"),
    ("อุดรธานี", "Udon Thani", "41", "เมืองอุดรธานี"),
    ("สกลนคร", "Sakon Nakhon", "47", "เมืองสกลนคร"),
    ("เชียงใหม่", "Chiang Mai", "50", "เมืองเชียงใหม่"),
    ("ลำปาง", "Lampang", "52", "เมืองลำปาง"),
    ("เชียงราย", "Chiang Rai", "57", "เมืองเชียงราย"),
    ("นครสวรรค์", "Nakhon Sawan", "60", "เมืองนครสวรรค์"),
    ("แม่สอด", "Mae Sot", "63", "แม่สอด"),
    ("พิษณุโลก", "Phitsanulok", "65", "เมืองพิษณุโลก"),
    ("นครปฐม", "Nakhon Pathom", "73", "เมืองนครปฐม"),
    ("สมุทรสาคร", "Samut Sakhon", "74", "เมืองสมุทรสาคร"),
    ("อ้อมน้อย", "Om Noi", "74", "กระทุ่มแบน"),
    ("นครศรีธรรมราช", "Nakhon Si Thammarat", "80", "เมืองนครศรีธรรมราช"),
    ("ภูเก็ต", "Phuket", "83", "เมืองภูเก็ต"),
    ("สุราษฎร์ธานี", "Surat Thani", "84", "เมืองสุราษฎร์ธานี"),
    ("เกาะสมุย", "Ko Samui", "84", "เกาะสมุย"),
    ("สงขลา", "Songkhla", "90", "เมืองสงขลา"),
    ("หาดใหญ่", "Hat Yai", "90", "หาดใหญ่"),
    ("ตรัง", "Trang", "92", "เมืองตรัง"),
    ("ยะลา", "Yala", "95", "เมืองยะลา"),
)

TOWN_MUNICIPALITIES = 190
# Real counts of subdistrict-level LAOs; scaled to the tambons geothai has.
_REAL_SUBDISTRICT_MUNICIPALITIES = 2240
_REAL_SAOS = 5300


def _district_by_name(province_code: str, name_th: str) -> geothai.District:
    for d in geothai.districts(province_code):
        if d.name_th == name_th:
            return d
    raise LookupError(f"no district {name_th} in province {province_code}")


def _town_name(d: geothai.District) -> tuple[str, str]:
    """The name a town municipality takes from its district: "เมืองลำพูน" -> "ลำพูน"."""
    th, en = d.name_th, d.name_en
    if d.code.endswith("01"):  # the capital district, "อำเภอเมือง…"
        if th.startswith("เมือง") and len(th) > len("เมือง"):
            th = th[len("เมือง"):]
        if en.startswith("Mueang "):
            en = en[len("Mueang "):]
    return th, en


def _tambons() -> list[geothai.Subdistrict]:
    return sorted(
        (s for p in geothai.provinces() if p.code != BANGKOK
         for d in geothai.districts(p.code) for s in geothai.subdistricts(d.code)),
        key=lambda s: s.code,
    )


def demo_kind_counts() -> dict[str, int]:
    """How many LAOs of each kind ``generate_demo_registry`` makes (the same for every seed)."""
    tambons = len(_tambons())
    municipalities = round(
        tambons * _REAL_SUBDISTRICT_MUNICIPALITIES / (_REAL_SUBDISTRICT_MUNICIPALITIES + _REAL_SAOS)
    )
    return {
        "pao": sum(1 for p in geothai.provinces() if p.code != BANGKOK),
        "city_municipality": len(_CITY_MUNICIPALITIES),
        "town_municipality": TOWN_MUNICIPALITIES,
        "subdistrict_municipality": municipalities,
        "sao": tambons - municipalities,
        "bangkok": 1,
        "pattaya": 1,
    }


def generate_demo_registry(seed: int = 2569) -> list[OrgRecord]:
    """A realistic registry of Thailand's LAOs, the same for the same seed, sorted by code.

    See the module docstring for the proportions, the names and the code scheme.
    """
    rng = random.Random(seed)  # drawn from in this order: the towns, then the subdistrict kinds
    counts = demo_kind_counts()
    cities, city_districts = _city_municipalities()
    records = [*_provincial(), *cities, *_town_municipalities(rng, counts, city_districts),
               *_subdistrict_level(rng, counts), *_special_forms()]
    records = _disambiguate(records)
    records.sort(key=lambda r: r.code)
    return records


def _provincial() -> list[OrgRecord]:
    """Provincial administrative organisations: one per province but Bangkok."""
    return [make_record(f"1{p.code}0000", KIND_LABELS["pao"][0] + p.name_th, f"{p.name_en} {KIND_LABELS['pao'][1]}",
                        "pao", p.code)
            for p in geothai.provinces() if p.code != BANGKOK]


def _city_municipalities() -> tuple[list[OrgRecord], set[str]]:
    """The real list of city municipalities, and the districts that host one."""
    records: list[OrgRecord] = []
    running: Counter[str] = Counter()
    city_districts: set[str] = set()
    for name_th, name_en, province_code, district_th in _CITY_MUNICIPALITIES:
        d = _district_by_name(province_code, district_th)
        running[d.code] += 1
        city_districts.add(d.code)
        records.append(make_record(
            f"2{d.code}{running[d.code]:02d}",
            KIND_LABELS["city_municipality"][0] + name_th,
            f"{name_en} {KIND_LABELS['city_municipality'][1]}",
            "city_municipality",
            province_code,
            d.code,
        ))
    return records, city_districts


def _town_municipalities(rng: random.Random, counts: dict[str, int], city_districts: set[str]) -> list[OrgRecord]:
    """Provincial capitals without a city municipality, then a random draw of other districts."""
    candidates = [
        d for p in geothai.provinces() if p.code != BANGKOK for d in geothai.districts(p.code)
        if d.code not in city_districts and d.code != CHON_BURI_BANG_LAMUNG
    ]
    capitals = [d for d in candidates if d.code.endswith("01")]
    others = [d for d in candidates if not d.code.endswith("01")]
    towns = capitals + rng.sample(others, counts["town_municipality"] - len(capitals))
    records = []
    for d in sorted(towns, key=lambda d: d.code):
        th, en = _town_name(d)
        records.append(make_record(
            f"3{d.code}01",
            KIND_LABELS["town_municipality"][0] + th,
            f"{en} {KIND_LABELS['town_municipality'][1]}",
            "town_municipality",
            d.province_code,
            d.code,
        ))
    return records


def _subdistrict_level(rng: random.Random, counts: dict[str, int]) -> list[OrgRecord]:
    """One LAO per tambon; the district seat's tambon is likelier a municipality."""
    tambons = _tambons()
    weight = {s.code: rng.random() * (0.5 if s.code.endswith("01") else 1.0) for s in tambons}
    by_weight = sorted(tambons, key=lambda s: (weight[s.code], s.code))
    municipal = {s.code for s in by_weight[: counts["subdistrict_municipality"]]}
    records = []
    for s in tambons:
        if s.code in municipal:
            kind, code = "subdistrict_municipality", f"4{s.code}"
            name_th = KIND_LABELS[kind][0] + s.name_th
            name_en = f"{s.name_en} {KIND_LABELS[kind][1]}"
        else:
            kind, code = "sao", f"5{s.code}"
            name_th = KIND_LABELS[kind][0] + s.name_th
            name_en = f"{KIND_LABELS[kind][1]} {s.name_en}"
        records.append(make_record(code, name_th, name_en, kind, s.province_code, s.district_code))
    return records


def _special_forms() -> list[OrgRecord]:
    """Bangkok and Pattaya."""
    return [
        make_record("6100000", KIND_LABELS["bangkok"][0], KIND_LABELS["bangkok"][1], "bangkok", BANGKOK),
        make_record(f"7{CHON_BURI_BANG_LAMUNG}01", KIND_LABELS["pattaya"][0], KIND_LABELS["pattaya"][1], "pattaya",
                    CHON_BURI_BANG_LAMUNG[:2], CHON_BURI_BANG_LAMUNG),
    ]


def _disambiguate(records: list[OrgRecord]) -> list[OrgRecord]:
    """Appends the district to names that repeat within a province, and then the code if needed."""
    seen = Counter((r.province_code, r.name_th) for r in records)
    out = []
    for r in records:
        if seen[(r.province_code, r.name_th)] > 1 and r.district_code:
            r = replace(
                r,
                name_th=f"{r.name_th} อำเภอ{r.district_name_th}",
                name_en=f"{r.name_en} ({r.district_name_en} District)",
            )
        out.append(r)
    seen = Counter((r.province_code, r.name_th) for r in out)
    return [
        replace(r, name_th=f"{r.name_th} ({r.code})")
        if seen[(r.province_code, r.name_th)] > 1 else r
        for r in out
    ]


