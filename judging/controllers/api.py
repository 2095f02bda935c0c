"""JSON API v1: judging — rounds, eligibility, committee, assignment, scoring, ranking,
decisions and signatures (shared/API.md). Thin: parse, guard, call one domain function."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from contest.domain import outcomes
from contest.errors import ValidationFailed
from contest.guards import admin_required, login_required, require_actor, reviewer_required
from contest.i18n import t
from contest.numbers import bounded_ids
from contest.openapi import BEARER, UNSAFE, api, binary, header, link
from judging.controllers.bodies import (
    DecideIn,
    DecisionRead,
    EligibilityBulkIn,
    EligibilityBulkRead,
    EligibilityIn,
    EligibilityRead,
    InvitedRead,
    MemberRead,
    MembersIn,
    MembersRead,
    PresentationIn,
    PresentationItem,
    PresentationRead,
    QualityRead,
    QueuedRead,
    ReasonIn,
    RecuseRead,
    ReopenRead,
    RoundCreate,
    RoundProgressRead,
    RoundUpdate,
    RubricRead,
    ScoresIn,
    SignIn,
    TiesIn,
    TiesRead,
)
from judging.domain import assignments, final, round_cockpit, round_rows, rounds, scoring, shortlist
from judging.domain.rounds import DEFAULT_RUBRIC, DEFAULT_TIE_BREAK
from judging.enums import AssignmentState

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class CriterionRead:
    code: str
    name_th: str
    name_en: str
    weight: float
    min: float
    max: float
    description_th: str = ""
    description_en: str = ""


@dataclass
class SignatureRead:
    user_id: int
    email: str
    name: str
    signed_at: datetime


@dataclass
class RoundRead:
    id: int
    year: int
    kind: str
    state: str
    reviewers_per_entry: int
    normalisation: str
    tie_break: list[str]
    exclude_same_province: bool
    seed: int
    criteria: list[CriterionRead]
    rules_hash: str
    decision_hash: str
    cut: int
    members: int
    entries: int
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    signed_at: datetime | None = None
    signatures: list[SignatureRead] = field(default_factory=list)

    @classmethod
    def of(cls, v: rounds.RoundView) -> RoundRead:
        return cls(id=v.id, year=v.year, kind=v.kind, state=v.state, reviewers_per_entry=v.reviewers_per_entry,
                   normalisation=v.normalisation, tie_break=v.tie_break, exclude_same_province=v.exclude_same_province,
                   seed=v.seed, criteria=[CriterionRead(**c) for c in v.criteria], rules_hash=v.rules_hash,
                   decision_hash=v.decision_hash, cut=v.cut, members=v.members, entries=v.entries,
                   opened_at=v.opened_at, closed_at=v.closed_at, signed_at=v.signed_at,
                   signatures=[SignatureRead(user_id=s["user_id"], email=s["email"], name=s["name"],
                                             signed_at=s["signed_at"]) for s in v.signatures])


@dataclass
class AssignmentRead:
    id: int
    entry_id: int
    reviewer_id: int
    state: str


@dataclass
class AssignResult:
    created: int
    assignments: list[AssignmentRead]
    per_reviewer: dict[str, int]


@dataclass
class ScoreSheet:
    id: int
    entry_id: int
    round_id: int
    state: str
    scores: dict[str, float]
    comment: str
    version: int
    criteria: list[CriterionRead]
    submitted_at: datetime | None = None


@dataclass
class RankingItem:
    entry_id: int
    rank: int | None
    score: float | None
    raw_score: float | None
    reviewers: int
    borderline: bool
    spread: float | None
    tied: bool
    criterion_means: dict[str, float]
    title: str = ""
    organisation_code: str = ""
    organisation_name_th: str = ""
    province_name_th: str = ""


def _body(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed(errors={"body": t("Send a JSON object.")})
    return data


def _ids(value: Any, name: str) -> list[int]:
    return bounded_ids(value, name)


#: Admin only: no token 401, another role 403; then the item's own answers.
ADMIN = (401, 403)
#: What a new round's id opens up.
ROUND_LINKS = {op: link(op, round_id="$response.body#/id") for op in (
    "getRound", "updateRound", "addMembers", "listMembers", "openRound", "assignReviewers", "listAssignments",
    "roundProgress", "roundQuality", "getRanking", "closeRound", "decideRound", "getDecision", "signDecision")}
ASSIGNMENT_LINKS = {op: link(op, assignment_id="$response.body#/assignments/0/id") for op in (
    "getAssignment", "saveScores", "submitScores", "recuse")}
SHEET_LINKS = {op: link(op, assignment_id="$response.body#/id") for op in ("saveScores", "submitScores")}
DOWNLOAD = {"Content-Disposition": header("`attachment` with the file's name.")}


def _assignment_reads(rows: list[dict[str, Any]]) -> list[AssignmentRead]:
    return [AssignmentRead(id=r["id"], entry_id=r["entry"], reviewer_id=r["reviewer"], state=r["state"]) for r in rows]


def _sheet(row: dict[str, Any]) -> ScoreSheet:
    return ScoreSheet(id=row["id"], entry_id=row["entry"], round_id=row["round"], state=row["state"],
                      scores=row["scores"], comment=row["comment"], version=row["version"],
                      criteria=[CriterionRead(**c) for c in row["criteria"]], submitted_at=row["submitted_at"])


class RoundApi(Controller):
    tags = ["judging"]

    @get("/api/v1/rubrics/default", operation_id="getDefaultRubric", guards=[admin_required],
         **api(*ADMIN, auth=BEARER, reply=RubricRead))
    async def default_rubric(self) -> dict[str, Any]:
        """DGA's published themes as a starting rubric."""
        return {"criteria": DEFAULT_RUBRIC, "tie_break": DEFAULT_TIE_BREAK}

    @post("/api/v1/editions/{year:int}/rounds", operation_id="createRound",
          guards=[admin_required], status_code=HTTP_201_CREATED,
          **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=RoundCreate, links=ROUND_LINKS))
    async def create_round(self, request: Request, year: int, data: dict[str, Any]) -> RoundRead:
        """A draft round with its rubric (DGA's default when `criteria` is left out)."""
        round_id = await rounds.create_round(actor=require_actor(request), year=year, data=_body(data))
        return RoundRead.of(await rounds.get_round(round_id))

    @get("/api/v1/editions/{year:int}/rounds", operation_id="listRounds", guards=[admin_required],
         **api(*ADMIN, 404, auth=BEARER))
    async def list_rounds(self, year: int) -> list[RoundRead]:
        return [RoundRead.of(v) for v in await rounds.list_rounds(year)]

    @get("/api/v1/rounds/{round_id:int}", operation_id="getRound", guards=[admin_required],
         **api(*ADMIN, 404, auth=BEARER))
    async def get_round(self, round_id: int) -> RoundRead:
        return RoundRead.of(await rounds.get_round(round_id))

    @patch("/api/v1/rounds/{round_id:int}", operation_id="updateRound",
           guards=[admin_required], **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=RoundUpdate))
    async def update_round(self, request: Request, round_id: int, data: dict[str, Any]) -> RoundRead:
        """Change a draft round's rules; 409 `frozen` once it has opened."""
        await rounds.update_round(actor=require_actor(request), round_id=round_id, data=_body(data))
        return RoundRead.of(await rounds.get_round(round_id))

    @post("/api/v1/entries/{entry_id:int}/eligibility", operation_id="setEligibility",
          guards=[admin_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=EligibilityIn, reply=EligibilityRead))
    async def set_eligibility(self, request: Request, entry_id: int, data: dict[str, Any]) -> dict[str, Any]:
        body = _body(data)
        if not isinstance(body.get("eligible"), bool):
            raise ValidationFailed(errors={"eligible": t("Say whether the entry is eligible (true or false).")})
        await outcomes.set_eligibility(actor=require_actor(request), entry_ids=[entry_id],
                                       eligible=body["eligible"], reason=str(body.get("reason") or ""))
        return {"id": entry_id, "state": "eligible" if body["eligible"] else "ineligible",
                "reason": str(body.get("reason") or "").strip()}

    @post("/api/v1/editions/{year:int}/eligibility", operation_id="setEligibilityBulk",
          guards=[admin_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=EligibilityBulkIn, reply=EligibilityBulkRead))
    async def set_eligibility_bulk(self, request: Request, year: int, data: dict[str, Any]) -> dict[str, Any]:
        body = _body(data)
        if not isinstance(body.get("eligible"), bool):
            raise ValidationFailed(errors={"eligible": t("Say whether the entries are eligible (true or false).")})
        ids = _ids(body.get("entry_ids"), "entry_ids")
        changed = await outcomes.set_eligibility(actor=require_actor(request), entry_ids=ids, year=year,
                                                 eligible=body["eligible"], reason=str(body.get("reason") or ""))
        return {"entry_ids": ids, "changed": changed, "state": "eligible" if body["eligible"] else "ineligible"}

    @post("/api/v1/rounds/{round_id:int}/members", operation_id="addMembers",
          guards=[admin_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=MembersIn, reply=MembersRead))
    async def add_members(self, request: Request, round_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """`{user_ids}` or `{emails}`, optional `provinces: {email: province_code}` and
        `conflicts: [{email, organisation_code, reason}]`."""
        body = _body(data)
        emails = body.get("emails") or []
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise ValidationFailed(errors={"emails": t("A list of e-mail addresses.")})
        provinces = body.get("provinces") or {}
        if not isinstance(provinces, dict):
            raise ValidationFailed(errors={"provinces": t("Give provinces as email: province code.")})
        conflicts = body.get("conflicts") or []
        if not isinstance(conflicts, list):
            raise ValidationFailed(errors={"conflicts": t("Each conflict needs an email and an organisation code.")})
        result = await rounds.add_members(actor=require_actor(request), round_id=round_id,
                                          user_ids=_ids(body.get("user_ids"), "user_ids"), emails=emails,
                                          provinces=provinces, conflicts=conflicts)
        return {**result, "items": await rounds.list_members(round_id)}

    @get("/api/v1/rounds/{round_id:int}/members", operation_id="listMembers", guards=[admin_required],
         **api(*ADMIN, 404, auth=BEARER, reply=list[MemberRead]))
    async def list_members(self, round_id: int) -> list[dict[str, Any]]:
        await round_rows.get_round_row(round_id)
        return await rounds.list_members(round_id)

    @post("/api/v1/rounds/{round_id:int}/open", operation_id="openRound", guards=[admin_required],
          status_code=HTTP_200_OK, **api(*UNSAFE, *ADMIN, 404, 409, auth=BEARER))
    async def open_round(self, request: Request, round_id: int) -> RoundRead:
        """Freeze the rules (`rules_hash`) and take the eligible entries (screening) or the
        shortlist (final)."""
        await rounds.open_round(actor=require_actor(request), round_id=round_id)
        return RoundRead.of(await rounds.get_round(round_id))

    @post("/api/v1/rounds/{round_id:int}/assign", operation_id="assignReviewers", guards=[admin_required],
          status_code=HTTP_200_OK, **api(*UNSAFE, *ADMIN, 404, 409, auth=BEARER, links=ASSIGNMENT_LINKS))
    async def assign(self, request: Request, round_id: int) -> AssignResult:
        actor = require_actor(request)
        result = await assignments.assign_reviewers(actor=actor, round_id=round_id)
        rows = await assignments.list_assignments(actor, round_id)
        live = [r for r in rows if r["state"] != AssignmentState.recused]
        return AssignResult(created=result.created, assignments=_assignment_reads(live),
                            per_reviewer={str(k): v for k, v in sorted(result.per_reviewer.items())})

    @get("/api/v1/rounds/{round_id:int}/assignments", operation_id="listAssignments", guards=[reviewer_required],
         **api(*ADMIN, 404, 409, auth=BEARER))
    async def list_assignments(self, request: Request, round_id: int,
                               state_filter: str | None = Parameter(query="state", default=None)
                               ) -> list[AssignmentRead]:
        """A member's own assignments; every assignment for an admin."""
        return _assignment_reads(await assignments.list_assignments(require_actor(request), round_id,
                                                                state=state_filter))

    @get("/api/v1/rounds/{round_id:int}/progress", operation_id="roundProgress", guards=[admin_required],
         **api(*ADMIN, 404, auth=BEARER, reply=RoundProgressRead))
    async def progress(self, round_id: int) -> dict[str, Any]:
        return await scoring.progress(round_id)

    @get("/api/v1/rounds/{round_id:int}/quality", operation_id="roundQuality", guards=[admin_required],
         **api(*ADMIN, 404, auth=BEARER, reply=QualityRead))
    async def quality_figures(self, round_id: int) -> dict[str, Any]:
        """How well the committee agrees (Krippendorff's alpha, interval metric, on the submitted
        sheets), each reviewer's offset from the others, the widest disagreements, and those near
        the cut (as on the round's progress page)."""
        return await round_cockpit.quality_view(round_id)

    @post("/api/v1/rounds/{round_id:int}/reminders", operation_id="sendReminders", guards=[admin_required],
          status_code=HTTP_200_OK, **api(*UNSAFE, *ADMIN, 404, 409, auth=BEARER, reply=QueuedRead))
    async def reminders(self, request: Request, round_id: int) -> dict[str, int]:
        return {"queued": await scoring.send_reminders(actor=require_actor(request), round_id=round_id)}

    @get("/api/v1/rounds/{round_id:int}/ranking", operation_id="getRanking", guards=[admin_required],
         **api(*ADMIN, 404, 409, auth=BEARER))
    async def ranking(self, round_id: int) -> list[RankingItem]:
        view = await shortlist.ranking_view(round_id)
        names = RankingItem.__dataclass_fields__
        return [RankingItem(**{k: v for k, v in item.items() if k in names}) for item in view["items"]]

    @get("/api/v1/rounds/{round_id:int}/ranking.csv", operation_id="exportRankingCsv", guards=[admin_required],
         **api(*ADMIN, 404, 409, auth=BEARER, media=binary("text/csv; charset=utf-8"), headers=DOWNLOAD))
    async def ranking_csv(self, round_id: int) -> Response[bytes]:
        return Response(await shortlist.export_csv(round_id), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="ranking-round-{round_id}.csv"'})

    @get("/api/v1/rounds/{round_id:int}/ranking.xlsx", operation_id="exportRankingXlsx", guards=[admin_required],
         **api(*ADMIN, 404, 409, auth=BEARER, media=binary(XLSX), headers=DOWNLOAD))
    async def ranking_xlsx(self, round_id: int) -> Response[bytes]:
        return Response(await shortlist.export_xlsx(round_id),
                        media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="ranking-round-{round_id}.xlsx"'})

    @post("/api/v1/rounds/{round_id:int}/close", operation_id="closeRound", guards=[admin_required],
          status_code=HTTP_200_OK, **api(*UNSAFE, *ADMIN, 404, 409, auth=BEARER))
    async def close(self, request: Request, round_id: int) -> RoundRead:
        await rounds.close_round(actor=require_actor(request), round_id=round_id)
        return RoundRead.of(await rounds.get_round(round_id))

    @post("/api/v1/rounds/{round_id:int}/ties", operation_id="recordTieDecision",
          guards=[admin_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=TiesIn, reply=TiesRead))
    async def ties(self, request: Request, round_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """The committee's order for tied entries: `{entry_ids: [best first], reason}`."""
        body = _body(data)
        ids = _ids(body.get("entry_ids"), "entry_ids")
        await shortlist.record_tie_decision(actor=require_actor(request), round_id=round_id, entry_ids=ids,
                                            reason=str(body.get("reason") or ""))
        return {"round_id": round_id, "order": ids}

    @post("/api/v1/rounds/{round_id:int}/decide", operation_id="decideRound",
          guards=[admin_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=DecideIn, body_required=False, reply=DecisionRead))
    async def decide(self, request: Request, round_id: int, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Propose outcomes: the top N, then `overrides: [{entry_id, outcome, reason}]`."""
        body = _body(data or {})
        overrides = body.get("overrides") or []
        if not isinstance(overrides, list):
            raise ValidationFailed(errors={"overrides": t("Each override needs an entry, an outcome and a reason.")})
        return await shortlist.decide(actor=require_actor(request), round_id=round_id, overrides=overrides)

    @get("/api/v1/rounds/{round_id:int}/decision", operation_id="getDecision", guards=[admin_required],
         **api(*ADMIN, 404, auth=BEARER, reply=DecisionRead))
    async def decision(self, round_id: int) -> dict[str, Any]:
        return await shortlist.decision_view(round_id)

    @post("/api/v1/rounds/{round_id:int}/sign", operation_id="signDecision",
          guards=[admin_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, *ADMIN, 404, 409, auth=BEARER, body=SignIn, body_required=False, reply=DecisionRead))
    async def sign(self, request: Request, round_id: int, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Sign the proposal (optionally naming the `decision_hash` you reviewed); the second
        administrator's signature makes it final."""
        body = _body(data or {})
        return await shortlist.sign_decision(actor=require_actor(request), round_id=round_id,
                                             decision_hash=body.get("decision_hash") or None)


class PresentationApi(Controller):
    tags = ["judging"]

    @put("/api/v1/rounds/{round_id:int}/presentations/{entry_id:int}", operation_id="setPresentation",
         guards=[admin_required],
         **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=PresentationIn, reply=PresentationRead))
    async def set_presentation(self, request: Request, round_id: int, entry_id: int,
                               data: dict[str, Any]) -> dict[str, Any]:
        """A finalist's slot in the final round: `{starts_at, minutes, link, note}`; mailed to them."""
        body = _body(data)
        return await final.set_presentation(actor=require_actor(request), round_id=round_id, entry_id=entry_id,
                                            starts_at=body.get("starts_at"), minutes=body.get("minutes", 15),
                                            link=str(body.get("link") or ""), note=str(body.get("note") or ""))

    @post("/api/v1/rounds/{round_id:int}/presentations/invitations", operation_id="sendInvitations",
          guards=[admin_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, *ADMIN, 404, 409, auth=BEARER, reply=InvitedRead))
    async def send_invitations(self, request: Request, round_id: int) -> dict[str, int]:
        """Invite every finalist to present, at once (each then sees and is mailed its own slot);
        409 until every finalist has a slot, and once sent. Names no outcome."""
        return {"invited": await final.send_invitations(actor=require_actor(request), round_id=round_id)}

    @get("/api/v1/rounds/{round_id:int}/presentations", operation_id="listPresentations", guards=[admin_required],
         **api(*ADMIN, 404, auth=BEARER, reply=list[PresentationItem]))
    async def list_presentations(self, round_id: int) -> list[dict[str, Any]]:
        await round_rows.get_round_row(round_id)
        return await final.list_presentations(round_id)

    @get("/api/v1/entries/{entry_id:int}/presentation", operation_id="getPresentation", guards=[login_required],
         **api(401, 404, auth=BEARER, reply=PresentationRead))
    async def get_presentation(self, request: Request, entry_id: int) -> dict[str, Any]:
        """The finalist's own presentation slot."""
        return await final.get_presentation(require_actor(request), entry_id)


class AssignmentApi(Controller):
    path = "/api/v1/assignments"
    tags = ["judging"]
    guards = [login_required]

    @get("/{assignment_id:int}", operation_id="getAssignment", guards=[reviewer_required],
         **api(*ADMIN, 404, 409, auth=BEARER, links=SHEET_LINKS))
    async def get_assignment(self, request: Request, assignment_id: int) -> ScoreSheet:
        return _sheet(await assignments.get_assignment(require_actor(request), assignment_id))

    @put("/{assignment_id:int}/scores", operation_id="saveScores",
         guards=[reviewer_required], **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=ScoresIn))
    async def save_scores(self, request: Request, assignment_id: int, data: dict[str, Any]) -> ScoreSheet:
        """`{scores: {code: value}, comment, version?}`; 422 out of range or not in the rubric."""
        body = _body(data)
        actor = require_actor(request)
        await scoring.save_scores(actor=actor, assignment_id=assignment_id, scores=body.get("scores", {}),
                                  comment=body.get("comment"), version=body.get("version"))
        return _sheet(await assignments.get_assignment(actor, assignment_id))

    @post("/{assignment_id:int}/submit", operation_id="submitScores", guards=[reviewer_required],
          status_code=HTTP_200_OK, **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER))
    async def submit(self, request: Request, assignment_id: int) -> ScoreSheet:
        actor = require_actor(request)
        await scoring.submit_scores(actor=actor, assignment_id=assignment_id)
        return _sheet(await assignments.get_assignment(actor, assignment_id))

    @post("/{assignment_id:int}/recuse", operation_id="recuse",
          guards=[reviewer_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=ReasonIn, reply=RecuseRead))
    async def recuse(self, request: Request, assignment_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """Declare a conflict of interest: `{reason}`. The entry goes to another member."""
        body = _body(data)
        return await scoring.recuse(actor=require_actor(request), assignment_id=assignment_id,
                                    reason=str(body.get("reason") or ""))

    @post("/{assignment_id:int}/reopen", operation_id="reopenScores",
          guards=[admin_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=ReasonIn, reply=ReopenRead))
    async def reopen(self, request: Request, assignment_id: int, data: dict[str, Any] | None = None) -> dict[str, Any]:
        body = _body(data or {})
        await scoring.reopen(actor=require_actor(request), assignment_id=assignment_id,
                             reason=str(body.get("reason") or ""))
        return {"id": assignment_id, "state": "assigned"}
