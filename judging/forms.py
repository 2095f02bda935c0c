"""The organisers' judging forms, read: what a url-encoded form posted, turned into what the
domain functions take, and the domain's error keys turned back into the form's field names.

Pure: no database, no web framework, no reading of the time. Text a person typed is read leniently (spaces,
commas, semicolons or tabs between parts; a ``#`` before an entry number); what only the domain
can judge (a weight, a score range, an unknown e-mail address) is passed on as typed so the
domain's own message says what is wrong. What cannot be read at all raises ``ValidationFailed``
with a message per field, in the caller's language (Thai by default, English on request), and
nothing is sent anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from contest import dates
from contest.errors import ValidationFailed
from contest.i18n import t
from contest.numbers import whole_number

#: The fields of one criterion row on the rules form.
CRITERION_FIELDS = ("code", "name_th", "name_en", "description_th", "description_en", "weight", "min", "max")
#: How many criterion rows a posted rules form may have (more are ignored).
MAX_CRITERION_ROWS = 50
#: How many override rows a posted decision form may have (more are ignored).
MAX_OVERRIDE_ROWS = 200
#: The fields of one presentation slot.
SLOT_FIELDS = ("date", "time", "minutes", "link", "note")
#: Reviewers per entry when the field is left empty.
DEFAULT_REVIEWERS = 3
#: A slot's length in minutes when the field is left empty.
DEFAULT_SLOT_MINUTES = 15

# Between the parts of one line or list: commas, semicolons, tabs (and spaces around them).
LINE_SEPARATOR = re.compile(r"\s*[,;\t]\s*")
# Between the items of a list typed on one line: any run of spaces, commas or semicolons.
LIST_SEPARATOR = re.compile(r"[\s,;]+")
TRUE_WORDS = ("1", "on", "true", "yes")


# --- fields -------------------------------------------------------------------------------------

def field_values(data: dict[str, Any], key: str) -> list[str]:
    """Every value posted under ``key``, as text (a field may be posted more than once)."""
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def field_text(data: dict[str, Any], key: str) -> str:
    """The last value posted under ``key``, stripped; empty when there is none."""
    values = field_values(data, key)
    return values[-1].strip() if values else ""


def int_or_raw(value: str) -> Any:
    """A whole number typed in a field, with Thai digits or thousands separators as people type
    them ("๑๕", "1,000"): the number, ``None`` when empty, or the text as typed when it is not a
    whole number (the domain says what is wrong with it)."""
    value = value.strip()
    if not value:
        return None
    number = whole_number(value)
    return value if number is None else number


def page_number(value: Any) -> int:
    """A page number from a query or a hidden field: 1 for anything but a positive whole number."""
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def field_key(key: str) -> str:
    """A domain error key (``criteria[0].code``) as a form field name (``criteria-0-code``)."""
    return key.replace("[", "-").replace("]", "").replace(".", "-")


def row_indices(data: dict[str, Any], prefix: str) -> list[int]:
    """The row numbers of fields named ``<prefix>-<n>-<field>``, in order."""
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)-")
    return sorted({int(m.group(1)) for k in data for m in [pattern.match(k)] if m})


def split_list(text: str) -> list[str]:
    """Items typed on one line, separated by spaces, commas or semicolons; empty ones dropped."""
    return [part for part in LIST_SEPARATOR.split(text) if part]


def split_line(line: str, maxsplit: int) -> list[str]:
    """One line's parts, separated by commas, semicolons or tabs, each stripped; at most
    ``maxsplit`` splits, so the last part may itself contain commas (a reason)."""
    return [p.strip() for p in LINE_SEPARATOR.split(line.strip(), maxsplit=maxsplit)]


# --- the rules form -----------------------------------------------------------------------------

class PostedRules(NamedTuple):
    """A posted rules form: ``form`` to show again, ``payload`` for ``rounds.create_round`` or
    ``rounds.update_round``, and ``row_of``: the form row of each criterion in the payload."""

    form: dict[str, Any]
    payload: dict[str, Any]
    row_of: list[int]


def parse_tie_break(text: str) -> list[str]:
    """The tie-break chain as typed (``impact, feasibility``): criterion codes in order. Whether
    they are codes of the rubric is the domain's to say."""
    return split_list(text)


