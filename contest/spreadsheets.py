"""Text that ends up in a spreadsheet (CSV exports, open data): a cell starting with a character
a spreadsheet reads as the start of a formula gets a leading apostrophe (OWASP "CSV injection"),
so a title an applicant typed as ``=HYPERLINK(...)`` stays text. Full-width forms count too:
some spreadsheet locales read ＝ as =. Numbers and other values are left alone."""

from __future__ import annotations

from typing import Any, Final

FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralise_formula(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
