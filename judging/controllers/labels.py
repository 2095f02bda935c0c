"""Words both the committee's and the organisers' judging pages show: the kind of a round and a
refusal as a sentence (msgids are English; translated when shown)."""

from __future__ import annotations

from contest.errors import DomainError
from contest.i18n import t

# State and kind codes that domain messages carry as parameters ("the round is {state}").
CODE_PARAMS = ("kind", "state", "to")


def round_kind_label(kind: str) -> str:
    """``screening`` or ``final`` as people call the round."""
    return {"screening": t("Screening round"), "final": t("Final round")}.get(kind, kind)


def error_text(exc: DomainError) -> str:
    """A refusal as the page shows it, in the caller's language, with state and kind codes
    translated inside the sentence."""
    params = {k: t(v) if k in CODE_PARAMS and isinstance(v, str) else v for k, v in exc.params.items()}
    return t(exc.message, **params)
