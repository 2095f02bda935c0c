"""Dates and times as Thai officials type them into a form.

A date is typed in three parts: the day, the month (chosen from a list of month names) and the
year. The year is expected in the Buddhist Era (2566); a Christian-Era year (2023) is accepted
too, and the form then says that it was read as such. A date and time adds an ``HH:MM`` part, and
is always Asia/Bangkok time. Thai digits (๒๕๖๖) are read like Arabic ones.

Every function here is pure: no database, no web framework, and the current day is passed in by
the caller. The posted names of a field ``start`` are ``start-day``, ``start-month``,
``start-year`` and ``start-time``; a single ISO 8601 value posted as ``start`` itself (what a
script sends) is read too. Messages are Thai first, then English, and name the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from contest import clock
from contest.i18n import EN_MONTHS, THAI_MONTHS, THAI_MONTHS_SHORT, current_language, format_date, t

#: The difference between a Buddhist-Era and a Christian-Era year.
BE_OFFSET = 543
#: The Christian-Era years a form accepts unless the field narrows them: 1900 to 2199, that is
#: B.E. 2443 to 2742. A year between the two ranges (2200 to 2442) is neither plausibly C.E.
#: nor B.E., so it is refused rather than guessed.
EARLIEST_CE = 1900
LATEST_CE = 2199

PARTS = ("day", "month", "year", "time")
#: The parts' names as a message names them (message ids, translated when shown).
PART_LABELS = {"day": "the day", "month": "the month", "year": "the year", "time": "the time"}
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


@dataclass(frozen=True)
class DateEntry:
    """A date field's parts exactly as typed (or as a stored value shows them)."""

    day: str = ""
    month: str = ""
    year: str = ""
    time: str = ""
    #: A single value posted under the field's own name that is not an ISO date.
    raw: str = ""

    def is_empty(self, with_time: bool = False) -> bool:
        parts = (self.day, self.month, self.year, self.time if with_time else "", self.raw)
        return not any(p.strip() for p in parts)


@dataclass(frozen=True)
class DateReading:
    """What a :class:`DateEntry` means: a ``date`` (or a Bangkok ``datetime``), or an error."""

    value: date | datetime | None = None
    error: str | None = None
    #: The year was typed in the Christian Era (the form says so).
    read_as_ce: bool = False
    empty: bool = False
    #: Which parts are wrong, for ``aria-invalid``.
    bad_parts: frozenset[str] = field(default_factory=frozenset)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class _Per:
    """A message parameter that differs by language (a month's name, parts of a date)."""

    th: str
    en: str


def _both(message: str, **params: Any) -> str:
    """Thai first, then English (as ``contest.i18n.both``), each half with its own words."""
    if isinstance(params.get("field"), str):  # a label's message id: each half in its own language
        params["field"] = _Per(th=t(params["field"], "th"), en=t(params["field"], "en"))

    def fill(lang: str) -> dict[str, Any]:
        return {k: (getattr(v, lang) if isinstance(v, _Per) else v) for k, v in params.items()}

    th, en = t(message, "th", **fill("th")), t(message, "en", **fill("en"))
    return th if th == en else f"{th} / {en}"


def _parts(missing: list[str]) -> _Per:
    english = [PART_LABELS[p] for p in missing]
    return _Per(th=" ".join(t(PART_LABELS[p], "th") for p in missing),
                en=english[0] if len(english) == 1 else ", ".join(english[:-1]) + " and " + english[-1])


def _month(month: int) -> _Per:
    return _Per(th=THAI_MONTHS[month - 1], en=EN_MONTHS[month - 1])


def digits(text: str) -> str:
    """``text`` trimmed, Thai digits as Arabic ones."""
    return text.strip().translate(_THAI_DIGITS)


def month_names(language: str | None = None) -> tuple[str, ...]:
    """The twelve month names in the page's language, January first."""
    return THAI_MONTHS if (language or current_language.get()) == "th" else EN_MONTHS


def _month_number(text: str) -> int | None:
    text = digits(text)
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    lowered = text.lower().rstrip(".")
    for names in (THAI_MONTHS, THAI_MONTHS_SHORT, EN_MONTHS):
        for i, name in enumerate(names):
            if lowered and lowered in (name.lower().rstrip("."), name.lower()[:3]):
                return i + 1
    return None


