"""The LAO registry as data: demo registry, regions, CSV import/export, search keys."""

import io
from collections import Counter

import geothai
import pytest

from contest.domain.demo_registry import demo_kind_counts, generate_demo_registry
from contest.domain.registry import (
    COLUMNS,
    KIND_LABELS,
    KINDS,
    REGION_LABELS,
    REGIONS,
    OrgRecord,
    ParseResult,
    Rejected,
    kind_from_text,
    parse_organisations_csv,
    region_of,
    search_key,
    write_organisations_csv,
)

pytestmark = pytest.mark.unit

HEADER = "code,name_th,name_en,kind,province_code,district_code"


@pytest.fixture(scope="module")
def registry() -> list[OrgRecord]:
    return generate_demo_registry()


def by_code(records: list[OrgRecord]) -> dict[str, OrgRecord]:
    return {r.code: r for r in records}


def parse(*lines: str) -> ParseResult:
    return parse_organisations_csv([HEADER, *lines])


def only_rejection(result: ParseResult) -> Rejected:
    assert result.records == []
    assert len(result.rejected) == 1
    return result.rejected[0]


# ------------------------------------------------------------------------------ kinds, regions


def test_kinds_match_organisation_kind_enum():
    from contest.enums import OrganisationKind

    assert KINDS == tuple(k.value for k in OrganisationKind)


def test_kind_labels_cover_every_kind():
    assert tuple(KIND_LABELS) == KINDS
    assert KIND_LABELS["sao"] == (
        "องค์การบริหารส่วนตำบล", "Subdistrict Administrative Organisation"
    )
    assert KIND_LABELS["bangkok"] == ("กรุงเทพมหานคร", "Bangkok Metropolitan Administration")


def test_region_of_every_province_has_a_region():
    regions = Counter(region_of(p.code) for p in geothai.provinces())
    assert sum(regions.values()) == 77
    assert regions == {
        "north": 9, "northeast": 20, "central": 22, "east": 7, "west": 5, "south": 14,
    }
    assert set(REGION_LABELS) == set(REGIONS)


def test_region_of_known_provinces_are_in_their_region():
    assert region_of("50") == "north"  # Chiang Mai
    assert region_of("30") == "northeast"  # Nakhon Ratchasima
    assert region_of("38") == "northeast"  # Bueng Kan
    assert region_of("10") == "central"  # Bangkok
    assert region_of("65") == "central"  # Phitsanulok, central in the six-region scheme
    assert region_of("20") == "east"  # Chon Buri
    assert region_of("63") == "west"  # Tak
    assert region_of("90") == "south"  # Songkhla
    assert REGION_LABELS["northeast"] == ("ภาคตะวันออกเฉียงเหนือ", "Northeast")


def test_region_of_unknown_province_raises():
    with pytest.raises(KeyError):
        region_of("99")


def test_org_record_region_property_uses_region_of(registry):
    cm = by_code(registry)["2500101"]
    assert cm.region == "north"


# ------------------------------------------------------------------------------ demo registry


def test_demo_registry_counts_fixed_kinds_exact(registry):
    counts = Counter(r.kind for r in registry)
    assert counts["pao"] == 76
    assert counts["city_municipality"] == 30
    assert counts["bangkok"] == 1
    assert counts["pattaya"] == 1


def test_demo_registry_counts_other_kinds_in_range(registry):
    counts = Counter(r.kind for r in registry)
    assert 180 <= counts["town_municipality"] <= 200
    assert 2100 <= counts["subdistrict_municipality"] <= 2300
    assert 5000 <= counts["sao"] <= 5400
    assert 7400 <= len(registry) <= 7900


def test_demo_registry_counts_exact_for_geothai_3_2_1(registry):
    # geothai 3.2.1 has 7,256 tambons outside Bangkok: the real 2,240 : 5,300 ratio scaled to them.
    assert demo_kind_counts() == {
        "pao": 76, "city_municipality": 30, "town_municipality": 190,
        "subdistrict_municipality": 2156, "sao": 5100, "bangkok": 1, "pattaya": 1,
    }
    assert Counter(r.kind for r in registry) == demo_kind_counts()
    assert len(registry) == 7554


def test_demo_registry_codes_unique_and_seven_digits(registry):
    codes = [r.code for r in registry]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 7 and c.isascii() and c.isdigit() for c in codes)


def test_demo_registry_code_first_digit_is_kind(registry):
    digit = {kind: str(i) for i, kind in enumerate(KINDS, start=1)}
    assert all(r.code[0] == digit[r.kind] for r in registry)
    assert all(r.code[1:3] == r.province_code for r in registry)


