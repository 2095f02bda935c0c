"""A round's rubric, its frozen rules and one reviewer's score sheet — pure functions, no I/O.

What a ranking is computed from (:mod:`judging.domain.ranking` ranks with these and defines every
number): the criteria with their weights and ranges, the normalisation, tie-break chain and cut, a
sheet's checks (:func:`validate_scores`) and its exact weighted total (:func:`weighted_total`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "NORMALISATIONS",
    "Criterion",
    "Normalisation",
    "Review",
    "Rules",
    "ScoreProblem",
    "rules_hash",
    "validate_scores",
    "weighted_total",
]

Normalisation = Literal["none", "zscore"]
NORMALISATIONS: tuple[str, ...] = ("none", "zscore")


@dataclass(frozen=True, slots=True)
class Criterion:
    """One rubric line: a code, a positive weight and the closed range ``[min, max]`` of a score."""

    code: str
    weight: float
    min: float
    max: float

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code:
            raise ValueError("criterion code must be a non-empty string")
        for name in ("weight", "min", "max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"criterion {self.code!r}: {name} must be a finite number")
        if self.weight <= 0:
            raise ValueError(f"criterion {self.code!r}: weight must be positive")
        if not self.min < self.max:
            raise ValueError(f"criterion {self.code!r}: min must be below max")


@dataclass(frozen=True, slots=True)
class Review:
    """One reviewer's submitted scores (criterion code -> value) for one entry."""

    entry_id: int
    reviewer_id: int
    scores: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Rules:
    """A round's frozen rules: rubric, normalisation, tie-break chain (criterion codes), cut size."""

    criteria: tuple[Criterion, ...]
    normalisation: Normalisation = "none"
    tie_break: tuple[str, ...] = ()
    cut: int = 40

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", tuple(self.criteria))
        object.__setattr__(self, "tie_break", tuple(self.tie_break))
        if not self.criteria:
            raise ValueError("a rubric needs at least one criterion")
        codes = [c.code for c in self.criteria]
        if len(set(codes)) != len(codes):
            raise ValueError("criterion codes must be unique")
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {NORMALISATIONS}")
        unknown = [code for code in self.tie_break if code not in codes]
        if unknown:
            raise ValueError(f"tie-break codes not in the rubric: {unknown}")
        if len(set(self.tie_break)) != len(self.tie_break):
            raise ValueError("tie-break codes must be unique")
        if isinstance(self.cut, bool) or not isinstance(self.cut, int) or self.cut < 0:
            raise ValueError("cut must be a non-negative integer")



@dataclass(frozen=True, slots=True)
class ScoreProblem:
    """Why a score sheet cannot be accepted, in Thai and English (for a 422)."""

    code: str  # criterion code concerned
    kind: Literal["unknown", "missing", "not_a_number", "out_of_range"]
    message_th: str
    message_en: str


def _number_text(value: float) -> str:
    return f"{value:g}"


def validate_scores(criteria: Iterable[Criterion], scores: Mapping[str, Any]) -> list[ScoreProblem]:
    """Every problem with one score sheet, in rubric order then unknown codes; empty when valid."""
    problems: list[ScoreProblem] = []
    known: set[str] = set()
    for criterion in criteria:
        known.add(criterion.code)
        if criterion.code not in scores:
            problems.append(
                ScoreProblem(
                    criterion.code,
                    "missing",
                    f"ยังไม่ได้ให้คะแนนเกณฑ์ {criterion.code}",
                    f"No score given for criterion {criterion.code}",
                )
            )
            continue
        value = scores[criterion.code]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            problems.append(
                ScoreProblem(
                    criterion.code,
                    "not_a_number",
                    f"คะแนนเกณฑ์ {criterion.code} ต้องเป็นตัวเลข",
                    f"The score for criterion {criterion.code} must be a number",
                )
            )
        elif not criterion.min <= value <= criterion.max:
            low, high = _number_text(criterion.min), _number_text(criterion.max)
            problems.append(
                ScoreProblem(
                    criterion.code,
                    "out_of_range",
                    f"คะแนนเกณฑ์ {criterion.code} ต้องอยู่ระหว่าง {low} ถึง {high} (ได้รับ {_number_text(value)})",
                    f"The score for criterion {criterion.code} must be between {low} and {high}"
                    f" (got {_number_text(value)})",
                )
            )
    for code in sorted(str(c) for c in scores if c not in known):
        problems.append(
            ScoreProblem(
                code,
                "unknown",
                f"ไม่มีเกณฑ์ {code} ในเกณฑ์การให้คะแนนของรอบนี้",
                f"Criterion {code} is not part of this round's rubric",
            )
        )
    return problems


def weighted_total(criteria: Iterable[Criterion], scores: Mapping[str, float]) -> float:
    """One review's weighted total ``sum(weight * value) / sum(weight)``, exact then rounded once.

    Every weight and value is an exact rational with a power-of-two denominator (a binary float or
    an integer), so both sums are integers over the largest of those denominators and the one
    division ``int / int`` rounds correctly.
    """
    terms: list[tuple[int, int]] = []
    weights: list[tuple[int, int]] = []
    for criterion in criteria:
        wn, wd = criterion.weight.as_integer_ratio()
        vn, vd = scores[criterion.code].as_integer_ratio()
        terms.append((wn * vn, wd * vd))
        weights.append((wn, wd))
    term_scale = max(d for _, d in terms)
    weight_scale = max(d for _, d in weights)
    numerator = sum(n * (term_scale // d) for n, d in terms)
    denominator = sum(n * (weight_scale // d) for n, d in weights)
    return numerator * weight_scale / (denominator * term_scale)


def rules_hash(rules_dict: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a round's rules: sorted keys, no whitespace, UTF-8."""
    canonical = json.dumps(
        rules_dict, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