def year_ce(typed: int, earliest: int = EARLIEST_CE, latest: int = LATEST_CE) -> tuple[int, bool] | None:
    """A typed four-digit year as (Christian-Era year, typed in C.E.), or None when it is out of
    range. 2443 and later is B.E.; 1900 to 2199 is C.E."""
    if earliest + BE_OFFSET <= typed <= latest + BE_OFFSET:
        return typed - BE_OFFSET, False
    if earliest <= typed <= latest:
        return typed, True
    return None


def parse_clock_time(text: str) -> time | None:
    """``16:30``, ``16.30``, ``16.30 น.``, ``9:05`` as a time of day; None otherwise."""
    text = digits(text)
    text = re.sub(r"\s*(น\.?|นาฬิกา)$", "", text).strip()
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})", text)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return time(int(match.group(1)), int(match.group(2)))
    return None


def _days_in(month: int, year: int) -> int:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - date(year, month, 1)).days


def read_date(entry: DateEntry, label: str, *, required: bool = False, with_time: bool = False,
              earliest: int = EARLIEST_CE, latest: int = LATEST_CE) -> DateReading:  # noqa: C901 - one short check per part, in the order the person reads them
    """The date (or, ``with_time``, the Bangkok date and time) ``entry`` stands for.

    ``label`` is the field's label as a message id (English), so each half of a message names the
    field in its own language. Empty and not ``required``: ``DateReading(empty=True)``.
    ``earliest``/``latest`` bound the Christian-Era year (the message gives them in B.E.)."""
    if entry.is_empty(with_time):
        if required:
            parts = frozenset(PARTS if with_time else PARTS[:3])
            return DateReading(empty=True, bad_parts=parts, error=_both(
                "{field}: enter the day, month and year.", field=label) if not with_time else _both(
                "{field}: enter the day, month, year and time.", field=label))
        return DateReading(empty=True)
    if entry.raw:
        return DateReading(bad_parts=frozenset(PARTS[:3]), error=_both(
            "{field}: enter the day, choose the month and enter the year, e.g. 5 June 2566.", field=label))
    missing = [p for p in (PARTS if with_time else PARTS[:3]) if not getattr(entry, p).strip()]
    if missing:
        return DateReading(bad_parts=frozenset(missing), error=_both(
            "{field}: fill in {parts}.", field=label, parts=_parts(missing)))
    day_text, year_text = digits(entry.day), digits(entry.year)
    if not day_text.isdigit() or not 1 <= int(day_text) <= 31:
        return DateReading(bad_parts=frozenset({"day"}), error=_both(
            "{field}: the day must be a number from 1 to 31.", field=label))
    month = _month_number(entry.month)
    if month is None:
        return DateReading(bad_parts=frozenset({"month"}), error=_both(
            "{field}: choose a month from the list.", field=label))
    if not (year_text.isdigit() and len(year_text) == 4):
        return DateReading(bad_parts=frozenset({"year"}), error=_both(
            "{field}: enter the year as four digits in the Buddhist Era, e.g. 2566.", field=label))
    year = year_ce(int(year_text), earliest, latest)
    if year is None:
        return DateReading(bad_parts=frozenset({"year"}), error=_both(
            "{field}: the year {year} is out of range: enter a Buddhist-Era year from {low} to {high}.",
            field=label, year=year_text, low=earliest + BE_OFFSET, high=latest + BE_OFFSET))
    ce, read_as_ce = year
    day = int(day_text)
    if day > _days_in(month, ce):
        return DateReading(bad_parts=frozenset({"day"}), read_as_ce=read_as_ce, error=_both(
            "{field}: {month} {year} has only {n} days.", field=label, month=_month(month),
            year=ce + BE_OFFSET, n=_days_in(month, ce)))
    value: date | datetime = date(ce, month, day)
    if with_time:
        at = parse_clock_time(entry.time)
        if at is None:
            return DateReading(bad_parts=frozenset({"time"}), read_as_ce=read_as_ce, error=_both(
                "{field}: enter the time as hours and minutes, 24-hour Bangkok time, e.g. 16:30.", field=label))
        value = datetime.combine(value, at, tzinfo=clock.BANGKOK)
    return DateReading(value=value, read_as_ce=read_as_ce)


def ce_note(entry: DateEntry, label: str) -> str:
    """The hint shown beside a year typed in the Christian Era; empty otherwise."""
    year_text = digits(entry.year)
    if not (year_text.isdigit() and len(year_text) == 4):
        return ""
    year = year_ce(int(year_text))
    if year is None or not year[1]:
        return ""
    return _both("{field}: the year {typed} was read as a Christian-Era year (C.E.), that is B.E. {be}.",
                field=label, typed=year_text, be=year[0] + BE_OFFSET)


