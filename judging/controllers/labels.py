"""Words both the committee's and the organisers' judging pages show: the kind of a round, and a
refusal as a sentence (``contest.errors.error_text``; msgids are English, translated when shown)."""

from __future__ import annotations

from contest.errors import error_text
from contest.i18n import t
from judging.enums import RoundKind

__all__ = ["error_text", "round_kind_label"]


def round_kind_label(kind: str) -> str:
    """``screening`` or ``final`` as people call the round."""
    labels: dict[str, str] = {RoundKind.screening: t("Screening round"), RoundKind.final: t("Final round")}
    return labels.get(kind, kind)

