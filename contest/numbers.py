"""Whole numbers as clients send them: a JSON number, or its ASCII digits as text (a form field,
a query parameter). Never 3.7 read as 3, True as 1, "²" or "①" (``str.isdigit`` says yes to
those, ``int`` refuses), and never a number a database integer cannot hold: ids, years and
versions are PostgreSQL ``integer`` columns (32 bits).

Every integer a client gives in a query string or a JSON body goes through :func:`bounded`
(directly, or as a :func:`query_number` parameter): out of its range, or not a whole number at
all, it is a 422 naming the field, never a 500 from the database."""

from __future__ import annotations

from typing import Any, Final, overload

from litestar.params import Parameter

from contest.errors import ValidationFailed
from contest.i18n import t

_LIMIT: Final = 2**31
MAX_DB_INTEGER: Final = _LIMIT - 1


def whole_number(value: Any) -> int | None:
    """``value`` as an int, or None when it is not a whole number within a database integer."""
    if isinstance(value, str):
        text = value.strip()
        value = int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None
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
