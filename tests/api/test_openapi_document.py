"""What the OpenAPI document says that a generated request cannot show by itself: the one error
body, the bearer scheme, the upload's multipart body, real media types, headers and links; and
the answers it describes (an object for ``check_details``, one charset on a CSV)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import run
from tests.factories import login_token, make_edition, make_user

pytestmark = pytest.mark.integration


def _doc(client: Any) -> dict[str, Any]:
    resp = client.get("/schema/openapi.json")
    assert resp.status_code == 200
    return resp.json()  # type: ignore[no-any-return]


def test_errors_share_the_real_error_body_and_tokens_are_a_security_scheme(client) -> None:  # type: ignore[no-untyped-def]
    doc = _doc(client)
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"status_code", "detail", "detail_en", "code"}
    assert "errors" in error["properties"] and "extra" not in error["properties"]
    bearer = doc["components"]["securitySchemes"]["bearer"]
    assert bearer["type"] == "http" and bearer["scheme"] == "bearer"
    patch = doc["paths"]["/api/v1/entries/{entry_id}"]["patch"]
    assert patch["security"] == [{"bearer": []}]
    assert set(patch["responses"]) == {"200", "400", "401", "403", "404", "409", "413", "415", "422"}
    for status in ("400", "401", "403", "404", "409", "422"):
        assert patch["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"}
    assert doc["paths"]["/api/v1/editions"]["get"]["security"] == [{}, {"bearer": []}]
    assert "security" not in doc["paths"]["/api/v1/auth/token"]["post"] or \
        doc["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    # A path parameter that is not a number is a 404: no framework 400 where nothing else can be wrong.
    assert set(doc["paths"]["/api/v1/entries/{entry_id}"]["get"]["responses"]) == {"200", "401", "404"}
    # No operation is left with the framework's own error body.
    assert '"extra"' not in str(doc).replace("'", '"')


def test_bodies_media_types_headers_and_links_are_described(client) -> None:  # type: ignore[no-untyped-def]
    doc = _doc(client)
    paths = doc["paths"]
    create = paths["/api/v1/editions/{year}/entries"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert {"title", "category", "citizens_served", "links", "consent_publish"} <= set(body["properties"])
    assert create["responses"]["201"]["links"]["getEntry"] == {
        "operationId": "getEntry", "parameters": {"entry_id": "$response.body#/id"}}
    update = paths["/api/v1/entries/{entry_id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert "version" in update["required"]
    assert paths["/api/v1/editions/{year}"]["patch"]["requestBody"]["content"]["application/json"]["schema"][
        "properties"]["state"]
    assert paths["/api/v1/editions/{year}/extensions"]["post"]["requestBody"]["content"]["application/json"][
        "schema"]["required"] == ["organisation_code", "until", "reason"]
    assert paths["/api/v1/editions/{year}/rounds"]["post"]["responses"]["201"]["links"]["openRound"][
        "parameters"] == {"round_id": "$response.body#/id"}

    upload = paths["/api/v1/entries/{entry_id}/attachments"]["post"]
    multipart = upload["requestBody"]["content"]["multipart/form-data"]
    assert multipart["schema"]["required"] == ["file"]
    assert multipart["schema"]["properties"]["file"]["format"] == "binary"
    assert "application/pdf" in multipart["encoding"]["file"]["contentType"]
    assert {"413", "415", "422"} <= set(upload["responses"])

    download = paths["/api/v1/attachments/{attachment_id}/content"]["get"]
    assert "application/pdf" in download["responses"]["200"]["content"]
    assert "application/json" not in download["responses"]["200"]["content"]
    assert {"206", "416"} <= set(download["responses"])
    assert "Content-Range" in download["responses"]["206"]["headers"]
    assert any(p["name"] == "Range" and p["in"] == "header" for p in download["parameters"])
    assert list(paths["/api/v1/rounds/{round_id}/ranking.csv"]["get"]["responses"]["200"]["content"]) == [
        "text/csv; charset=utf-8"]
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in paths[
        "/api/v1/rounds/{round_id}/ranking.xlsx"]["get"]["responses"]["200"]["content"]

    listing = paths["/api/v1/entries"]["get"]
    assert {"X-Total-Count", "Link"} <= set(listing["responses"]["200"]["headers"])
    year = next(p for p in listing["parameters"] if p["name"] == "year")
    assert year["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    assert any(p["name"] == "lang" for p in listing["parameters"])
    for served in ("/api/v1/entries/{entry_id}/certificate.pdf", "/api/v1/certificates/{number}",
                   "/api/v1/receipts/{number}"):
        assert "get" in paths[served], served


def test_upload_answers_check_details_as_an_object(client) -> None:  # type: ignore[no-untyped-def]
    from uploads.testing import make_pdf

    run(make_edition(2569))
    run(make_user("applicant", email="doc@schema.go.th"))
    headers = login_token(client, "doc@schema.go.th")
    entry = client.post("/api/v1/editions/2569/entries", headers=headers, json={"title": "ทดสอบ"}).json()
    resp = client.post(f"/api/v1/entries/{entry['id']}/attachments", headers=headers,
                       files={"file": ("report.pdf", make_pdf(), "application/pdf")})
    assert resp.status_code == 201, resp.text
    assert isinstance(resp.json()["check_details"], dict)



def test_csv_downloads_carry_one_charset(client) -> None:  # type: ignore[no-untyped-def]
    from tests.judging.support import screening

    world = screening(entries=4, reviewers=3, per_entry=2)
    admin = login_token(client, world.admins[0])
    csv = client.get(f"/api/v1/rounds/{world.round_id}/ranking.csv", headers=admin)
    assert csv.status_code == 200 and csv.headers["content-type"] == "text/csv; charset=utf-8"


def test_query_and_body_integers_are_bounded_with_a_422_naming_the_field(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(2569))
    run(make_user("admin", email="bounds@schema.go.th"))
    admin = login_token(client, "bounds@schema.go.th")
    for path, params in (("/api/v1/entries", {"year": 2**63}), ("/api/v1/entries", {"page": 2**64}),
                         ("/api/v1/organisations", {"per_page": 101}), ("/api/v1/users", {"page": "-1"})):
        resp = client.get(path, headers=admin, params=params)
        assert resp.status_code == 422 and list(resp.json()["errors"]) == list(params), (path, resp.text)
    resp = client.post("/api/v1/editions/2569/eligibility", headers=admin,
                       json={"entry_ids": [2**63], "eligible": True})
    assert resp.status_code == 422 and list(resp.json()["errors"]) == ["entry_ids"], resp.text
    assert client.get("/api/v1/entries", headers=admin, params={"year": 2569}).status_code == 200
