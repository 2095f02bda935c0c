"""Who signs an edition's certificates: proposed on the admin page with a real image, approved by
a second administrator through the pending actions, printed on the certificates from then on;
the image is served to administrators only."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import zlib
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from contest.domain import signatories
from contest.domain.audit import SYSTEM
from contest.errors import ValidationFailed
from contest.i18n import t
from contest.tables import AuditEvent, CertificateSignatory, PendingAction
from tests.conftest import run
from tests.contest.results_world import applicant_for, published
from tests.factories import browser_login, csrf, login_token, make_edition, make_user

pytestmark = pytest.mark.integration

YEAR = 2569
NAME, POSITION_TH = "นายสุพจน์ เธียรวุฒิ", "ผู้อำนวยการสำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)"
POSITION_EN = "President, Digital Government Development Agency"


def th(message: str, **params: Any) -> str:
    return t(message, "th", **params)


def image(kind: str = "PNG", size: tuple[int, int] = (600, 160), mode: str = "RGBA") -> bytes:
    picture = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else (255, 255, 255))
    for x in range(size[0]):
        y = min(max(size[1] // 2 + (x % 20) - 10, 0), size[1] - 1)
        picture.putpixel((x, y), (20, 30, 120, 255) if mode == "RGBA" else (20, 30, 120))
    out = BytesIO()
    picture.save(out, format=kind)
    return out.getvalue()


# --- the image check (no database) --------------------------------------------------------------

@pytest.mark.unit
def test_a_real_png_or_jpeg_passes() -> None:
    assert signatories.check_signature(image()) == "image/png"
    assert signatories.check_signature(image("JPEG", mode="RGB")) == "image/jpeg"


@pytest.mark.unit
@pytest.mark.parametrize(("raw", "message"), [
    (b"", "Choose the signature image (PNG or JPEG)."),
    (b"%PDF-1.7 not an image", "The signature must be a PNG or JPEG image; this file is not one, or it is damaged."),
    (image()[:200], "The signature must be a PNG or JPEG image; this file is not one, or it is damaged."),
    (image("GIF", mode="RGB"), "The signature must be a PNG or JPEG image; this file is not one, or it is damaged."),
])
def test_what_is_not_a_sound_png_or_jpeg_is_refused(raw: bytes, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        signatories.check_signature(raw)
    assert refused.value.errors == {"signature": t(message)}


@pytest.mark.unit
def test_too_large_or_odd_sized_images_are_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        signatories.check_signature(b"\x89PNG" + bytes(signatories.MAX_SIGNATURE_BYTES))
    assert refused.value.errors == {"signature": t("The signature image is too large: at most {kb} KB.", kb=512)}
    # A small file whose header claims a huge image is refused before any pixel is decoded.
    damaged = t("The signature must be a PNG or JPEG image; this file is not one, or it is damaged.")
    for side in (9_000, 100_000):  # the latter is more than Pillow opens at all (a decompression bomb)
        png = bytearray(image())
        png[16:24] = side.to_bytes(4, "big") * 2  # IHDR width and height
        png[29:33] = zlib.crc32(bytes(png[12:29])).to_bytes(4, "big")
        with pytest.raises(ValidationFailed) as refused:
            signatories.check_signature(bytes(png))
        said = refused.value.errors["signature"]
        assert f"{side}×{side}" in said if side == 9_000 else said == damaged
    for size in ((30, 10), (2100, 300)):
        with pytest.raises(ValidationFailed) as refused:
            signatories.check_signature(image(size=size))
        assert f"{size[0]}×{size[1]}" in refused.value.errors["signature"]


# --- proposing and approving --------------------------------------------------------------------

@pytest.fixture()
def admins(client):  # type: ignore[no-untyped-def]
    run(make_edition(YEAR))
    run(make_user("admin", email="admin1@dga.or.th"))
    run(make_user("admin", email="admin2@dga.or.th"))
    return login_token(client, "admin1@dga.or.th"), login_token(client, "admin2@dga.or.th")


def propose(client: Any, *, signature: bytes | None, name: str = NAME, position_th: str = POSITION_TH,
            position_en: str = POSITION_EN) -> Any:
    # A browser sends the file field empty when no file is chosen.
    files = {"signature": ("signature.png", signature, "image/png") if signature is not None
             else ("", b"", "application/octet-stream")}
    return client.post(f"/admin/editions/{YEAR}/certificate", follow_redirects=False, files=files, data={
        "_csrf": csrf(client), "signatory_name": name, "position_th": position_th, "position_en": position_en})


def field_error(page: Any, name: str) -> str:
    found = re.search(rf'<p class="error" id="e-{name}">(.*?)</p>', page.text, re.S)
    assert found, page.text
    return html.unescape(found.group(1))


def test_one_admin_proposes_another_approves_and_the_certificates_carry_it(client, admins) -> None:  # type: ignore[no-untyped-def]
    first, second = admins
    browser_login(client, "admin1@dga.or.th")
    page = client.get(f"/admin/editions/{YEAR}/certificate")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    assert th("None yet: the certificates of this edition have no signature block.") in page.text
    assert 'enctype="multipart/form-data"' in page.text

    png = image()
    resp = propose(client, signature=png)
    assert resp.status_code == 303 and resp.headers["location"] == f"/admin/editions/{YEAR}/certificate?proposed=1"
    page = client.get(resp.headers["location"])
    assert th("Proposed. Another administrator must approve it before it takes effect.") in page.text
    assert th("Waiting for a second administrator") in page.text and NAME in page.text
    # Until approved, nothing changes on the certificates.
    assert run(signatories.signatory_for(YEAR)) is None

    listed = client.get("/api/v1/pending-actions", headers=second).json()
    action = listed[0]
    assert action["kind"] == "certificate_signatory" and action["proposed_by"] == "admin1@dga.or.th"
    assert action["payload"]["signatory_name"] == NAME and action["payload"]["year"] == YEAR
    assert action["payload"]["from"] is None
    assert "signature" not in action["payload"]  # the image is not in the queue, its hash is
    assert len(action["payload"]["signature_sha256"]) == 64
    pending = client.get("/admin/pending-actions")
    assert th("Set who signs the certificates of {year}: {name}, {position}", year=YEAR, name=NAME,
              position=POSITION_TH) in pending.text

    own = client.post(f"/api/v1/pending-actions/{action['id']}/approve", headers=first)
    assert own.status_code == 403 and own.json()["code"] == "own_proposal"
    assert run(signatories.signatory_for(YEAR)) is None
    ok = client.post(f"/api/v1/pending-actions/{action['id']}/approve", headers=second)
    assert ok.status_code == 200 and ok.json()["state"] == "approved"

    signed = run(signatories.signatory_for(YEAR))
    assert signed is not None
    assert (signed.name, signed.position_th, signed.position_en) == (NAME, POSITION_TH, POSITION_EN)
    assert signed.signature == png  # byte for byte: the transparency is kept
    event = run(AuditEvent.select().where(AuditEvent.action == "edition.certificate_signatory").first())
    assert event is not None and str(event["subject_id"]) == str(YEAR)
    page = client.get(f"/admin/editions/{YEAR}/certificate")
    assert th("In force") in page.text and NAME in page.text
    assert th("Waiting for a second administrator") not in page.text

    # A new position without a new image: proposed, the old values stay until approved.
    resp = propose(client, signature=None, position_th="ผู้อำนวยการ สพร.")
    assert resp.status_code == 303
    assert run(signatories.signatory_for(YEAR)).position_th == POSITION_TH  # type: ignore[union-attr]
    action = client.get("/api/v1/pending-actions", headers=second).json()[0]
    assert action["payload"]["from"]["position_th"] == POSITION_TH
    client.post(f"/api/v1/pending-actions/{action['id']}/approve", headers=second)
    now = run(signatories.signatory_for(YEAR))
    assert now is not None and now.position_th == "ผู้อำนวยการ สพร." and now.signature == png
    states = sorted(r["state"] for r in run(CertificateSignatory.select(CertificateSignatory.state)))
    assert states == ["approved", "replaced"]


def test_a_rejected_proposal_changes_nothing(client, admins) -> None:  # type: ignore[no-untyped-def]
    _, second = admins
    browser_login(client, "admin1@dga.or.th")
    assert propose(client, signature=image()).status_code == 303
    action = client.get("/api/v1/pending-actions", headers=second).json()[0]
    resp = client.post(f"/api/v1/pending-actions/{action['id']}/reject", headers=second, json={"reason": "ชื่อผิด"})
    assert resp.json()["state"] == "rejected"
    assert run(signatories.signatory_for(YEAR)) is None
    page = client.get(f"/admin/editions/{YEAR}/certificate")
    assert th("Waiting for a second administrator") not in page.text
    assert client.post(f"/api/v1/pending-actions/{action['id']}/approve", headers=second).status_code == 409


@pytest.mark.parametrize("language", ["th", "en"])
def test_bad_input_is_said_next_to_the_field_and_changes_nothing(client, admins, language: str) -> None:  # type: ignore[no-untyped-def]
    browser_login(client, "admin1@dga.or.th")
    client.get("/", params={"lang": language})
    message = "The signature must be a PNG or JPEG image; this file is not one, or it is damaged."
    resp = propose(client, signature=b"GIF89a not really")
    assert resp.status_code == 422
    assert field_error(resp, "signature") == t(message, language)
    assert 'class="error-summary"' in resp.text
    assert f'value="{NAME}"' in resp.text  # what was typed is kept
    resp = propose(client, signature=image(), name=" ", position_th="")
    assert resp.status_code == 422
    assert field_error(resp, "position_th") == t("Enter the signatory's position in Thai.", language)
    assert "signatory_name" in resp.text
    resp = propose(client, signature=None)  # no image in force to keep
    assert field_error(resp, "signature") == t("Choose the signature image (PNG or JPEG).", language)
    assert run(CertificateSignatory.count()) == 0 and run(PendingAction.count()) == 0


def test_the_signature_image_is_served_to_administrators_only(client, admins) -> None:  # type: ignore[no-untyped-def]
    jpeg = image("JPEG", mode="RGB")
    run(signatories.propose(actor=SYSTEM, year=YEAR, signature=jpeg, data={
        "signatory_name": NAME, "position_th": POSITION_TH, "position_en": ""}))  # the command line: at once
    version = run(CertificateSignatory.select(CertificateSignatory.id).first())["id"]
    path = f"/admin/editions/{YEAR}/certificate/signatures/{version}"

    anonymous = client.get(path, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    run(make_user("applicant", email="staff@example.go.th"))
    browser_login(client, "staff@example.go.th")
    assert client.get(path).status_code == 403
    assert client.get(f"/admin/editions/{YEAR}/certificate").status_code == 403
    client.cookies.clear()

    browser_login(client, "admin2@dga.or.th")
    resp = client.get(path)
    assert resp.status_code == 200 and resp.content == jpeg
    assert resp.headers["content-type"] == "image/jpeg"
    assert resp.headers["cache-control"] == "private, no-store"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"/admin/editions/{YEAR}/certificate/signatures/{version + 1}").status_code == 404
    assert client.get(f"/admin/editions/2570/certificate/signatures/{version}").status_code == 404


def test_the_approved_signatory_is_printed_on_the_downloaded_certificate(client) -> None:  # type: ignore[no-untyped-def]
    p = published()
    run(signatories.propose(actor=SYSTEM, year=YEAR, signature=image(), data={
        "signatory_name": NAME, "position_th": POSITION_TH, "position_en": POSITION_EN}))
    applicant_for(p["winner"], "winner@example.go.th")
    browser_login(client, "winner@example.go.th")
    pdf = client.get(f"/entries/{p['winner']}/certificate.pdf")
    assert pdf.status_code == 200
    text = subprocess.run([shutil.which("pdftotext") or "pdftotext", "-", "-"], input=pdf.content, check=True,
                          capture_output=True, timeout=60).stdout.decode()
    lines = text.splitlines()
    assert f"({NAME})" in lines and POSITION_TH in lines and POSITION_EN in lines


def test_the_signature_is_in_the_backup(db: str, tmp_path: Path) -> None:
    from contest.backup import make_backup, restore_backup

    run(make_edition(YEAR))
    png = image()
    run(signatories.propose(actor=SYSTEM, year=YEAR, signature=png, data={
        "signatory_name": NAME, "position_th": POSITION_TH, "position_en": POSITION_EN}))
    run(make_backup(tmp_path / "backup"))
    run(CertificateSignatory.delete(force=True))
    assert run(signatories.signatory_for(YEAR)) is None

    assert run(restore_backup(tmp_path / "backup")).ok
    restored = run(signatories.signatory_for(YEAR))
    assert restored is not None and restored.signature == png and restored.name == NAME
