"""Thailand's 77 provinces as a tile map: one square each, placed on a grid roughly where the
province lies (north at the top, the southern peninsula below), with the province's usual
two-letter Thai abbreviation (three for Bangkok). Keyed by the province code of the registry
(``contest.domain.registry``)."""

from __future__ import annotations

from functools import cache

import geothai

#: province code -> (column, row, Thai abbreviation)
PROVINCE_TILES: dict[str, tuple[int, int, str]] = {
    # north
    "57": (3, 0, "ชร"),
    "58": (1, 1, "มส"), "50": (2, 1, "ชม"), "56": (3, 1, "พย"), "55": (4, 1, "นน"),
    "51": (2, 2, "ลพ"), "52": (3, 2, "ลป"), "54": (4, 2, "พร"),
    # the northeast
    "43": (7, 2, "นค"), "38": (8, 2, "บก"),
    "42": (5, 3, "ลย"), "39": (6, 3, "นภ"), "41": (7, 3, "อด"), "47": (8, 3, "สน"), "48": (9, 3, "นพ"),
    "40": (6, 4, "ขก"), "46": (7, 4, "กส"), "49": (8, 4, "มห"),
    "36": (5, 5, "ชย"), "44": (6, 5, "มค"), "45": (7, 5, "รอ"), "35": (8, 5, "ยส"), "37": (9, 5, "อจ"),
    "30": (5, 6, "นม"), "31": (6, 6, "บร"), "32": (7, 6, "สร"), "33": (8, 6, "ศก"), "34": (9, 6, "อบ"),
    # the lower north, the centre and the west
    "63": (1, 3, "ตก"), "64": (2, 3, "สท"), "53": (3, 3, "อต"),
    "62": (2, 4, "กพ"), "65": (3, 4, "พล"), "67": (4, 4, "พช"),
    "61": (1, 5, "อน"), "60": (2, 5, "นว"), "66": (3, 5, "พจ"),
    "18": (2, 6, "ชน"), "16": (3, 6, "ลบ"),
    "71": (0, 7, "กจ"), "72": (1, 7, "สพ"), "17": (2, 7, "สห"), "19": (3, 7, "สบ"),
    "73": (1, 8, "นฐ"), "15": (2, 8, "อท"), "14": (3, 8, "อย"),
    "70": (0, 9, "รบ"), "74": (1, 9, "สค"), "12": (2, 9, "นบ"), "13": (3, 9, "ปท"),
    "75": (1, 10, "สส"), "10": (2, 10, "กทม"), "11": (3, 10, "สป"),
    "76": (1, 11, "พบ"), "77": (1, 12, "ปข"),
    # the east
    "26": (4, 7, "นย"), "25": (5, 7, "ปจ"), "27": (6, 7, "สก"),
    "24": (4, 8, "ฉช"), "20": (4, 9, "ชบ"), "21": (4, 10, "รย"), "22": (5, 10, "จบ"), "23": (6, 10, "ตร"),
    # the south
    "86": (1, 13, "ชพ"), "85": (0, 14, "รน"), "84": (1, 14, "สฎ"),
    "82": (0, 15, "พง"), "81": (1, 15, "กบ"), "80": (2, 15, "นศ"),
    "83": (0, 16, "ภก"), "92": (1, 16, "ตง"), "93": (2, 16, "พท"),
    "91": (1, 17, "สต"), "90": (2, 17, "สข"), "94": (3, 17, "ปน"),
    "95": (3, 18, "ยล"), "96": (4, 18, "นธ"),
}


@cache
def province_names() -> dict[str, tuple[str, str]]:
    """province code -> (Thai name, English name), for every tile."""
    names: dict[str, tuple[str, str]] = {}
    for code in PROVINCE_TILES:
        province = geothai.province(code)
        names[code] = (province.name_th, province.name_en) if province is not None else (code, code)
    return names
