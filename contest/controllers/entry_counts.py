"""The organisers' entry list's counts (state chips; category, kind and province bars): drawn
from their own template, and kept while what they show is unchanged."""

from __future__ import annotations

from typing import Any

from litestar import Request
from markupsafe import Markup

from contest.i18n import current_language, thai_sorted


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
