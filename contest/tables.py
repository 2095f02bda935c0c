"""Database tables of the contest app. Rows never leave the domain: schemas.py shapes output."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Organisation(Table, tablename="organisation"):
    """An LAO (อปท.) in the official registry."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    code = Varchar(length=16, unique=True, index=True)
    name_th = Varchar(length=255)
    name_en = Varchar(length=255, default="")
    kind = Varchar(length=32, index=True)
    province_code = Varchar(length=4, index=True)
    province_name_th = Varchar(length=128)
    province_name_en = Varchar(length=128, default="")
    district_code = Varchar(length=8, default="")
    district_name_th = Varchar(length=128, default="")
    district_name_en = Varchar(length=128, default="")
    region = Varchar(length=16, default="", index=True)
    # What a search looks in: the Thai and English names, district, province and code, in the
    # one form searching compares (contest.domain.registry.match_key: no tone marks, spaces or dots).
    search_text = Text(default="")
    # The Thai name without its kind and without what made it unique in its province
    # ("สันทราย" for "องค์การบริหารส่วนตำบลสันทราย อำเภอสารภี"), in the same form: what ranks a match.
    name_key = Varchar(length=255, default="")
    # The Thai name's dictionary-order key (contest.i18n.thai_sort_key) in hexadecimal, so the
    # database lists organisations in Thai order.
    sort_key = Text(default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="app_user"):
    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    email = Varchar(length=254, unique=True, index=True)
    name = Varchar(length=255, default="")
    password_hash = Varchar(length=255)
    role = Varchar(length=16, index=True)
    organisation = ForeignKey(references=Organisation, null=True, index=True)
    email_confirmed_at = Timestamptz(null=True, default=None)
    is_active = Boolean(default=True)
    locale = Varchar(length=8, default="th")
    totp_secret = Varchar(length=64, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # Two-factor sign-in: on since, and the last 30-second step used (a code works only once).
    totp_enabled_at = Timestamptz(null=True, default=None)
    totp_last_step = BigInt(null=True, default=None)
    # An administrator since (a decision is signed only by admins who were admins before its
    # round opened).
    admin_since = Timestamptz(null=True, default=None)


class AuthToken(Table, tablename="auth_token"):
    """A browser session or an API bearer token. Only the SHA-256 of the secret is stored."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    kind = Varchar(length=8)
    token_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(references=User, index=True)
    csrf_token = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    user_agent = Varchar(length=255, default="")
    # Where and when it was last used, for the account's list of signed-in devices.
    ip_address = Varchar(length=45, default="")
    last_seen_at = Timestamptz(null=True, default=None)
    # When this session or token was confirmed with a second factor (None: password only).
    mfa_at = Timestamptz(null=True, default=None)


class RecoveryCode(Table, tablename="recovery_code"):
    """One-time codes for signing in without the phone. Only the SHA-256 is stored."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    user = ForeignKey(references=User, index=True)
    code_hash = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
    used_at = Timestamptz(null=True, default=None)


class EmailToken(Table, tablename="email_token"):
    """Single-use links: email confirmation and password reset."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    purpose = Varchar(length=32)
    token_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(references=User, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class Membership(Table, tablename="membership"):
    """An account acting for an organisation. It starts ``pending`` and acts only once
    ``verified``: the first member by a DGA admin from the authorisation letter (หนังสือมอบหมาย)
    signed by the organisation's head, later members by a verified member or an admin."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    user = ForeignKey(references=User, index=True)
    organisation = ForeignKey(references=Organisation, index=True)
    state = Varchar(length=16, default="pending", index=True)
    requested_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    decided_by = Integer(null=True, default=None)  # the user who approved, rejected or removed
    reason = Text(default="")
    # The authorisation letter (PDF), stored and checked like an attachment.
    letter_name = Varchar(length=255, default="")
    letter_key = Varchar(length=200, null=True, default=None, unique=True)
    letter_size = BigInt(default=0)
    letter_sha256 = Varchar(length=64, default="")
    letter_check_state = Varchar(length=16, default="")  # CheckState, empty without a letter
    letter_check_message = Text(default="")


class ErasureRequest(Table, tablename="erasure_request"):
    """A person asks for their data to be erased; an administrator approves (the data becomes a
    pseudonym everywhere) or rejects it with a reason the law allows."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    user = ForeignKey(references=User, index=True)
    state = Varchar(length=16, default="pending", index=True)  # ErasureState
    reason = Text(default="")  # the person's own words, optional
    refusal_code = Varchar(length=32, default="")
    decision_reason = Text(default="")  # what the person reads
    decided_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    pseudonym = Varchar(length=40, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class PendingAction(Table, tablename="pending_action"):
    """A power one administrator proposed and another must approve (four eyes)."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    kind = Varchar(length=32)
    state = Varchar(length=16, default="pending", index=True)  # PendingActionState
    proposed_by = Integer()
    payload = JSON(default={})
    private = JSON(default={})  # what approval needs but nobody reads back (a password hash)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    reason = Text(default="")


class Identity(Table, tablename="identity"):
    """An account's identity at an OpenID provider (DGA Digital ID): who the provider says it is."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=300, unique=True)  # issuer + " " + subject
    issuer = Varchar(length=255)
    subject = Varchar(length=255)
    user = ForeignKey(references=User, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class DigitalIdLogin(Table, tablename="digital_id_login"):
    """One sign-in at the provider in progress: its state, nonce and PKCE verifier (kept here,
    never in the browser), used once. After the provider answered, the identity it vouched for
    waits here until the person links it or signs up."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    state_hash = Varchar(length=64, unique=True)
    nonce = Varchar(length=64)
    verifier = Varchar(length=128)
    next_path = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    used_at = Timestamptz(null=True, default=None)
    issuer = Varchar(length=255, default="")
    subject = Varchar(length=255, default="")
    email = Varchar(length=254, default="")
    name = Varchar(length=255, default="")
    link_hash = Varchar(length=64, null=True, default=None, unique=True)
    linked_at = Timestamptz(null=True, default=None)


class RateCounter(Table, tablename="rate_counter"):
    """Attempt counters for rate limits when no Redis is configured. Each change is one atomic
    statement (INSERT ... ON CONFLICT ... RETURNING), so parallel requests count exactly.
    Times are whole seconds since the epoch."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    key = Varchar(length=200, unique=True)
    hits = Integer(default=0)
    not_before = BigInt(default=0)
    expires = BigInt(default=0, index=True)


class Edition(Table, tablename="edition"):
    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    year = Integer(unique=True, index=True)  # Buddhist Era
    title = Varchar(length=255)
    title_en = Varchar(length=255, default="")
    description = Text(default="")
    state = Varchar(length=16, default="draft")
    submission_opens_at = Timestamptz()
    submission_closes_at = Timestamptz()
    screening_closes_at = Timestamptz(null=True, default=None)
    final_closes_at = Timestamptz(null=True, default=None)
    announcement_at = Timestamptz()
    entries_per_organisation = Integer(default=1)
    shortlist_size = Integer(default=40)
    winners = Integer(default=1)
    max_file_bytes = BigInt(default=100 * 1024 * 1024)
    max_entry_bytes = BigInt(default=300 * 1024 * 1024)
    categories = JSON(default=[])
    published_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # Personal data retention: the files of entries that were not shortlisted are deleted this many
    # years after the results are published (contest.domain.retention).
    attachment_retention_years = Integer(default=2)
    # Appeals (อุทธรณ์): an organisation may appeal this many days after the results are published.
    appeal_days = Integer(default=15)


class AuditEvent(Table, tablename="audit_event"):
    """Append-only; ``hash`` = SHA-256(prev_hash + canonical event), so edits break the chain."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    seq = BigInt(unique=True, index=True)
    at = Varchar(length=40)  # ISO 8601 UTC, exactly as hashed
    actor_id = Integer(null=True, default=None)
    actor_email = Varchar(length=254, default="")
    action = Varchar(length=64, index=True)
    subject_type = Varchar(length=32, index=True)
    subject_id = Varchar(length=64, index=True)
    before = Text(default="null")  # canonical JSON, exactly as hashed
    after = Text(default="null")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)
    # {"salt", "commitments"}: how personal values enter the hash (see contest.domain.audit).
    pii = Text(default="{}")


