"""Whole numbers as clients send them: a JSON number, or its digits as text (a form field, a
query parameter) as officials type them: ASCII or Thai digits (๐–๙), thousands grouped with
commas ("12,000", "๑๒,๐๐๐"). Never 3.7 read as 3, True as 1, "²", "①" or other scripts' digits,
"1,2,3" (commas that do not group thousands), and never a number a database integer cannot hold:
ids, years and versions are PostgreSQL ``integer`` columns (32 bits).

Every integer a client gives in a query string or a JSON body goes through :func:`bounded`
(directly, or as a :func:`query_number` parameter): out of its range, or not a whole number at
all, it is a 422 naming the field, never a 500 from the database."""

from __future__ import annotations

import re
from typing import Any, Final, overload

from litestar.params import Parameter

from contest.errors import ValidationFailed
from contest.i18n import t

_LIMIT: Final = 2**31
MAX_DB_INTEGER: Final = _LIMIT - 1


_THAI_DIGITS: Final = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_GROUPED: Final = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
_DECIMAL: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def typed_digits(text: str) -> str | None:
    """A whole number as a person typed it, in ASCII digits: Thai digits read as the same
    digits, commas dropped where they group thousands ("๑๒,๐๐๐" -> "12000"); None for
    anything else (a sign, a decimal point, letters, badly placed commas)."""
    text = text.strip().translate(_THAI_DIGITS)
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    return text if text.isascii() and text.isdigit() else None


def typed_decimal(text: str) -> float | None:
    """A number with an optional decimal point as a person typed it ("1,024.5", "๑๐๐"), or None."""
    text = text.strip().translate(_THAI_DIGITS)
    whole, dot, fraction = text.partition(".")
    if _GROUPED.fullmatch(whole):
        text = whole.replace(",", "") + dot + fraction
    return float(text) if text.isascii() and _DECIMAL.fullmatch(text) else None


def whole_number(value: Any) -> int | None:
    """``value`` as an int, or None when it is not a whole number within a database integer.
    Text is read as typed (:func:`typed_digits`)."""
    if isinstance(value, str):
        digits = typed_digits(value)
        value = int(digits) if digits is not None and len(digits) <= 12 else None
    if isinstance(value, int) and not isinstance(value, bool) and -_LIMIT < value < _LIMIT:
        return value
    return None


def bounded(value: Any, field: str, *, minimum: int = 0, maximum: int = MAX_DB_INTEGER) -> int:
    """``value`` as a whole number from ``minimum`` to ``maximum``, else a 422 for ``field``."""
    number = whole_number(value)
    if number is None or not minimum <= number <= maximum:
        raise ValidationFailed(errors={field: t("Enter a whole number from {minimum} to {maximum}.",
                                                minimum=minimum, maximum=maximum)})
    return number


def bounded_ids(value: Any, field: str) -> list[int]:
    """A JSON list of ids (each a whole number a database id can be), else a 422 for ``field``."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool)
                                              and 0 <= v <= MAX_DB_INTEGER for v in value):
        raise ValidationFailed(errors={field: t("A list of numeric ids.")})
    return value


def query_number(*, minimum: int = 0, maximum: int = MAX_DB_INTEGER, default: int | None = None,
                 name: str | None = None, description: str | None = None) -> Any:
    """A query parameter holding a whole number, documented as an integer with its range. The
    handler receives the text and reads it with :func:`bounded`, so a wrong value is the API's
    422 with the field (not the framework's 400, nor a 500 for a number too large)."""
    extra: dict[str, Any] = {"type": "integer", "minimum": minimum, "maximum": maximum}
    if default is not None:
        extra["default"] = default
    return Parameter(query=name, default=None, required=False, description=description, schema_extra=extra)


@overload
def query_value(value: str | None, field: str, *, minimum: int = ..., maximum: int = ...,
                default: int) -> int: ...
@overload
def query_value(value: str | None, field: str, *, minimum: int = ..., maximum: int = ...,
                default: None = ...) -> int | None: ...
def query_value(value: str | None, field: str, *, minimum: int = 0, maximum: int = MAX_DB_INTEGER,
                default: int | None = None) -> int | None:
    """A :func:`query_number` parameter's value: ``default`` when it was left out or empty."""
    if value is None or value == "":
        return default
    return bounded(value, field, minimum=minimum, maximum=maximum)
