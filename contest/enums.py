"""States and kinds: the vocabulary the rest of the code shares."""

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    reviewer = "reviewer"
    applicant = "applicant"


class OrganisationKind(StrEnum):
    pao = "pao"
    city_municipality = "city_municipality"
    town_municipality = "town_municipality"
    subdistrict_municipality = "subdistrict_municipality"
    sao = "sao"
    bangkok = "bangkok"
    pattaya = "pattaya"


class EditionState(StrEnum):
    draft = "draft"          # being prepared, not public
    open = "open"            # public: the call; submissions follow the timeline
    screening = "screening"  # screening opened: submission rules frozen
    final = "final"
    announced = "announced"


class RoundKind(StrEnum):
    """The two judging rounds of an edition. Judging runs them; the contest records what each
    decides on the entries (``contest.domain.outcomes``), so the kinds are named here."""

    screening = "screening"  # the committee shortlists the 40
    final = "final"          # the panel picks the winner among them


class EntryState(StrEnum):
    """An entry's life: drafted and submitted by its organisation (or withdrawn), then decided by
    eligibility, the screening round and the final round."""

    draft = "draft"
    submitted = "submitted"
    withdrawn = "withdrawn"
    eligible = "eligible"
    ineligible = "ineligible"
    shortlisted = "shortlisted"
    not_shortlisted = "not_shortlisted"
    finalist = "finalist"
    winner = "winner"


class EntryStates:
    """The groups of entry states the rules speak of (in the order of the contest)."""

    #: What the organisation may still edit (before its deadline).
    EDITABLE = (EntryState.draft, EntryState.submitted)
    #: What judging decides: eligibility, the shortlist, the award.
    VERDICTS = (EntryState.eligible, EntryState.ineligible, EntryState.shortlisted,
                EntryState.not_shortlisted, EntryState.finalist, EntryState.winner)
    #: Every state but withdrawn: an entry that counts against the organisation's limit.
    LIVE = (EntryState.draft, EntryState.submitted, *VERDICTS)
    #: Submitted, whatever came of it since: an entry that took part in the edition.
    APPLIED = (EntryState.submitted, *VERDICTS)
    #: Eligibility decided, either way.
    ELIGIBILITY_DECIDED = (EntryState.eligible, EntryState.ineligible)
    #: What an administrator may mark eligible or ineligible (and re-mark either way).
    JUDGEABLE = (EntryState.submitted, EntryState.eligible, EntryState.ineligible)
    #: What a verdict reads as before publication, to everyone but the organiser.
    NEUTRAL = EntryState.submitted


class MembershipState(StrEnum):
    """Whether an account acts for an organisation: asked (``pending``), approved (``verified``),
    turned down (``rejected``) or taken off by a member or an admin (``removed``)."""

    pending = "pending"
    verified = "verified"
    rejected = "rejected"
    removed = "removed"


class PendingActionState(StrEnum):
    """A power one administrator proposed (four eyes): ``pending`` until a second administrator
    approves it (``approved``: carried out then) or turns it down (``rejected``; its proposer
    withdraws it the same way)."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class PendingActionStates:
    #: Decided either way: nothing left to approve or reject.
    DECIDED = (PendingActionState.approved, PendingActionState.rejected)


class ErasureState(StrEnum):
    """A person's request to have their data erased: ``pending`` until an administrator
    approves it (``approved``: the data became a pseudonym) or keeps the data for a reason the
    law allows (``rejected``)."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class ErasureStates:
    #: Decided either way: nothing left to approve or reject.
    DECIDED = (ErasureState.approved, ErasureState.rejected)


class AppealState(StrEnum):
    """An organisation's appeal against its result: ``open`` until two administrators sign its
    decision, ``upheld`` (the published results are corrected) or ``dismissed``."""

    open = "open"
    upheld = "upheld"
    dismissed = "dismissed"


class AppealStates:
    #: The decisions two administrators may sign.
    DECIDED = (AppealState.upheld, AppealState.dismissed)


class SignatoryState(StrEnum):
    """A version of who signs an edition's certificates: ``proposed`` by one administrator,
    ``approved`` by a second (the certificates print it), ``replaced`` once a newer one is."""

    proposed = "proposed"
    approved = "approved"
    replaced = "replaced"


class TokenPurpose(StrEnum):
    confirm_email = "confirm_email"
    reset_password = "reset_password"
    login_challenge = "login_challenge"  # the second step of a log-in, after the password


class AuthTokenKind(StrEnum):
    session = "session"
    api = "api"


class OutboxState(StrEnum):
    pending = "pending"
    done = "done"
    failed = "failed"


class AdoptionState(StrEnum):
    """An adoption of an awarded innovation: asked for, then accepted or declined by the owning
    organisation (or withdrawn by the adopter before an answer); accepted ones go ``in_service``
    once the adopter's own service is live."""

    requested = "requested"
    accepted = "accepted"
    declined = "declined"
    withdrawn = "withdrawn"
    in_service = "in_service"