def tie_break_codes(data: dict[str, Any]) -> list[str]:
    """The tie-break chain as posted: one ``tie_break`` value a step, in order (the ordered
    list), or codes typed on one line; a code given twice counts once, where it first stands."""
    codes: list[str] = []
    for value in field_values(data, "tie_break"):
        codes += [c for c in parse_tie_break(value) if c not in codes]
    return codes


def tie_break_action(codes: list[str], action: str, added: str) -> tuple[list[str], str] | None:
    """A move in the ordered tie-break list (``tie-up-<n>``, ``tie-down-<n>``,
    ``tie-remove-<n>``, ``tie-add`` with the criterion ``added``): the chain after it and the
    button to give the focus to (the moved step's own, so moving again is one key away), or
    ``None`` when ``action`` is not such a move. Nothing is saved by a move."""
    if action == "tie-add":
        code = added.strip()
        chain = codes + [code] if code and code not in codes else list(codes)
        return chain, "tie-add"
    match = re.fullmatch(r"tie-(up|down|remove)-(\d+)", action)
    if not match or int(match.group(2)) >= len(codes):
        return None
    move, n = match.group(1), int(match.group(2))
    chain = list(codes)
    if move == "remove":
        del chain[n]
        return chain, "tie-add"
    to = n - 1 if move == "up" else n + 1
    if not 0 <= to < len(chain):
        return chain, f"tie-{move}-{n}"
    chain[n], chain[to] = chain[to], chain[n]
    # At either end the same button is gone: the other one takes the focus.
    if (move == "up" and to == 0) or (move == "down" and to == len(chain) - 1):
        move = "down" if move == "up" else "up"
    return chain, f"tie-{move}-{to}"


def parse_rules(data: dict[str, Any]) -> PostedRules:
    """The rules form: the criterion rows (``criteria-<n>-<field>``), reviewers per entry,
    normalisation, tie-break chain, same-province rule and seed. Rows left wholly empty are
    ignored, so the form can offer spare rows; weights and score ranges are sent as typed."""
    rows: list[dict[str, str]] = []
    criteria: list[dict[str, Any]] = []
    row_of: list[int] = []
    for i in row_indices(data, "criteria")[:MAX_CRITERION_ROWS]:
        row = {f: field_text(data, f"criteria-{i}-{f}") for f in CRITERION_FIELDS}
        rows.append(row)
        if any(row.values()):
            criteria.append(dict(row))
            row_of.append(len(rows) - 1)
    form: dict[str, Any] = {
        "kind": field_text(data, "kind"), "criteria": rows,
        "reviewers_per_entry": field_text(data, "reviewers_per_entry"),
        "normalisation": field_text(data, "normalisation") or "none", "tie_break": tie_break_codes(data),
        "exclude_same_province": field_text(data, "exclude_same_province") in TRUE_WORDS,
        "seed": field_text(data, "seed")}
    payload: dict[str, Any] = {
        "criteria": criteria,
        "reviewers_per_entry": int_or_raw(form["reviewers_per_entry"]) if form["reviewers_per_entry"]
        else DEFAULT_REVIEWERS,
        "normalisation": form["normalisation"],
        "tie_break": list(form["tie_break"]),
        "exclude_same_province": form["exclude_same_province"],
    }
    seed = int_or_raw(form["seed"])
    if seed is not None:
        payload["seed"] = seed
    return PostedRules(form, payload, row_of)


def rules_errors(errors: dict[str, str], row_of: list[int]) -> dict[str, str]:
    """The domain's errors on the rules (``criteria[1].weight``: the second criterion sent) as the
    form's field names (``criteria-3-weight``: the form row it came from)."""
    out: dict[str, str] = {}
    for key, message in errors.items():
        match = re.match(r"^criteria\[(\d+)\](?:\.(\w+))?$", key)
        if match:
            index = int(match.group(1))
            row = row_of[index] if index < len(row_of) else index
            out[f"criteria-{row}-{match.group(2) or 'code'}"] = message
        else:
            out[field_key(key)] = message
    return out


