"""Every route of the app, requested for real as every role, against one table of expectations.

``MATRIX`` holds, for each (method, path template) of the app's own route table, what each role
gets: a status, ``LOGIN`` (a page's redirect to the log-in page) or ``ACTS`` (an unsafe route the
role may use: whatever it answers, it is not a denial). A route in the app but not in the table
fails the suite, and so does a table entry for a route that no longer exists.

The cells run against one world (``tests/authorization_world.py``), built once: the safe methods
first, then the unsafe ones by ``phase``, each route's denied roles before its permitted ones.
A denied unsafe request must change nothing: the domain's tables are compared before and after.
API routes are called with a bearer token, pages with a browser session and its CSRF token.

Adding a route: give it a row. ``AUTHZ_MATRIX_RECORD=1 pytest -s tests/test_authorization_matrix.py``
prints what every cell answers (rows for the unlisted routes too) to check against the contract.
Adding a role: add it to ``ROLES`` in the world, give it a session and a token there, and a
column here (``R`` checks every row has one; see ``R`` for the pending member's default).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from piccolo.engine.postgres import PostgresEngine

from contest.db import engine
from contest.web import CSRF_COOKIE, SESSION_COOKIE, csrf_token_for
from tests.authorization_world import ROLES, World, build_world
from tests.conftest import empty_database
from uploads.testing import make_pdf

pytestmark = pytest.mark.integration

LOGIN = "login"  # 303 to /login?next=…: a page asks the anonymous visitor to log in
ACTS = "acts"  # permitted on an unsafe route: any answer but a denial (401, 403, 404, LOGIN) or a 5xx
DENIALS = (401, 403, 404, LOGIN)
FILE = "file"  # a row's body: a multipart upload of a small PDF
SAFE = ("GET", "HEAD")
#: Litestar answers OPTIONS on every path itself (no handler of ours, no data): never listed.
UNLISTED_METHODS = ("OPTIONS",)


@dataclass(frozen=True)
class Route:
    expect: dict[str, Any]
    #: path parameter -> the world's value to use (default: the value of the same name)
    values: dict[str, str] = field(default_factory=dict)
    body: Any = None
    #: unsafe routes run in phase order: ending a session or a token comes last
    phase: int = 0
    headers: dict[str, str] = field(default_factory=dict)


def R(*expect: Any, values: dict[str, str] | None = None, body: Any = None, phase: int = 0,
      htmx: bool = False) -> Route:
    """One row: the expectations in ``ROLES`` order. ``htmx``: asked as htmx asks (a partial).

    The pending member's column may be left out: it then gets what the applicant of
    organisation B gets, except that where A's owner may act and B's applicant is told "not
    found", the pending member of A is told 403 (``membership_pending``)."""
    if len(expect) == len(ROLES) - 1:
        owner, other = expect[ROLES.index("owner")], expect[ROLES.index("other_applicant")]
        expect = (*expect, 403 if other == 404 and owner not in DENIALS else other)
    assert len(expect) == len(ROLES), f"a row needs {len(ROLES)} columns: {ROLES}"
    headers = {"HX-Request": "true"} if htmx else {}
    return Route(dict(zip(ROLES, expect, strict=True)), values or {}, body, phase, headers)


# Columns: anonymous, owner (organisation A), other_applicant (organisation B), reviewer (not
# assigned entry A), assigned_reviewer (entry A in screening), panel (the final's member), admin.
PUBLIC = (200,) * 7
NOT_FOUND = (404,) * 7
ADMIN_API = (401, 403, 403, 403, 403, 403, 200)
ADMIN_API_ACTS = (401, 403, 403, 403, 403, 403, ACTS)
ADMIN_PAGE = (LOGIN, 403, 403, 403, 403, 403, 200)
ADMIN_PAGE_ACTS = (LOGIN, 403, 403, 403, 403, 403, ACTS)
OWNER_API_ACTS = (401, ACTS, 404, 403, 403, 403, 403)
OWNER_PAGE_ACTS = (LOGIN, ACTS, 404, 403, 403, 403, 403)
OWNER_PAGE = (LOGIN, 200, 404, 403, 403, 403, 403)
REVIEWER_API_ACTS = (401, 403, 403, 404, ACTS, 404, 404)  # only the assigned member, not even an admin
REVIEWER_PAGE_ACTS = (LOGIN, 403, 403, 404, ACTS, 404, 404)
SCORES = {"scores": {}, "comment": "ดี"}
PAST = {"year": "past_year"}  # the published edition
PAST_ENTRY = {"entry_id": "past_entry"}  # organisation A's award-winning entry of the published edition
FINAL = {"round_id": "final_round_id"}
CALIBRATION = {"entry_id": "calibration_entry"}  # a calibration entry of the screening round
#: A calibration sheet: the round's members act (the signed round then answers 409), nobody else.
CALIBRATION_API_ACTS = (401, 403, 403, ACTS, ACTS, 404, 404)

