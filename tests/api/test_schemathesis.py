"""The OpenAPI document tells the truth: schemathesis sends generated requests, built from
``/schema/openapi.json`` alone, to the real application as each kind of caller (anonymous, an
applicant, a committee member, an administrator), with real ids in the paths, and checks every
answer: no server error, a status the operation documents, the documented media type, a body
that matches its schema, and the documented headers.

Bounded and repeatable: a fixed number of examples per operation, derandomized, no shrinking;
a sequence test follows the document's links from one call's answer to the next call.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from litestar.routes import HTTPRoute
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contest import clock
from contest.app import create_app
from contest.domain import accounts, erasure, memberships, notices, outcomes, proposals
from contest.domain.audit import SYSTEM, Actor
from contest.enums import AuthTokenKind
from contest.tables import User
from judging.domain import assignments, rounds
from tests.conftest import run, truncate_tables
from tests.factories import PASSWORD, login_token, make_edition, make_org, make_submitted_entries, make_user

pytestmark = pytest.mark.integration

#: The edition applicants write entries for (open now).
OPEN_YEAR = 2569
#: An earlier edition past its deadline, with a screening round open and assigned.
JUDGED_YEAR = 2568
ROLES = ("anonymous", "applicant", "reviewer", "admin")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
#: Generated examples per operation and caller (62 operations x 4 callers).
EXAMPLES = 12
#: ``SCHEMATHESIS_BOUNDARIES=1`` adds schemathesis's boundary cases of every schema (the explicit
#: phase: each integer's extremes, nulls, missing optional fields): thorough, but about twice as
#: long as the whole module otherwise, so not part of every run.
PHASES = [Phase.explicit, Phase.generate] if os.environ.get("SCHEMATHESIS_BOUNDARIES") == "1" else [Phase.generate]
#: Sequences per caller in the stateful test, each of at most six calls.
STATEFUL_EXAMPLES = 10

APP = create_app()
SCHEMA = schemathesis.openapi.from_dict(APP.openapi_schema.to_schema())


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    emails: dict[str, str]
    ids: dict[str, Any]
    judged_ids: dict[str, Any]


def _build(client: Any) -> World:
    from uploads.testing import make_pdf

    now = clock.now()
    run(make_edition(JUDGED_YEAR, submission_opens_at=now - timedelta(days=60),
                     submission_closes_at=now - timedelta(days=30), announcement_at=now + timedelta(days=60)))
    run(make_edition(OPEN_YEAR, entries_per_organisation=20))
    emails = {"applicant": "applicant@schema.go.th", "reviewer": "reviewer@schema.go.th",
              "admin": "admin@schema.go.th"}
    # The privacy notice in force before anyone is made: everyone made below has accepted it.
    version = run(notices.propose_version(actor=SYSTEM, text_th="ประกาศ", text_en="Notice"))
    org = run(make_org())
    run(make_user("applicant", email=emails["applicant"], org=org))
    reviewer_id = run(make_user("reviewer", email=emails["reviewer"]))
    run(make_user("admin", email=emails["admin"]))
    headers = {role: login_token(client, email) for role, email in emails.items()}
    headers["anonymous"] = {}

    # The applicant's draft in the open edition, with a file; a submitted entry has a receipt.
    entry = client.post(f"/api/v1/editions/{OPEN_YEAR}/entries", headers=headers["applicant"], json={
        "title": "ระบบนัดหมายออนไลน์", "category": "service", "summary": "สรุป", "problem": "ปัญหา",
        "solution": "ทางแก้", "results": "ผลลัพธ์", "contact_name": "ผู้ประสานงาน",
        "contact_email": "it@schema.go.th"})
    assert entry.status_code == 201, entry.text
    entry_id = entry.json()["id"]
    upload = client.post(f"/api/v1/entries/{entry_id}/attachments", headers=headers["applicant"],
                         files={"file": ("report.pdf", make_pdf(), "application/pdf")})
    assert upload.status_code == 201, upload.text
    submitted = client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers["applicant"])
    assert submitted.status_code == 200, submitted.text

    # The judged edition: eligible entries, a screening round with the reviewer, open, assigned.
    judged = run(make_submitted_entries(JUDGED_YEAR, 4))
    run(outcomes.set_eligibility(actor=SYSTEM, entry_ids=judged, eligible=True))
    other_ids = [run(make_user("reviewer")) for _ in range(2)]
    round_id = run(rounds.create_round(actor=SYSTEM, year=JUDGED_YEAR, data={
        "kind": "screening", "reviewers_per_entry": 2}))
    run(rounds.add_members(actor=SYSTEM, round_id=round_id, user_ids=[reviewer_id, *other_ids]))
    run(rounds.open_round(actor=SYSTEM, round_id=round_id))
    run(assignments.assign_reviewers(actor=SYSTEM, round_id=round_id))
    own = run(assignments.list_assignments(SYSTEM, round_id))
    assignment_id = next(a["id"] for a in own if a["reviewer"] == reviewer_id)
    # Another admin's proposal (the admin may approve or reject it): resetting the reviewer's code.
    other_admin = run(make_user("admin", email="second-admin@schema.go.th"))
    pending_id = run(_propose(Actor(id=other_admin, email="second-admin@schema.go.th", role="admin"),
                              reviewer_id))
    # Someone asking to join the applicant's organisation.
    run(accounts.create_user(actor=SYSTEM, email="newcomer@schema.go.th", password=PASSWORD, role="applicant"))
    newcomer = run(User.select(User.id).where(User.email == "newcomer@schema.go.th").first())["id"]
    asked = run(memberships.request_membership(actor=Actor(id=newcomer, email="newcomer@schema.go.th",
                                                           role="applicant"), organisation_code=org))
    # Someone who asked for their data to be erased (approving it erases them, nobody else).
    run(accounts.create_user(actor=SYSTEM, email="leaving@schema.go.th", password=PASSWORD, role="applicant"))
    leaving = run(User.select(User.id).where(User.email == "leaving@schema.go.th").first())["id"]
    erasure_request = run(erasure.request_erasure(actor=Actor(id=leaving, email="leaving@schema.go.th",
                                                              role="applicant")))
    # The applicant's organisation asked to adopt a judged entry (recorded as the domain records it
    # once the entry is awarded; this world publishes nothing).
    adoption_id = run(_adoption(judged[0], org, emails["applicant"]))
    ids = {"year": OPEN_YEAR, "entry_id": entry_id, "attachment_id": upload.json()["id"],
           "round_id": round_id, "assignment_id": assignment_id, "code": org,
           "number": submitted.json()["receipt"]["number"], "membership_id": asked["id"],
           "user_id": reviewer_id, "pending_id": pending_id, "version": version,
           "request_id": erasure_request["id"], "adoption_id": adoption_id,
           # No edition is published here: an appeal id that names none (404, documented).
           "appeal_id": 1, "sha256": "0" * 64}
    judged_ids = {**ids, "year": JUDGED_YEAR, "entry_id": judged[0]}
    return World(headers=headers, emails=emails, ids=ids, judged_ids=judged_ids)


async def _adoption(entry_id: int, adopter_code: str, email: str) -> int:
    from contest.tables import Adoption, Entry, Organisation

    owner = await Entry.select(Entry.organisation).where(Entry.id == entry_id).first()
    adopter = await Organisation.select(Organisation.id).where(Organisation.code == adopter_code).first()
    person = await User.select(User.id).where(User.email == email).first()
    rows = await Adoption.insert(Adoption(entry=entry_id, owner_organisation=owner["organisation"],
                                          adopter_organisation=adopter["id"], message="ขอนำไปใช้",
                                          requested_by=person["id"])).returning(Adoption.id)
    return int(rows[0]["id"])


async def _propose(admin: Actor, user_id: int) -> int:
    from contest.db import atomic

    async with atomic():
        return await proposals.propose(admin, proposals.RESET_TWO_FACTOR, {"user_id": user_id, "email": "x"})


@pytest.fixture(scope="module")
def world(migrated_db: str) -> Iterator[World]:
    from litestar.testing import TestClient

    from contest import ratelimit

    run(truncate_tables())
    ratelimit.use_database()
    clock.freeze(None)
    with TestClient(app=create_app(), base_url="http://testserver.local") as client:
        built = _build(client)
    yield built
    from schemathesis.python import asgi

    asgi.shutdown_lifespans()  # the application schemathesis started (its job runner) stops here


async def _entry_version(entry_id: int) -> int:
    from contest.tables import Entry

    row = await Entry.select(Entry.version).where(Entry.id == entry_id).first()
    return int(row["version"]) if row else 1


def _prepare(case: Any, world: World, role: str) -> dict[str, str]:
    operation = case.operation.definition.raw.get("operationId", "")
    judging = "judging" in case.operation.definition.raw.get("tags", [])
    ids = world.judged_ids if judging or operation in ("listRounds", "createRound", "setEligibilityBulk") \
        else world.ids
    if case.path_parameters:
        case.path_parameters = {name: ids[name] for name in case.path_parameters}
    if case.headers:
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
    headers = dict(world.headers[role])
    if operation == "updateEntry" and isinstance(case.body, dict) and "version" in case.body:
        # The version the editor loaded: a stale one is a 409 (documented), a current one saves.
        case.body = {**case.body, "version": run(_entry_version(ids["entry_id"]))}
    if operation == "revokeToken" and role != "anonymous":
        # Revoking the role's own token would leave the rest of the run anonymous: a fresh one.
        actor = run(accounts.authenticate(world.emails[role], PASSWORD))
        issued = run(accounts.issue_token(actor, AuthTokenKind.api, "schemathesis"))
        headers = {"Authorization": f"Bearer {issued.token}"}
    return headers


@pytest.mark.parametrize("role", ROLES)
@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          phases=PHASES, suppress_health_check=list(HealthCheck))
def test_every_answer_is_documented(case: Any, role: str, world: World) -> None:
    headers = _prepare(case, world, role)
    case.call_and_validate(app=APP, headers=headers, checks=CHECKS)


def test_every_served_api_route_is_in_the_schema() -> None:
    paths = APP.openapi_schema.to_schema()["paths"]
    missing = []
    for route in APP.routes:
        if not isinstance(route, HTTPRoute) or not route.path_format.startswith("/api/"):
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            if method.lower() not in paths.get(route.path_format, {}):
                missing.append(f"{method} {route.path_format}")
    assert missing == []


class Scenario(SCHEMA.as_state_machine()):  # type: ignore[misc]
    """Sequences of calls that follow the document's links (a new entry's id into the entry's
    routes, a new round's id into the round's), checked like single calls."""

    world: World
    role = "admin"

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        if case.headers:
            case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
        headers = dict(self.world.headers[self.role])
        if case.operation.definition.raw.get("operationId") == "revokeToken":
            actor = run(accounts.authenticate(self.world.emails[self.role], PASSWORD))
            headers = {"Authorization": f"Bearer {run(accounts.issue_token(actor, AuthTokenKind.api, '')).token}"}
        return {"app": APP, "headers": headers}

    def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)


@pytest.mark.parametrize("role", ["applicant", "admin"])
def test_sequences_that_follow_the_links_are_documented(role: str, world: World) -> None:
    Scenario.world, Scenario.role = world, role
    Scenario.run(settings=settings(max_examples=STATEFUL_EXAMPLES, stateful_step_count=6, derandomize=True,
                                   deadline=None, database=None, phases=[Phase.generate],
                                   suppress_health_check=list(HealthCheck)))