def test_demo_registry_sorted_by_code(registry):
    assert [r.code for r in registry] == sorted(r.code for r in registry)


def test_demo_registry_names_unique_within_province(registry):
    keys = [(r.province_code, r.name_th) for r in registry]
    assert len(set(keys)) == len(keys)


def test_demo_registry_repeated_tambon_name_gets_district(registry):
    repeated = [r for r in registry if " อำเภอ" in r.name_th]
    assert repeated
    for r in repeated:
        assert r.name_th.endswith(f" อำเภอ{r.district_name_th}")
        assert r.name_en.endswith(f" ({r.district_name_en} District)")


def test_demo_registry_same_seed_same_registry():
    assert generate_demo_registry(7) == generate_demo_registry(7)
    assert generate_demo_registry() == generate_demo_registry(2569)


def test_demo_registry_other_seed_other_draw_same_counts(registry):
    other = generate_demo_registry(1)
    assert other != registry
    assert Counter(r.kind for r in other) == Counter(r.kind for r in registry)


def test_demo_registry_all_provinces_represented(registry):
    assert {r.province_code for r in registry} == {p.code for p in geothai.provinces()}
    paos = Counter(r.province_code for r in registry if r.kind == "pao")
    assert set(paos) == {p.code for p in geothai.provinces()} - {"10"}
    assert set(paos.values()) == {1}


def test_demo_registry_place_names_come_from_geothai(registry):
    for r in registry:
        p = geothai.province(r.province_code)
        assert (r.province_name_th, r.province_name_en) == (p.name_th, p.name_en)
        if r.district_code:
            d = geothai.district(r.district_code)
            assert d.province_code == r.province_code
            assert (r.district_name_th, r.district_name_en) == (d.name_th, d.name_en)
        else:
            assert r.kind in ("pao", "bangkok")
            assert (r.district_name_th, r.district_name_en) == ("", "")


def test_demo_registry_pao_named_after_province(registry):
    cm = by_code(registry)["1500000"]
    assert cm.name_th == "องค์การบริหารส่วนจังหวัดเชียงใหม่"
    assert cm.name_en == "Chiang Mai Provincial Administrative Organisation"
    assert cm.kind == "pao"
    assert cm.district_code == ""


def test_demo_registry_real_city_municipalities_in_their_districts(registry):
    cities = {r.name_th: r for r in registry if r.kind == "city_municipality"}
    assert len(cities) == 30
    expected = {
        "เทศบาลนครเชียงใหม่": ("50", "5001"),
        "เทศบาลนครนครราชสีมา": ("30", "3001"),
        "เทศบาลนครขอนแก่น": ("40", "4001"),
        "เทศบาลนครอุดรธานี": ("41", "4101"),
        "เทศบาลนครหาดใหญ่": ("90", "9011"),
        "เทศบาลนครรังสิต": ("13", "1303"),
        "เทศบาลนครแม่สอด": ("63", "6306"),
        "เทศบาลนครเกาะสมุย": ("84", "8404"),
    }
    for name, (province, district) in expected.items():
        assert (cities[name].province_code, cities[name].district_code) == (province, district)
    assert cities["เทศบาลนครหาดใหญ่"].name_en == "Hat Yai City Municipality"
    assert cities["เทศบาลนครหาดใหญ่"].code == "2901101"


def test_demo_registry_two_cities_in_one_district_get_running_numbers(registry):
    codes = by_code(registry)
    assert codes["2200701"].name_th == "เทศบาลนครแหลมฉบัง"
    assert codes["2200702"].name_th == "เทศบาลนครเจ้าพระยาสุรศักดิ์"


def test_demo_registry_bangkok_and_pattaya(registry):
    codes = by_code(registry)
    bkk = codes["6100000"]
    assert (bkk.name_th, bkk.name_en, bkk.kind, bkk.province_code, bkk.district_code) == (
        "กรุงเทพมหานคร", "Bangkok Metropolitan Administration", "bangkok", "10", ""
    )
    pattaya = codes["7200401"]
    assert (pattaya.name_th, pattaya.name_en, pattaya.kind) == (
        "เมืองพัทยา", "Pattaya City", "pattaya"
    )
    assert (pattaya.province_name_en, pattaya.district_name_en) == ("Chon Buri", "Bang Lamung")
    assert [r.kind for r in registry if r.province_code == "10"] == ["bangkok"]


