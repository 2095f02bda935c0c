"""An awarded innovation's pictures on its showcase page: previews made by the check job (no
EXIF, upright, at most 800 px), shown only while the organisation consents, and only for live
images that passed their check. Through the real app, storage and check job."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from PIL import Image

from contest import jobs
from contest.domain import announcement
from contest.domain.attachments import named_keys
from contest.domain.audit import Actor
from contest.storage import get_storage
from contest.tables import Attachment, Entry, User
from tests.conftest import run
from tests.judging.support import YEAR, after_announcement, signed_final
from uploads.testing import make_pdf

pytestmark = pytest.mark.integration


def _photo() -> bytes:
    """A 2000×1000 JPEG taken "sideways" (EXIF orientation 6) with a camera maker in its EXIF."""
    image = Image.new("RGB", (2000, 1000), (30, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to show
    exif[0x010F] = "SecretCam"  # make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


async def _stored(entry_id: int, data: bytes, content_type: str, name: str) -> int:
    storage = get_storage()
    pending = await storage.begin_write()
    await pending.write(data)
    await pending.commit()
    rows = await Attachment.insert(Attachment(
        entry=entry_id, kind="image" if content_type.startswith("image/") else "document", name=name,
        size=len(data), content_type=content_type, sha256=hashlib.sha256(data).hexdigest(),
        storage_key=pending.key)).returning(Attachment.id)
    return int(rows[0]["id"])


def _checked(entry_id: int, data: bytes, content_type: str = "image/jpeg", name: str = "photo.jpg") -> int:
    attachment_id = run(_stored(entry_id, data, content_type, name))
    run(jobs.check_attachment({"attachment_id": attachment_id}, 0))
    return attachment_id


async def _read(key: str) -> bytes:
    chunks = [c async for c in get_storage().open_range(key)]
    return b"".join(chunks)


@pytest.fixture()
def published(client: Any) -> dict[str, Any]:
    s = signed_final(entries=6, shortlist_size=3)
    winner = run(Entry.select(Entry.id).where(Entry.state == "winner").first())["id"]
    loser = run(Entry.select(Entry.id).where(Entry.state == "not_shortlisted").first())["id"]
    photo = _checked(winner, _photo())
    after_announcement()
    admin = run(User.select(User.id).where(User.email == s.admins[0]).first())
    run(announcement.publish_results(actor=Actor(id=admin["id"], email=s.admins[0], role="admin"), year=YEAR))
    return {"winner": winner, "loser": loser, "photo": photo}


def test_the_preview_is_upright_small_and_carries_no_exif(client: Any, published: dict[str, Any]) -> None:
    row = run(Attachment.select().where(Attachment.id == published["photo"]).first())
    assert row["check_state"] == "passed" and row["thumbnail_key"]
    preview = run(_read(row["thumbnail_key"]))
    with Image.open(io.BytesIO(preview)) as image:
        assert image.format == "JPEG"
        assert image.size == (400, 800)  # turned upright, then fitted into 800 px
        assert not image.getexif()
    assert b"SecretCam" not in preview

    url = f"/showcase/{YEAR}/{published['winner']}/images/{published['photo']}"
    page = client.get(f"/showcase/{YEAR}/{published['winner']}")
    assert page.status_code == 200 and f'src="{url}"' in page.text and 'alt="' in page.text
    served = client.get(url)
    assert served.status_code == 200 and served.headers["content-type"].startswith("image/jpeg")
    assert served.content == preview
    # The uploaded file itself is never what the public gets.
    assert served.content != run(_read(row["storage_key"]))


def test_only_consented_live_checked_images_of_awarded_entries(client: Any, published: dict[str, Any]) -> None:
    winner, photo = published["winner"], published["photo"]
    url = f"/showcase/{YEAR}/{winner}/images/{photo}"
    # A PDF and a damaged image of the same entry: no preview, not shown.
    pdf = _checked(winner, make_pdf(), "application/pdf", "report.pdf")
    broken = _checked(winner, b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg", "broken.jpg")
    assert run(Attachment.select(Attachment.check_state).where(Attachment.id == broken).first())[
        "check_state"] == "failed"
    for other in (pdf, broken):
        assert client.get(f"/showcase/{YEAR}/{winner}/images/{other}").status_code == 404
    # An image of an entry that was not awarded, asked for under any innovation's address.
    loser_photo = _checked(published["loser"], _photo())
    assert client.get(f"/showcase/{YEAR}/{published['loser']}/images/{loser_photo}").status_code == 404
    assert client.get(f"/showcase/{YEAR}/{winner}/images/{loser_photo}").status_code == 404
    assert client.get(f"/showcase/{YEAR - 1}/{winner}/images/{photo}").status_code == 404

    # Consent withdrawn: the pictures go at once.
    run(Entry.update({Entry.consent_publish: False}).where(Entry.id == winner))
    assert client.get(url).status_code == 404
    assert url not in client.get(f"/showcase/{YEAR}/{winner}").text
    run(Entry.update({Entry.consent_publish: True}).where(Entry.id == winner))
    assert client.get(url).status_code == 200

    # A removed file: its preview is no longer shown, and no longer kept from the orphan purge.
    key = run(Attachment.select(Attachment.thumbnail_key).where(Attachment.id == photo).first())["thumbnail_key"]
    assert run(named_keys([key])) == {key}
    run(Attachment.update({Attachment.deleted_at: Attachment.created_at}).where(Attachment.id == photo))
    assert client.get(url).status_code == 404
    assert run(named_keys([key])) == set()
