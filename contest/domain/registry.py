"""The LAO registry as data: kinds, regions, CSV import/export, search keys.

Pure functions only: no database, no web framework, no environment. The tables and the admin
import page build on these.

The demo registry (7,554 LAOs from geothai's real places) is ``contest.domain.demo_registry``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

import geothai

__all__ = [
    "COLUMNS",
    "KINDS",
    "KIND_LABELS",
    "NAME_MAX",
    "REGIONS",
    "REGION_LABELS",
    "PROVINCE_REGION",
    "OrgRecord",
    "ParseResult",
    "Rejected",
    "kind_from_text",
    "make_record",
    "parse_organisations_csv",
    "region_of",
    "search_key",
    "SearchReading",
    "match_key",
    "name_guesses",
    "name_key",
    "read_search",
    "write_organisations_csv",
]

# --------------------------------------------------------------------------------------------
# Kinds and regions

KINDS: tuple[str, ...] = (
    "pao",
    "city_municipality",
    "town_municipality",
    "subdistrict_municipality",
    "sao",
    "bangkok",
    "pattaya",
)

KIND_LABELS: dict[str, tuple[str, str]] = {
    "pao": ("องค์การบริหารส่วนจังหวัด", "Provincial Administrative Organisation"),
    "city_municipality": ("เทศบาลนคร", "City Municipality"),
    "town_municipality": ("เทศบาลเมือง", "Town Municipality"),
    "subdistrict_municipality": ("เทศบาลตำบล", "Subdistrict Municipality"),
    "sao": ("องค์การบริหารส่วนตำบล", "Subdistrict Administrative Organisation"),
    "bangkok": ("กรุงเทพมหานคร", "Bangkok Metropolitan Administration"),
    "pattaya": ("เมืองพัทยา", "Pattaya City"),
}

REGIONS: tuple[str, ...] = ("north", "northeast", "central", "east", "west", "south")

REGION_LABELS: dict[str, tuple[str, str]] = {
    "north": ("ภาคเหนือ", "North"),
    "northeast": ("ภาคตะวันออกเฉียงเหนือ", "Northeast"),
    "central": ("ภาคกลาง", "Central"),
    "east": ("ภาคตะวันออก", "East"),
    "west": ("ภาคตะวันตก", "West"),
    "south": ("ภาคใต้", "South"),
}

# The six-region scheme of the National Geographical Committee (1977): 9 + 20 + 22 + 7 + 5 + 14.
# The lower north (Nakhon Sawan, Phitsanulok, …) is central in this scheme; Tak is west.
_REGION_PROVINCES: dict[str, tuple[str, ...]] = {
    "north": ("50", "51", "52", "53", "54", "55", "56", "57", "58"),
    "northeast": (
        "30", "31", "32", "33", "34", "35", "36", "37", "38", "39",
        "40", "41", "42", "43", "44", "45", "46", "47", "48", "49",
    ),
    "central": (
        "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "26",
        "60", "61", "62", "64", "65", "66", "67", "72", "73", "74", "75",
    ),
    "east": ("20", "21", "22", "23", "24", "25", "27"),
    "west": ("63", "70", "71", "76", "77"),
    "south": ("80", "81", "82", "83", "84", "85", "86", "90", "91", "92", "93", "94", "95", "96"),
}

PROVINCE_REGION: dict[str, str] = {
    code: region for region, codes in _REGION_PROVINCES.items() for code in codes
}


def region_of(province_code: str) -> str:
    """The region (one of ``REGIONS``) of a province; ``KeyError`` for an unknown code."""
    return PROVINCE_REGION[province_code]


BANGKOK = "10"
CHON_BURI_BANG_LAMUNG = "2004"  # Pattaya's district

# --------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class OrgRecord:
    """One LAO as the registry knows it. ``district_code`` is ``""`` for a province-wide LAO."""

    code: str
    name_th: str
    name_en: str
    kind: str
    province_code: str
    province_name_th: str
    province_name_en: str
    district_code: str
    district_name_th: str
    district_name_en: str

    @property
    def region(self) -> str:
        return region_of(self.province_code)


def make_record(
    code: str, name_th: str, name_en: str, kind: str, province_code: str, district_code: str = ""
) -> OrgRecord:
    p = geothai.province(province_code)
    if p is None:
        raise ValueError(f"unknown province {province_code}")
    d = geothai.district(district_code) if district_code else None
    return OrgRecord(
        code=code,
        name_th=name_th,
        name_en=name_en,
        kind=kind,
        province_code=p.code,
        province_name_th=p.name_th,
        province_name_en=p.name_en,
        district_code=d.code if d else "",
        district_name_th=d.name_th if d else "",
        district_name_en=d.name_en if d else "",
    )


# --------------------------------------------------------------------------------------------
# Search key

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# NIKHAHIT (U+0E4D), perhaps a tone mark, SARA AA (U+0E32)  ->  tone mark, SARA AM (U+0E33)
_SARA_AM = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")


def search_key(text: str) -> str:
    """Text in one form for searching Thai and English names.

    NFC; zero-width characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen) removed; a sara am
    typed as nikhahit + sara aa (with or without a tone mark between) composed into U+0E33; all
    whitespace removed (Thai writes no spaces between words, and people put them anywhere);
    Latin letters in lower case.
    """
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    text = _SARA_AM.sub("\\1\u0e33", text)
    text = "".join(text.split()).lower()
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------------------------
# Kind from text


def _kind_key(text: str) -> str:
    return search_key(text).replace(".", "").replace("-", "").replace("_", "")


_KIND_ALIASES: dict[str, str] = {}
for _kind, (_th, _en) in KIND_LABELS.items():
    for _alias in (_kind, _th, _en, _en.replace("Organisation", "Organization")):
        _KIND_ALIASES[_kind_key(_alias)] = _kind
for _alias, _kind in {
    "อบจ": "pao", "ทน": "city_municipality", "ทม": "town_municipality",
    "ทต": "subdistrict_municipality", "อบต": "sao", "กทม": "bangkok",
}.items():
    _KIND_ALIASES[_kind_key(_alias)] = _kind


def kind_from_text(text: str) -> str | None:
    """The kind meant by a kind key, its Thai or English label or a Thai short form (อบต.)."""
    key = _kind_key(text)
    return _KIND_ALIASES.get(key) if key else None


# --------------------------------------------------------------------------------------------
# Search as officials type it
#
# "อบต.สันทราย", "ทต. สันทรายหลวง", "หนองจ้อม" (the registry spells it หนองจ๊อม), "เทศบาลตำบล
# สันทรายหลวง", "อบต.สันทราย อ.สารภี": a kind written out or abbreviated, tone marks typed
# differently, spaces and dots anywhere, the district or province added to tell names apart.

# Mai ek, mai tho, mai tri, mai chattawa: often typed wrongly or left out.
_TONE_MARKS = dict.fromkeys(map(ord, "\u0e48\u0e49\u0e4a\u0e4b"), None)
_SEPARATORS = re.compile(r"[\s.,;:/()\[\]-]+")
# "อ.สารภี", "จ.เชียงใหม่", "ต.หนองจ๊อม": district, province and tambon, written before a place.
_PLACE_MARKERS = ("อ", "จ", "ต")
_PLACE_WORDS = ("อำเภอ", "จังหวัด", "ตำบล")
_MUNICIPALITIES = frozenset({"city_municipality", "town_municipality", "subdistrict_municipality"})
# A registry name made unique within its province: "… อำเภอบ้านโป่ง" or "… (5700101)".
_DISAMBIGUATION = re.compile(r"(\s+อำเภอ\S+|\s*\([0-9]+\))+$")


def _untoned(text: str) -> str:
    """``search_key``'s forms (NFC, no zero-width characters, one sara am, lower case), without
    Thai tone marks; spaces are kept."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    text = _SARA_AM.sub("\\1\u0e33", text).lower()
    return unicodedata.normalize("NFC", text).translate(_TONE_MARKS)


