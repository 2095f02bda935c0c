"""The audit trail as people read it: what each action code means, what it was done to, and each
event's payload as field changes ("State: Draft → Submitted") instead of JSON.

Labels are English message ids, translated when shown (Thai in ``locale/th/LC_MESSAGES/dates.po``).
A test fails when an action code written anywhere in the code has no label here. Pure: no
database. Values are shown as the trail holds them: a personal value erased from the trail reads
"erased", never what it was.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from contest.i18n import format_date, t

#: Every action code of the audit trail, with what it means (a message id).
ACTION_LABELS: dict[str, str] = {
    # accounts and sign-in
    "user.create": "Created an account",
    "user.sign_up": "Signed up",
    "user.sign_up_known_email": "Tried to sign up again with an email already registered",
    "user.confirm_email": "Confirmed the email address",
    "user.change_password": "Changed the password",
    "user.reset_password": "Reset the password",
    "user.revoke_session": "Ended a session or API token",
    "user.two_factor_enrol": "Turned on two-factor sign-in",
    "user.two_factor_off": "Turned off two-factor sign-in",
    "user.two_factor_recovery_codes": "Made new two-factor recovery codes",
    "user.two_factor_reset": "Reset someone's two-factor sign-in",
    "user.digital_id_link": "Linked a DGA Digital ID",
    "user.digital_id_login": "Signed in with DGA Digital ID",
    "user.digital_id_refused": "Refused a DGA Digital ID sign-in",
    # memberships of organisations
    "membership.request": "Asked to join an organisation",
    "membership.letter": "Uploaded a letter of appointment",
    "membership.approve": "Approved a membership",
    "membership.reject": "Turned down a membership",
    "membership.remove": "Removed a member from an organisation",
    "membership.vouch": "Vouched for a new member",
    # editions and results
    "edition.create": "Created an edition of the contest",
    "edition.update": "Changed the edition's details",
    "edition.advance": "Moved the edition to its next stage",
    "edition.publish": "Published the results",
    "edition.republish": "Published the results again",
    "deadline.extend": "Extended the deadline for an organisation",
    # entries
    "entry.create": "Created an entry",
    "entry.update": "Changed an entry",
    "entry.submit": "Submitted an entry",
    "entry.withdraw": "Withdrew an entry",
    "entry.consent_given": "Agreed to publish an entry",
    "entry.consent_withdrawn": "Withdrew consent to publish an entry",
    "entry.eligibility": "Decided an entry's eligibility",
    "entry.eligibility_cleared": "Set aside an eligibility decision",
    "entry.screening_outcome": "Recorded an entry's screening result",
    "entry.final_outcome": "Recorded an entry's final result",
    "entry.appeal_outcome": "Gave an entry the award its appeal decided",
    "appeal.lodge": "Lodged an appeal",
    "appeal.sign": "Signed an appeal decision first",
    "appeal.decide": "Decided an appeal",
    "edition.correct": "Corrected the published results after an appeal",
    "edition.certificate_signatory": "Set who signs the edition's certificates",
    "edition.remind_drafts": "Reminded organisations with unsubmitted drafts",
    "attachment.add": "Added a file to an entry",
    "attachment.delete": "Deleted a file of an entry",
    "attachment.purge": "Deleted a file at the end of its retention",
    # judging
    "round.create": "Created a judging round",
    "round.update": "Changed a judging round",
    "round.members": "Changed the committee of a round",
    "round.member_province": "Changed a committee member's province",
    "round.tie": "Recorded a committee member's conflict of interest",
    "round.open": "Opened a judging round",
    "round.assign": "Assigned entries to the committee",
    "round.reassign": "Assigned entries again",
    "round.remind": "Reminded the committee to score",
    "round.close": "Closed a judging round",
    "round.tie_decision": "Decided the order of tied entries",
    "round.decide": "Recorded the round's decision",
    "round.sign": "Signed the round's decision",
    "round.final": "Made the round's decision final",
    "round.calibration_entries": "Chose the calibration entries of a round",
    "round.rubric_notes": "Changed the scoring notes of a round",
    "calibration.submit": "Scored a calibration entry",
    "assignment.submit": "Submitted a score sheet",
    "assignment.reopen": "Reopened a score sheet",
    "assignment.recuse": "Declared a conflict of interest on an entry",
    "assignment.extra_reader": "Added an extra reader for an entry",
    "final.presentation": "Set a finalist's presentation slot",
    "final.invitations": "Invited the finalists to present",
    # adoption of innovations
    "adoption.request": "Asked to adopt an innovation",
    "adoption.answer": "Answered a request to adopt an innovation",
    "adoption.withdraw": "Withdrew a request to adopt an innovation",
    "adoption.in_service": "Reported an adopted service live",
    # administration, privacy and the record itself
    "pending_action.propose": "Proposed an action for a second administrator",
    "pending_action.approve": "Approved a proposed action",
    "pending_action.reject": "Turned down a proposed action",
    "privacy_notice.publish": "Published a privacy notice",
    "privacy_notice.accept": "Accepted the privacy notice",
    "erasure.request": "Asked for personal data to be erased",
    "erasure.approve": "Erased a person's data",
    "erasure.reject": "Turned down an erasure request",
    "registry.import": "Imported the register of local organisations",
    "outbox.resend": "Sent failed mail and checks again",
    "audit.sealed": "Sealed personal data in the audit trail",
}

#: The kinds of action, for the filter: an action code's first part.
ACTION_KINDS: dict[str, str] = {
    "user": "Accounts and sign-in", "membership": "Memberships", "edition": "Editions and results",
    "deadline": "Editions and results", "entry": "Entries", "attachment": "Entries", "appeal": "Entries",
    "round": "Judging",
    "assignment": "Judging", "final": "Judging", "calibration": "Judging", "adoption": "Adoption of innovations",
    "pending_action": "Administration", "privacy_notice": "Privacy", "erasure": "Privacy",
    "registry": "Administration", "outbox": "Administration", "audit": "Administration",
}

#: What an event was done to.
SUBJECT_LABELS: dict[str, str] = {
    "user": "Account", "entry": "Entry", "edition": "Edition", "round": "Judging round",
    "assignment": "Score sheet", "membership": "Membership", "organisation": "Organisation",
    "adoption": "Adoption request", "pending_action": "Proposed action", "privacy_notice": "Privacy notice",
    "erasure_request": "Erasure request", "registry": "Register of organisations", "outbox": "Mail and checks",
    "audit": "Audit trail", "digital_id_login": "Digital ID sign-in", "attachment": "File",
    "presentation": "Presentation slot", "session": "Session",
}

#: Payload keys as field names.
FIELD_LABELS: dict[str, str] = {
    "state": "State", "reason": "Reason", "email": "Email", "name": "Name", "role": "Role",
    "organisation_code": "Organisation code", "organisation_id": "Organisation", "organisation": "Organisation",
    "user_id": "Account", "user": "Account", "edition": "Edition", "year": "Edition", "title": "Title",
    "title_en": "Title (English)", "description": "Description", "category": "Category", "summary": "Summary",
    "problem": "The problem it solves", "solution": "How the service solves it",
    "citizens_served": "Citizens served", "results": "Results so far",
    "in_service_since": "In service since", "technology": "Technology used", "links": "Links",
    "video_url": "Video link", "contact_name": "Contact person", "contact_email": "Contact email",
    "contact_phone": "Contact phone", "consent_publish": "Consent to publish",
    "submission_opens_at": "Submissions open", "submission_closes_at": "Submission deadline",
    "screening_closes_at": "Screening ends", "final_closes_at": "Final judging ends",
    "announcement_at": "Results announced", "closes_at": "New deadline", "starts_at": "Starts",
    "minutes": "Length in minutes", "link": "Link", "size": "Size", "sha256": "SHA-256 fingerprint",
    "receipt": "Receipt", "files": "Files", "attachment_id": "File number", "kind": "Kind", "how": "How",
    "version": "Version", "four_eyes": "Approved by a second administrator", "rank": "Rank", "score": "Score",
    "email_confirmed": "Email confirmed", "token_id": "Token", "sessions_ended": "Sessions ended",
    "request_id": "Request", "refusal_code": "Refusal", "pseudonym": "Pseudonym", "issuer": "Provider",
    "via": "Through", "created": "Created", "updated": "Updated", "entries": "Entries", "jobs": "Jobs",
    "entry": "Entry", "entry_id": "Entry", "scores": "Scores", "finalists": "Finalists", "added": "Added",
    "province": "Province", "recused": "Taken off", "order": "Order", "decision_hash": "Decision fingerprint",
    "rules_hash": "Rules fingerprint", "signature": "Signatures", "snapshot_sha256": "Results fingerprint",
    "winners": "Winners", "consent_withdrawn": "Consent withdrawn for entry", "retention_years": "Years kept",
    "payload": "Details", "proposed_by": "Proposed by", "decided_by": "Decided by", "pending_action_id":
    "Proposed action", "service_url": "Link to the service", "adopter_organisation_id": "Adopting organisation",
    "message": "Message", "seed": "Seed", "inside": "Taken forward", "overrides": "Changed by the committee",
    "by": "By", "entries_per_organisation": "Entries per organisation", "shortlist_size": "Shortlist size",
    "max_file_bytes": "Largest file", "max_entry_bytes": "All files of an entry",
    "attachment_retention_years": "Years to keep files", "categories": "Categories",
    "appeal_id": "Appeal", "award": "Award", "signers": "Signatures", "outcome": "Outcome",
    "previous_sha256": "Earlier results fingerprint", "voided_signature": "Signature set aside",
    "attachment": "File", "reviewer": "Committee member", "round": "Judging round",
    "appeal_days": "Days to appeal after the announcement",
    "signatory_name": "Signatory", "position_th": "Position (Thai)", "position_en": "Position (English)",
    "signature_sha256": "Signature image fingerprint",
    "reminded": "Reminded", "recently_reminded": "Reminded recently", "unreachable": "No one to mail",
    "notes": "Notes",
}

#: Stored code values as words ("submitted" → Submitted).
VALUE_LABELS: dict[str, str] = {
    "draft": "Draft", "open": "Open", "submitted": "Submitted", "withdrawn": "Withdrawn",
    "eligible": "Eligible", "ineligible": "Not eligible", "shortlisted": "Shortlisted",
    "not_shortlisted": "Not shortlisted", "finalist": "Finalist", "winner": "Winner",
    "screening": "Screening", "final": "Final", "judging": "Judging", "announced": "Announced",
    "closed": "Closed", "signed": "Signed", "assigned": "Assigned", "recused": "Withdrawn for a conflict",
    "pending": "Waiting for approval", "verified": "Verified member", "rejected": "Not approved",
    "removed": "Removed", "requested": "Requested", "accepted": "Accepted", "declined": "Declined",
    "in_service": "In service", "admin": "Administrator", "reviewer": "Committee member",
    "applicant": "Organisation staff", "approved": "Approved",
}

ERASED_PREFIX = "erased:"
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$")


def action_label(code: str) -> str:
    """What an action code means, in the page's language; the code itself when unknown."""
    return t(ACTION_LABELS[code]) if code in ACTION_LABELS else code


