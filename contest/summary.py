"""Error summaries list their errors in the order the fields appear on the page, so the first
link is the first field to fix. The domain checks fields in its own order; each page that shows
a summary puts the errors in its own order with ``in_page_order`` before rendering."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

SEPARATORS = ("-", "_", ".")


def in_page_order(errors: Mapping[str, str], fields: Iterable[str]) -> dict[str, str]:
    """``errors`` ordered by ``fields`` (the page's fields, top to bottom). A key belongs to the
    field it names, or to the longest field it extends (``criteria-2-weight`` to ``criteria``,
    ``in_service_since_year`` to ``in_service_since``); keys of no listed field come last, in
    the order they had."""
    order = list(fields)
    position = {name: i for i, name in enumerate(order)}

    def place(key: str) -> tuple[int, int]:
        if key in position:
            return position[key], 0  # the field itself before its parts
        owners = [f for f in order if any(key.startswith(f + sep) for sep in SEPARATORS)]
        return (position[max(owners, key=len)] if owners else len(order)), 1

    keys = list(errors)
    return {k: errors[k] for k in sorted(keys, key=lambda k: (*place(k), keys.index(k)))}