def test_demo_registry_town_municipalities_named_after_district(registry):
    towns = [r for r in registry if r.kind == "town_municipality"]
    for r in towns:
        district = r.district_name_th
        if r.district_code.endswith("01") and district.startswith("เมือง"):
            district = district.removeprefix("เมือง")
        assert r.name_th == f"เทศบาลเมือง{district}"
        assert r.name_en.endswith(" Town Municipality")
    assert len({r.district_code for r in towns}) == len(towns)
    names = {r.name_th for r in towns}
    assert "เทศบาลเมืองลำพูน" in names  # capital without a city municipality
    assert "เทศบาลเมืองเชียงใหม่" not in names  # Chiang Mai's capital is a city municipality
    lamphun = next(r for r in towns if r.name_th == "เทศบาลเมืองลำพูน")
    assert (lamphun.code, lamphun.name_en) == ("3510101", "Lamphun Town Municipality")


def test_demo_registry_one_subdistrict_lao_per_tambon(registry):
    local = [r for r in registry if r.kind in ("subdistrict_municipality", "sao")]
    tambons = [r.code[1:] for r in local]
    assert len(set(tambons)) == len(tambons)
    expected = {s.code for s in geothai._subdistricts() if s.province_code != "10"}
    assert set(tambons) == expected
    for r in local:
        assert geothai.subdistrict(r.code[1:]).district_code == r.district_code


def test_demo_registry_subdistrict_names_th_and_en(registry):
    tambon = geothai.subdistrict("500101")
    r = by_code(registry).get("4500101") or by_code(registry)["5500101"]
    if r.kind == "sao":
        assert r.name_th.startswith(f"องค์การบริหารส่วนตำบล{tambon.name_th}")
        assert r.name_en.startswith(f"Subdistrict Administrative Organisation {tambon.name_en}")
    else:
        assert r.name_th.startswith(f"เทศบาลตำบล{tambon.name_th}")
        assert r.name_en.startswith(f"{tambon.name_en} Subdistrict Municipality")
    for r in registry:
        if r.kind == "sao":
            assert r.name_th.startswith("องค์การบริหารส่วนตำบล")
            assert r.name_en.startswith("Subdistrict Administrative Organisation ")
        elif r.kind == "subdistrict_municipality":
            assert r.name_th.startswith("เทศบาลตำบล")
            assert " Subdistrict Municipality" in r.name_en


# ------------------------------------------------------------------------------ CSV: good rows


def test_parse_csv_good_rows_fill_names_from_geothai():
    result = parse(
        "5500101,องค์การบริหารส่วนตำบลทดสอบ,Test SAO,sao,50,5001",
        "1500000,องค์การบริหารส่วนจังหวัดเชียงใหม่,,pao,50,",
    )
    assert result.rejected == []
    assert result.records == [
        OrgRecord(
            "5500101", "องค์การบริหารส่วนตำบลทดสอบ", "Test SAO", "sao",
            "50", "เชียงใหม่", "Chiang Mai", "5001", "เมืองเชียงใหม่", "Mueang Chiang Mai",
        ),
        OrgRecord(
            "1500000", "องค์การบริหารส่วนจังหวัดเชียงใหม่", "", "pao",
            "50", "เชียงใหม่", "Chiang Mai", "", "", "",
        ),
    ]


def test_parse_csv_strips_spaces_and_accepts_long_codes():
    result = parse(" 1234567890 , เทศบาลตำบลทดสอบ , Test , subdistrict_municipality , 30 , 3001 ")
    assert result.rejected == []
    r = result.records[0]
    assert (r.code, r.name_th, r.name_en, r.kind, r.province_code, r.district_code) == (
        "1234567890", "เทศบาลตำบลทดสอบ", "Test", "subdistrict_municipality", "30", "3001"
    )


def test_parse_csv_bom_is_tolerated():
    result = parse_organisations_csv(["\ufeff" + HEADER, "5500101,อบต.ทดสอบ,,sao,50,5001"])
    assert result.rejected == []
    assert [r.code for r in result.records] == ["5500101"]


def test_parse_csv_thai_kind_labels_map_to_kinds():
    lines = [
        f"{10001 + i},ชื่อ {i},,{label_th},{'10' if kind == 'bangkok' else '20'},"
        for i, (kind, (label_th, _)) in enumerate(KIND_LABELS.items())
    ]
    result = parse(*lines)
    assert result.rejected == []
    assert [r.kind for r in result.records] == list(KINDS)


