"""An edition whose results are published, for the announcement's pages and the certificates:
screening and final signed through the domain, then published by an administrator."""

from __future__ import annotations

from typing import Any

from contest.domain import announcement
from contest.domain.audit import Actor
from contest.tables import Entry, Organisation, User
from tests.conftest import run
from tests.factories import make_user
from tests.judging.support import YEAR, after_announcement, signed_final


def entry_in(state: str) -> dict[str, Any]:
    """The first entry in ``state``: its id, title and organisation."""
    return run(Entry.select(Entry.id, Entry.title, Entry.organisation).where(Entry.state == state)
               .order_by(Entry.id).first())


def applicant_for(entry_id: int, email: str) -> None:
    """A staff account (``email``) of the organisation that sent ``entry_id``."""
    code = run(Entry.select(Entry.organisation.code).where(Entry.id == entry_id).first())["organisation.code"]
    run(make_user("applicant", email=email, org=code))


def admin_actor(email: str) -> Actor:
    row = run(User.select(User.id).where(User.email == email).first())
    return Actor(id=row["id"], email=email, role="admin")


def published(*, no_consent: bool = True) -> dict[str, Any]:
    """Screening and final signed (6 entries, 3 awardees, 1 winner); the finalists' organisations
    moved to three provinces in three regions; one finalist without consent; then published."""
    s = signed_final(entries=6, shortlist_size=3)
    winner = entry_in("winner")
    finalists = run(Entry.select(Entry.id, Entry.organisation).where(Entry.state == "finalist").order_by(Entry.id))
    places = [("10", "กรุงเทพมหานคร", "central"), ("90", "สงขลา", "south")]
    for f, (code, name, region) in zip(finalists, places, strict=False):
        run(Organisation.update({Organisation.province_code: code, Organisation.province_name_th: name,
                                 Organisation.region: region}).where(Organisation.id == f["organisation"]))
    hidden = finalists[0]["id"]
    if no_consent:
        run(Entry.update({Entry.consent_publish: False}).where(Entry.id == hidden))
    run(Entry.update({Entry.links: ["https://service.example.go.th/app", "javascript:alert(1)"],
                      Entry.video_url: "https://video.example.org/watch?v=1", Entry.citizens_served: 12500,
                      Entry.technology: "LINE OA, PostgreSQL"}).where(Entry.id == winner["id"]))
    after_announcement()
    result = run(announcement.publish_results(actor=admin_actor(s.admins[0]), year=YEAR))
    return {"s": s, "winner": winner["id"], "winner_title": winner["title"], "hidden": hidden,
            "finalists": [f["id"] for f in finalists], "sha": result["snapshot_sha256"]}
