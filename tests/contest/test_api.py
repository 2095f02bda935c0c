"""The JSON API v1 foundation routes: tokens, registry, editions, users (shared/API.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contest import clock
from contest.tables import AuditEvent, Edition, User
from tests.conftest import run
from tests.factories import PASSWORD, edition_data, fresh_otp, iso, login_token, make_org, make_user

pytestmark = pytest.mark.integration


def test_token_exchange_and_bearer_auth(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    resp = client.post("/api/v1/auth/token", json={"email": "admin@example.go.th", "password": PASSWORD,
                                                   "otp": fresh_otp("admin@example.go.th")})
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) >= {"token", "expires_at"}
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/users", headers=headers).status_code == 200


def test_token_wrong_password_is_401_with_thai_message(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    resp = client.post("/api/v1/auth/token", json={"email": "admin@example.go.th", "password": "nope-nope-nope"})
    assert resp.status_code == 401
    body = resp.json()
    assert body["code"] == "invalid_credentials"
    assert body["status_code"] == 401
    unknown = client.post("/api/v1/auth/token", json={"email": "ghost@example.go.th", "password": "nope-nope-nope"})
    assert unknown.json()["detail"] == body["detail"]
    english = client.post("/api/v1/auth/token", json={"email": "ghost@example.go.th", "password": "x"},
                          headers={"Accept-Language": "en"})
    assert english.json()["detail"] == "Incorrect email or password."


def test_revoked_token_stops_working(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    headers = login_token(client, "admin@example.go.th")
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    resp = client.get("/api/v1/users", headers=headers)
    assert resp.status_code == 401
    assert resp.json()["code"] == "invalid_token"


def test_expired_token_is_401(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    headers = login_token(client, "admin@example.go.th")
    clock.freeze(clock.now() + timedelta(hours=2001))
    assert client.get("/api/v1/users", headers=headers).status_code == 401


def test_no_token_is_401_and_applicant_on_admin_route_is_403(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("applicant", email="s@example.go.th"))
    assert client.get("/api/v1/users").status_code == 401
    headers = login_token(client, "s@example.go.th")
    resp = client.get("/api/v1/users", headers=headers)
    assert resp.status_code == 403
    assert resp.json()["code"] == "admin_only"
    resp = client.post("/api/v1/editions", headers=headers, json={
        k: (iso(v) if hasattr(v, "isoformat") else v) for k, v in edition_data().items()})
    assert resp.status_code == 403
    assert run(Edition.count()) == 0


def test_bearer_requests_need_no_csrf_but_cookie_requests_do(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    payload = {k: (iso(v) if hasattr(v, "isoformat") else v) for k, v in edition_data().items()}
    headers = login_token(client, "admin@example.go.th")
    assert client.post("/api/v1/editions", headers=headers, json=payload).status_code == 201
    # A logged-in browser session without the CSRF header is refused.
    from tests.factories import browser_login
    browser_login(client, "admin@example.go.th")
    payload["year"] = 2570
    resp = client.post("/api/v1/editions", json=payload)
    assert resp.status_code == 403 and resp.json()["code"] == "csrf_failed"


def test_organisation_search_thai_text_province_kind(client) -> None:  # type: ignore[no-untyped-def]
    run(make_org("5500101", name_th="องค์การบริหารส่วนตำบลแม่แรม"))
    run(make_org("4500102", name_th="เทศบาลตำบลแม่ริม", kind="subdistrict_municipality"))
    run(make_org("5900101", name_th="องค์การบริหารส่วนตำบลแม่แรม", province_code="57", province_name_th="เชียงราย"))
    resp = client.get("/api/v1/organisations", params={"q": "แม่แรม"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["total"] == 2 and body["page"] == 1
    item = body["items"][0]
    assert set(item) >= {"code", "name_th", "name_en", "kind", "province_code", "province_name_th", "district_name_th"}
    assert client.get("/api/v1/organisations", params={"q": "แม่แรม", "province": "57"}).json()["total"] == 1
    assert client.get("/api/v1/organisations", params={"kind": "subdistrict_municipality"}).json()["total"] == 1
    # Spaces typed between Thai words do not matter.
    assert client.get("/api/v1/organisations", params={"q": "แม่ แรม"}).json()["total"] == 2
    # LIKE's wildcards typed into the search are characters, not "anything".
    for wildcard in ("%", "_", "แม่%แรม", "\\"):
        assert client.get("/api/v1/organisations", params={"q": wildcard}).json()["total"] == 0, wildcard
    paged = client.get("/api/v1/organisations", params={"per_page": 1, "page": 2}).json()
    assert paged["per_page"] == 1 and paged["page"] == 2 and len(paged["items"]) == 1 and paged["total"] == 3


def _edition_payload(**overrides):  # type: ignore[no-untyped-def]
    data = edition_data(**overrides)
    return {k: (iso(v) if hasattr(v, "isoformat") else v) for k, v in data.items()}


def test_admin_creates_and_reads_edition(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    headers = login_token(client, "admin@example.go.th")
    payload = _edition_payload(categories=[{"code": "health", "name_th": "สาธารณสุข", "name_en": "Health"}])
    resp = client.post("/api/v1/editions", headers=headers, json=payload)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["year"] == 2569 and body["state"] == "open" and body["shortlist_size"] == 40 and body["winners"] == 1
    assert body["categories"] == [{"code": "health", "name_th": "สาธารณสุข", "name_en": "Health"}]
    assert body["entries_per_organisation"] == 1
    assert body["max_file_bytes"] == 100 * 1024 * 1024
    listed = client.get("/api/v1/editions").json()
    assert [e["year"] for e in listed] == [2569]
    assert client.get("/api/v1/editions/2569").json()["title"] == payload["title"]
    assert client.get("/api/v1/editions/2400").status_code == 404
    actions = [r["action"] for r in run(AuditEvent.select(AuditEvent.action))]
    assert "edition.create" in actions


def test_edition_duplicate_year_and_bad_timeline(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    headers = login_token(client, "admin@example.go.th")
    assert client.post("/api/v1/editions", headers=headers, json=_edition_payload()).status_code == 201
    dup = client.post("/api/v1/editions", headers=headers, json=_edition_payload())
    assert dup.status_code == 409 and dup.json()["code"] == "edition_exists"
    now = clock.now()
    bad = client.post("/api/v1/editions", headers=headers, json=_edition_payload(
        year=2570, submission_opens_at=now, submission_closes_at=now - timedelta(days=1)))
    assert bad.status_code == 422
    assert "submission_closes_at" in bad.json()["errors"]
    assert run(Edition.count()) == 1


def test_edition_patch_and_freeze_after_screening(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    headers = login_token(client, "admin@example.go.th")
    client.post("/api/v1/editions", headers=headers, json=_edition_payload())
    resp = client.patch("/api/v1/editions/2569", headers=headers, json={"shortlist_size": 30, "title": "ใหม่"})
    assert resp.status_code == 200 and resp.json()["shortlist_size"] == 30 and resp.json()["title"] == "ใหม่"
    run(Edition.update({Edition.state: "screening"}).where(Edition.year == 2569))
    frozen = client.patch("/api/v1/editions/2569", headers=headers, json={"shortlist_size": 50})
    assert frozen.status_code == 409 and frozen.json()["code"] == "frozen"
    later = clock.now() + timedelta(days=100)
    moved = client.patch("/api/v1/editions/2569", headers=headers, json={"announcement_at": iso(later)})
    # After screening opened a new announcement time waits for a second administrator.
    assert moved.status_code == 202 and moved.json()["code"] == "pending_approval"
    assert run(Edition.select(Edition.shortlist_size).first())["shortlist_size"] == 30


def test_edition_deadline_cannot_move_later_once_eligibility_is_decided(client) -> None:  # type: ignore[no-untyped-def]
    from contest.tables import Entry
    from tests.factories import make_submitted_entries

    run(make_user("admin", email="admin@example.go.th"))
    headers = login_token(client, "admin@example.go.th")
    client.post("/api/v1/editions", headers=headers, json=_edition_payload())
    [entry_id, _] = run(make_submitted_entries(2569, 2))
    later = run(Edition.select(Edition.submission_closes_at).first())["submission_closes_at"] + timedelta(days=2)
    run(Entry.update({Entry.state: "eligible"}).where(Entry.id == entry_id))
    refused = client.patch("/api/v1/editions/2569", headers=headers, json={"submission_closes_at": iso(later)})
    assert refused.status_code == 409 and refused.json()["code"] == "eligibility_decided", refused.text
    assert "1" in refused.json()["detail"]
    run(Entry.update({Entry.state: "submitted"}).where(Entry.id == entry_id))
    moved = client.patch("/api/v1/editions/2569", headers=headers, json={"submission_closes_at": iso(later)})
    assert moved.status_code == 200, moved.text


def test_admin_lists_and_creates_users(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    run(make_user("reviewer", email="r1@example.go.th"))
    headers = login_token(client, "admin@example.go.th")
    created = client.post("/api/v1/users", headers=headers, json={
        "email": "panel@example.go.th", "password": PASSWORD, "role": "reviewer", "name": "ผู้ทรงคุณวุฒิ"})
    assert created.status_code == 201, created.text
    reviewers = client.get("/api/v1/users", headers=headers, params={"role": "reviewer"}).json()
    assert sorted(u["email"] for u in reviewers) == ["panel@example.go.th", "r1@example.go.th"]
    assert set(reviewers[0]) >= {"id", "email", "name", "role", "organisation_code"}
    dup = client.post("/api/v1/users", headers=headers, json={
        "email": "PANEL@example.go.th", "password": PASSWORD, "role": "reviewer"})
    assert dup.status_code == 409
    assert run(User.count()) == 3
    # The search takes % and _ as characters; upper and lower case are the same.
    def search(q: str) -> list[str]:
        return sorted(u["email"] for u in client.get("/api/v1/users", headers=headers, params={"q": q}).json())
    assert search("%") == [] and search("_") == [] and search("r_@") == []
    assert search("PANEL") == ["panel@example.go.th"] and search("ผู้ทรง") == ["panel@example.go.th"]


def test_malformed_json_is_400_with_code(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/auth/token", content=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid_input"


def test_openapi_lists_the_routes(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/organisations", "/api/v1/editions", "/api/v1/editions/{year}",
                 "/api/v1/users"):
        assert path in paths
