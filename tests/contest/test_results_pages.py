"""The announcement's pages: results, showcase, open data, an organisation's own result
and certificate, and the organisers' publish page — through the real app and database."""

from __future__ import annotations

import html
import io
import re
import time
from typing import Any

import pytest

from contest.domain import announcement, outbox
from contest.i18n import format_date, t
from contest.tables import Edition, Entry, Organisation, ResultSnapshot, User
from tests.conftest import run
from tests.contest.results_world import admin_actor as _admin_actor
from tests.contest.results_world import applicant_for as _applicant_for
from tests.contest.results_world import entry_in as _entry
from tests.contest.results_world import published as _published
from tests.factories import browser_login, csrf, make_submitted_entries, make_user
from tests.judging.support import YEAR, after_announcement, signed_final

pytestmark = pytest.mark.integration

PUBLIC_PAGES = (f"/results/{YEAR}", f"/showcase/{YEAR}", f"/open-data/{YEAR}")


def th(message: str, **params: Any) -> str:
    return t(message, "th", **params)


# --- before publication and the publish page ------------------------------------------------------

def test_publish_flow_through_the_admin_page_and_nothing_public_before(client) -> None:  # type: ignore[no-untyped-def]
    s = signed_final(entries=6, shortlist_size=3)
    winner, loser = _entry("winner"), _entry("not_shortlisted")
    _applicant_for(winner["id"], "winner@example.go.th")
    _applicant_for(loser["id"], "loser@example.go.th")

    # Nothing public before publication, for the public, an admin and the organisation alike.
    for path in (*PUBLIC_PAGES, f"/showcase/{YEAR}/{winner['id']}"):
        assert client.get(path).status_code == 404, path
    browser_login(client, "winner@example.go.th")
    assert client.get(f"/entries/{winner['id']}/result").status_code == 404
    assert client.get(f"/entries/{winner['id']}/certificate.pdf").status_code == 404
    assert client.get(f"/admin/editions/{YEAR}/publish").status_code == 403  # not an organiser
    client.cookies.clear()
    browser_login(client, s.admins[0])
    for path in (*PUBLIC_PAGES, f"/showcase/{YEAR}/{winner['id']}"):
        assert client.get(path).status_code == 404, path
    archive = client.get("/results")
    assert archive.status_code == 200 and th("No results have been announced yet.") in archive.text

    # The overview links the publish page; before the announcement time it says why it cannot publish.
    assert f'href="/admin/editions/{YEAR}/publish"' in client.get("/admin").text
    page = client.get(f"/admin/editions/{YEAR}/publish")
    edition = run(Edition.select(Edition.announcement_at).first())
    assert page.status_code == 200
    assert th("The announcement time has not been reached: the results may be published from {at}.",
              at=format_date(edition["announcement_at"], language="th")) in page.text
    assert th("Publish the results now") not in page.text
    token = csrf(client)
    refused = client.post(f"/admin/editions/{YEAR}/publish", data={"_csrf": token})
    assert refused.status_code == 409
    assert th("The results may not be published before {at}.",
              at=format_date(edition["announcement_at"], language="th")) in refused.text
    assert run(ResultSnapshot.count()) == 0

    after_announcement()  # months later: the session has expired, log in again
    browser_login(client, s.admins[0])
    page = client.get(f"/admin/editions/{YEAR}/publish")
    assert th("Publish the results now") in page.text and 'name="_csrf"' in page.text
    assert client.post(f"/admin/editions/{YEAR}/publish", data={}).status_code == 403  # no CSRF token
    assert run(ResultSnapshot.count()) == 0
    resp = client.post(f"/admin/editions/{YEAR}/publish", data={"_csrf": token}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/admin/editions/{YEAR}/publish?published=1"
    sha = run(ResultSnapshot.select(ResultSnapshot.sha256).first())["sha256"]
    page = client.get(resp.headers["location"])
    assert th("The results are published.") in page.text and sha in page.text
    assert th("Result mails to applicants") in page.text
    assert th("Publish the results now") not in page.text

    # The progress polls itself while mails are pending, and stops when they are all handled.
    partial = client.get(f"/admin/editions/{YEAR}/publish/progress")
    assert partial.status_code == 200 and "<html" not in partial.text
    for _ in range(50):
        run(outbox.run_due())
        progress = run(announcement.notification_progress(YEAR))
        if progress["total"] == 2 and progress["pending"] == 0:
            break
        time.sleep(0.05)
    partial = client.get(f"/admin/editions/{YEAR}/publish/progress")
    assert "hx-trigger" not in partial.text
    assert th("Finished: {done} of {total} mails handled.", done=2, total=2) in partial.text

    again = client.post(f"/admin/editions/{YEAR}/publish", data={"_csrf": token})
    assert again.status_code == 409 and th("The results of this edition are already published.") in again.text
    for path in (*PUBLIC_PAGES, f"/showcase/{YEAR}/{winner['id']}", "/open-data"):
        assert client.get(path).status_code == 200, path
    assert 'href="/results"' in client.get("/").text


def test_publish_page_says_the_final_is_not_signed(client) -> None:  # type: ignore[no-untyped-def]
    from tests.judging.support import score_all, screening, sign_round

    s = screening(entries=4, reviewers=3, per_entry=2, shortlist_size=2)
    score_all(s.round_id, lambda e, r, c: float(e % 10))
    sign_round(s.round_id, s.admins)
    after_announcement()
    browser_login(client, s.admins[0])
    page = client.get(f"/admin/editions/{YEAR}/publish")
    message = th("The final decision has not been signed yet: {n} shortlisted entries have no final outcome.", n=2)
    assert message in page.text and 'href="/admin/judging"' in page.text
    assert th("Publish the results now") not in page.text
    resp = client.post(f"/admin/editions/{YEAR}/publish", data={"_csrf": csrf(client)})
    assert resp.status_code == 409 and run(ResultSnapshot.count()) == 0
    assert message in resp.text


def test_publish_page_says_what_publishing_announces(client) -> None:  # type: ignore[no-untyped-def]
    s = signed_final(entries=6, shortlist_size=3)
    after_announcement()
    browser_login(client, s.admins[0])
    page = client.get(f"/admin/editions/{YEAR}/publish").text
    assert th("Publishing now announces {awarded} awardees and {winners} DG Awards winners.", awarded=3,
              winners=1) in page
    no_winner = th("The signed final decision names no DG Awards winner: the results will say that no winner was "
                   "named in this edition.")
    assert no_winner not in page
    run(Entry.update({Entry.state: "finalist"}).where(Entry.state == "winner"))
    page = client.get(f"/admin/editions/{YEAR}/publish").text
    assert no_winner in page and th("Publish the results now") in page


# --- the public results page ---------------------------------------------------------------------

def test_results_page_winner_awardees_filters_and_caching(client) -> None:  # type: ignore[no-untyped-def]
    p = _published()
    url = f"/results/{YEAR}"
    resp = client.get(url)
    assert resp.status_code == 200
    html = resp.text
    assert html.count("<h1") == 1
    # The winner first and prominently, then all three awardees with organisation, province, kind, title.
    winner_block = html.split('class="winner"', 1)[1].split("</article>", 1)[0]
    assert p["winner_title"] in winner_block
    assert html.index('class="winner"') < html.index('class="awardees"')
    rows = re.findall(r'<a href="/showcase/2569/(\d+)">', html.split('class="awardees"', 1)[1])
    assert sorted(int(r) for r in rows) == sorted([p["winner"], *p["finalists"]])
    assert "สงขลา" in html and "กรุงเทพมหานคร" in html and "เทศบาลตำบล" in html
    assert p["sha"] in html
    # The fingerprint says what it is for, and has a copy button (shown by site.js).
    assert f'<code class="hash">{p["sha"]}</code> <button type="button" class="copy-button no-print" ' \
           f'data-copy="{p["sha"]}"' in html
    assert th("A fingerprint of these results exactly as they were published: if anything in them changed later, "
              "the fingerprint would change. Quote it to show which results you mean.") in html
    published_at = run(ResultSnapshot.select(ResultSnapshot.published_at).first())["published_at"]
    assert format_date(published_at, language="th") in html
    assert "contact_email" not in html and "it@example.go.th" not in html

    # Filters: a plain GET form; by province, by region.
    assert 'method="get"' in html and 'for="f-province"' in html and 'for="f-region"' in html
    south = client.get(url, params={"province": "90"}).text
    assert re.findall(r'<a href="/showcase/2569/(\d+)">', south.split('class="awardees"', 1)[1]) == [
        str(p["finalists"][1])]
    assert th("Showing {n} of {total} awardees.", n=1, total=3) in south
    central = client.get(url, params={"region": "central"}).text
    assert re.findall(r'<a href="/showcase/2569/(\d+)">', central.split('class="awardees"', 1)[1]) == [
        str(p["finalists"][0])]
    north = client.get(url, params={"region": "north"}).text  # the winner's province, 50
    assert th("Showing {n} of {total} awardees.", n=1, total=3) in north
    assert client.get(url, params={"region": "atlantis"}).status_code == 200  # ignored, not an error

    # Cacheable: public, ETag over snapshot + language + query; 304 on a match; no CSRF token inside.
    assert resp.headers["cache-control"] == "public, max-age=60"
    etag = resp.headers["etag"]
    assert etag.startswith('W/"')
    assert 'name="csrf-token" content=""' in html
    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": etag.removeprefix("W/")}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(url, params={"province": "90"}).headers["etag"] != etag
    english = client.get(url, params={"lang": "en"})
    assert english.headers["etag"] != etag and '<html lang="en">' in english.text
    assert "Results: " in english.text and "The 3 awardees of the Digital Local Government award" in english.text
    assert "DG Awards — Local Government" in english.text and "Subdistrict Municipality" in english.text
    client.cookies.clear()

    # Its speed (under 50 ms) is measured by bench/announcement, not asserted in a test.

    # A signed-in visitor's copy has their menu and CSRF token: private, and a different ETag.
    run(make_user("reviewer", email="someone@example.go.th"))
    browser_login(client, "someone@example.go.th")
    mine = client.get(url)
    assert mine.headers["cache-control"] == "private, max-age=60" and mine.headers["etag"] != etag
    assert client.get(url, headers={"If-None-Match": mine.headers["etag"]}).status_code == 304

    archive = client.get("/results").text
    for link in (f'href="/results/{YEAR}"', f'href="/showcase/{YEAR}"', f'href="/open-data/{YEAR}"'):
        assert link in archive


# --- showcase and open data ---------------------------------------------------------------------

def test_showcase_search_consent_and_open_data(client) -> None:  # type: ignore[no-untyped-def]
    p = _published()
    page = client.get(f"/showcase/{YEAR}")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    assert th("{n} of {total} innovations", n=3, total=3) in page.text
    found = client.get(f"/showcase/{YEAR}", params={"q": p["winner_title"][-7:]}).text
    assert th("{n} of {total} innovations", n=1, total=3) in found and p["winner_title"] in found
    assert th("{n} of {total} innovations", n=1, total=3) in client.get(
        f"/showcase/{YEAR}", params={"province": "90"}).text
    # The organisation that did not consent is not found by what the showcase does not show of it.
    assert th("{n} of {total} innovations", n=2, total=3) in client.get(
        f"/showcase/{YEAR}", params={"kind": "subdistrict_municipality"}).text
    assert th("{n} of {total} innovations", n=0, total=3) in client.get(
        f"/showcase/{YEAR}", params={"province": "10"}).text
    assert th("{n} of {total} innovations", n=0, total=3) in client.get(
        f"/showcase/{YEAR}", params={"q": "กรุงเทพ"}).text
    hidden_org = run(Entry.select(Entry.organisation.name_th).where(Entry.id == p["hidden"]).first())[
        "organisation.name_th"]
    assert f'href="/showcase/{YEAR}/{p["hidden"]}"' in client.get(f"/showcase/{YEAR}", params={"q": hidden_org}).text
    # Its card: organisation, title and award only; its province is not even a filter choice.
    cards = page.text.split('<li class="card">')[1:]
    hidden_card = next(c for c in cards if f'href="/showcase/{YEAR}/{p["hidden"]}"' in c)
    assert hidden_org in hidden_card and "รางวัลท้องถิ่นดิจิทัล" in hidden_card
    assert "กรุงเทพมหานคร" not in page.text and "สรุป" not in hidden_card
    shown_card = next(c for c in cards if f'href="/showcase/{YEAR}/{p["finalists"][1]}"' in c)
    assert "· สงขลา" in shown_card
    # The results page and the open data keep its province and kind.
    assert "กรุงเทพมหานคร" in client.get(f"/results/{YEAR}").text
    record = next(r for r in client.get(f"/open-data/{YEAR}/results.json").json()["records"]
                  if r["entry_id"] == p["hidden"])
    assert (record["province_name_th"], record["organisation_kind"], record["consent_publish"]) == (
        "กรุงเทพมหานคร", "subdistrict_municipality", False)
    assert th("{n} of {total} innovations", n=0, total=3) in client.get(
        f"/showcase/{YEAR}", params={"kind": "pao"}).text
    # Category: only consented entries publish theirs, so the hidden one is not found by it.
    assert th("{n} of {total} innovations", n=2, total=3) in client.get(
        f"/showcase/{YEAR}", params={"category": "service"}).text
    # Searching the description finds consented entries only.
    assert th("{n} of {total} innovations", n=2, total=3) in client.get(
        f"/showcase/{YEAR}", params={"q": "ทางแก้"}).text

    item = client.get(f"/showcase/{YEAR}/{p['winner']}")
    assert item.status_code == 200 and item.text.count("<h1") == 1
    for text in ("สรุป", "ปัญหา", "ทางแก้", "ผลลัพธ์", "LINE OA, PostgreSQL", "12,500",
                 'href="https://service.example.go.th/app"', 'href="https://video.example.org/watch?v=1"',
                 th("The problem it solves")):
        assert text in item.text, text
    assert 'href="javascript:' not in item.text

    hidden = client.get(f"/showcase/{YEAR}/{p['hidden']}")
    assert hidden.status_code == 200
    body = hidden.text.split("<main", 1)[1]
    hidden_title = run(Entry.select(Entry.title).where(Entry.id == p["hidden"]).first())["title"]
    org = run(Entry.select(Entry.organisation.name_th).where(Entry.id == p["hidden"]).first())["organisation.name_th"]
    assert hidden_title in body and org in body and "รางวัลท้องถิ่นดิจิทัล" in body
    for text in ("สรุป", "ปัญหา", "ทางแก้", "ผลลัพธ์", "กรุงเทพมหานคร", th("Summary"), th("Province")):
        assert text not in body, text
    assert th("The organisation did not consent to publish the details of this innovation: only its name, "
              "the title and the award are shown.") in body
    assert client.get(f"/showcase/{YEAR}/{p['hidden'] + 1000}").status_code == 404
    loser = _entry("not_shortlisted")["id"]
    assert client.get(f"/showcase/{YEAR}/{loser}").status_code == 404  # not awarded: not in the showcase

    for url in ("/open-data", f"/open-data/{YEAR}"):
        page = client.get(url)
        assert page.status_code == 200 and page.text.count("<h1") == 1
        assert f'href="/open-data/{YEAR}/results.csv"' in page.text
        assert f'href="/open-data/{YEAR}/results.json"' in page.text
        assert announcement.LICENCE["url"] in page.text and "CC BY 4.0" in page.text
        for column in announcement.CSV_COLUMNS:
            assert f"<code>{column}</code>" in page.text
        assert "รหัสผลงาน (คงที่ ไม่ซ้ำกันในแต่ละแถว)" in page.text
    open_data = client.get(f"/open-data/{YEAR}").text
    assert f'<code class="hash">{p["sha"]}</code> <button type="button" class="copy-button' in open_data
    assert "ลายพิมพ์ของผลการประกวดแต่ละปี" in open_data
    assert "Stable entry identifier" in client.get("/open-data", params={"lang": "en"}).text
    assert client.get("/open-data/2570").status_code == 404


# --- the organisation's own result and certificate ----------------------------------------------

def test_applicant_result_feedback_and_certificate(client) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    p = _published()
    s = p["s"]
    loser = _entry("not_shortlisted")
    _applicant_for(p["winner"], "winner@example.go.th")
    _applicant_for(p["finalists"][1], "finalist@example.go.th")
    _applicant_for(loser["id"], "loser@example.go.th")
    late = run(make_submitted_entries(YEAR, 1))[0]
    run(Entry.update({Entry.state: "ineligible", Entry.eligibility_reason: "ไม่ได้ให้บริการจริง"}).where(
        Entry.id == late))
    _applicant_for(late, "late@example.go.th")

    # Not signed in: to the log-in page.
    resp = client.get(f"/entries/{loser['id']}/result", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")

    browser_login(client, "loser@example.go.th")
    mine = client.get("/entries")
    assert f'href="/entries/{loser["id"]}/result"' in mine.text
    page = client.get(f"/entries/{loser['id']}/result")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    assert th("Your innovation was not among the awarded entries this year. Thank you for taking part.") in page.text
    assert "ความสอดคล้องระหว่างปัญหาและความต้องการของประชาชนกับโซลูชันดิจิทัล" in page.text  # a criterion, Thai
    assert th("Mean scores of the {n} committee members who reviewed the entry. Individual scores and the names of "
              "reviewers are not published.", n=2) in page.text
    assert "<li class=\"prewrap\">ดี</li>" in page.text  # the anonymous comments
    reviewers = run(User.select(User.email, User.name).where(User.role == "reviewer"))
    for r in reviewers:
        assert r["email"] not in page.text and r["name"] not in page.text
    assert "certificate.pdf" not in page.text
    assert client.get(f"/entries/{loser['id']}/certificate.pdf").status_code == 404  # not awarded
    assert client.get(f"/entries/{p['winner']}/result").status_code == 404  # someone else's
    assert client.get(f"/entries/{p['winner']}/certificate.pdf").status_code == 404
    english = client.get(f"/entries/{loser['id']}/result", params={"lang": "en"}).text
    assert "Your innovation was not among the awarded entries this year." in english
    assert "Feedback from the screening committee" in english
    client.cookies.clear()

    browser_login(client, "late@example.go.th")
    page = client.get(f"/entries/{late}/result")
    assert th("The entry was found not eligible for judging.") in page.text and "ไม่ได้ให้บริการจริง" in page.text
    client.cookies.clear()

    # The registry is re-imported after the announcement: the certificates keep the published name.
    winner_org = run(Entry.select(Entry.organisation, Entry.organisation.name_th).where(
        Entry.id == p["winner"]).first())
    org = winner_org["organisation.name_th"]
    run(Organisation.update({Organisation.name_th: "เทศบาลเมืองเปลี่ยนชื่อ"}).where(
        Organisation.id == winner_org["organisation"]))

    browser_login(client, "winner@example.go.th")
    page = client.get(f"/entries/{p['winner']}/result")
    assert th("Your innovation received the DG Awards local-government award, and the Digital Local Government "
              "award.") in page.text
    # Both certificates are listed, each with its number linking to its public verification page.
    dg_number, dlg_number = f"DLG{YEAR}-DG-{p['winner']:06d}", f"DLG{YEAR}-C-{p['winner']:06d}"
    for award, number in (("dg_awards", dg_number), ("digital_local_government", dlg_number)):
        assert f'href="/entries/{p["winner"]}/certificate.pdf?award={award}"' in page.text
        assert f'<a href="/certificates/{number}">{number}</a>' in page.text
    texts = {}
    for award in ("dg_awards", "digital_local_government"):
        pdf = client.get(f"/entries/{p['winner']}/certificate.pdf", params={"award": award})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith(
            f'attachment; filename="certificate-{YEAR}-{p["winner"]}-{award}.pdf"')
        texts[award] = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    for text in texts.values():
        assert org.replace(" ", "") in text.replace(" ", "").replace("\n", "")
        assert "เปลี่ยนชื่อ" not in text
    assert f"รางวัล DG Awards ประเภทองค์กรปกครองส่วนท้องถิ่น ประจำปี {YEAR}" in texts["dg_awards"].splitlines()
    assert dg_number in texts["dg_awards"] and f"http://testserver.local/certificates/{dg_number}" in texts["dg_awards"]
    assert f"รางวัลท้องถิ่นดิจิทัล ประจำปี {YEAR}" in texts["digital_local_government"].splitlines()
    assert "DG Awards" not in texts["digital_local_government"]
    assert f"http://testserver.local/certificates/{dlg_number}" in texts["digital_local_government"]
    default = client.get(f"/entries/{p['winner']}/certificate.pdf")  # without a choice: the highest award
    assert dg_number in PdfReader(io.BytesIO(default.content)).pages[0].extract_text()
    assert client.get(f"/entries/{p['winner']}/certificate.pdf", params={"award": "best"}).status_code == 404
    client.cookies.clear()

    browser_login(client, "finalist@example.go.th")
    page = client.get(f"/entries/{p['finalists'][1]}/result")
    assert th("Your innovation received the Digital Local Government award.") in page.text
    assert "award=dg_awards" not in page.text
    pdf = client.get(f"/entries/{p['finalists'][1]}/certificate.pdf", params={"award": "digital_local_government"})
    assert f"DLG{YEAR}-C-{p['finalists'][1]:06d}" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert client.get(f"/entries/{p['finalists'][1]}/certificate.pdf",
                      params={"award": "dg_awards"}).status_code == 404
    client.cookies.clear()

    # Organisers may read a result page, but the certificate belongs to the organisation.
    browser_login(client, s.admins[0])
    assert client.get(f"/entries/{p['winner']}/result").status_code == 200
    assert client.get(f"/entries/{p['winner']}/certificate.pdf").status_code == 404


def test_certificate_verification_page_from_the_snapshot(client) -> None:  # type: ignore[no-untyped-def]
    from contest.domain.announcement import AWARD_NAMES

    # Before publication no number verifies, not even one that will be given.
    s = signed_final(entries=6, shortlist_size=3)
    winner = _entry("winner")
    assert client.get(f"/certificates/DLG{YEAR}-DG-{winner['id']:06d}").status_code == 404
    after_announcement()
    run(announcement.publish_results(actor=_admin_actor(s.admins[0]), year=YEAR))
    finalist = _entry("finalist")
    org = run(Entry.select(Entry.organisation, Entry.organisation.name_th, Entry.organisation.province_name_th).where(
        Entry.id == winner["id"]).first())
    run(Organisation.update({Organisation.name_th: "ชื่อใหม่หลังประกาศผล"}).where(
        Organisation.id == org["organisation"]))

    for number, award in ((f"DLG{YEAR}-DG-{winner['id']:06d}", "dg_awards"),
                          (f"DLG{YEAR}-C-{winner['id']:06d}", "digital_local_government")):
        page = client.get(f"/certificates/{number}")
        assert page.status_code == 200 and page.text.count("<h1") == 1
        body = page.text.split("<main", 1)[1]
        assert th("Certificate {number}", number=number) in body
        assert org["organisation.name_th"] in body and "ชื่อใหม่หลังประกาศผล" not in body
        assert org["organisation.province_name_th"] in body and winner["title"] in body
        assert AWARD_NAMES[award][0] in body and f"รางวัลท้องถิ่นดิจิทัล {YEAR}" in body  # the edition's title
        assert run(ResultSnapshot.select(ResultSnapshot.sha256).first())["sha256"] in body
        assert page.headers["cache-control"] == "public, max-age=60"
    assert client.get(f"/certificates/dlg{YEAR}-c-{winner['id']:06d}").status_code == 200  # as typed
    english = client.get(f"/certificates/DLG{YEAR}-C-{finalist['id']:06d}", params={"lang": "en"}).text
    assert "This certificate is genuine" in english and "Digital Local Government Award" in english
    client.cookies.clear()  # back to Thai
    for unknown in (f"DLG{YEAR}-DG-{finalist['id']:06d}",  # a finalist holds no DG Awards certificate
                    f"DLG{YEAR}-C-{_entry('not_shortlisted')['id']:06d}",  # not awarded
                    f"DLG{YEAR}-C-{winner['id'] + 1000:06d}", f"DLG2570-C-{winner['id']:06d}"):
        resp = client.get(f"/certificates/{unknown}")
        assert resp.status_code == 404, unknown
        assert lookup_message(resp) == th(
            "No published results have a certificate numbered {number}. Check it against the number printed at the "
            "bottom left of the certificate; if they are the same, the certificate was not issued through this "
            "contest.", number=unknown)
        assert f'value="{unknown}"' in resp.text  # the form again, with the number to correct
    for malformed in ("DLG2569-X-000001", "not-a-number"):
        resp = client.get(f"/certificates/{malformed}")
        assert resp.status_code == 404, malformed
        assert lookup_message(resp) == th(
            "“{number}” is not a certificate number. A certificate number has the form DLG2569-C-000042 and is "
            "printed at the bottom left of the certificate.", number=malformed)
    # The API keeps answering a plain 404 with its error code.
    assert client.get("/api/v1/certificates/not-a-number").json()["code"] == "certificate_not_found"


def lookup_message(resp: Any) -> str:
    """The look-up form's error next to the number field (also in the error summary)."""
    found = re.search(r'<p class="error" id="e-number">(.*?)</p>', resp.text, re.S)
    assert found, resp.text
    return html.unescape(found.group(1))


def test_certificate_lookup_form_leads_to_the_certificate(client) -> None:  # type: ignore[no-untyped-def]
    s = signed_final(entries=6, shortlist_size=3)
    after_announcement()
    run(announcement.publish_results(actor=_admin_actor(s.admins[0]), year=YEAR))
    winner = _entry("winner")
    number = f"DLG{YEAR}-DG-{winner['id']:06d}"

    page = client.get("/certificates")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    assert th("Check a certificate") in page.text
    assert '<form method="get" action="/certificates"' in page.text and 'name="number"' in page.text
    assert 'class="error-summary"' not in page.text

    # As people type it: small letters, Thai digits, spaces and a typographic dash.
    thai_digits = number.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    for typed in (number, number.lower(), f"  {thai_digits} ", number.replace("-", " – ", 1)):
        resp = client.get("/certificates", params={"number": typed}, follow_redirects=False)
        assert resp.status_code == 303, typed
        assert resp.headers["location"] == f"/certificates/{number}"
    assert th("This certificate is genuine: it was issued for an award in the published results of {title}.",
              title=f"รางวัลท้องถิ่นดิจิทัล {YEAR}") in client.get("/certificates", params={"number": number}).text
    # A number in the address as typed leads to the printed form.
    resp = client.get(f"/certificates/{number.lower()}", follow_redirects=False)
    assert resp.status_code == 301 and resp.headers["location"] == f"/certificates/{number}"

    # Mistyped: said next to the field and in the summary, the form kept, nothing else.
    resp = client.get("/certificates", params={"number": "DLG2569-Z-12"})
    assert resp.status_code == 400
    assert lookup_message(resp) == th(
        "“{number}” is not a certificate number. A certificate number has the form DLG2569-C-000042 and is "
        "printed at the bottom left of the certificate.", number="DLG2569-Z-12")
    assert 'class="error-summary"' in resp.text and 'aria-invalid="true"' in resp.text
    assert 'value="DLG2569-Z-12"' in resp.text
    empty = client.get("/certificates", params={"number": "  "})
    assert empty.status_code == 400 and lookup_message(empty) == th("Enter the number printed on the certificate.")
    # In English too.
    english = client.get("/certificates", params={"number": "12345", "lang": "en"})
    assert lookup_message(english) == ("“12345” is not a certificate number. A certificate number has the form "
                                       "DLG2569-C-000042 and is printed at the bottom left of the certificate.")
    assert "Check a certificate" in english.text
    client.cookies.clear()
    unknown = f"DLG{YEAR}-C-{winner['id'] + 1000:06d}"
    resp = client.get("/certificates", params={"number": unknown, "lang": "en"})
    assert resp.status_code == 404
    assert lookup_message(resp).startswith(f"No published results have a certificate numbered {unknown}.")


def test_result_page_shows_each_committees_feedback(client) -> None:  # type: ignore[no-untyped-def]
    import json

    p = _published()
    _applicant_for(p["winner"], "winner@example.go.th")
    criterion = {"code": "fit", "name_th": "ความเหมาะสม", "name_en": "Fit", "max": 10}
    feedback = {
        "reviewers": 1, "criteria": [{**criterion, "mean": 7.0}], "comments": ["ความเห็นกลั่นกรอง"],
        "final": {"reviewers": 3, "criteria": [{**criterion, "mean": 8.67}], "comments": ["ความเห็นรอบสุดท้าย"],
                  "presentation": "ignored"},
    }
    run(Entry.update({Entry.feedback: json.dumps(feedback, ensure_ascii=False)}).where(Entry.id == p["winner"]))
    browser_login(client, "winner@example.go.th")
    html = client.get(f"/entries/{p['winner']}/result").text
    screening = html.split('id="feedback-screening-h"', 1)[1].split("</section>", 1)[0]
    final = html.split('id="feedback-final-h"', 1)[1].split("</section>", 1)[0]
    assert html.index('id="feedback-screening-h"') < html.index('id="feedback-final-h"')
    assert th("Feedback from the screening committee") in screening and "ความเห็นกลั่นกรอง" in screening
    # One screening reviewer: no "means" (they would be that reviewer's own scores).
    assert "7.00" not in screening and "ความเหมาะสม" not in screening
    assert th("Fewer than two committee members scored the entry, so no mean scores are shown: they would be one "
              "member's own scores.") in screening
    assert th("Feedback from the expert panel") in final and "ความเห็นรอบสุดท้าย" in final
    assert "8.67" in final and "ความเหมาะสม" in final
    assert th("Mean scores of the {n} committee members who reviewed the entry. Individual scores and the names of "
              "reviewers are not published.", n=3) in final
    api = client.get(f"/api/v1/entries/{p['winner']}/result",
                     headers={"X-CSRF-Token": "unused"}).json()
    assert api["feedback"]["criteria"] == [] and api["feedback"]["comments"] == ["ความเห็นกลั่นกรอง"]
    assert api["feedback"]["final"]["criteria"][0]["mean"] == 8.67 and "presentation" not in api["feedback"]["final"]
    assert [c["number"] for c in api["certificates"]] == [f"DLG{YEAR}-DG-{p['winner']:06d}",
                                                          f"DLG{YEAR}-C-{p['winner']:06d}"]

    # Each committee nested under its own key reads the same; no feedback at all says so.
    run(Entry.update({Entry.feedback: json.dumps({"screening": feedback["final"]})}).where(Entry.id == p["winner"]))
    html = client.get(f"/entries/{p['winner']}/result").text
    assert 'id="feedback-screening-h"' in html and 'id="feedback-final-h"' not in html and "8.67" in html
    run(Entry.update({Entry.feedback: ""}).where(Entry.id == p["winner"]))
    html = client.get(f"/entries/{p['winner']}/result").text
    assert th("There is no committee feedback for this entry: it was not scored by the screening committee.") in html


def test_public_results_page_sets_no_csrf_cookie_a_private_page_does(client) -> None:  # type: ignore[no-untyped-def]
    _published()
    client.cookies.clear()
    public = client.get(f"/results/{YEAR}?lang=en")
    assert public.status_code == 200
    assert public.headers["cache-control"].startswith("public")
    cookies = public.headers.get_list("set-cookie")
    assert not any(c.startswith("csrftoken=") for c in cookies)  # a shared cache would share it
    assert any(c.startswith("lang=en") for c in cookies)  # the language choice is still remembered
    client.cookies.clear()
    login = client.get("/login")
    assert any(c.startswith("csrftoken=") for c in login.headers.get_list("set-cookie"))