def match_key(text: str) -> str:
    """Text in the one form that searching compares: ``search_key`` without Thai tone marks,
    spaces or punctuation. "หนองจ้อม" and "หนอง จ๊อม" have the same key."""
    return "".join(_SEPARATORS.split(_untoned(text)))


def _kind_words() -> dict[str, frozenset[str]]:
    words: dict[str, frozenset[str]] = {}
    for kind, (th, _en) in KIND_LABELS.items():
        words[match_key(th)] = frozenset({kind})
    for short, kind in (("อบจ", "pao"), ("ทน", "city_municipality"), ("ทม", "town_municipality"),
                        ("ทต", "subdistrict_municipality"), ("อบต", "sao"), ("กทม", "bangkok")):
        words[match_key(short)] = frozenset({kind})
    words[match_key("เทศบาล")] = _MUNICIPALITIES
    return dict(sorted(words.items(), key=lambda w: -len(w[0])))  # the longest first


_KIND_WORDS = _kind_words()
_THAI_LABEL_KEYS = tuple(sorted((match_key(th) for th, _en in KIND_LABELS.values()), key=len, reverse=True))


@dataclass(frozen=True, slots=True)
class SearchReading:
    """One way to read a search: the kinds it names (None: any kind) and the words left, each in
    ``match_key`` form. Without words, it lists every organisation of those kinds."""

    kinds: frozenset[str] | None
    words: tuple[str, ...]


