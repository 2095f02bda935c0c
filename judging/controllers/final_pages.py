"""The finalist's page: its presentation slot before the expert panel."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from contest.db import existing
from contest.guards import login_required, require_actor
from contest.tables import Entry
from judging.domain import final


class FinalistPages(Controller):
    include_in_schema = False

    @get("/entries/{entry_id:int}/presentation", guards=[login_required])
    async def presentation(self, request: Request, entry_id: int) -> Template:
        slot = await final.get_presentation(require_actor(request), entry_id)
        row = await existing(Entry.select(Entry.title).where(Entry.id == entry_id))
        return Template("judging/final/presentation.html", context={"slot": slot, "title": row["title"]})