def kind_label(kind: str) -> str:
    return t(ACTION_KINDS[kind]) if kind in ACTION_KINDS else kind


def kind_choices() -> list[tuple[str, str]]:
    """The filter's kinds of action: (value, label), one per label. A value may stand for several
    prefixes ("entry,attachment")."""
    grouped: dict[str, list[str]] = {}
    for prefix, label in ACTION_KINDS.items():
        grouped.setdefault(label, []).append(prefix)
    return [(",".join(prefixes), t(label)) for label, prefixes in grouped.items()]


def subject_label(subject_type: str) -> str:
    return t(SUBJECT_LABELS[subject_type]) if subject_type in SUBJECT_LABELS else subject_type


def field_label(key: str) -> str:
    if key in FIELD_LABELS:
        return t(FIELD_LABELS[key])
    return key.replace("_", " ").capitalize()


def value_text(value: Any) -> str:
    """A payload value as words: yes/no, times in B.E. and Bangkok, codes as their words."""
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return t("Yes") if value else t("No")
    if isinstance(value, (int, float)):
        return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
    if isinstance(value, str):
        if value.startswith(ERASED_PREFIX):
            return t("(erased)")
        if _ISO_TIME.match(value):
            return format_date(value, with_time="T" in value)
        if value in VALUE_LABELS:
            return t(VALUE_LABELS[value])
        return value
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return ", ".join(value_text(v) for v in value)
        return t("{n} items", n=len(value))
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {value_text(v)}" for k, v in value.items())
    return str(value)


@dataclass(frozen=True)
class Change:
    """One field of an event: its label, the value before (when the event had one) and after."""

    label: str
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before is not None and self.after is not None and self.before != self.after


def _payload(text: Any) -> Any:
    if isinstance(text, str):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def changes(before: Any, after: Any) -> list[Change]:
    """An event's payload as field changes, in the order the event wrote them."""
    old, new = _payload(before), _payload(after)
    if not isinstance(old, dict) and not isinstance(new, dict):
        if old in (None, "") and new in (None, ""):
            return []
        return [Change(t("Details"), value_text(old) if old not in (None, "") else None,
                       value_text(new) if new not in (None, "") else None)]
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    keys = list(new) + [k for k in old if k not in new]
    out = []
    for key in keys:
        show = _size_text if key in SIZE_KEYS else value_text
        out.append(Change(field_label(key), show(old[key]) if key in old else None,
                          show(new[key]) if key in new else None))
    return out


#: Payload keys that hold a number of bytes.
SIZE_KEYS = frozenset({"size", "max_file_bytes", "max_entry_bytes"})


def _size_text(value: Any) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return value_text(value)
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{value:,} B" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(value)
