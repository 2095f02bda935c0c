"""Languages: Thai by default, English on request.

Message ids are English; ``contest/locale/th/LC_MESSAGES/messages.po`` holds the Thai
catalogue (edit it with any PO editor; ``make messages`` re-extracts ids from code and
templates). The current language lives in a context variable set per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import icu
from babel.messages.pofile import read_po

from contest.clock import BANGKOK, to_bangkok

LANGUAGES = ("th", "en")
DEFAULT_LANGUAGE = "th"
LOCALE_DIR = Path(__file__).parent / "locale"

T = TypeVar("T")

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


@cache
def catalogue(language: str) -> dict[str, str]:
    """``messages.po`` (what ``make messages`` maintains) plus any other ``*.po`` beside it (a
    package's own pages, e.g. ``judging.po``); a translated id in ``messages.po`` wins."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    paths = sorted(folder.glob("*.po"), key=lambda p: (p.name == "messages.po", p.name))
    merged: dict[str, str] = {}
    for path in paths:
        with path.open("rb") as fh:
            cat = read_po(fh, locale=language)
        merged.update({m.id: m.string for m in cat
                       if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy})
    return merged


def gettext(message: str, language: str | None = None) -> str:
    lang = language or current_language.get()
    if lang == "en":
        return message
    return catalogue(lang).get(message, message)


def t(message: str, language: str | None = None, **params: Any) -> str:
    """Translate then fill ``{placeholders}``."""
    text = gettext(message, language)
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


def mail_text(msgid: str, /, **params: Any) -> str:
    """A mail's text for people of either language: Thai first, then English below a rule."""
    th, en = t(msgid, "th", **params), t(msgid, "en", **params)
    return th if th == en else f"{th}\n\n----\n\n{en}"


def both(message: str, **params: Any) -> str:
    """Thai first, then English: for API messages read by people of either language."""
    th, en = t(message, "th", **params), t(message, "en", **params)
    return th if th == en else f"{th} / {en}"


def localised(row: Mapping[str, Any], field: str = "name", language: str | None = None) -> str:
    """A row's ``<field>_th`` or ``<field>_en`` (a criterion's, a category's name or
    description), in the caller's language; the other language's when that one is empty."""
    lang = language or current_language.get()
    other = "th" if lang == "en" else "en"
    return str(row.get(f"{field}_{lang}") or row.get(f"{field}_{other}") or "")


def pick_language(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    for candidate in (query_lang, cookie_lang):
        if candidate in LANGUAGES:
            return candidate
    if accept_language:
        for part in accept_language.split(","):
            code = part.split(";")[0].strip().lower()[:2]
            if code in LANGUAGES:
                return code
    return DEFAULT_LANGUAGE


@cache
def _thai_collator() -> Any:
    return icu.Collator.createInstance(icu.Locale("th_TH"))


def thai_sort_key(text: str | None) -> bytes:
    """The key that puts Thai text in dictionary order (ICU's Thai collation, CLDR): เชียงใหม่
    under ช, แพร่ under พ, as Thai readers look for them, not by code point, where a word with a
    leading vowel (เ แ โ ใ ไ) would come after every other. Latin text and digits sort too."""
    return bytes(_thai_collator().getSortKey(text or ""))


def thai_sorted(items: Iterable[T], key: Callable[[T], str | None] = str) -> list[T]:
    """``items`` in Thai dictionary order of ``key(item)`` (the text itself by default)."""
    return sorted(items, key=lambda item: thai_sort_key(key(item)))


THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
               "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
THAI_MONTHS_SHORT = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.",
                     "ต.ค.", "พ.ย.", "ธ.ค.")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


def format_size(n: int | None) -> str:
    """A file's size as people read it: 850 B, 12.4 KB, 96.0 MB, 1.2 GB (1 KB = 1,024 bytes)."""
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(n)


def _iso_text(text: str) -> date | datetime | None:
    text = text.strip()
    try:
        if "T" in text or " " in text:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=BANGKOK)
        return date.fromisoformat(text)
    except ValueError:
        return None


def format_date(value: date | datetime | str | None, *, with_time: bool = True, short: bool = False,
                language: str | None = None) -> str:
    """Thai: Buddhist-Era year, Asia/Bangkok time ("22 พฤศจิกายน 2569 เวลา 16:30 น."). ISO 8601
    text (a time as the audit trail keeps it, ``2026-12-03T09:40:48Z``) is read first."""
    if isinstance(value, str):
        parsed = _iso_text(value)
        if parsed is None:
            return value
        value = parsed
    if value is None:
        return ""
    lang = language or current_language.get()
    moment = to_bangkok(value) if isinstance(value, datetime) else None
    if moment is not None:
        value = moment
    if not with_time:
        moment = None
    if lang == "th":
        month = (THAI_MONTHS_SHORT if short else THAI_MONTHS)[value.month - 1]
        text = f"{value.day} {month} {value.year + 543}"
        if moment is not None:
            text += f" เวลา {moment.hour:02d}:{moment.minute:02d} น."
        return text
    text = f"{value.day} {EN_MONTHS[value.month - 1][:3] if short else EN_MONTHS[value.month - 1]} {value.year}"
    if moment is not None:
        text += f", {moment.hour:02d}:{moment.minute:02d} (Bangkok time)"
    return text

