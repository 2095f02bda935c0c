"""JSON API v1: a round's calibration before screening (``judging.domain.calibration``) and an
extra reader for entries the committee disagrees on (``judging.domain.extra_readers``). Thin:
parse, guard, call one domain function."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.status_codes import HTTP_200_OK

from contest.errors import ValidationFailed
from contest.guards import admin_required, login_required, require_actor, reviewer_required
from contest.i18n import t
from contest.openapi import BEARER, UNSAFE, api
from contest.rules import is_organiser
from judging.controllers.bodies import (
    CalibrationIn,
    CalibrationRead,
    CalibrationSheetRead,
    ExtraReadersIn,
    ExtraReadersRead,
    ScoresIn,
)
from judging.domain import calibration, extra_readers

ADMIN = (401, 403)


def _body(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed(errors={"body": t("Send a JSON object.")})
    return data


class CalibrationApi(Controller):
    tags = ["judging"]
    guards = [login_required]

    @get("/api/v1/rounds/{round_id:int}/calibration", operation_id="getCalibration", guards=[reviewer_required],
         **api(*ADMIN, 404, auth=BEARER))
    async def get_calibration(self, request: Request, round_id: int) -> dict[str, Any]:
        """Admin: the calibration entries, the rubric notes and each member's progress and offset from
        the committee's median (`{round_id, entries, rubric_notes, members}`). A member of the round:
        the entries with their own calibration sheets, the notes and how many are left
        (`{round_id, state, entries:[{entry_id, title, state, scores, comment, version}], left, done,
        rubric_notes}`). Anyone else: 404."""
        actor = require_actor(request)
        if is_organiser(actor):
            return await calibration.committee_view(round_id)
        return await calibration.my_calibration(actor, round_id)

    @put("/api/v1/rounds/{round_id:int}/calibration", operation_id="setCalibration", guards=[admin_required],
         **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=CalibrationIn, body_required=False,
               reply=CalibrationRead))
    async def set_calibration(self, request: Request, round_id: int, data: dict[str, Any] | None = None
                              ) -> dict[str, Any]:
        """Mark 3 to 5 calibration entries (before the round opens) and/or record the rubric notes
        the committee agreed on."""
        body = _body(data if data is not None else {})
        actor = require_actor(request)
        if "entry_ids" in body and body["entry_ids"] is not None:
            await calibration.set_entries(actor=actor, round_id=round_id, entry_ids=body["entry_ids"])
        if "rubric_notes" in body and body["rubric_notes"] is not None:
            await calibration.set_notes(actor=actor, round_id=round_id, notes=body["rubric_notes"])
        return await calibration.committee_view(round_id)

    @put("/api/v1/rounds/{round_id:int}/calibration/{entry_id:int}/scores", operation_id="saveCalibrationScores",
         guards=[reviewer_required], **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=ScoresIn,
                                           reply=CalibrationSheetRead))
    async def save_scores(self, request: Request, round_id: int, entry_id: int, data: dict[str, Any]
                          ) -> dict[str, Any]:
        """A member's calibration sheet: `{scores: {code: value}, comment, version?}` (as a score sheet)."""
        body = _body(data)
        return await calibration.save_sheet(actor=require_actor(request), round_id=round_id, entry_id=entry_id,
                                            scores=body.get("scores", {}), comment=body.get("comment"),
                                            version=body.get("version"))

    @post("/api/v1/rounds/{round_id:int}/calibration/{entry_id:int}/submit", operation_id="submitCalibrationScores",
          guards=[reviewer_required], status_code=HTTP_200_OK,
          **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, reply=CalibrationSheetRead))
    async def submit(self, request: Request, round_id: int, entry_id: int) -> dict[str, Any]:
        """Lock a complete calibration sheet; `queue_open` once the last one is submitted."""
        return await calibration.submit_sheet(actor=require_actor(request), round_id=round_id, entry_id=entry_id)

    @post("/api/v1/rounds/{round_id:int}/extra-readers", operation_id="assignExtraReaders", guards=[admin_required],
          status_code=HTTP_200_OK, **api(*UNSAFE, *ADMIN, 404, 409, 422, auth=BEARER, body=ExtraReadersIn,
                                         reply=ExtraReadersRead))
    async def extra_readers(self, request: Request, round_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """One more reader for each of `entry_ids`, through the balanced assignment: never a member
        with a conflict of interest or who already reads the entry, the least loaded first; audited
        and told by mail. 409 `no_eligible_reader` (nothing assigned) when an entry has nobody left."""
        body = _body(data)
        items = await extra_readers.assign_extra_readers(actor=require_actor(request), round_id=round_id,
                                                         entry_ids=body.get("entry_ids"))
        return {"items": items}