def not_after(value: date, latest: date, label: str) -> str | None:
    """An error when ``value`` lies after ``latest`` (usually today), dates in B.E."""
    if value <= latest:
        return None
    return _both("{field}: {date} is in the future; the date cannot be later than today, {today}.", field=label,
                 date=_day(value), today=_day(latest))


def _day(value: date) -> _Per:
    return _Per(th=format_date(value, with_time=False, language="th"),
                en=format_date(value, with_time=False, language="en"))


def entry_from_value(value: date | datetime | str | None, with_time: bool = False) -> DateEntry:
    """A stored date (or time, shown in Bangkok) as the parts its form shows: B.E. year."""
    if isinstance(value, str):
        value = _iso(value)
    if value is None:
        return DateEntry()
    if isinstance(value, datetime):
        moment = clock.to_bangkok(value)
        return DateEntry(str(moment.day), str(moment.month), str(moment.year + BE_OFFSET),
                         f"{moment.hour:02d}:{moment.minute:02d}" if with_time else "")
    return DateEntry(str(value.day), str(value.month), str(value.year + BE_OFFSET))


def _iso(text: str) -> date | datetime | None:
    text = text.strip()
    if not text:
        return None
    if "T" in text or " " in text:
        return clock.parse_time(text)
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def entry_from_form(data: Mapping[str, Any], name: str, with_time: bool = False) -> DateEntry:
    """A date field as posted: its parts (``name-day`` …), or one ISO value under ``name``."""
    if any(f"{name}-{p}" in data for p in PARTS):
        return DateEntry(*(str(data.get(f"{name}-{p}") or "")[:40] for p in PARTS))
    raw = data.get(name)
    if isinstance(raw, (date, datetime)):
        return entry_from_value(raw, with_time)
    if not isinstance(raw, str) or not raw.strip():
        return DateEntry()
    parsed = _iso(raw)
    if parsed is None or (with_time and not isinstance(parsed, datetime)):
        return DateEntry(raw=raw[:40])
    return entry_from_value(parsed, with_time)


def field_date(data: Mapping[str, Any], name: str, label: str, *, required: bool = False, with_time: bool = False,
               earliest: int = EARLIEST_CE, latest: int = LATEST_CE) -> tuple[DateEntry, DateReading]:
    """Read one date field of a posted form: (what was typed, what it means)."""
    entry = entry_from_form(data, name, with_time)
    return entry, read_date(entry, label, required=required, with_time=with_time, earliest=earliest, latest=latest)


def iso(reading: DateReading) -> str:
    """The reading as the domain and the JSON API take it: ``2023-06-05`` or an ISO date and time
    with the Bangkok offset; empty for an empty field."""
    return reading.value.isoformat() if reading.value is not None else ""


#: What a form passes to the domain for a field it could not read: text the domain refuses, so
#: nothing is saved and the other fields' errors come back with it; the page then shows the
#: reading's own message for that field.
UNREADABLE = "?"


@dataclass(frozen=True)
class FormDates:
    """Several date fields of one posted form."""

    entries: dict[str, DateEntry]
    readings: dict[str, DateReading]
    #: Each field's label (a message id).
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> dict[str, str]:
        return {name: r.error for name, r in self.readings.items() if r.error}

    def values(self) -> dict[str, str | None]:
        """Each field as the domain takes it: ISO text, None when empty, UNREADABLE when wrong."""
        return {name: (UNREADABLE if not r.ok else (iso(r) or None)) for name, r in self.readings.items()}

    def ce_notes(self) -> list[str]:
        """A note for each field whose year was typed in the Christian Era."""
        return [ce_note(self.entries[name], self.labels[name]) for name, r in self.readings.items()
                if r.ok and r.read_as_ce]

    def merged(self, errors: Mapping[str, str]) -> dict[str, str]:
        """The domain's errors with each unreadable field's message in place of the domain's."""
        out = dict(errors)
        out.update(self.errors)
        return out


def form_dates(data: Mapping[str, Any], labels: Mapping[str, str], *, required: tuple[str, ...] = (),
               with_time: bool = False) -> FormDates:
    """Read the date fields ``labels`` names (field name → its label, a message id)."""
    entries: dict[str, DateEntry] = {}
    readings: dict[str, DateReading] = {}
    for name, label in labels.items():
        entries[name], readings[name] = field_date(data, name, label, required=name in required,
                                                   with_time=with_time)
    return FormDates(entries, readings, dict(labels))
