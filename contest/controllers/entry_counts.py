"""The organisers' entry list drawn in Python: its counts (state chips; category, kind and
province bars) from their own template, kept while what they show is unchanged; and its hundred
rows written out, every text escaped."""

from __future__ import annotations

from typing import Any

from litestar import Request
from markupsafe import Markup, escape

from contest.domain.registry import KIND_LABELS
from contest.i18n import current_language, format_date, gettext, thai_sorted


def _bar_width(n: int, counts: dict[str, int]) -> int:
    """A count's bar, 0-100 of the largest count beside it (at least 1 for a count above 0)."""
    top = max(counts.values(), default=0)
    return max(1, round(100 * n / top)) if n and top else 0


#: The entry list's counts as HTML, by everything they show (counts, filters, the categories'
#: and provinces' names, the language): rendered once while the entries stay as they are.
_COUNTS_HTML: dict[tuple[Any, ...], Any] = {}
_COUNTS_KEEP = 256


def counts_html(request: Request, counts: dict[str, dict[str, int]], active: dict[str, str],
                categories: dict[str, dict[str, Any]], names: dict[str, str], filter_query: Any,
                helpers: dict[str, Any]) -> Any:
    """The counts block of the organisers' entry list (state chips; category, kind and province
    bars), from its own template; ``helpers`` are the page's template helpers."""
    key = (current_language.get(), tuple(active.items()),
           tuple((group, tuple(sorted(n.items()))) for group, n in counts.items()),
           tuple((code, c.get("name_th"), c.get("name_en")) for code, c in categories.items()),
           tuple(names.items()))
    html = _COUNTS_HTML.get(key)
    if html is None:
        template = request.app.template_engine.get_template("contest/admin/_entry_counts.html")  # type: ignore[union-attr]
        html = Markup(template.render(
            counts=counts, filters=active, filtered=any(active.values()), filter_query=filter_query,
            province_names=names, bar=_bar_width, categories=categories,
            province_counts=thai_sorted(counts["province"].items(), key=lambda kv: names.get(kv[0], kv[0])),
            **helpers))
        if len(_COUNTS_HTML) >= _COUNTS_KEEP:
            _COUNTS_HTML.clear()
        _COUNTS_HTML[key] = html
    return html


def entry_rows_html(rows: list[dict[str, Any]], categories: dict[str, dict[str, Any]], state_label: Any) -> Markup:
    """The rows of the organisers' entry list: the HTML the template's loop gave, every text
    escaped, at a fraction of the cost (a hundred rows of seven cells on every page).
    ``state_label`` names an entry's state for people."""
    if not rows:
        empty = escape(gettext("No entries match these filters."))
        return Markup(f"\n    <tr><td colspan=\"7\">{empty}</td></tr>")
    english = current_language.get() == "en"
    untitled = gettext("(untitled entry)")
    names = {code: escape(c["name_en"] if english and c.get("name_en") else c["name_th"])
             for code, c in categories.items()}
    states: dict[str, Markup] = {}
    kinds: dict[str, Markup] = {}
    dates: dict[Any, str] = {}
    out = []
    for r in rows:
        state, kind, submitted = r["state"], r["organisation.kind"], r["submitted_at"]
        if state not in states:
            states[state] = escape(state_label(state))
        if kind not in kinds:
            labels = KIND_LABELS.get(kind)
            kinds[kind] = escape((labels[1] if english else labels[0]) if labels else kind)
        if submitted and submitted not in dates:
            dates[submitted] = escape(format_date(submitted))
        category = r["category"]
        out.append(
            f'\n    <tr>\n      <td>{r["id"]}</td>\n      <td><a href="/admin/entries/{r["id"]}">'
            f'{escape(r["title"] or untitled)}</a></td>\n      <td>{escape(r["organisation.name_th"])}<br>'
            f'<span class="hint">{escape(r["organisation.code"])} · {kinds[kind]}</span></td>\n'
            f'      <td>{escape(r["organisation.province_name_th"])}</td>\n'
            f'      <td>{names[category] if category in names else escape(category)}</td>\n'
            f'      <td>{states[state]}</td>\n      <td>{dates[submitted] if submitted else ""}</td>\n    </tr>')
    return Markup("".join(out))
