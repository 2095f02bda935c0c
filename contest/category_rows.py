"""An edition's categories on the edition form: one row a category (code, Thai name, English
name) with buttons to add and remove rows, and lines ``code | Thai name | English name`` pasted
for many at once. Pure: what was posted turned into what ``editions`` takes; whether the codes
are good is the domain's to say."""

from __future__ import annotations

import re
from typing import Any

#: The fields of one category row.
FIELDS = ("code", "name_th", "name_en")
#: How many category rows a posted form may have (more are ignored).
MAX_ROWS = 100


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value or "").strip()


def blank() -> dict[str, str]:
    return dict.fromkeys(FIELDS, "")


def rows_of(categories: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Stored categories as the form's rows."""
    return [{f: str(c.get(f) or "") for f in FIELDS} for c in categories]


def posted_rows(data: dict[str, Any]) -> list[dict[str, str]]:
    """The rows as posted (``categories-<n>-code`` …), in order, empty ones included."""
    pattern = re.compile(r"^categories-(\d+)-")
    numbers = sorted({int(m.group(1)) for k in data for m in [pattern.match(k)] if m})[:MAX_ROWS]
    return [{f: _text(data, f"categories-{n}-{f}") for f in FIELDS} for n in numbers]


def pasted_lines(text: str) -> list[dict[str, str]]:
    """Lines ``code | Thai name | English name`` (commas or tabs also separate the parts, as
    copied from a spreadsheet or a CSV file); blank lines skipped."""
    rows = []
    for line in text.splitlines():
        parts = [p.strip() for p in re.split(r"\s*[|\t]\s*", line.strip())] if re.search(r"[|\t]", line) \
            else [p.strip() for p in line.split(",", 2)]
        if parts and parts[0]:
            rows.append({"code": parts[0], "name_th": parts[1] if len(parts) > 1 else "",
                         "name_en": parts[2] if len(parts) > 2 else ""})
    return rows


def categories(data: dict[str, Any]) -> list[dict[str, str]]:
    """The categories the form says: its filled rows, then the pasted lines (a pasted line with
    the code of a row replaces that row)."""
    out = [r for r in posted_rows(data) if any(r.values())]
    for line in pasted_lines(_text(data, "categories")):
        same = [i for i, r in enumerate(out) if r["code"] == line["code"]]
        if same:
            out[same[0]] = line
        else:
            out.append(line)
    return out


def action(data: dict[str, Any]) -> list[dict[str, str]] | None:
    """A row added (``category-add``) or removed (``category-remove-<n>``): the rows after it,
    shown again without saving; ``None`` when the form was sent to save."""
    name = _text(data, "action")
    rows = posted_rows(data)
    if name == "category-add":
        return rows + [blank()]
    match = re.fullmatch(r"category-remove-(\d+)", name)
    if match:
        n = int(match.group(1))
        return [r for i, r in enumerate(rows) if i != n] or [blank()]
    return None