class Outbox(Table, tablename="outbox"):
    """Jobs that must not be lost, written in the transaction of the change that causes them."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    job = Varchar(length=64)
    args = JSON(default={})
    dedupe_key = Varchar(length=191, unique=True, null=True, default=None)
    state = Varchar(length=16, default="pending", index=True)
    attempts = Integer(default=0)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    available_at = Timestamptz(default=TimestamptzNow(), index=True)
    claimed_until = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)


class Entry(Table, tablename="entry"):
    """An organisation's innovation entry in one edition.

    ``version`` guards the text fields (compare-and-set on save); ``revision`` counts every
    change including files, so submitting again only makes a new receipt when something changed.
    """

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    edition = ForeignKey(references=Edition, index=True)
    organisation = ForeignKey(references=Organisation, index=True)
    state = Varchar(length=24, default="draft", index=True)
    version = Integer(default=1)
    revision = Integer(default=1)
    submitted_revision = Integer(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    submission_count = Integer(default=0)
    title = Varchar(length=255, default="")
    category = Varchar(length=32, default="")
    summary = Text(default="")
    problem = Text(default="")
    solution = Text(default="")
    citizens_served = Integer(null=True, default=None)
    results = Text(default="")
    in_service_since = Date(null=True, default=None)
    technology = Text(default="")
    links = JSON(default=[])
    video_url = Varchar(length=500, default="")
    contact_name = Varchar(length=255, default="")
    contact_email = Varchar(length=254, default="")
    contact_phone = Varchar(length=32, default="")
    consent_publish = Boolean(default=False)
    # Filled by judging through contest domain functions; read by the announcement.
    eligibility_reason = Text(default="")
    outcome_rank = Integer(null=True, default=None)
    outcome_score = Varchar(length=32, default="")
    feedback = Text(default="")
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Attachment(Table, tablename="attachment"):
    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    entry = ForeignKey(references=Entry, index=True)
    kind = Varchar(length=24, default="document")
    name = Varchar(length=255)  # for display only; never used as a path
    size = BigInt()
    content_type = Varchar(length=100)
    sha256 = Varchar(length=64)
    storage_key = Varchar(length=200, unique=True)
    # "<entry id>:<the client's Idempotency-Key>": a retried upload finds the file it stored.
    # Unique through the index ``attachment_upload_key`` that its migration creates (SQLite
    # cannot add a UNIQUE column to an existing table).
    upload_key = Varchar(length=140, null=True, default=None)
    check_state = Varchar(length=16, default="pending")  # uploads.checks.CheckState
    check_details = JSON(default={})
    check_message = Text(default="")
    # An image's preview for public pages (``uploads.thumbnails``), made by the check job.
    thumbnail_key = Varchar(length=200, null=True, default=None)
    uploaded_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)
    # When its retention ended and its bytes were deleted; the row (name, size, SHA-256) stays,
    # so the receipts that list the file still show what was submitted.
    purged_at = Timestamptz(null=True, default=None)


class Receipt(Table, tablename="receipt"):
    """One submission of an entry: what was sent, when (server time), with every file's hash."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    entry = ForeignKey(references=Entry, index=True)
    number = Varchar(length=40, unique=True)
    sequence = Integer()
    revision = Integer()
    submitted_at = Timestamptz()
    submitted_by = Integer(null=True, default=None)
    snapshot = JSON(default={})
    files = JSON(default=[])