def _without_place_markers(words: list[str]) -> tuple[str, ...]:
    if len(words) < 2:
        return tuple(words)
    out = []
    for word in words:
        if word in _PLACE_MARKERS or word in _PLACE_WORDS:
            continue
        for marker in _PLACE_WORDS:
            if word.startswith(marker) and len(word) > len(marker):
                word = word[len(marker):]
                break
        out.append(word)
    return tuple(out or words)


def read_search(text: str) -> list[SearchReading]:
    """The readings of what someone typed into an organisation search, most likely first.

    A kind at the start (อบจ. ทน. ทม. ทต. อบต. กทม., the written-out kind, or "เทศบาล" for any
    municipality) becomes the reading's kinds. Where the kind runs into the name with no space or
    dot ("อบตสันทราย"), the whole text read as a name is a second reading. Empty for a search with
    nothing to look for."""
    words = [w for w in _SEPARATORS.split(_untoned(text)) if w]
    if not words:
        return []
    joined = "".join(words)
    for word, kinds in _KIND_WORDS.items():
        if not joined.startswith(word):
            continue
        rest: list[str] = []
        used, glued = len(word), False
        for w in words:
            if used >= len(w):
                used -= len(w)
                continue
            glued = glued or used > 0
            rest.append(w[used:])
            used = 0
        readings = [SearchReading(kinds, _without_place_markers(rest))]
        if glued:
            readings.append(SearchReading(None, _without_place_markers(words)))
        return readings
    return [SearchReading(None, _without_place_markers(words))]


def name_key(name_th: str) -> str:
    """The key a search ranks on: the Thai name without its kind and without what made it
    unique in its province, in ``match_key`` form ("สันทราย" for "องค์การบริหารส่วนตำบลสันทราย
    อำเภอสารภี"); the whole name where it is only a kind ("กรุงเทพมหานคร")."""
    key = match_key(_DISAMBIGUATION.sub("", name_th))
    for label in _THAI_LABEL_KEYS:
        if key.startswith(label) and len(key) > len(label):
            return key[len(label):]
    return key


def name_guesses(reading: SearchReading) -> tuple[str, ...]:
    """What of a reading may be the name: all its words run together, then fewer, down to the
    first ("สันทราย สารภี" -> "สันทรายสารภี", "สันทราย"); the words left over are a district,
    a province or another word the search must still find somewhere."""
    return tuple("".join(reading.words[:n]) for n in range(len(reading.words), 0, -1))


# How a search ranks a match (see organisations.search_organisations): the name typed exactly,
# then the start of a name, then a part of one, then a row found only by another word (its
# district, say); a name of the kind the search names gets KIND_BONUS more, so that an exact name
# beats the start of one of the right kind, which beats a part of one of the right kind.
RANK_EXACT, RANK_PREFIX, RANK_CONTAINS, KIND_BONUS = 30, 20, 10, 15


# --------------------------------------------------------------------------------------------
# CSV

COLUMNS: tuple[str, ...] = ("code", "name_th", "name_en", "kind", "province_code", "district_code")
_REQUIRED = ("code", "name_th", "kind", "province_code")
_CODE = re.compile(r"[0-9]{5,10}")
NAME_MAX = 255


