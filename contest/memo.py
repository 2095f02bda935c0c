"""Facts that, once read, hold for the rest of a request (a member has finished a round's
calibration, say): asked several times by the layers a request passes through, read once.

The web layer opens a scope per request (:func:`request_scope`). Outside one (the CLI, the job
worker, a test calling the domain) nothing is kept and every question reads the database. Only
facts that no later step of the same request can undo belong here.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_SCOPE: ContextVar[dict[Hashable, Any] | None] = ContextVar("request_memo", default=None)
_MISSING = object()


@contextmanager
def request_scope() -> Iterator[None]:
    token = _SCOPE.set({})
    try:
        yield
    finally:
        _SCOPE.reset(token)


def recall(key: Hashable) -> Any:
    """What was remembered under ``key`` in this request, or :data:`MISSING`."""
    scope = _SCOPE.get()
    return _MISSING if scope is None else scope.get(key, _MISSING)


def remember(key: Hashable, value: Any) -> None:
    scope = _SCOPE.get()
    if scope is not None:
        scope[key] = value


MISSING = _MISSING
