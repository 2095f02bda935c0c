"""Numbers and web addresses as officials type them in the entry form and the API: thousands
separators, Thai digits, links without https://; what is still not a number or a link is
refused with a message in Thai (and in English for English readers), and nothing changes."""

from __future__ import annotations

import pytest

from contest.links import web_address
from contest.tables import Entry
from tests.conftest import run
from tests.factories import browser_login, csrf, login_token, make_edition, make_org, make_user


@pytest.mark.unit
@pytest.mark.parametrize(("typed", "kept"), [
    ("www.example.go.th", "https://www.example.go.th"),
    ("example.go.th/service?a=1", "https://example.go.th/service?a=1"),
    (" https://www.example.go.th/x ", "https://www.example.go.th/x"),
    ("http://old.example.go.th", "http://old.example.go.th"),
    ("HTTPS://Example.go.th/A", "https://Example.go.th/A"),
    ("//cdn.example.go.th/v.mp4", "https://cdn.example.go.th/v.mp4"),
    ("ท้องถิ่น.ไทย/บริการ", "https://ท้องถิ่น.ไทย/บริการ"),
    ("www.example.go.th:8443/app", "https://www.example.go.th:8443/app"),
])
def test_web_address_puts_https_in_front_of_a_bare_host(typed: str, kept: str) -> None:
    assert web_address(typed) == kept


@pytest.mark.unit
@pytest.mark.parametrize("typed", ["", "not a link", "localhost", "javascript:alert(1)", "mailto:it@example.go.th",
                                   "ftp://files.example.go.th", "https://", "www.example.go.th:port",
                                   "https://user:secret@example.go.th", "example..go.th", "-bad.go.th",
                                   "data:text/html,hi", "www.example.go.th/" + "a" * 500])
def test_web_address_refuses_what_is_not_one(typed: str) -> None:
    assert web_address(typed) is None


def _api_entry(client):  # type: ignore[no-untyped-def]
    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))
    headers = login_token(client, "staff@example.go.th")
    resp = client.post("/api/v1/editions/2569/entries", headers=headers, json={"title": "ร่าง"})
    assert resp.status_code == 201, resp.text
    return headers, resp.json()["id"]