@dataclass(frozen=True, slots=True)
class Rejected:
    """A line of an import that was not taken, and why (Thai first)."""

    line: int
    code: str | None
    reason_th: str
    reason_en: str


@dataclass(frozen=True, slots=True)
class ParseResult:
    records: list[OrgRecord]
    rejected: list[Rejected]


class _Reject(Exception):
    def __init__(self, reason_th: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.reason_th = reason_th
        self.reason_en = reason_en


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    first = True
    for line in lines:
        if first:
            line = line.removeprefix("\ufeff")
            first = False
        yield line


def parse_organisations_csv(lines: Iterable[str]) -> ParseResult:
    """Reads a registry CSV (UTF-8 text, header row, optional BOM).

    Columns: ``code,name_th,name_en,kind,province_code,district_code`` in any order; ``name_en``
    and ``district_code`` may be left out of the header or left empty. Blank lines are skipped.
    Each bad line gives one ``Rejected`` (with its first problem and the line it starts on) and
    the other lines are still read. A bad header rejects the whole file (line 1).
    A code repeated in the file: the first good line with it is kept, later ones are rejected.
    """
    reader = csv.reader(_without_bom(lines))
    records: list[OrgRecord] = []
    rejected: list[Rejected] = []
    try:
        header = next(reader, None)
    except csv.Error as e:
        reason = Rejected(1, None, f"อ่านหัวตารางไม่ได้: {e}", f"Cannot read the header: {e}")
        return ParseResult([], [reason])
    try:
        columns = _check_header(header)
    except _Reject as e:
        return ParseResult([], [Rejected(1, None, e.reason_th, e.reason_en)])

    first_line_of: dict[str, int] = {}
    line_done = reader.line_num
    while True:
        start = line_done + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            line_done = reader.line_num
            rejected.append(
                Rejected(start, None, f"อ่านบรรทัดนี้ไม่ได้: {e}", f"Cannot read this line: {e}")
            )
            continue
        line_done = reader.line_num
        if not any(field.strip() for field in row):
            continue
        code_at = columns.index("code")
        code = row[code_at].strip() if code_at < len(row) else None
        try:
            record = _parse_row(row, columns)
            if record.code in first_line_of:
                first = first_line_of[record.code]
                raise _Reject(
                    f"รหัส {record.code} ซ้ำกับบรรทัดที่ {first}",
                    f"Duplicate code {record.code}: already on line {first}",
                )
        except _Reject as e:
            rejected.append(Rejected(start, code or None, e.reason_th, e.reason_en))
            continue
        first_line_of[record.code] = start
        records.append(record)
    return ParseResult(records, rejected)


def _check_header(header: list[str] | None) -> list[str]:
    if not header or not any(h.strip() for h in header):
        raise _Reject(
            "ไม่พบหัวตาราง (บรรทัดแรกต้องเป็นชื่อคอลัมน์)",
            "No header row (the first line must name the columns)",
        )
    columns = [h.strip().lower() for h in header]
    if not any(c in COLUMNS for c in columns):
        raise _Reject(
            f"ไม่พบหัวตาราง: บรรทัดแรกต้องเป็นชื่อคอลัมน์ {','.join(COLUMNS)}",
            f"No header row: the first line must name the columns {','.join(COLUMNS)}",
        )
    unknown = [c or '""' for c in columns if c not in COLUMNS]
    if unknown:
        raise _Reject(
            f"หัวตารางมีคอลัมน์ที่ไม่รู้จัก: {', '.join(unknown)} (ใช้ได้: {', '.join(COLUMNS)})",
            f"Unknown column in the header: {', '.join(unknown)} (allowed: {', '.join(COLUMNS)})",
        )
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise _Reject(
            f"หัวตารางมีคอลัมน์ซ้ำ: {', '.join(repeated)}",
            f"Repeated column in the header: {', '.join(repeated)}",
        )
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise _Reject(
            f"หัวตารางขาดคอลัมน์ที่ต้องมี: {', '.join(missing)}",
            f"The header lacks required columns: {', '.join(missing)}",
        )
    return columns


def _parse_row(row: list[str], columns: list[str]) -> OrgRecord:  # noqa: C901 - one check per column of the registry CSV, each with its own message
    if len(row) != len(columns):
        raise _Reject(
            f"จำนวนคอลัมน์ไม่ถูกต้อง: มี {len(row)} คอลัมน์ ต้องมี {len(columns)}",
            f"Wrong number of columns: {len(row)}, expected {len(columns)}",
        )
    value = {c: unicodedata.normalize("NFC", v.strip()) for c, v in zip(columns, row, strict=False)}
    code = value["code"]
    if not code:
        raise _Reject("ไม่มีรหัส อปท.", "The code is empty")
    if not _CODE.fullmatch(code):
        raise _Reject(
            f"รหัส อปท. ต้องเป็นตัวเลข 5–10 หลัก: {code}",
            f"The code must be 5 to 10 digits (0-9): {code}",
        )
    name_th = value["name_th"]
    name_en = value.get("name_en", "")
    if not name_th:
        raise _Reject("ไม่มีชื่อภาษาไทย", "The Thai name is empty")
    for name in (name_th, name_en):
        if len(name) > NAME_MAX:
            raise _Reject(
                f"ชื่อยาวเกิน {NAME_MAX} ตัวอักษร", f"A name is longer than {NAME_MAX} characters"
            )
    if not value["kind"]:
        raise _Reject("ไม่มีประเภท อปท.", "The kind is empty")
    kind = kind_from_text(value["kind"])
    if kind is None:
        raise _Reject(
            f"ประเภท อปท. ไม่ถูกต้อง: {value['kind']}"
            f" (ใช้ได้: {', '.join(KINDS)} หรือชื่อประเภทภาษาไทย)",
            f"Unknown kind: {value['kind']} (allowed: {', '.join(KINDS)} or the Thai label)",
        )
    province_code = value["province_code"]
    if not province_code:
        raise _Reject("ไม่มีรหัสจังหวัด", "The province code is empty")
    province = geothai.province(province_code) if re.fullmatch(r"[0-9]{2}", province_code) else None
    if province is None:
        raise _Reject(
            f"ไม่พบรหัสจังหวัด {province_code} (ต้องเป็นรหัสจังหวัด 2 หลักของกรมการปกครอง)",
            f"Unknown province code {province_code} (must be a 2-digit DOPA province code)",
        )
    if (kind == "bangkok") != (province.code == BANGKOK):
        raise _Reject(
            "กรุงเทพมหานครต้องใช้รหัสจังหวัด 10 และจังหวัด 10 มีเพียงกรุงเทพมหานคร",
            "Bangkok must have province code 10, and province 10 holds only Bangkok",
        )
    if kind == "pattaya" and province.code != CHON_BURI_BANG_LAMUNG[:2]:
        raise _Reject("เมืองพัทยาต้องอยู่ในจังหวัดชลบุรี (20)", "Pattaya must be in Chon Buri (20)")
    district_code = value.get("district_code", "")
    if district_code:
        district = (
            geothai.district(district_code) if re.fullmatch(r"[0-9]{4}", district_code) else None
        )
        if district is None:
            raise _Reject(
                f"ไม่พบรหัสอำเภอ {district_code} (ต้องเป็นรหัสอำเภอ 4 หลัก)",
                f"Unknown district code {district_code} (must be a 4-digit DOPA district code)",
            )
        if district.province_code != province.code:
            raise _Reject(
                f"อำเภอ {district_code} ({district.name_th}) ไม่อยู่ในจังหวัด{province.name_th}",
                f"District {district_code} ({district.name_en}) is not in {province.name_en}",
            )
    return make_record(code, name_th, name_en, kind, province.code, district_code)


def write_organisations_csv(records: Iterable[OrgRecord], out: TextIO, *, bom: bool = False) -> int:
    """Writes records in the format ``parse_organisations_csv`` reads; returns how many.

    ``bom=True`` starts with a UTF-8 BOM so that Excel reads the Thai correctly.
    """
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for r in records:
        writer.writerow(
            (r.code, r.name_th, r.name_en, r.kind, r.province_code, r.district_code)
        )
        n += 1
    return n