# --- the committee form -------------------------------------------------------------------------

@dataclass(frozen=True)
class MemberLines:
    """Committee members as typed: their e-mail addresses (lower case) and, for some, the
    two-digit code of their home province."""

    emails: list[str]
    provinces: dict[str, str]


@dataclass(frozen=True)
class ConflictLines:
    """Declared conflicts of interest as typed, and the line each one came from."""

    conflicts: list[dict[str, str]]
    line_of: list[int]


def _member_problems(text: str) -> tuple[MemberLines, list[str]]:
    emails: list[str] = []
    provinces: dict[str, str] = {}
    problems: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = split_line(line, 1)
        email = parts[0].lower()
        if "@" not in email or " " in email:
            problems.append(t("Line {n}: \"{text}\" is not an e-mail address.", n=n, text=parts[0]))
            continue
        emails.append(email)
        if len(parts) > 1 and parts[1]:
            if not re.fullmatch(r"\d{2}", parts[1]):
                problems.append(t("Line {n}: the province is its two-digit code (e.g. 50).", n=n))
                continue
            provinces[email] = parts[1]
    return MemberLines(emails, provinces), problems


def _conflict_problems(text: str) -> tuple[ConflictLines, list[str]]:
    conflicts: list[dict[str, str]] = []
    line_of: list[int] = []
    problems: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = split_line(line, 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            problems.append(t("Line {n}: write the e-mail, the organisation code and the reason, separated by "
                              "commas.", n=n))
            continue
        conflicts.append({"email": parts[0].lower(), "organisation_code": parts[1],
                          "reason": parts[2] if len(parts) > 2 else ""})
        line_of.append(n)
    return ConflictLines(conflicts, line_of), problems


def parse_members(text: str) -> MemberLines:
    """Committee members, one a line: ``e-mail`` or ``e-mail, province code`` (``a@x.th, 50``).
    Blank lines are skipped. Every line that cannot be read is named, by its number, in the
    ``members`` error."""
    found, problems = _member_problems(text)
    if problems:
        message = " ".join(problems)
        raise ValidationFailed(errors={"members": message})
    return found


def parse_conflicts(text: str) -> ConflictLines:
    """Conflicts of interest, one a line: ``e-mail, organisation code, reason`` (the reason may
    contain commas, and may be left out here: the domain asks for it). Every line that cannot be
    read is named, by its number, in the ``conflicts`` error."""
    found, problems = _conflict_problems(text)
    if problems:
        message = " ".join(problems)
        raise ValidationFailed(errors={"conflicts": message})
    return found


def parse_committee(members: str, conflicts: str) -> tuple[MemberLines, ConflictLines]:
    """Both committee fields at once, so one answer names the problems of both; at least one
    e-mail address or conflict line is needed."""
    member_lines, member_problems = _member_problems(members)
    conflict_lines, conflict_problems = _conflict_problems(conflicts)
    errors: dict[str, str] = {}
    if member_problems:
        errors["members"] = " ".join(member_problems)
    if conflict_problems:
        errors["conflicts"] = " ".join(conflict_problems)
    if not errors and not member_lines.emails and not conflict_lines.conflicts:
        errors["members"] = t("Write at least one e-mail address, or a conflict line.")
    if errors:
        raise ValidationFailed(errors=errors)
    return member_lines, conflict_lines


#: How many result rows a posted committee search may have (more are ignored).
MAX_PICKED_ROWS = 100


def picked_members(data: dict[str, Any]) -> MemberLines:
    """The people ticked in the committee search: rows ``people-<n>-email`` with ``-add`` ticked
    and, optionally, ``-province``, a two-digit province code (left empty: the member's
    organisation's province, or the one already recorded). At least one is needed."""
    emails: list[str] = []
    provinces: dict[str, str] = {}
    for i in row_indices(data, "people")[:MAX_PICKED_ROWS]:
        email = field_text(data, f"people-{i}-email").lower()
        if not email or field_text(data, f"people-{i}-add") not in TRUE_WORDS:
            continue
        province = field_text(data, f"people-{i}-province")
        if province and not re.fullmatch(r"\d{2}", province):
            raise ValidationFailed(errors={"people": t("Choose the province from the list.")})
        if email not in emails:
            emails.append(email)
        if province:
            provinces[email] = province
    if not emails:
        raise ValidationFailed(errors={"people": t("Tick at least one person to add.")})
    return MemberLines(emails, provinces)


def picked_conflicts(data: dict[str, Any]) -> ConflictLines:
    """A conflict of interest picked from the lists: the member (``conflict_member``, an e-mail
    address), the organisations ticked in the search (``organisation``, codes) and one reason
    for them all. Each organisation becomes one declared conflict."""
    email = field_text(data, "conflict_member").lower()
    codes: list[str] = []
    for code in field_values(data, "organisation"):
        if code.strip() and code.strip() not in codes:
            codes.append(code.strip())
    errors: dict[str, str] = {}
    if not email:
        errors["conflict_member"] = t("Choose the committee member.")
    if not codes:
        errors["organisation"] = t("Search for the organisation and tick it.")
    if errors:
        raise ValidationFailed(errors=errors)
    reason = field_text(data, "reason")
    return ConflictLines([{"email": email, "organisation_code": code, "reason": reason} for code in codes],
                         list(range(1, len(codes) + 1)))


def picker_errors(errors: dict[str, str], field_of: dict[str, str], default: str) -> dict[str, str]:
    """The domain's errors on what was picked as the picker's fields: the last part of each key
    (``conflicts[0].email``: ``email``) looked up in ``field_of``; the rest go to ``default``."""
    out: dict[str, list[str]] = {}
    for key, message in errors.items():
        part = key.rsplit(".", 1)[-1] if "." in key else key
        name = field_of.get(part, default)
        if message not in out.get(name, []):
            out.setdefault(name, []).append(message)
    return {k: " ".join(v) for k, v in out.items()}


def committee_errors(errors: dict[str, str], line_of: list[int]) -> dict[str, str]:
    """The domain's errors on the committee as the form's two fields: an error about the
    ``n``-th conflict sent names the line it was typed on; every other one goes to members."""
    out: dict[str, list[str]] = {}
    for key, message in errors.items():
        match = re.match(r"^conflicts\[(\d+)\]", key)
        if match:
            index = int(match.group(1))
            n = line_of[index] if index < len(line_of) else index + 1
            out.setdefault("conflicts", []).append(t("Line {n}: {problem}", n=n, problem=message))
        elif key.startswith("conflicts"):
            out.setdefault("conflicts", []).append(message)
        else:
            out.setdefault("members", []).append(message)
    return {k: " ".join(v) for k, v in out.items()}


# --- ranking ties and the decision --------------------------------------------------------------

def parse_tie_order(text: str) -> list[int]:
    """The committee's order for tied entries: entry numbers, best first (``#12, 7 31``)."""
    ids: list[int] = []
    for part in split_list(text):
        try:
            ids.append(int(part.lstrip("#")))
        except ValueError:
            raise ValidationFailed(errors={"order": t(
                "List entry numbers only, best first, separated by commas.")}) from None
    return ids


def override_rows(data: dict[str, Any]) -> list[dict[str, str]]:
    """The decision form's override rows (``override-<n>-entry_id``, ``-outcome``, ``-reason``)
    as typed, empty ones included (they are shown again)."""
    return [{"entry_id": field_text(data, f"override-{i}-entry_id"),
             "outcome": field_text(data, f"override-{i}-outcome"),
             "reason": field_text(data, f"override-{i}-reason")}
            for i in row_indices(data, "override")[:MAX_OVERRIDE_ROWS]]


def overrides_to_send(rows: list[dict[str, str]]) -> tuple[list[dict[str, Any]], list[int]]:
    """The rows that say anything, as ``shortlist.decide`` takes them (a ``#`` before the entry
    number dropped), and the form row of each one sent."""
    overrides: list[dict[str, Any]] = []
    row_of: list[int] = []
    for i, row in enumerate(rows):
        if not any(row.values()):
            continue
        overrides.append({"entry_id": row["entry_id"].lstrip("#"), "outcome": row["outcome"],
                          "reason": row["reason"]})
        row_of.append(i)
    return overrides, row_of


def override_errors(errors: dict[str, str], row_of: list[int]) -> tuple[dict[int, str], list[str]]:
    """The domain's errors on a decision: those about the ``n``-th override sent by the form row
    it came from, and the others."""
    by_row: dict[int, list[str]] = {}
    other: list[str] = []
    for key, message in errors.items():
        match = re.match(r"^overrides\[(\d+)\]", key)
        if match and int(match.group(1)) < len(row_of):
            by_row.setdefault(row_of[int(match.group(1))], []).append(message)
        else:
            other.append(message)
    return {k: " ".join(v) for k, v in by_row.items()}, other


# --- eligibility --------------------------------------------------------------------------------

def parse_entry_ids(values: list[str]) -> list[int]:
    """Ticked entries: their numbers; a value that is not a whole number is not an entry and is
    skipped."""
    ids: list[int] = []
    for value in values:
        try:
            ids.append(int(value))
        except ValueError:
            continue
    return ids


# --- presentation slots -------------------------------------------------------------------------

def slot_form(data: dict[str, Any]) -> dict[str, Any]:
    """A posted presentation slot's fields as typed; its start is one date and time field
    (``date-day``, ``date-month``, ``date-year``, ``date-time``)."""
    form: dict[str, Any] = {f: field_text(data, f) for f in SLOT_FIELDS if f not in ("date", "time")}
    form["date"] = _slot_entry(data)
    return form


def _slot_entry(data: dict[str, Any]) -> dates.DateEntry:
    if any(f"date-{p}" in data for p in dates.PARTS):
        return dates.entry_from_form(data, "date", with_time=True)
    # a script's single day (``2026-12-01``, its year may be B.E.) and ``time``
    day, at = dates.digits(field_text(data, "date")), field_text(data, "time")
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", day)
    if match:
        return dates.DateEntry(match.group(3), match.group(2), match.group(1), at)
    return dates.DateEntry(time=at, raw=day)


#: The label of a slot's start (a message id).
SLOT_START_LABEL = "Date and time (Bangkok)"


def slot_start_label() -> str:
    return t(SLOT_START_LABEL)


def parse_slot_start(form: dict[str, Any]) -> tuple[datetime | None, dict[str, str]]:
    """A slot's start from its date and time field (day, month, B.E. year, ``10:00``), Bangkok
    time. Returned with that field's error rather than raised: the page shows it beside the
    domain's errors on the slot's other fields."""
    reading = dates.read_date(form["date"], SLOT_START_LABEL, required=True, with_time=True)
    if reading.error or not isinstance(reading.value, datetime):
        return None, {"date": reading.error or ""}
    return reading.value, {}


def slot_minutes(form: dict[str, str]) -> Any:
    """The slot's length as ``final.set_presentation`` takes it (15 when left empty)."""
    return int_or_raw(form["minutes"]) if form["minutes"] else DEFAULT_SLOT_MINUTES


def slot_values(slot: dict[str, Any] | None) -> dict[str, Any]:
    """A stored slot as its form shows it (Bangkok time, B.E. year); an empty form for no slot."""
    if not slot:
        return {"date": dates.DateEntry(), "minutes": str(DEFAULT_SLOT_MINUTES), "link": "", "note": ""}
    return {"date": dates.entry_from_value(slot["starts_at"], with_time=True), "minutes": str(slot["minutes"]),
            "link": slot["link"], "note": slot["note"]}