@pytest.mark.integration
def test_api_takes_thai_digits_separators_and_bare_links(client) -> None:  # type: ignore[no-untyped-def]
    headers, entry_id = _api_entry(client)
    resp = client.patch(f"/api/v1/entries/{entry_id}", headers=headers, json={
        "version": "๑", "citizens_served": "๑๒,๐๐๐", "links": ["www.example.go.th/service", "http://old.example.go.th"],
        "video_url": "youtube.com/watch?v=abc"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["citizens_served"] == 12000 and body["version"] == 2
    assert body["links"] == ["https://www.example.go.th/service", "http://old.example.go.th"]
    assert body["video_url"] == "https://youtube.com/watch?v=abc"
    resp = client.patch(f"/api/v1/entries/{entry_id}", headers=headers,
                        json={"version": 2, "citizens_served": "12,000"})
    assert resp.status_code == 200 and resp.json()["citizens_served"] == 12000


@pytest.mark.integration
def test_api_refuses_what_is_still_not_a_number_or_a_link(client) -> None:  # type: ignore[no-untyped-def]
    headers, entry_id = _api_entry(client)
    bad = {"version": 1, "citizens_served": "1,2,3", "links": ["www.example.go.th", "ไม่มีลิงก์"],
           "video_url": "javascript:alert(1)"}
    resp = client.patch(f"/api/v1/entries/{entry_id}", headers=headers, json=bad)
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    assert errors["citizens_served"] == ("กรุณากรอกจำนวนคนเป็นจำนวนเต็มตั้งแต่ 0 ถึง 100,000,000 เช่น 12,000 หรือ ๑๒,๐๐๐")
    assert errors["links"].startswith("ลิงก์แต่ละรายการต้องเป็นที่อยู่เว็บ") and errors["links"].endswith(": ไม่มีลิงก์")
    assert errors["video_url"].startswith("กรุณากรอกที่อยู่เว็บ")
    english = client.patch(f"/api/v1/entries/{entry_id}", headers={**headers, "Accept-Language": "en"}, json=bad,
                           params={"lang": "en"}).json()["errors"]
    assert english["citizens_served"] == "Enter a whole number of people from 0 to 100,000,000, e.g. 12,000 or ๑๒,๐๐๐."
    assert english["links"].startswith("Each link must be a web address, e.g. www.example.go.th")
    assert english["video_url"].startswith("Enter a web address, e.g. www.example.go.th")
    for more in ("-5", "100,000,001", "12.5", "๑๒,๐๐"):
        resp = client.patch(f"/api/v1/entries/{entry_id}", headers=headers,
                            json={"version": 1, "citizens_served": more})
        assert resp.status_code == 422 and set(resp.json()["errors"]) == {"citizens_served"}, more
    row = run(Entry.select(Entry.version, Entry.citizens_served, Entry.links).where(Entry.id == entry_id).first())
    assert row["version"] == 1 and row["citizens_served"] is None


@pytest.mark.integration
def test_entry_form_takes_thai_digits_and_bare_links(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))
    browser_login(client, "staff@example.go.th")
    created = client.post("/entries", data={"_csrf": csrf(client)}, follow_redirects=False)
    entry_id = int(created.headers["location"].rsplit("/", 1)[1])
    form = client.get(f"/entries/{entry_id}").text
    assert 'name="video_url" type="text"' in form and 'inputmode="url"' in form
    resp = client.post(f"/entries/{entry_id}", follow_redirects=False, data={
        "_csrf": csrf(client), "version": "1", "title": "ระบบจองคิว", "citizens_served": "๑๒,๐๐๐",
        "links": "www.example.go.th/service\nhttps://example.go.th/dashboard", "video_url": "youtube.com/watch?v=abc"})
    assert resp.status_code == 303, resp.text
    row = run(Entry.select(Entry.citizens_served, Entry.links, Entry.video_url).where(Entry.id == entry_id).first())
    assert row["citizens_served"] == 12000 and row["video_url"] == "https://youtube.com/watch?v=abc"
    assert "https://www.example.go.th/service" in str(row["links"])
    refused = client.post(f"/entries/{entry_id}", follow_redirects=False, data={
        "_csrf": csrf(client), "version": "2", "title": "ระบบจองคิว", "citizens_served": "หลายพันคน",
        "links": "เว็บของเทศบาล"})
    assert refused.status_code == 422
    assert "กรุณากรอกจำนวนคนเป็นจำนวนเต็ม" in refused.text and "ลิงก์แต่ละรายการต้องเป็นที่อยู่เว็บ" in refused.text
    assert run(Entry.select(Entry.citizens_served).where(Entry.id == entry_id).first())["citizens_served"] == 12000


@pytest.mark.integration
def test_edition_form_takes_thai_digits_and_separators(client) -> None:  # type: ignore[no-untyped-def]
    from contest.tables import Edition
    from tests.contest.test_admin_pages import EDITION_FORM

    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")
    form = client.get("/admin/editions/new").text
    assert 'type="number"' not in form and 'inputmode="numeric"' in form
    typed = {**EDITION_FORM, "year": "๒๕๗๐", "shortlist_size": "๔๐", "max_file_mb": "1,024", "max_entry_mb": "๑,๒๐๐.๕"}
    refused = client.post("/admin/editions/new", data={**typed, "winners": "1,0", "_csrf": csrf(client)})
    assert refused.status_code == 422 and 'id="e-winners"' in refused.text
    assert "กรุณากรอกจำนวนเต็ม" in refused.text and run(Edition.count()) == 0
    resp = client.post("/admin/editions/new", data={**typed, "_csrf": csrf(client)}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/admin/editions/2570/edit"
    row = run(Edition.select().where(Edition.year == 2570).first())
    assert row["shortlist_size"] == 40 and row["max_file_bytes"] == 1024 * 1024 * 1024
    assert row["max_entry_bytes"] == int(1200.5 * 1024 * 1024)
