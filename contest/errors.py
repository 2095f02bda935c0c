"""Domain errors. ``app.py`` maps them to HTTP statuses with a Thai-first message.

Each error carries a machine ``code`` and an English message id that the message catalogues
translate (Thai is the default language); ``params`` fill the message's placeholders.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 **params: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.params = params


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know it exists."""

    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"


class TwoFactorRequired(PermissionDenied):
    """The account's role needs two-factor sign-in and this session or token was not confirmed
    with a second factor (pages lead to the set-up or the code; the API answers 403)."""

    code = "two_factor_required"


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"


class Conflict(DomainError):
    """The request clashes with the current state (stale version, deadline, duplicate)."""

    status_code = 409
    code = "conflict"


class ValidationFailed(DomainError):
    """Input is well-formed but wrong. ``errors`` maps field names to message ids."""

    status_code = 422
    code = "validation_failed"
    #: The general message, shown above the field errors (translated like every message id).
    DEFAULT_MESSAGE = "Please correct the highlighted fields."

    def __init__(self, message: str = DEFAULT_MESSAGE, *,
                 errors: dict[str, str] | None = None, code: str | None = None,
                 **params: Any) -> None:
        super().__init__(message, code=code, **params)
        self.errors = errors or {}


class PayloadTooLarge(DomainError):
    """What was sent does not fit a limit (an entry's total size for its files)."""

    status_code = 413
    code = "too_large"


class RateLimited(DomainError):
    """Too many attempts; ``retry_after`` is the number of seconds to wait (the Retry-After header)."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int = 60, **params: Any) -> None:
        super().__init__(message, seconds=retry_after, **params)
        self.retry_after = retry_after


class StorageFull(DomainError):
    """The storage volume is full (below its free-space reserve); nothing was stored."""

    status_code = 507
    code = "storage_full"


class ServiceUnavailable(DomainError):
    """A service the request needs (file storage) failed; nothing was changed, try again later."""

    status_code = 503
    code = "service_unavailable"


#: Parameters of domain messages that carry a state or kind code ("the round is {state}"):
#: translated inside the sentence when it is shown.
CODE_PARAMS = ("kind", "state", "to")


def error_text(exc: DomainError) -> str:
    """A refusal as a page shows it, in the reader's language: a validation failure with only
    the general message gives its specific reasons instead; state and kind codes are translated
    inside the sentence."""
    from contest.i18n import t

    if isinstance(exc, ValidationFailed) and exc.errors and exc.message == ValidationFailed.DEFAULT_MESSAGE:
        return " ".join(exc.errors.values())
    params = {k: t(v) if k in CODE_PARAMS and isinstance(v, str) else v for k, v in exc.params.items()}
    return t(exc.message, **params)
