"""The audit trail page's filters and context: who did what, to what, when (Bangkok time)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from contest import audit_labels, dates
from contest.domain import audit_timeline
from contest.domain.audit import Actor, ChainReport
from contest.i18n import format_date

#: The date filters (message ids as labels).
DATE_FILTERS = {"since": "Events from", "until": "Events until"}
#: Query parameters the page keeps from one page of results to the next.
KEPT = ("actor", "kind", "type", "subject")


def _text(query: Mapping[str, Any], name: str) -> str:
    value = query.get(name)
    return value.strip()[:200] if isinstance(value, str) else ""


async def audit_context(actor: Actor, query: Mapping[str, Any], report: ChainReport | None = None
                        ) -> tuple[dict[str, Any], int]:
    """The page's context and status: 422 when a date filter cannot be read (it is then not
    applied, and its message says why)."""
    typed = dates.form_dates(query, DATE_FILTERS)
    kinds = dict(audit_labels.kind_choices())
    kind = _text(query, "kind")
    kind = kind if kind in kinds else ""
    subject_type = _text(query, "type")
    subject_type = subject_type if subject_type in audit_labels.SUBJECT_LABELS else ""
    since, until = typed.readings["since"].value, typed.readings["until"].value
    filters = audit_timeline.TimelineFilter(
        actor=_text(query, "actor"), kinds=tuple(kind.split(",")) if kind else (), subject_type=subject_type,
        subject_id=_text(query, "subject"),
        since=since if isinstance(since, date) else None, until=until if isinstance(until, date) else None)
    page_text = _text(query, "page")
    page = int(page_text) if page_text.isdigit() and len(page_text) < 7 else 1
    result = await audit_timeline.timeline(actor=actor, filters=filters, page=page)
    kept: dict[str, str] = {k: _text(query, k) for k in KEPT if _text(query, k)}
    for name, entry in typed.entries.items():
        if typed.readings[name].ok and not typed.readings[name].empty:
            kept.update({f"{name}-day": entry.day, f"{name}-month": entry.month, f"{name}-year": entry.year})
    filtered = bool(kept)
    return {
        "timeline": result, "report": report, "errors": typed.errors, "typed": typed.entries,
        "query": {k: _text(query, k) for k in KEPT}, "kind_choices": list(kinds.items()),
        "subject_choices": [(k, audit_labels.subject_label(k)) for k in audit_labels.SUBJECT_LABELS],
        "filtered": filtered,
        "since_text": format_date(since, with_time=False) if since else "",
        "until_text": format_date(until, with_time=False) if until else "",
        "page_url": lambda n: "/admin/audit?" + urlencode({**kept, "page": n}),
    }, 422 if typed.errors else 200
