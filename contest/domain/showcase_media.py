"""The images of an awarded innovation on its public showcase page.

Only what its organisation agreed to publish: the innovation was published with its consent
(the snapshot says so) and still has it (consent can be withdrawn later), and each image is a
live attachment of the entry that passed its check and has a preview. The public only ever gets
the preview (``uploads.thumbnails``: no EXIF, no location), never the uploaded file.
"""

from __future__ import annotations

from typing import Any

from contest.domain.announcement import get_results, showcase_item
from contest.errors import NotFound
from contest.tables import Attachment, Entry
from uploads.checks import CheckState


def _shown() -> Any:
    return (Attachment.deleted_at.is_null() & Attachment.purged_at.is_null()
            & (Attachment.check_state == CheckState.passed) & Attachment.thumbnail_key.is_not_null()
            & Attachment.content_type.like("image/%"))


async def images(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The previews to show for a published showcase item (empty without consent)."""
    if not item.get("consent_publish"):
        return []
    entry = await Entry.select(Entry.consent_publish).where(Entry.id == item["entry_id"]).first()
    if entry is None or not entry["consent_publish"]:
        return []
    rows = await Attachment.select(Attachment.id, Attachment.name, Attachment.thumbnail_key).where(
        (Attachment.entry == item["entry_id"]) & _shown()).order_by(Attachment.id)
    return [dict(r) for r in rows]


async def image_key(year: int, entry_id: int, attachment_id: int) -> str:
    """The storage key of a preview the public may see; NotFound for anything else."""
    results = await get_results(year)
    item = showcase_item(results, entry_id)
    shown = next((i for i in await images(item) if i["id"] == attachment_id), None)
    if shown is None:
        raise NotFound("No such image.", code="not_found")
    return str(shown["thumbnail_key"])


def stamp(shown: list[dict[str, Any]]) -> str:
    return ",".join(str(i["id"]) for i in shown)