def test_parse_csv_english_labels_and_short_forms_map_to_kinds():
    result = parse(
        "10001,ก,,อบต.,50,",
        "10002,ข,,ทต.,50,",
        "10003,ค,,Town Municipality,50,",
        "10004,ง,,SAO,50,",
        "10005,จ,,เทศบาล,50,",
    )
    assert [r.kind for r in result.records] == [
        "sao", "subdistrict_municipality", "town_municipality", "sao"
    ]
    assert [(x.line, x.code) for x in result.rejected] == [(6, "10005")]


def test_kind_from_text_variants():
    assert kind_from_text("องค์การบริหารส่วนตำบล") == "sao"
    assert kind_from_text(" City_Municipality ") == "city_municipality"
    assert kind_from_text("Provincial Administrative Organization") == "pao"
    assert kind_from_text("กทม.") == "bangkok"
    assert kind_from_text("") is None
    assert kind_from_text("เทศบาล") is None


def test_parse_csv_header_in_other_order_and_without_optional_columns():
    result = parse_organisations_csv(
        ["KIND,Province_Code,name_th,code", "sao,50,อบต.ทดสอบ,5500101"]
    )
    assert result.rejected == []
    r = result.records[0]
    assert (r.code, r.name_en, r.kind, r.district_code) == ("5500101", "", "sao", "")


def test_parse_csv_blank_lines_skipped_and_line_numbers_kept():
    result = parse("", "5500101,อบต.ก,,sao,50,5001", "   ", ",,,,,", "12,อบต.ข,,sao,50,5001")
    assert [r.code for r in result.records] == ["5500101"]
    assert [(x.line, x.code) for x in result.rejected] == [(6, "12")]


def test_parse_csv_quoted_multiline_field_reports_start_line():
    text = HEADER + '\n5500101,"อบต.\nก",,sao,50,5001\n55001,,,sao,50,5001\n'
    result = parse_organisations_csv(io.StringIO(text, newline=""))
    assert [r.name_th for r in result.records] == ["อบต.\nก"]
    assert [(x.line, x.reason_en) for x in result.rejected] == [(4, "The Thai name is empty")]


def test_parse_csv_quoted_comma_in_name():
    result = parse('5500101,"อบต.ก, ข","SAO Ko, Kho",sao,50,5001')
    assert result.records[0].name_en == "SAO Ko, Kho"


# ------------------------------------------------------------------------------ CSV: bad rows


def test_parse_csv_too_few_columns_rejected():
    x = only_rejection(parse("5500101,อบต.ก,,sao,50"))
    assert (x.line, x.code) == (2, "5500101")
    assert x.reason_th == "จำนวนคอลัมน์ไม่ถูกต้อง: มี 5 คอลัมน์ ต้องมี 6"
    assert x.reason_en == "Wrong number of columns: 5, expected 6"


def test_parse_csv_too_many_columns_rejected():
    x = only_rejection(parse("5500101,อบต.ก,,sao,50,5001,extra"))
    assert x.reason_en == "Wrong number of columns: 7, expected 6"


def test_parse_csv_unknown_header_rejects_file():
    result = parse_organisations_csv(
        ["code,name_th,name_en,kind,province,district_code", "5500101,ก,,sao,50,"]
    )
    x = only_rejection(result)
    assert (x.line, x.code) == (1, None)
    assert x.reason_th.startswith("หัวตารางมีคอลัมน์ที่ไม่รู้จัก: province ")
    assert x.reason_en.startswith("Unknown column in the header: province ")


def test_parse_csv_missing_header_rejects_file():
    x = only_rejection(parse_organisations_csv(["5500101,ก,,sao,50,5001"]))
    assert (x.line, x.code) == (1, None)
    assert x.reason_th == (
        "ไม่พบหัวตาราง: บรรทัดแรกต้องเป็นชื่อคอลัมน์ "
        "code,name_th,name_en,kind,province_code,district_code"
    )
    assert x.reason_en == (
        "No header row: the first line must name the columns "
        "code,name_th,name_en,kind,province_code,district_code"
    )


def test_parse_csv_empty_header_cell_rejected():
    x = only_rejection(parse_organisations_csv(["code,name_th,,kind,province_code"]))
    assert x.reason_en.startswith('Unknown column in the header: "" (allowed: ')


def test_parse_csv_empty_file_rejected():
    x = only_rejection(parse_organisations_csv([]))
    assert (x.line, x.code) == (1, None)
    assert x.reason_en == "No header row (the first line must name the columns)"


