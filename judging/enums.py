"""The vocabulary of judging: kinds and states of rounds and assignments. The round kinds are
``contest.enums.RoundKind`` (the contest records each round's outcome), named here too."""

from enum import StrEnum

from contest.enums import RoundKind

__all__ = ["RoundKind", "RoundState", "RoundStates", "AssignmentState", "AssignmentStates", "TEMPLATE_GLOBALS"]


class RoundState(StrEnum):
    """draft -> open -> closed -> signed: rules and committee are set while draft, scoring runs
    while open, the decision is proposed once closed and final once signed by two admins."""

    draft = "draft"
    open = "open"
    closed = "closed"
    signed = "signed"


class RoundStates:
    #: The committee may still change (members added, provinces corrected).
    COMMITTEE_CHANGEABLE = (RoundState.draft, RoundState.open)


class AssignmentState(StrEnum):
    assigned = "assigned"    # the sheet is the reviewer's to fill in
    submitted = "submitted"  # scored and handed in
    recused = "recused"      # a declared conflict of interest took it off the reviewer


class AssignmentStates:
    #: Still counts toward an entry's readers.
    LIVE = (AssignmentState.assigned, AssignmentState.submitted)


#: Judging's states for its templates (the app shell adds them to the Jinja globals), compared
#: as members: ``round.state == RoundState.open``.
TEMPLATE_GLOBALS = {e.__name__: e for e in (RoundState, RoundStates, AssignmentState, AssignmentStates)}