class DeadlineExtension(Table, tablename="deadline_extension"):
    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    edition = ForeignKey(references=Edition, index=True)
    organisation = ForeignKey(references=Organisation, index=True)
    closes_at = Timestamptz()
    reason = Text()
    granted_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ResultSnapshot(Table, tablename="result_snapshot"):
    """An edition's published results, frozen: the canonical JSON exactly as hashed. Public
    pages and open data are served from it; ``contest audit verify`` re-derives it."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    edition = ForeignKey(references=Edition, unique=True, index=True)
    published_at = Timestamptz()
    published_by = Integer(null=True, default=None)
    payload = Text()
    sha256 = Varchar(length=64)


class PrivacyNotice(Table, tablename="privacy_notice"):
    """One version of the privacy notice (PDPA), in Thai and English. A version is never changed
    once published: a new text is a new version, which another administrator approved."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    version = Integer(unique=True, index=True)
    text_th = Text()
    text_en = Text()
    published_at = Timestamptz(default=TimestamptzNow())
    published_by = Integer(null=True, default=None)  # the approving administrator (None: the first text)
    proposed_by = Integer(null=True, default=None)


class NoticeAcceptance(Table, tablename="notice_acceptance"):
    """A person accepted a version of the privacy notice: when, and how (sign-up, log-in, API)."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    user = ForeignKey(references=User, index=True)
    version = Integer()
    accepted_at = Timestamptz(default=TimestamptzNow())
    how = Varchar(length=32)


class EntryConsent(Table, tablename="entry_consent"):
    """Each time an entry's consent to publish was given or withdrawn: by whom, when, and how.
    ``Entry.consent_publish`` is the consent now; these rows are its record."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    entry = ForeignKey(references=Entry, index=True)
    granted = Boolean()
    given_by = Integer(null=True, default=None)
    given_at = Timestamptz(default=TimestamptzNow())
    how = Varchar(length=32)


