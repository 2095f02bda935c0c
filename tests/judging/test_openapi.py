"""The judging routes describe their request bodies in the OpenAPI document, while the JSON they
accept and their error answers stay as they were (the domain's 422 with the field)."""

from __future__ import annotations

import pytest

from tests.conftest import run
from tests.factories import login_token, make_edition, make_user
from tests.judging.support import YEAR

pytestmark = pytest.mark.integration


def _body(doc: dict, path: str, method: str) -> dict:  # type: ignore[type-arg]
    return doc["paths"][path][method]["requestBody"]


def test_judging_request_bodies_are_in_the_openapi_document(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/schema/openapi.json")
    assert resp.status_code == 200
    doc = resp.json()
    create = _body(doc, "/api/v1/editions/{year}/rounds", "post")
    schema = create["content"]["application/json"]["schema"]
    assert create["required"] is True and schema["type"] == "object" and schema["required"] == ["kind"]
    assert sorted(schema["properties"]["kind"]["enum"]) == ["final", "screening"]
    assert sorted(schema["properties"]["normalisation"]["enum"]) == ["none", "zscore"]
    criterion = schema["properties"]["criteria"]["anyOf"][0]["items"]
    assert {"code", "name_th", "name_en", "weight", "min", "max"} <= set(criterion["properties"])
    assert criterion["required"] == ["code", "name_th"]
    assert "$ref" not in str(schema) and "$defs" not in str(schema)

    scores = _body(doc, "/api/v1/assignments/{assignment_id}/scores", "put")["content"]["application/json"]["schema"]
    assert set(scores["properties"]) == {"scores", "comment", "version"}
    members = _body(doc, "/api/v1/rounds/{round_id}/members", "post")["content"]["application/json"]["schema"]
    assert set(members["properties"]) == {"user_ids", "emails", "provinces", "conflicts"}
    assert members["properties"]["conflicts"]["items"]["required"] == ["email", "organisation_code"]
    decide = _body(doc, "/api/v1/rounds/{round_id}/decide", "post")
    assert decide["required"] is False
    override = decide["content"]["application/json"]["schema"]["properties"]["overrides"]["items"]
    assert override["required"] == ["entry_id", "outcome", "reason"]
    reopen = _body(doc, "/api/v1/assignments/{assignment_id}/reopen", "post")["content"]["application/json"]
    assert reopen["schema"]["required"] == ["reason"]
    for path, method in (("/api/v1/entries/{entry_id}/eligibility", "post"),
                         ("/api/v1/editions/{year}/eligibility", "post"), ("/api/v1/rounds/{round_id}", "patch"),
                         ("/api/v1/rounds/{round_id}/ties", "post"), ("/api/v1/rounds/{round_id}/sign", "post"),
                         ("/api/v1/rounds/{round_id}/presentations/{entry_id}", "put"),
                         ("/api/v1/assignments/{assignment_id}/recuse", "post")):
        assert _body(doc, path, method)["content"]["application/json"]["schema"]["properties"], path


def test_documented_bodies_keep_the_domains_own_errors(client) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(YEAR))
    run(make_user("admin", email="schema@dga.or.th"))
    headers = login_token(client, "schema@dga.or.th")
    # A value the schema would not allow still reaches the domain, which answers with its field.
    resp = client.post(f"/api/v1/editions/{YEAR}/rounds", headers=headers,
                       json={"kind": "screening", "reviewers_per_entry": "three", "extra": 1})
    assert resp.status_code == 422 and set(resp.json()["errors"]) == {"reviewers_per_entry"}
    # Not an object at all: the framework's 400, as before.
    resp = client.post(f"/api/v1/editions/{YEAR}/rounds", headers=headers, json=["screening"])
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_input"
    assert client.post(f"/api/v1/editions/{YEAR}/rounds", headers=headers, json={"kind": "final"}).status_code == 201


def test_judging_answers_are_typed_in_the_openapi_document(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/schema/openapi.json").json()["paths"]
    decision = paths["/api/v1/rounds/{round_id}/decide"]["post"]["responses"]["200"]["content"]["application/json"]
    assert {"decision_hash", "outcomes", "signatures", "final"} <= set(decision["schema"]["properties"])
    members = paths["/api/v1/rounds/{round_id}/members"]["get"]["responses"]["200"]["content"]["application/json"]
    assert members["schema"]["items"]["required"] == ["user_id", "email", "name", "province_code", "conflicts"]
    for path, method in (("/api/v1/rounds/{round_id}/ranking", "get"), ("/api/v1/rounds/{round_id}/open", "post")):
        assert {"401", "403", "404", "409"} <= set(paths[path][method]["responses"]), path
    assert paths["/api/v1/rounds/{round_id}/ranking"]["get"]["security"] == [{"bearer": []}]
