"""Judging tables: rounds, rubric criteria, committees, conflicts, assignments, scores, decisions.

Piccolo has no composite unique constraints, so pairs that must be unique carry a ``key`` column
(``"round:user"`` and the like) with a unique index: the database, not only the code, refuses a
second membership, assignment, decision or signature.
"""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, DoublePrecision, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from contest.tables import Edition, Entry, User


class Round(Table, tablename="judging_round"):
    """A screening or final round of one edition. Rules freeze when it opens (``rules_hash``)."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    edition = ForeignKey(references=Edition, index=True)
    kind = Varchar(length=16)  # screening | final
    state = Varchar(length=16, default="draft")  # draft -> open -> closed -> signed
    reviewers_per_entry = Integer(default=3)
    normalisation = Varchar(length=16, default="none")
    tie_break = JSON(default=[])
    exclude_same_province = Boolean(default=False)
    seed = Integer(default=0)
    rules = JSON(default={})  # the frozen rules, exactly as hashed
    rules_hash = Varchar(length=64, default="")
    decision_hash = Varchar(length=64, default="")  # the proposal the signatures refer to
    opened_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    signed_at = Timestamptz(null=True, default=None)
    # Final round: when the finalists were invited to present (their slots shown and mailed).
    invitations_sent_at = Timestamptz(null=True, default=None)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Criterion(Table, tablename="judging_criterion"):
    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    round = ForeignKey(references=Round, index=True)
    code = Varchar(length=32)
    name_th = Varchar(length=255)
    name_en = Varchar(length=255, default="")
    description_th = Text(default="")
    description_en = Text(default="")
    weight = DoublePrecision()
    min_score = DoublePrecision(default=0)
    max_score = DoublePrecision(default=10)
    position = Integer(default=0)


class Member(Table, tablename="judging_member"):
    """A committee (screening) or panel (final) member of one round."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=40, unique=True)  # "round:user"
    round = ForeignKey(references=Round, index=True)
    user = ForeignKey(references=User, index=True)
    province_code = Varchar(length=4, default="")  # the member's own province (same-province rule)
    added_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ConflictOfInterest(Table, tablename="judging_conflict"):
    """A member's declared conflict of interest with an organisation: never assigned its entries
    (``judging.domain.conflicts``). Not a tie in the ranking: that is ``TieDecision``."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=64, unique=True)  # "round:user:organisation_code"
    round = ForeignKey(references=Round, index=True)
    user = ForeignKey(references=User, index=True)
    organisation_code = Varchar(length=16)
    reason = Text(default="")
    declared_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class RoundEntry(Table, tablename="judging_round_entry"):
    """The entries a round judges, taken when it opened."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=40, unique=True)  # "round:entry"
    round = ForeignKey(references=Round, index=True)
    entry = ForeignKey(references=Entry, index=True)


class Assignment(Table, tablename="judging_assignment"):
    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=48, unique=True)  # "round:entry:reviewer"
    round = ForeignKey(references=Round, index=True)
    entry = ForeignKey(references=Entry, index=True)
    reviewer = ForeignKey(references=User, index=True)
    state = Varchar(length=16, default="assigned", index=True)  # assigned | submitted | recused
    # The score sheet, criterion code -> value: saved as a whole (autosave), locked as a whole on
    # submit, read as a whole by the ranking. One row per review keeps the ranking's read at
    # 21,000 rows rather than 126,000 (see bench/ranking/db.py).
    scores = JSON(default={})
    comment = Text(default="")
    recuse_reason = Text(default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(null=True, default=None)


class TieDecision(Table, tablename="judging_tie_decision"):
    """The committee's recorded order inside a group the score and tie-break chain left tied."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=40, unique=True)  # "round:entry"
    round = ForeignKey(references=Round, index=True)
    entry = ForeignKey(references=Entry, index=True)
    position = Integer()
    reason = Text(default="")
    decided_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Decision(Table, tablename="judging_decision"):
    """One entry's proposed outcome in a round (replaced by a new proposal until signed)."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=40, unique=True)  # "round:entry"
    round = ForeignKey(references=Round, index=True)
    entry = ForeignKey(references=Entry, index=True)
    rank = Integer(null=True, default=None)
    score = DoublePrecision(null=True, default=None)
    proposed = Varchar(length=24)  # what the ranking alone gives
    outcome = Varchar(length=24)  # after overrides
    override_reason = Text(default="")
    decided_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Signature(Table, tablename="judging_signature"):
    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=40, unique=True)  # "round:user"
    round = ForeignKey(references=Round, index=True)
    user = ForeignKey(references=User, index=True)
    decision_hash = Varchar(length=64)
    signed_at = Timestamptz(default=TimestamptzNow())


class Presentation(Table, tablename="judging_presentation"):
    """A finalist's presentation slot before the panel (optional), shown to the finalist."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=40, unique=True)  # "round:entry"
    round = ForeignKey(references=Round, index=True)
    entry = ForeignKey(references=Entry, index=True)
    starts_at = Timestamptz()
    minutes = Integer(default=15)
    link = Varchar(length=500, default="")
    note = Text(default="")
    updated_by = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class CalibrationEntry(Table, tablename="judging_calibration_entry"):
    """An entry every committee member scores first, before their own queue opens (a screening
    round's calibration, ``judging.domain.calibration``). Its scores never count anywhere else."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=40, unique=True)  # "round:entry"
    round = ForeignKey(references=Round, index=True)
    entry = ForeignKey(references=Entry, index=True)
    marked_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class CalibrationSheet(Table, tablename="judging_calibration_sheet"):
    """One member's calibration score sheet for one calibration entry: kept apart from
    ``Assignment`` so that no ranking, agreement figure or shortlist can read it."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=48, unique=True)  # "round:entry:reviewer"
    round = ForeignKey(references=Round, index=True)
    entry = ForeignKey(references=Entry, index=True)
    reviewer = ForeignKey(references=User, index=True)
    state = Varchar(length=16, default="assigned")  # assigned | submitted
    scores = JSON(default={})
    comment = Text(default="")
    version = Integer(default=1)
    updated_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(null=True, default=None)


class CalibrationNotes(Table, tablename="judging_calibration_notes"):
    """The rubric notes a committee agreed on after calibrating, shown to every member on their
    score sheets."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=16, unique=True)  # "round"
    round = ForeignKey(references=Round, index=True)
    note = Text(default="")
    updated_by = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


ALL_TABLES = [Round, Criterion, Member, ConflictOfInterest, RoundEntry, Assignment, TieDecision, Decision, Signature,
              Presentation, CalibrationEntry, CalibrationSheet, CalibrationNotes]