class Adoption(Table, tablename="adoption"):
    """Another organisation asks to adopt an awarded innovation (การขยายผลนวัตกรรม); the owning
    organisation accepts or declines, and the adopter later says when its own service went live.
    On acceptance both sides see each other's contact person, which each agreed to share when
    asking and when accepting."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    entry = ForeignKey(references=Entry, index=True)  # the awarded innovation
    owner_organisation = ForeignKey(references=Organisation, index=True)
    adopter_organisation = ForeignKey(references=Organisation, index=True)
    state = Varchar(length=16, default="requested", index=True)  # AdoptionState
    message = Text(default="")
    requested_by = ForeignKey(references=User, null=True, default=None)
    requested_at = Timestamptz(default=TimestamptzNow())
    answer_message = Text(default="")
    answered_by = ForeignKey(references=User, null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    in_service_since = Date(null=True, default=None)
    service_url = Varchar(length=500, default="")
    in_service_at = Timestamptz(null=True, default=None)  # when the adopter reported it
    closed_at = Timestamptz(null=True, default=None)  # withdrawn by the adopter


class Appeal(Table, tablename="appeal"):
    """An organisation contests the outcome of its entry (ineligible or not shortlisted), once,
    within the edition's appeal window. Two administrators sign the decision: the first signs a
    proposal (outcome and reason), a different one countersigns it and it is final."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    entry = ForeignKey(references=Entry, unique=True, index=True)  # once per entry
    state = Varchar(length=16, default="open", index=True)  # AppealState
    reason = Text()  # the organisation's own words
    lodged_by = Integer(null=True, default=None)
    lodged_at = Timestamptz(default=TimestamptzNow())
    due_at = Timestamptz()  # when the organisation can expect the decision
    # The supporting document (optional), stored and checked like an attachment.
    attachment_name = Varchar(length=255, default="")
    attachment_key = Varchar(length=200, null=True, default=None, unique=True)
    attachment_size = BigInt(default=0)
    attachment_sha256 = Varchar(length=64, default="")
    attachment_content_type = Varchar(length=100, default="")
    attachment_check_state = Varchar(length=16, default="")  # CheckState, empty without a document
    attachment_check_message = Text(default="")
    # The proposed decision and its first signature; a different proposal voids it.
    proposed_outcome = Varchar(length=16, default="")
    proposed_reason = Text(default="")
    decision_hash = Varchar(length=64, default="")
    first_signed_by = Integer(null=True, default=None)
    first_signed_at = Timestamptz(null=True, default=None)
    # The countersignature that made it final.
    second_signed_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    # Upheld: the SHA-256 of the results snapshot that records the correction.
    correction_sha256 = Varchar(length=64, default="")


class ResultCorrection(Table, tablename="result_correction"):
    """A published snapshot replaced by a correction (an upheld appeal): the old snapshot kept
    exactly as hashed, linked to the new one that corrects it."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    edition = ForeignKey(references=Edition, index=True)
    appeal = ForeignKey(references=Appeal, null=True, index=True)
    previous_sha256 = Varchar(length=64, index=True)
    previous_payload = Text()
    sha256 = Varchar(length=64, index=True)
    corrected_at = Timestamptz()
    corrected_by = Integer(null=True, default=None)


class EntryTally(Table, tablename="entry_tally"):
    """How many entries there are per edition, state, category and their organisation's province
    and kind: kept by the database's own triggers on ``entry`` and ``organisation`` (see the
    migrations that follow the one creating this table), so every way of writing entries keeps
    it right, an organisation's or edition's deletion that takes its entries included, and the
    organisers' list reads these few rows instead of counting every entry. A missing value is
    kept as ``0`` / ``""``; a group may hold zero. Counts only, no personal data."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    edition = Integer(default=0)
    state = Varchar(length=24, default="")
    category = Varchar(length=32, default="")
    province_code = Varchar(length=4, default="")
    kind = Varchar(length=32, default="")
    entries = Integer(default=0)


class CertificateSignatory(Table, tablename="certificate_signatory"):
    """Who signs an edition's certificates: the name and position printed under the signature,
    and the signature image (PNG or JPEG, checked and size-limited on upload; kept here so the
    database backup holds it). One administrator proposes a version, another approves it; the
    certificates carry the newest approved version, and earlier ones stay as the record."""

    id: Serial  # Piccolo's implicit primary key, declared for type checkers
    edition = ForeignKey(references=Edition, index=True)
    state = Varchar(length=16, default="proposed", index=True)  # SignatoryState
    signatory_name = Varchar(length=120)
    position_th = Varchar(length=120)
    position_en = Varchar(length=120, default="")
    signature = Bytea()
    signature_type = Varchar(length=16)  # image/png or image/jpeg
    signature_sha256 = Varchar(length=64)
    proposed_by = Integer()
    proposed_at = Timestamptz(default=TimestamptzNow())
    pending_action = Integer(null=True, default=None)
    approved_by = Integer(null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)


ALL_TABLES: list[type[Table]] = [
    Organisation, User, AuthToken, EmailToken, Edition, AuditEvent, Outbox,
    Entry, Attachment, Receipt, DeadlineExtension, ResultSnapshot, RateCounter, Membership, RecoveryCode,
    PendingAction, Identity, DigitalIdLogin, PrivacyNotice, NoticeAcceptance, EntryConsent, ErasureRequest,
    Adoption, Appeal, ResultCorrection, CertificateSignatory, EntryTally,
]