def test_parse_csv_header_without_required_column_rejected():
    x = only_rejection(parse_organisations_csv(["code,name_en,kind,province_code"]))
    assert x.reason_th == "หัวตารางขาดคอลัมน์ที่ต้องมี: name_th"
    assert x.reason_en == "The header lacks required columns: name_th"


def test_parse_csv_header_with_repeated_column_rejected():
    x = only_rejection(parse_organisations_csv(["code,name_th,kind,province_code,code"]))
    assert x.reason_en == "Repeated column in the header: code"


def test_parse_csv_empty_thai_name_rejected():
    x = only_rejection(parse("5500101,  ,SAO,sao,50,5001"))
    assert (x.line, x.code, x.reason_th, x.reason_en) == (
        2, "5500101", "ไม่มีชื่อภาษาไทย", "The Thai name is empty"
    )


def test_parse_csv_too_long_name_rejected():
    x = only_rejection(parse(f"5500101,{'ก' * 256},,sao,50,5001"))
    assert x.reason_en == "A name is longer than 255 characters"


def test_parse_csv_empty_code_rejected():
    x = only_rejection(parse(",อบต.ก,,sao,50,5001"))
    assert (x.code, x.reason_th, x.reason_en) == (None, "ไม่มีรหัส อปท.", "The code is empty")


@pytest.mark.parametrize(
    "code", ["1234", "12345678901", "55001A1", "๕๕๐๐๑๐๑", "55 00101", "-55001"]
)
def test_parse_csv_malformed_code_rejected(code):
    x = only_rejection(parse(f"{code},อบต.ก,,sao,50,5001"))
    assert x.code == code
    assert x.reason_th == f"รหัส อปท. ต้องเป็นตัวเลข 5–10 หลัก: {code}"
    assert x.reason_en == f"The code must be 5 to 10 digits (0-9): {code}"


def test_parse_csv_duplicate_code_keeps_first():
    result = parse(
        "5500101,อบต.ก,,sao,50,5001",
        "5500102,อบต.ข,,sao,50,5001",
        "5500101,อบต.ค,,sao,50,5001",
    )
    assert [r.name_th for r in result.records] == ["อบต.ก", "อบต.ข"]
    assert result.rejected == [
        Rejected(
            4, "5500101",
            "รหัส 5500101 ซ้ำกับบรรทัดที่ 2", "Duplicate code 5500101: already on line 2",
        )
    ]


def test_parse_csv_duplicate_of_rejected_line_is_kept():
    result = parse("5500101,,,sao,50,5001", "5500101,อบต.ก,,sao,50,5001")
    assert [r.name_th for r in result.records] == ["อบต.ก"]
    assert [(x.line, x.reason_en) for x in result.rejected] == [(2, "The Thai name is empty")]


def test_parse_csv_unknown_kind_rejected():
    x = only_rejection(parse("5500101,อบต.ก,,village,50,5001"))
    assert x.reason_th.startswith("ประเภท อปท. ไม่ถูกต้อง: village (ใช้ได้: pao, ")
    assert x.reason_en.startswith("Unknown kind: village (allowed: pao, ")


def test_parse_csv_empty_kind_rejected():
    x = only_rejection(parse("5500101,อบต.ก,,,50,5001"))
    assert (x.reason_th, x.reason_en) == ("ไม่มีประเภท อปท.", "The kind is empty")


@pytest.mark.parametrize("province", ["99", "5", "050", "เชียงใหม่"])
def test_parse_csv_unknown_province_rejected(province):
    x = only_rejection(parse(f"5500101,อบต.ก,,sao,{province},"))
    assert x.reason_th == f"ไม่พบรหัสจังหวัด {province} (ต้องเป็นรหัสจังหวัด 2 หลักของกรมการปกครอง)"
    assert x.reason_en == f"Unknown province code {province} (must be a 2-digit DOPA province code)"


def test_parse_csv_empty_province_rejected():
    x = only_rejection(parse("5500101,อบต.ก,,sao,,"))
    assert x.reason_en == "The province code is empty"


@pytest.mark.parametrize("district", ["5099", "50011", "abcd"])
def test_parse_csv_unknown_district_rejected(district):
    x = only_rejection(parse(f"5500101,อบต.ก,,sao,50,{district}"))
    assert x.reason_en == f"Unknown district code {district} (must be a 4-digit DOPA district code)"


