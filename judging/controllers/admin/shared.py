"""What every organisers' judging page shares: the base controller (path and guard), the labels
and number formats the templates use, the flash message after a redirect, and running a page's
reads together."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from litestar import Controller
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from contest.controllers.entry_pages import state_label as entry_state_label
from contest.db import one_read
from contest.guards import admin_required
from contest.i18n import localised, t
from judging.controllers.labels import round_kind_label

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


class AdminPages(Controller):
    """The base of each tab's controller: under ``/admin/judging``, for administrators only,
    pages rather than API (left out of the OpenAPI document)."""

    path = "/admin/judging"
    guards = [admin_required]
    include_in_schema = False


# --- labels (msgids are English; translated when shown) -----------------------------------------

def round_state_label(state: str) -> str:
    return {"draft": t("Draft"), "open": t("Open for scoring"), "closed": t("Scoring closed"),
            "signed": t("Signed (final)")}.get(state, state)


def normalisation_label(value: str) -> str:
    return {"none": t("None (raw weighted scores)"),
            "zscore": t("Z-score per reviewer, rescaled to the rubric's range")}.get(value, value)


def assignment_state_label(state: str) -> str:
    return {"assigned": t("Not submitted"), "submitted": t("Submitted"), "recused": t("Recused")}.get(state, state)


def edition_state_label(state: str) -> str:
    return {"draft": t("Draft"), "open": t("Open for submissions"), "screening": t("Screening"),
            "final": t("Final judging"), "announced": t("Announced")}.get(state, state)


def number(value: Any, digits: int = 2) -> str:
    """Scores and weights for people: at most ``digits`` decimals, no trailing zeros."""
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def grouped(n: Any) -> str:
    """Counts with thousands separators (7,000)."""
    return f"{n:,}" if isinstance(n, int) and not isinstance(n, bool) else str(n)


HELPERS = {"round_state_label": round_state_label, "round_kind_label": round_kind_label,
           "normalisation_label": normalisation_label, "assignment_state_label": assignment_state_label,
           "entry_state_label": entry_state_label, "criterion_name": localised, "number": number,
           "edition_state_label": edition_state_label, "grouped": grouped}


def done_message(done: str | None, n: int | None) -> str | None:
    """The flash message after a redirect: ``?done=<what>[&n=<count>]``."""
    if not done:
        return None
    count = n or 0
    return {
        "created": t("The round was created as a draft. Check its rules, add the committee, then open it."),
        "saved": t("The rules were saved."),
        "opened": t("The round is open. Its rules are frozen and their hash is recorded."),
        "assigned": t("Assignment done: {n} new reviews assigned.", n=count),
        "closed": t("The round is closed: scoring has stopped."),
        "members": t("The committee was updated: {n} members added.", n=count),
        "conflicts": t("{n} conflicts of interest were recorded.", n=count),
        "reminders": t("{n} reminders were queued.", n=count),
        "reopened": t("The score sheet was reopened; the member can correct and submit it again."),
        "tie": t("The committee's order for the tied entries was recorded."),
        "decided": t("The proposal was saved. Two different administrators must now sign it."),
        "signed": t("Your signature was recorded. A second administrator must sign too."),
        "final": t("The decision is final: every entry's outcome is recorded."),
        "presentation": t("The presentation slot was saved."),
        "presentation_mailed": t("The presentation slot was saved; the organisation's staff were mailed."),
        "invited": t("{n} finalists were invited to present; each organisation now sees its own slot.", n=count),
        "eligible": t("{n} entries marked eligible.", n=count),
        "ineligible": t("{n} entries marked not eligible.", n=count),
    }.get(done)


def redirect(path: str, done: str, n: int | None = None, **params: Any) -> Redirect:
    """After a successful action: see the page again (303), with ``done`` for its flash message
    and the non-empty ``params`` (filters, page) kept in the query."""
    query = {"done": done, **({"n": n} if n is not None else {}), **{k: v for k, v in params.items() if v}}
    return Redirect(f"{path}?{urlencode(query)}", status_code=303)


T = TypeVar("T")


def reads(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Run a page builder's reads together (``contest.db.one_read``)."""
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        async with one_read():
            return await fn(*args, **kwargs)
    return wrapper