MATRIX: dict[tuple[str, str], Route] = {
    # --- public pages, sign-up and log-in ---------------------------------------------------------
    ("GET", "/"): R(*PUBLIC),
    ("GET", "/accessibility"): R(*PUBLIC),
    ("GET", "/privacy"): R(*PUBLIC),
    ("GET", "/privacy/{version:int}"): R(*PUBLIC),
    ("GET", "/login"): R(*PUBLIC),
    ("POST", "/login"): R(*(401,) * 7),  # no such account: the same answer to everyone
    ("POST", "/logout"): R(*(303,) * 7, phase=9),
    ("GET", "/signup"): R(*PUBLIC),
    ("POST", "/signup"): R(*(ACTS,) * 7, body={"email": "new@example.go.th"}),
    ("GET", "/signup/organisations"): R(*PUBLIC),
    ("GET", "/account"): R(LOGIN, 200, 200, 200, 200, 200, 200),
    ("POST", "/account/password"): R(LOGIN, ACTS, ACTS, ACTS, ACTS, ACTS, ACTS,
                                     body={"current_password": "not-the-password", "new_password": "x"}),
    # --- the privacy notice: everyone accepts it; only administrators propose a new version ------
    ("GET", "/account/privacy-notice"): R(LOGIN, *(200,) * 7),
    ("POST", "/account/privacy-notice"): R(LOGIN, *(ACTS,) * 7, body={"version": "1", "next": "/"}),
    ("GET", "/admin/privacy-notice"): R(*ADMIN_PAGE, 403),
    ("POST", "/admin/privacy-notice"): R(*ADMIN_PAGE_ACTS, 403, body={"text_th": "ประกาศ", "text_en": "Notice"}),
    ("GET", "/api/v1/privacy-notice"): R(*PUBLIC),
    ("GET", "/api/v1/privacy-notice/versions"): R(*PUBLIC),
    ("GET", "/api/v1/privacy-notice/versions/{version:int}"): R(*PUBLIC),
    ("POST", "/api/v1/privacy-notice"): R(*ADMIN_API_ACTS, 403, body={"text_th": "ประกาศ", "text_en": "Notice"}),
    ("POST", "/api/v1/me/notice-acceptance"): R(401, *(ACTS,) * 7, body={"version": 1}),
    # --- consent to publish: entry A's staff withdraw it (an admin on their request) --------------
    ("POST", "/api/v1/entries/{entry_id:int}/consent-withdrawal"): R(401, ACTS, 404, 404, 404, 404, ACTS, phase=4),
    ("GET", "/entries/{entry_id:int}/consent-withdrawal"): R(LOGIN, 200, 404, 404, 404, 404, 200),
    ("POST", "/entries/{entry_id:int}/consent-withdrawal"): R(LOGIN, ACTS, 404, 404, 404, 404, ACTS, phase=4),
    # --- DGA Digital ID: not configured in this world, so the routes do not exist ------------------
    ("GET", "/login/digital-id"): R(*NOT_FOUND),
    ("GET", "/login/digital-id/callback"): R(*NOT_FOUND),
    ("POST", "/login/digital-id/new"): R(*NOT_FOUND, body={"link": "x"}),
    # --- two-factor sign-in -----------------------------------------------------------------------
    ("POST", "/login/otp"): R(*(401,) * 7, body={"challenge": "not-a-challenge", "otp": "123456"}),
    ("GET", "/account/two-factor"): R(LOGIN, *(200,) * 6),
    ("POST", "/account/two-factor"): R(LOGIN, *(ACTS,) * 6, body={"code": "000000"}),  # a wrong code
    ("POST", "/account/two-factor/recovery-codes"): R(LOGIN, *(ACTS,) * 6, body={"code": "000000"}),
    # The roles that need two factors may not turn them off.
    ("POST", "/account/two-factor/off"): R(LOGIN, ACTS, ACTS, 403, 403, 403, 403, ACTS, body={"off_code": "000000"}),
    # --- the adoption network: B asked to adopt A's awarded innovation (adoption_id) ---------------
    ("POST", "/api/v1/showcase/{entry_id:int}/adoptions"): R(401, ACTS, ACTS, 403, 403, 403, 403, 403,
                                                            values=PAST_ENTRY, body={"message": "ขอใช้"}),
    ("GET", "/api/v1/adoptions"): R(401, 200, 200, 403, 403, 403, 200, 403),
    ("GET", "/api/v1/adoptions/{adoption_id:int}"): R(401, 200, 200, 404, 404, 404, 200, 404),
    ("POST", "/api/v1/adoptions/{adoption_id:int}/answer"): R(401, ACTS, 403, 403, 403, 403, 403, 403,
                                                              body={"accept": False, "message": "ยังไม่พร้อม"}),
    ("POST", "/api/v1/adoptions/{adoption_id:int}/withdraw"): R(401, 403, ACTS, 403, 403, 403, 403, 403),
    ("POST", "/api/v1/adoptions/{adoption_id:int}/in-service"): R(
        401, 403, ACTS, 403, 403, 403, 403, 403, body={"in_service_since": "2026-01-01", "url": "x.go.th"}),
    ("GET", "/open-data/adoptions.csv"): R(*PUBLIC),
    ("GET", "/open-data/adoptions.json"): R(*PUBLIC),
    ("GET", "/showcase/{year:int}/{entry_id:int}/adopt"): R(LOGIN, 200, 200, 403, 403, 403, 403, 403,
                                                           values={**PAST, **PAST_ENTRY}),
    ("POST", "/showcase/{year:int}/{entry_id:int}/adopt"): R(LOGIN, ACTS, ACTS, 403, 403, 403, 403, 403,
                                                            values={**PAST, **PAST_ENTRY}, body={"message": "x"}),
    ("GET", "/organisation/adoptions"): R(LOGIN, 200, 200, 403, 403, 403, 403, 403),
    ("POST", "/organisation/adoptions/{adoption_id:int}/{action:str}"): R(
        LOGIN, 403, ACTS, 403, 403, 403, 403, 403, values={"action": "adoption_action"}),
    ("GET", "/admin/adoptions"): R(*ADMIN_PAGE, 403),
    # --- jobs that gave up ----------------------------------------------------------------------
    ("GET", "/admin/outbox"): R(*ADMIN_PAGE, 403),
    ("POST", "/admin/outbox/resend"): R(*ADMIN_PAGE_ACTS, 403, body={"id": "all"}),
    # --- four eyes: pending_id is a proposal of the world's second admin (so "admin" may approve) --
    ("GET", "/api/v1/pending-actions"): R(*ADMIN_API, 403),
    ("GET", "/admin/pending-actions"): R(*ADMIN_PAGE, 403),
    ("POST", "/api/v1/users/{user_id:int}/two-factor/reset"): R(*ADMIN_API_ACTS, 403),
    ("POST", "/api/v1/pending-actions/{pending_id:int}/reject"): R(*ADMIN_API_ACTS, 403, phase=7),
    ("POST", "/api/v1/pending-actions/{pending_id:int}/approve"): R(*ADMIN_API_ACTS, 403, phase=6),
    ("POST", "/admin/pending-actions/{pending_id:int}/{decision:str}"): R(
        *ADMIN_PAGE_ACTS, 403, values={"decision": "approve_action"}, phase=5),
    # --- memberships: the pending member asked to join A; membership_id is that request ------------
    ("POST", "/api/v1/organisations/{code:str}/membership-requests"): R(
        401, ACTS, ACTS, 403, 403, 403, 403, ACTS),  # a member, or already asking: 409
    ("GET", "/api/v1/memberships"): R(401, 200, 200, 403, 403, 403, 200, 403),
    ("GET", "/api/v1/memberships/{membership_id:int}/letter"): R(401, 404, 404, 404, 404, 404, 404, 404),
    ("GET", "/account/membership"): R(LOGIN, 200, 200, 403, 403, 403, 403, 200),
    ("POST", "/account/membership"): R(LOGIN, ACTS, ACTS, 403, 403, 403, 403, ACTS, body={"organisation_code": "x"}),
    ("GET", "/account/membership/{membership_id:int}/letter"): R(LOGIN, 404, 404, 404, 404, 404, 404, 404),
    ("GET", "/organisation/members"): R(LOGIN, 200, 200, 403, 403, 403, 200, 403),
    ("GET", "/admin/memberships"): R(*ADMIN_PAGE, 403),
    # A person's own data: everyone signed in, their own only (no route names another person).
    ("GET", "/api/v1/me/data"): R(401, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/account/data"): R(LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/account/data/download"): R(LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/me/erasure-requests"): R(401, ACTS, ACTS, ACTS, ACTS, ACTS, ACTS, ACTS, body={}),
    ("POST", "/account/data/erasure"): R(LOGIN, ACTS, ACTS, ACTS, ACTS, ACTS, ACTS, ACTS, body={"reason": "x"}),
    ("GET", "/api/v1/erasure-requests"): R(*ADMIN_API, 403),
    ("GET", "/admin/erasure-requests"): R(*ADMIN_PAGE, 403),
    ("POST", "/api/v1/erasure-requests/{request_id:int}/reject"): R(
        *ADMIN_API_ACTS, 403, body={"refusal_code": "running_contest", "reason": "ยังไม่ประกาศผล"}),
    ("POST", "/admin/erasure-requests/{request_id:int}"): R(
        *ADMIN_PAGE_ACTS, 403, body={"decision": "reject", "refusal_code": "legal_retention", "reason": "x"}),
    ("POST", "/api/v1/erasure-requests/{request_id:int}/approve"): R(*ADMIN_API_ACTS, 403, phase=8),
    ("GET", "/admin/memberships/{membership_id:int}/letter"): R(LOGIN, 403, 403, 403, 403, 403, 404, 403),
    # Deciding: A's verified member or an admin; the request's own author is told it is pending,
    # then (approved) that it cannot decide its own membership. Late phases: they change who is who.
    ("POST", "/memberships/{membership_id:int}/{action:str}"): R(
        LOGIN, ACTS, 404, 404, 404, 404, ACTS, 403, values={"action": "approve_action"}, phase=5),
    ("POST", "/api/v1/memberships/{membership_id:int}/approve"): R(
        401, ACTS, 404, 404, 404, 404, ACTS, 403, phase=6),
    ("POST", "/api/v1/memberships/{membership_id:int}/reject"): R(
        401, ACTS, 404, 404, 404, 404, ACTS, 403, body={"reason": "ไม่ใช่บุคลากร"}, phase=7),
    ("DELETE", "/api/v1/memberships/{membership_id:int}"): R(401, ACTS, 404, 404, 404, 404, ACTS, 403, phase=8),
    # Someone else's session (the applicant's own is never the one named): not found for all.
    ("POST", "/account/sessions/{token_id:int}/revoke"): R(LOGIN, 404, 404, 404, 404, 404, 404,
                                                           values={"token_id": "other_session_id"}),
    ("GET", "/account/confirm/{token:str}"): R(*NOT_FOUND),
    ("GET", "/account/forgot"): R(*PUBLIC),
    ("POST", "/account/forgot"): R(*(ACTS,) * 7, body={"email": "nobody@example.go.th"}),
    ("POST", "/account/resend"): R(*(ACTS,) * 7, body={"email": "nobody@example.go.th"}),
    ("GET", "/account/reset/{token:str}"): R(*PUBLIC),
    ("POST", "/account/reset/{token:str}"): R(*NOT_FOUND, body={"password": "a-new-password-1"}),
    ("GET", "/static/{file_path:path}"): R(*PUBLIC),
    ("HEAD", "/static/{file_path:path}"): R(*PUBLIC),
    ("GET", "/api/v1/editions/{year:int}/stats"): R(*ADMIN_API, 403),
    ("GET", "/healthz"): R(*PUBLIC),
    ("GET", "/readyz"): R(*PUBLIC),
    # Metrics: an administrator, or a scraper address in METRICS_ALLOW (none in the tests).
    ("GET", "/metrics"): R(403, 403, 403, 403, 403, 403, 200, 403),
    ("GET", "/schema"): R(*PUBLIC),
    ("GET", "/schema/elements"): R(*PUBLIC),
    ("GET", "/schema/oauth2-redirect.html"): R(*PUBLIC),
    ("GET", "/schema/openapi.json"): R(*PUBLIC),
    ("GET", "/schema/openapi.yaml"): R(*PUBLIC),
    ("GET", "/schema/openapi.yml"): R(*PUBLIC),
    ("GET", "/schema/rapidoc"): R(*PUBLIC),
    ("GET", "/schema/redoc"): R(*PUBLIC),
    ("GET", "/schema/swagger"): R(*PUBLIC),
    ("GET", "/schema/{path:str}"): R(*NOT_FOUND),

    # --- API: accounts, registry, editions ---------------------------------------------------------
    ("POST", "/api/v1/auth/token"): R(*(401,) * 7, body={"email": "nobody@example.go.th",
                                                        "password": "not-the-password"}),
    ("DELETE", "/api/v1/auth/token"): R(401, ACTS, ACTS, ACTS, ACTS, ACTS, ACTS, phase=9),
    ("GET", "/api/v1/organisations"): R(*PUBLIC),
    ("GET", "/api/v1/organisations/{code:str}"): R(*PUBLIC),
    ("GET", "/api/v1/editions"): R(*PUBLIC),
    ("POST", "/api/v1/editions"): R(*ADMIN_API_ACTS, body={"year": 2571, "title": "รางวัลท้องถิ่นดิจิทัล 2571"}),
    ("GET", "/api/v1/editions/{year:int}"): R(*PUBLIC),
    ("PATCH", "/api/v1/editions/{year:int}"): R(*ADMIN_API_ACTS, body={}),
    ("GET", "/api/v1/users"): R(*ADMIN_API),
    ("POST", "/api/v1/users"): R(*ADMIN_API_ACTS, body={"email": "new@dga.or.th", "role": "reviewer"}),

    # --- API: entries and attachments --------------------------------------------------------------
    ("POST", "/api/v1/editions/{year:int}/entries"): R(401, ACTS, ACTS, 403, 403, 403, 403, 403, body={"title": "ร่าง"}),
    ("GET", "/api/v1/entries"): R(401, 200, 200, 403, 403, 403, 200, 403),
    ("GET", "/api/v1/entries/{entry_id:int}"): R(401, 200, 404, 404, 200, 200, 200),
    ("PATCH", "/api/v1/entries/{entry_id:int}"): R(*OWNER_API_ACTS, body={"title": "ชื่อใหม่", "version": 1}),
    ("POST", "/api/v1/entries/{entry_id:int}/attachments"): R(*OWNER_API_ACTS, body=FILE),
    ("DELETE", "/api/v1/attachments/{attachment_id:int}"): R(*OWNER_API_ACTS),
    ("GET", "/api/v1/attachments/{attachment_id:int}/content"): R(401, 200, 404, 404, 200, 200, 200),
    ("POST", "/api/v1/entries/{entry_id:int}/submit"): R(*OWNER_API_ACTS),
    ("POST", "/api/v1/entries/{entry_id:int}/withdraw"): R(*OWNER_API_ACTS),
    ("GET", "/api/v1/editions/{year:int}/extensions"): R(*ADMIN_API),
    ("POST", "/api/v1/editions/{year:int}/extensions"): R(*ADMIN_API_ACTS, body={
        "organisation_code": "59000001", "until": "2599-01-01T00:00:00+07:00", "reason": "น้ำท่วม"}),

    # --- API: the announcement (the published 2569; 2570 is 404 to everyone) ----------------------
    ("POST", "/api/v1/editions/{year:int}/publish"): R(*ADMIN_API_ACTS),
    ("GET", "/api/v1/editions/{year:int}/results"): R(*PUBLIC, values=PAST),
    ("GET", "/api/v1/editions/{year:int}/notifications"): R(*ADMIN_API, values=PAST),
    ("GET", "/api/v1/entries/{entry_id:int}/result"): R(401, 200, 404, 404, 404, 404, 200, values=PAST_ENTRY),
    ("GET", "/api/v1/entries/{entry_id:int}/certificate.pdf"): R(401, 200, 404, 404, 404, 404, 404,
                                                                   values=PAST_ENTRY),
    ("GET", "/api/v1/certificates/{number:str}"): R(*PUBLIC, values={"number": "certificate"}),
    ("GET", "/api/v1/receipts/{number:str}"): R(401, 200, 404, 404, 404, 404, 200),
    ("GET", "/open-data/{year:int}/results.csv"): R(*PUBLIC, values=PAST),
    ("GET", "/open-data/{year:int}/results.json"): R(*PUBLIC, values=PAST),
    ("GET", "/open-data/{year:int}/snapshots/{sha256:str}"): R(*PUBLIC, values={**PAST, "sha256": "past_snapshot"}),
    # --- appeals and evidence packs (A's winner cannot be appealed; B appealed its entry) ----------
    ("POST", "/api/v1/entries/{entry_id:int}/appeals"): R(401, ACTS, 404, 403, 403, 403, 403, values=PAST_ENTRY,
                                                          body={"reason": "ขอให้ทบทวน"}),
    ("POST", "/api/v1/appeals/{appeal_id:int}/decide"): R(*ADMIN_API_ACTS, body={"outcome": "dismissed",
                                                                                 "reason": "ไม่มีเหตุ"}),
    ("GET", "/api/v1/entries/{entry_id:int}/evidence.zip"): R(401, 200, 404, 404, 404, 404, 200, values=PAST_ENTRY),

    # --- API: judging (the signed screening round unless said) --------------------------------------
    ("GET", "/api/v1/rubrics/default"): R(*ADMIN_API),
    ("GET", "/api/v1/editions/{year:int}/rounds"): R(*ADMIN_API),
    ("POST", "/api/v1/editions/{year:int}/rounds"): R(*ADMIN_API_ACTS, body={"kind": "screening"}),
    ("GET", "/api/v1/rounds/{round_id:int}"): R(*ADMIN_API),
    ("PATCH", "/api/v1/rounds/{round_id:int}"): R(*ADMIN_API_ACTS, body={"reviewers_per_entry": 2}),
    ("POST", "/api/v1/entries/{entry_id:int}/eligibility"): R(*ADMIN_API_ACTS, body={"eligible": True, "reason": ""}),
    ("POST", "/api/v1/editions/{year:int}/eligibility"): R(*ADMIN_API_ACTS, body={"entry_ids": [1], "eligible": True}),
    ("GET", "/api/v1/rounds/{round_id:int}/members"): R(*ADMIN_API),
    ("POST", "/api/v1/rounds/{round_id:int}/members"): R(*ADMIN_API_ACTS, body={"emails": ["new@dga.or.th"]}),
    ("POST", "/api/v1/rounds/{round_id:int}/open"): R(*ADMIN_API_ACTS),
    ("POST", "/api/v1/rounds/{round_id:int}/assign"): R(*ADMIN_API_ACTS),
    ("GET", "/api/v1/rounds/{round_id:int}/assignments"): R(401, 403, 403, 200, 200, 404, 200),
    ("GET", "/api/v1/rounds/{round_id:int}/progress"): R(*ADMIN_API),
    ("GET", "/api/v1/rounds/{round_id:int}/quality"): R(*ADMIN_API),
    ("POST", "/api/v1/rounds/{round_id:int}/reminders"): R(*ADMIN_API_ACTS),
    ("GET", "/api/v1/rounds/{round_id:int}/ranking"): R(*ADMIN_API),
    ("GET", "/api/v1/rounds/{round_id:int}/ranking.csv"): R(*ADMIN_API),
    ("GET", "/api/v1/rounds/{round_id:int}/ranking.xlsx"): R(*ADMIN_API),
    ("POST", "/api/v1/rounds/{round_id:int}/close"): R(*ADMIN_API_ACTS),
    ("POST", "/api/v1/rounds/{round_id:int}/ties"): R(*ADMIN_API_ACTS, body={"entry_ids": [1, 2], "reason": "มติ"}),
    ("POST", "/api/v1/rounds/{round_id:int}/decide"): R(*ADMIN_API_ACTS, body={"overrides": []}),
    ("GET", "/api/v1/rounds/{round_id:int}/decision"): R(*ADMIN_API),
    ("POST", "/api/v1/rounds/{round_id:int}/sign"): R(*ADMIN_API_ACTS),
    ("GET", "/api/v1/rounds/{round_id:int}/calibration"): R(401, 403, 403, 200, 200, 404, 200),
    ("PUT", "/api/v1/rounds/{round_id:int}/calibration"): R(*ADMIN_API_ACTS, body={"rubric_notes": "มติ"}),
    ("PUT", "/api/v1/rounds/{round_id:int}/calibration/{entry_id:int}/scores"): R(
        *CALIBRATION_API_ACTS, values=CALIBRATION, body=SCORES),
    ("POST", "/api/v1/rounds/{round_id:int}/calibration/{entry_id:int}/submit"): R(
        *CALIBRATION_API_ACTS, values=CALIBRATION),
    ("POST", "/api/v1/rounds/{round_id:int}/extra-readers"): R(*ADMIN_API_ACTS, body={"entry_ids": [1]}),
    ("GET", "/api/v1/assignments/{assignment_id:int}"): R(401, 403, 403, 404, 200, 404, 200),
    ("PUT", "/api/v1/assignments/{assignment_id:int}/scores"): R(*REVIEWER_API_ACTS, body=SCORES),
    ("POST", "/api/v1/assignments/{assignment_id:int}/submit"): R(*REVIEWER_API_ACTS),
    ("POST", "/api/v1/assignments/{assignment_id:int}/recuse"): R(*REVIEWER_API_ACTS, body={"reason": "ญาติ"}),
    ("POST", "/api/v1/assignments/{assignment_id:int}/reopen"): R(*ADMIN_API_ACTS, body={"reason": "แก้คะแนน"}),
    # The final's slots: the organisation sees its slot only once the invitations are sent.
    ("GET", "/api/v1/rounds/{round_id:int}/presentations"): R(*ADMIN_API, values=FINAL),
    ("PUT", "/api/v1/rounds/{round_id:int}/presentations/{entry_id:int}"): R(
        *ADMIN_API_ACTS, values=FINAL, body={"starts_at": "2027-06-01T10:00:00+07:00", "minutes": 20}),
    ("POST", "/api/v1/rounds/{round_id:int}/presentations/invitations"): R(*ADMIN_API_ACTS, values=FINAL),
    ("GET", "/api/v1/entries/{entry_id:int}/presentation"): R(401, 404, 404, 404, 404, 404, 200, 403),

    # --- the organisation's pages ------------------------------------------------------------------
    ("GET", "/entries"): R(LOGIN, 200, 200, 403, 403, 403, 403, 303),  # pending: to its membership page
    ("POST", "/entries"): R(LOGIN, ACTS, ACTS, 403, 403, 403, 403, 403),
    ("GET", "/entries/{entry_id:int}"): R(*OWNER_PAGE),
    ("POST", "/entries/{entry_id:int}"): R(*OWNER_PAGE_ACTS, body={"title": "ชื่อใหม่", "version": "1"}),
    ("POST", "/entries/{entry_id:int}/autosave"): R(*OWNER_PAGE_ACTS, body={"title": "ชื่อใหม่", "version": "1"}),
    ("GET", "/entries/{entry_id:int}/attachments"): R(*OWNER_PAGE, htmx=True),
    ("POST", "/entries/{entry_id:int}/attachments"): R(*OWNER_PAGE_ACTS, body=FILE),
    ("GET", "/entries/{entry_id:int}/attachments/{attachment_id:int}/delete"): R(*OWNER_PAGE),
    ("POST", "/entries/{entry_id:int}/attachments/{attachment_id:int}/delete"): R(*OWNER_PAGE_ACTS),
    # entry A is past its deadline here: the owner is sent back to the (read-only) entry
    ("GET", "/entries/{entry_id:int}/check"): R(LOGIN, 303, 404, 403, 403, 403, 403),
    ("POST", "/entries/{entry_id:int}/check"): R(*OWNER_PAGE_ACTS),
    ("POST", "/entries/{entry_id:int}/submit"): R(*OWNER_PAGE_ACTS),
    ("GET", "/entries/{entry_id:int}/withdraw"): R(*OWNER_PAGE),
    ("POST", "/entries/{entry_id:int}/withdraw"): R(*OWNER_PAGE_ACTS),
    ("GET", "/receipts/{number:str}"): R(LOGIN, 200, 404, 404, 404, 404, 200),
    ("GET", "/entries/{entry_id:int}/presentation"): R(LOGIN, 404, 404, 404, 404, 404, 200, 403),
    ("GET", "/entries/{entry_id:int}/result"): R(LOGIN, 200, 404, 404, 404, 404, 200, values=PAST_ENTRY),
    ("GET", "/entries/{entry_id:int}/certificate.pdf"): R(LOGIN, 200, 404, 404, 404, 404, 404, values=PAST_ENTRY),
    ("GET", "/entries/{entry_id:int}/appeal"): R(LOGIN, 200, 404, 404, 404, 404, 200, values=PAST_ENTRY),
    ("POST", "/entries/{entry_id:int}/appeal"): R(LOGIN, ACTS, 404, 403, 403, 403, 403, values=PAST_ENTRY,
                                                  body={"reason": "ขอให้ทบทวน"}),
    ("GET", "/entries/{entry_id:int}/appeal/document"): R(LOGIN, 404, 200, 404, 404, 404, 200, 404,
                                                          values={"entry_id": "appealed_entry"}),
    ("GET", "/admin/appeals"): R(*ADMIN_PAGE),
    ("GET", "/admin/appeals/{appeal_id:int}"): R(*ADMIN_PAGE),
    ("POST", "/admin/appeals/{appeal_id:int}/decide"): R(*ADMIN_PAGE_ACTS, body={"outcome": "dismissed",
                                                                                 "reason": "ไม่มีเหตุ"}),
    ("GET", "/admin/appeals/{appeal_id:int}/document"): R(*ADMIN_PAGE),

    # --- public results (the published 2569) -------------------------------------------------------
    ("GET", "/results"): R(*PUBLIC),
    ("GET", "/results/{year:int}"): R(*PUBLIC, values=PAST),
    ("GET", "/showcase"): R(*PUBLIC),
    # No image of the past edition's winner: entry A's file of this year is no innovation's picture.
    ("GET", "/showcase/{year:int}/{entry_id:int}/images/{attachment_id:int}"): R(
        *NOT_FOUND, values={**PAST, **PAST_ENTRY}),
    ("GET", "/showcase/{year:int}"): R(*PUBLIC, values=PAST),
    ("GET", "/showcase/{year:int}/{entry_id:int}"): R(*PUBLIC, values={**PAST, **PAST_ENTRY}),
    ("GET", "/open-data"): R(*PUBLIC),
    ("GET", "/open-data/{year:int}"): R(*PUBLIC, values=PAST),
    ("GET", "/certificates"): R(*PUBLIC),
    ("GET", "/certificates/{number:str}"): R(*PUBLIC, values={"number": "certificate"}),

    # --- the committee's pages ---------------------------------------------------------------------
    ("GET", "/review"): R(LOGIN, 403, 403, 200, 200, 200, 200),
    ("GET", "/review/rounds/{round_id:int}"): R(LOGIN, 403, 403, 200, 200, 404, 404),
    ("GET", "/review/rounds/{round_id:int}/next"): R(LOGIN, 403, 403, 303, 303, 404, 404),
    ("GET", "/review/rounds/{round_id:int}/calibration"): R(LOGIN, 403, 403, 200, 200, 404, 404),
    ("GET", "/review/rounds/{round_id:int}/calibration/{entry_id:int}"): R(
        LOGIN, 403, 403, 200, 200, 404, 404, values=CALIBRATION),
    ("POST", "/review/rounds/{round_id:int}/calibration/{entry_id:int}"): R(
        LOGIN, 403, 403, ACTS, ACTS, 404, 404, values=CALIBRATION, body={"action": "save"}),
    ("GET", "/review/assignments/{assignment_id:int}"): R(LOGIN, 403, 403, 404, 200, 404, 404),
    ("POST", "/review/assignments/{assignment_id:int}"): R(*REVIEWER_PAGE_ACTS, body={"comment": "ดี"}),
    ("POST", "/review/assignments/{assignment_id:int}/autosave"): R(*REVIEWER_PAGE_ACTS, body={"comment": "ดี"}),
    ("POST", "/review/assignments/{assignment_id:int}/submit"): R(*REVIEWER_PAGE_ACTS),
    ("POST", "/review/assignments/{assignment_id:int}/recuse"): R(*REVIEWER_PAGE_ACTS, body={"reason": "ญาติ"}),
    ("GET", "/review/assignments/{assignment_id:int}/files/{attachment_id:int}"): R(
        LOGIN, 403, 403, 404, 200, 404, 404, htmx=True),

    # --- the organisers' pages ---------------------------------------------------------------------
    ("GET", "/admin"): R(*ADMIN_PAGE),
    ("GET", "/admin/audit"): R(*ADMIN_PAGE),
    ("GET", "/admin/privacy"): R(*ADMIN_PAGE),
    ("GET", "/admin/privacy/records.json"): R(401, 403, 403, 403, 403, 403, 200),
    ("GET", "/admin/privacy/records.csv"): R(401, 403, 403, 403, 403, 403, 200),
    ("POST", "/admin/audit/verify"): R(*ADMIN_PAGE_ACTS),
    ("GET", "/admin/users"): R(*ADMIN_PAGE),
    ("POST", "/admin/users"): R(*ADMIN_PAGE_ACTS, body={"email": "new@dga.or.th", "role": "reviewer"}),
    ("GET", "/admin/registry"): R(*ADMIN_PAGE),
    ("POST", "/admin/registry/import"): R(*ADMIN_PAGE_ACTS),
    ("GET", "/admin/editions/new"): R(*ADMIN_PAGE),
    ("POST", "/admin/editions/new"): R(*ADMIN_PAGE_ACTS, body={"year": "2571"}),
    ("GET", "/admin/editions/{year:int}"): R(*ADMIN_PAGE),
    ("GET", "/admin/editions/{year:int}/figures"): R(*ADMIN_PAGE, htmx=True),
    ("GET", "/admin/editions/{year:int}/cockpit.xlsx"): R(*ADMIN_PAGE),
    ("POST", "/admin/editions/{year:int}/reminders"): R(*ADMIN_PAGE_ACTS),
    ("GET", "/admin/editions/{year:int}/edit"): R(*ADMIN_PAGE),
    ("POST", "/admin/editions/{year:int}/edit"): R(*ADMIN_PAGE_ACTS, body={"title": "ใหม่"}),
    ("POST", "/admin/editions/{year:int}"): R(*ADMIN_PAGE_ACTS, body={"title": "ใหม่"}),
    ("GET", "/admin/editions/{year:int}/entries"): R(*ADMIN_PAGE),
    ("GET", "/admin/editions/{year:int}/entries.csv"): R(401, 403, 403, 403, 403, 403, 200),
    ("GET", "/admin/editions/{year:int}/entries.xlsx"): R(*ADMIN_PAGE),
    ("GET", "/admin/entries"): R(LOGIN, 403, 403, 403, 403, 403, 303),
    ("GET", "/admin/entries/{entry_id:int}"): R(*ADMIN_PAGE),
    ("POST", "/admin/entries/{entry_id:int}/extend"): R(*ADMIN_PAGE_ACTS, body={"reason": "น้ำท่วม"}),
    ("GET", "/admin/editions/{year:int}/publish"): R(*ADMIN_PAGE),
    ("GET", "/admin/editions/{year:int}/certificate"): R(*ADMIN_PAGE),
    ("POST", "/admin/editions/{year:int}/certificate"): R(*ADMIN_PAGE_ACTS, body={"signatory_name": "นายสมชาย"}),
    ("GET", "/admin/editions/{year:int}/certificate/signatures/{version:int}"): R(
        *ADMIN_PAGE, values={**PAST, "version": "signatory_version"}),
    ("POST", "/admin/editions/{year:int}/publish"): R(*ADMIN_PAGE_ACTS),
    ("GET", "/admin/editions/{year:int}/publish/confirm"): R(*ADMIN_PAGE),
    ("GET", "/admin/editions/{year:int}/publish/progress"): R(*ADMIN_PAGE, values=PAST),
    ("GET", "/admin/judging"): R(*ADMIN_PAGE),
    ("GET", "/admin/judging/{year:int}/eligibility"): R(*ADMIN_PAGE),
    ("POST", "/admin/judging/{year:int}/eligibility"): R(*ADMIN_PAGE_ACTS, body={"eligible": "1"}),
    ("GET", "/admin/judging/{year:int}/rounds/new"): R(*ADMIN_PAGE),
    ("POST", "/admin/judging/{year:int}/rounds"): R(*ADMIN_PAGE_ACTS, body={"kind": "screening"}),
    ("GET", "/admin/judging/rounds/{round_id:int}"): R(*ADMIN_PAGE),
    ("GET", "/admin/judging/rounds/{round_id:int}/rules"): R(*ADMIN_PAGE),
    ("POST", "/admin/judging/rounds/{round_id:int}/rules"): R(*ADMIN_PAGE_ACTS, body={"reviewers_per_entry": "2"}),
    ("GET", "/admin/judging/rounds/{round_id:int}/committee"): R(*ADMIN_PAGE),
    ("POST", "/admin/judging/rounds/{round_id:int}/committee"): R(*ADMIN_PAGE_ACTS, body={"emails": "new@dga.or.th"}),
    ("GET", "/admin/judging/rounds/{round_id:int}/members/{user_id:int}"): R(*ADMIN_PAGE),
    ("POST", "/admin/judging/rounds/{round_id:int}/open"): R(*ADMIN_PAGE_ACTS),
    ("GET", "/admin/judging/rounds/{round_id:int}/open"): R(*ADMIN_PAGE),
    ("POST", "/admin/judging/rounds/{round_id:int}/assign"): R(*ADMIN_PAGE_ACTS),
    ("GET", "/admin/judging/rounds/{round_id:int}/progress"): R(*ADMIN_PAGE),
    ("GET", "/admin/judging/rounds/{round_id:int}/calibration"): R(*ADMIN_PAGE),
    ("POST", "/admin/judging/rounds/{round_id:int}/calibration"): R(*ADMIN_PAGE_ACTS, body={"action": "notes"}),
    ("POST", "/admin/judging/rounds/{round_id:int}/reminders"): R(*ADMIN_PAGE_ACTS),
    ("POST", "/admin/judging/rounds/{round_id:int}/extra-readers"): R(*ADMIN_PAGE_ACTS, body={"entry_ids": "1"}),
    ("POST", "/admin/judging/rounds/{round_id:int}/assignments/{assignment_id:int}/reopen"): R(
        *ADMIN_PAGE_ACTS, body={"reason": "แก้คะแนน"}),
    ("GET", "/admin/judging/rounds/{round_id:int}/ranking"): R(*ADMIN_PAGE),
    ("POST", "/admin/judging/rounds/{round_id:int}/close"): R(*ADMIN_PAGE_ACTS),
    ("GET", "/admin/judging/rounds/{round_id:int}/close"): R(*ADMIN_PAGE),
    ("POST", "/admin/judging/rounds/{round_id:int}/ties"): R(*ADMIN_PAGE_ACTS, body={"order": "1,2"}),
    ("POST", "/admin/judging/rounds/{round_id:int}/decide"): R(*ADMIN_PAGE_ACTS),
    ("GET", "/admin/judging/rounds/{round_id:int}/decision"): R(*ADMIN_PAGE),
    ("POST", "/admin/judging/rounds/{round_id:int}/sign"): R(*ADMIN_PAGE_ACTS),
    ("GET", "/admin/judging/rounds/{round_id:int}/sign"): R(*ADMIN_PAGE),
    ("GET", "/admin/judging/rounds/{round_id:int}/presentations"): R(*ADMIN_PAGE, values=FINAL),
    ("POST", "/admin/judging/rounds/{round_id:int}/presentations/{entry_id:int}"): R(
        *ADMIN_PAGE_ACTS, values=FINAL, body={"date": "2027-06-01", "time": "10:00", "minutes": "20"}),
    ("POST", "/admin/judging/rounds/{round_id:int}/presentations/invitations"): R(*ADMIN_PAGE_ACTS, values=FINAL),
    ("GET", "/admin/judging/rounds/{round_id:int}/presentations/invitations"): R(*ADMIN_PAGE, values=FINAL),
}


# --- running the cells ------------------------------------------------------------------------------

def route_table(app: Any) -> set[tuple[str, str]]:
    """(method, path template) of every handler the app serves."""
    out = set()
    for route in app.routes:
        for method in getattr(route, "route_handler_map", {}):
            if method not in UNLISTED_METHODS:
                out.add((method, route.path))
    return out


def fill(path: str, world: World, row: Route) -> str:
    """The path template with the world's ids: ``{entry_id:int}`` -> entry A's id."""
    out = path
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        name = out[start + 1:end].split(":")[0]
        out = out[:start] + str(world.values[row.values.get(name, name)]) + out[end + 1:]
    return out


CSRF_VALUE = "matrix-csrf-cookie"


async def forget_rate_limits() -> None:
    from contest.tables import RateCounter

    await RateCounter.delete(force=True)


#: Every role tries these from the same test address; their limits have tests of their own.
RATE_LIMITED = {("POST", "/login"), ("POST", "/api/v1/auth/token"), ("POST", "/signup"),
                ("POST", "/account/forgot"), ("POST", "/account/resend")}


def request(client: Any, world: World, role: str, method: str, path: str, row: Route) -> Any:
    url = fill(path, world, row)
    if (method, path) in RATE_LIMITED:
        client.blocking_portal.call(forget_rate_limits)
    creds = world.people[role]
    headers = {"Accept-Language": "th", **row.headers}
    kwargs: dict[str, Any] = {}
    client.cookies.clear()
    api = url.startswith("/api/")
    if api:
        if creds.bearer:
            headers["Authorization"] = f"Bearer {creds.bearer}"
    else:
        headers["Accept"] = "text/html"
        cookie = f"{CSRF_COOKIE}={CSRF_VALUE}"
        if creds.session:
            cookie += f"; {SESSION_COOKIE}={creds.session}"
        headers["Cookie"] = cookie
        headers["X-CSRF-Token"] = csrf_token_for(CSRF_VALUE)
    if method not in SAFE:
        if row.body == FILE:
            kwargs["files"] = {"file": ("slides.pdf", make_pdf(), "application/pdf")}
        elif api:
            kwargs["json"] = row.body if row.body is not None else {}
        else:
            kwargs["data"] = {"_csrf": csrf_token_for(CSRF_VALUE), **(row.body or {})}
    return client.request(method, url, headers=headers, follow_redirects=False, **kwargs)


def outcome(resp: Any) -> Any:
    if resp.status_code == 303 and resp.headers.get("location", "").startswith("/login"):
        return LOGIN
    return resp.status_code


def matches(expected: Any, got: Any) -> bool:
    if expected == ACTS:
        return got not in DENIALS and isinstance(got, int) and got < 500
    return bool(expected == got)


FINGERPRINTED = ("edition", "organisation", "entry", "attachment", "receipt", "deadline_extension",
                 "result_snapshot", "audit_event", "email_token", "judging_round", "judging_criterion",
                 "judging_member", "judging_conflict", "judging_round_entry", "judging_assignment",
                 "judging_tie_decision", "judging_decision", "judging_signature", "judging_presentation",
                 "membership")


async def fingerprint() -> str:
    """The domain's tables (and the user accounts and queued jobs), to see that a denied request
    changed nothing. Sessions and tokens are left out: reading them is what a request does."""
    db = engine()
    digest = hashlib.sha256()
    async with db.transaction():  # one connection and one snapshot for every table
        for table in FINGERPRINTED:
            rows = await db.run_querystring(_query(f'SELECT * FROM "{table}" ORDER BY id'))
            digest.update(json.dumps(rows, default=str, sort_keys=True).encode())
        users = await db.run_querystring(_query(
            'SELECT id, email, role, organisation, is_active, password_hash FROM "app_user" ORDER BY id'))
        jobs = await db.run_querystring(_query('SELECT count(*) AS n, max(id) AS last FROM "outbox"'))
    digest.update(json.dumps([users, jobs], default=str, sort_keys=True).encode())
    return digest.hexdigest()


def _query(sql: str) -> Any:
    from piccolo.querystring import QueryString

    return QueryString(sql)


@pytest.fixture(scope="module")
def world_client(migrated_db: str) -> Iterator[tuple[Any, World, Any]]:
    from litestar.testing import TestClient

    from contest import clock
    from contest.app import create_app

    empty_database()
    app = create_app()
    with TestClient(app=app, base_url="http://testserver.local") as client:
        world = build_world(client)
        # The cells run on the client's loop only (requests, and the fingerprints through its
        # portal), so PostgreSQL may keep its connections there instead of one per query.
        pooled = isinstance(engine(), PostgresEngine)
        if pooled:
            client.blocking_portal.call(functools.partial(engine().start_connection_pool, min_size=1, max_size=4))
        try:
            yield client, world, app
        finally:
            if pooled:
                client.blocking_portal.call(engine().close_connection_pool)
    clock.freeze(None)


def test_every_route_is_in_the_matrix_and_every_entry_is_a_route() -> None:
    from contest.app import create_app

    served = route_table(create_app())
    missing = sorted(served - set(MATRIX))
    stale = sorted(set(MATRIX) - served)
    problems = [f"no expectations in MATRIX for the route {m} {p}" for m, p in missing] + [
        f"MATRIX has an entry for {m} {p}, a route the app no longer has" for m, p in stale]
    assert not problems, "\n".join(problems)


def test_every_role_gets_what_the_matrix_says_on_every_route(world_client) -> None:  # type: ignore[no-untyped-def]
    client, world, app = world_client
    record = os.environ.get("AUTHZ_MATRIX_RECORD") == "1"
    served = route_table(app)
    matrix = dict(MATRIX)
    if record:  # print what every cell answers, the unlisted routes too
        for key in served - set(matrix):
            matrix[key] = R(*(ACTS,) * len(ROLES), phase=9 if key in (("POST", "/logout"),
                                                                        ("DELETE", "/api/v1/auth/token")) else 0)
    keys = [k for k in matrix if k in served]
    order = sorted(keys, key=lambda k: (k[0] not in SAFE, matrix[k].phase, k[1], k[0]))
    wrong: list[str] = []
    observed: dict[tuple[str, str], dict[str, Any]] = {}
    for method, path in order:
        row = matrix[(method, path)]
        roles = sorted(ROLES, key=lambda r: row.expect[r] not in DENIALS)  # the denied first
        before = client.blocking_portal.call(fingerprint) if method not in SAFE else None
        denied_done = False
        for role in roles:
            if before is not None and not denied_done and row.expect[role] not in DENIALS:
                denied_done = True
                if client.blocking_portal.call(fingerprint) != before:
                    wrong.append(f"{method} {path}: a denied request changed data")
            got = outcome(request(client, world, role, method, path, row))
            observed.setdefault((method, path), {})[role] = got
            if not matches(row.expect[role], got):
                wrong.append(f"{method} {path} as {role}: expected {row.expect[role]}, got {got}")
        if before is not None and not denied_done and client.blocking_portal.call(fingerprint) != before:
            wrong.append(f"{method} {path}: a denied request changed data")
    if record:
        for (method, path), got in sorted(observed.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            print(f'    ("{method}", "{path}"): R({", ".join(repr(got[r]) for r in ROLES)}),')
    assert not wrong, "\n".join(wrong)