def test_parse_csv_district_of_other_province_rejected():
    x = only_rejection(parse("5500101,อบต.ก,,sao,50,3001"))
    assert x.reason_th == "อำเภอ 3001 (เมืองนครราชสีมา) ไม่อยู่ในจังหวัดเชียงใหม่"
    assert x.reason_en == "District 3001 (Mueang Nakhon Ratchasima) is not in Chiang Mai"


def test_parse_csv_bangkok_outside_province_10_rejected():
    x = only_rejection(parse("6100000,กรุงเทพมหานคร,,bangkok,50,"))
    assert x.reason_en == "Bangkok must have province code 10, and province 10 holds only Bangkok"


def test_parse_csv_sao_in_bangkok_rejected():
    x = only_rejection(parse("5100101,อบต.ก,,sao,10,1001"))
    assert x.reason_en == "Bangkok must have province code 10, and province 10 holds only Bangkok"


def test_parse_csv_pattaya_outside_chon_buri_rejected():
    x = only_rejection(parse("7500101,เมืองพัทยา,,pattaya,50,"))
    assert (x.reason_th, x.reason_en) == (
        "เมืองพัทยาต้องอยู่ในจังหวัดชลบุรี (20)", "Pattaya must be in Chon Buri (20)"
    )


def test_parse_csv_bad_rows_do_not_stop_good_rows():
    result = parse(
        "5500101,อบต.ก,,sao,50,5001",
        "bad,อบต.ข,,sao,50,5001",
        "5500103,อบต.ค,,sao,99,",
        "5500104,อบต.ง,,sao,50,5001",
    )
    assert [r.code for r in result.records] == ["5500101", "5500104"]
    assert [(x.line, x.code) for x in result.rejected] == [(3, "bad"), (4, "5500103")]


# ------------------------------------------------------------------------------ CSV: writing


def test_write_csv_format():
    out = io.StringIO()
    record = parse("5500101,อบต.ก,\"SAO Ko, K\",sao,50,5001").records[0]
    assert write_organisations_csv([record], out) == 1
    assert out.getvalue() == f'{",".join(COLUMNS)}\n5500101,อบต.ก,"SAO Ko, K",sao,50,5001\n'


def test_write_csv_bom_option_starts_with_bom():
    out = io.StringIO()
    write_organisations_csv([], out, bom=True)
    assert out.getvalue() == "\ufeff" + HEADER + "\n"


def test_csv_round_trip_demo_registry(registry):
    out = io.StringIO()
    assert write_organisations_csv(registry, out) == len(registry)
    result = parse_organisations_csv(io.StringIO(out.getvalue()))
    assert result.rejected == []
    assert result.records == registry


def test_csv_round_trip_through_utf8_file_with_bom(tmp_path, registry):
    path = tmp_path / "registry.csv"
    sample = registry[::50]
    with path.open("w", encoding="utf-8", newline="") as f:
        write_organisations_csv(sample, f, bom=True)
    with path.open(encoding="utf-8", newline="") as f:
        result = parse_organisations_csv(f)
    assert result.rejected == []
    assert result.records == sample


# ------------------------------------------------------------------------------ search key


def test_search_key_strips_whitespace_and_lowercases_latin():
    assert search_key("  Chiang  Mai\t") == "chiangmai"
    assert search_key("เทศบาล ตำบล\u00a0บ้านใหม่") == "เทศบาลตำบลบ้านใหม่"


def test_search_key_removes_zero_width_characters():
    assert search_key("เทศ\u200bบาล\u200cนคร\u200d\ufeff") == "เทศบาลนคร"


def test_search_key_composes_sara_am():
    # น + nikhahit + sara aa -> นำ
    assert search_key("\u0e19\u0e4d\u0e32") == "\u0e19\u0e33"
    assert search_key("\u0e19\u0e49\u0e4d\u0e32") == "\u0e19\u0e49\u0e33"  # tone before nikhahit
    assert search_key("\u0e19\u0e4d\u0e49\u0e32") == "\u0e19\u0e49\u0e33"  # tone between
    assert search_key("ลำพูน") == search_key("ล\u0e4d\u0e32พูน")


def test_search_key_applies_nfc():
    assert search_key("Cafe\u0301") == "caf\u00e9"


def test_search_key_same_for_name_typed_differently(registry):
    name = by_code(registry)["1510000"].name_th
    assert name == "องค์การบริหารส่วนจังหวัดลำพูน"
    assert search_key(" องค์การบริหารส่วนจังหวัด ล\u0e4d\u0e32พูน\u200b") == search_key(name)
