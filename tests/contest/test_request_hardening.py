"""What every request goes through before a route sees it: the body types a route takes, CSRF
whatever the Content-Type, body size and nesting limits, one rule for integers in paths, the
security headers of every answer, and links that stay on this site."""

from __future__ import annotations

import json

import pytest

from contest.settings import get_settings
from contest.tables import User
from contest.web import json_too_deep
from tests.conftest import run
from tests.factories import PASSWORD, browser_login, csrf, fresh_otp, login_token, make_user

pytestmark = pytest.mark.integration

FORGED_ADMIN = {"email": "forged@evil.example", "password": "a-long-password-1", "role": "admin",
                "name": "Forged"}


def _user_count() -> int:
    return run(User.count())


def _multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = "----formboundary7MA4YWxkTrZu0gW"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    return ("".join(parts) + f"--{boundary}--\r\n").encode(), f"multipart/form-data; boundary={boundary}"


def test_a_cross_site_multipart_form_cannot_act_with_a_session_cookie(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")
    before = _user_count()
    body, ctype = _multipart(FORGED_ADMIN)
    page = client.post("/admin/users", content=body, headers={"Content-Type": ctype}, follow_redirects=False)
    assert page.status_code == 415
    # JSON sent as "multipart" to the API, with only the cookie: refused before anything parses it.
    api = client.post("/api/v1/users", content=json.dumps(FORGED_ADMIN).encode(),
                      headers={"Content-Type": ctype})
    assert api.status_code == 415 and api.json()["code"] == "unsupported_media_type"
    assert "application/json" in api.headers["accept-post"]
    # A text/plain "form" (what a cross-site <form enctype="text/plain"> sends) is refused too.
    plain = client.post("/admin/users", content=b"email=forged@evil.example", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415
    # A url-encoded form without the token is the CSRF refusal, as ever.
    form = client.post("/admin/users", data=FORGED_ADMIN, follow_redirects=False)
    assert form.status_code == 403
    assert _user_count() == before


def test_the_right_body_with_its_token_still_works(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")
    token = csrf(client)
    resp = client.post("/api/v1/users", json={**FORGED_ADMIN, "email": "second@dga.or.th"},
                       headers={"X-CSRF-Token": token})
    assert resp.status_code == 202, resp.text  # an admin is proposed; a second admin approves it
    # A route that takes JSON refuses a url-encoded body, even with a valid token.
    form = client.post("/api/v1/users", data={**FORGED_ADMIN, "_csrf": token})
    assert form.status_code == 415
    # Bearer clients need no CSRF token, but still send the body type the route takes.
    client.cookies.clear()
    headers = login_token(client, "admin@example.go.th")
    body, ctype = _multipart(FORGED_ADMIN)
    assert client.post("/api/v1/users", content=body, headers={**headers, "Content-Type": ctype}).status_code == 415
    # A body without any Content-Type is not guessed at.
    assert client.post("/api/v1/auth/token", content=b'{"email": "x"}').status_code == 415


def test_form_and_json_bodies_are_bounded(client) -> None:  # type: ignore[no-untyped-def]
    token = csrf(client)
    big = "x" * (1024 * 1024 + 1)
    resp = client.post("/signup", data={"_csrf": token, "name": big}, follow_redirects=False)
    assert resp.status_code == 413
    resp = client.post("/api/v1/auth/token", content=json.dumps({"email": big, "password": "p"}).encode(),
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and resp.json()["code"] == "too_large"
    assert _user_count() == 0


def test_an_answer_before_the_body_is_read_closes_the_connection(client) -> None:  # type: ignore[no-untyped-def]
    """A client must not send its next request on a connection whose unread body the server is
    about to drop: such an answer says ``Connection: close``; one given after the body was read
    keeps the connection."""
    run(make_user("admin", email="admin@example.go.th"))
    headers = login_token(client, "admin@example.go.th")
    body, ctype = _multipart(FORGED_ADMIN)
    refused = client.post("/api/v1/users", content=body, headers={**headers, "Content-Type": ctype})
    assert refused.status_code == 415 and refused.headers.get("connection") == "close"
    read = client.post("/api/v1/users", json={**FORGED_ADMIN, "email": "second@dga.or.th"}, headers=headers)
    assert read.status_code == 202, read.text
    assert "connection" not in read.headers
    invalid = client.post("/api/v1/users", json={"email": "not-an-address"}, headers=headers)
    assert invalid.status_code in (400, 422) and "connection" not in invalid.headers
    assert "connection" not in client.get("/api/v1/editions", headers=headers).headers


def test_deeply_nested_json_is_a_clear_400(client) -> None:  # type: ignore[no-untyped-def]
    deep = b"[" * 1100 + b"]" * 1100
    resp = client.post("/api/v1/auth/token", content=deep, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_input"
    assert resp.json()["detail"] != resp.json()["detail_en"]  # Thai first
    # Brackets inside strings are text, not nesting.
    run(make_user("admin", email="admin@example.go.th"))
    resp = client.post("/api/v1/auth/token", json={"email": "admin@example.go.th", "password": PASSWORD,
                                                   "otp": fresh_otp("admin@example.go.th"), "note": "[" * 500})
    assert resp.status_code == 200


def test_json_depth_counts_only_structure() -> None:
    assert not json_too_deep(b'{"a": [1, 2, {"b": [3]}]}')
    assert json_too_deep(b'{"a":' * 40 + b"1" + b"}" * 40)
    assert not json_too_deep(b'["' + b"[{" * 100 + b'"]')
    assert not json_too_deep(b'["\\"' + b"[" * 100 + b'"]')
    assert json_too_deep(b'"unterminated' + b"[" * 100)


@pytest.mark.parametrize("segment", ["๒", "２", "+1", "1_000", " 1", "2147483648", "9223372036854775808",
                                     "99999999999999999999999", "-1"])
def test_path_integers_follow_one_rule(client, segment: str) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    headers = login_token(client, "admin@example.go.th")
    assert client.get(f"/api/v1/entries/{segment}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/editions/{segment}").status_code == 404
    assert client.get(f"/showcase/{segment}").status_code == 404


def test_an_existing_row_is_found_only_by_its_plain_number(client) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_edition

    run(make_edition(2569))
    assert client.get("/api/v1/editions/2569").status_code == 200
    for spelled in ("๒๕๖๙", "２５６９", "+2569", "2_569", "02569x"):
        assert client.get(f"/api/v1/editions/{spelled}").status_code == 404, spelled


def test_the_largest_database_integer_is_still_looked_up(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("admin", email="admin@example.go.th"))
    headers = login_token(client, "admin@example.go.th")
    resp = client.get(f"/api/v1/entries/{2**31 - 1}", headers=headers)
    assert resp.status_code == 404 and resp.json()["code"] == "entry_not_found"


def test_every_answer_carries_the_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/login", "/api/v1/editions", "/no/such/page", "/static/site.css"):
        resp = client.get(path)
        csp = resp.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "'unsafe-inline'" not in csp
        assert resp.headers["x-frame-options"] == "DENY"
        assert resp.headers["referrer-policy"] == "same-origin"
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in resp.headers


def test_pages_carry_no_inline_script(client) -> None:  # type: ignore[no-untyped-def]
    import re

    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")
    for path in ("/", "/login", "/admin", "/admin/users", "/admin/judging", "/results", "/open-data"):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "<style" not in html and "javascript:" not in html, path


def test_hsts_when_cookies_are_secure(monkeypatch, client) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from contest import settings as settings_module

    secure = dataclasses.replace(get_settings(), secure_cookies=True)
    monkeypatch.setattr(settings_module, "get_settings", lambda: secure)
    monkeypatch.setattr("contest.web.get_settings", lambda: secure)
    resp = client.get("/")
    assert resp.headers["strict-transport-security"].startswith("max-age=")


def test_error_pages_link_only_to_this_site(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("//evil.example/x", "/\\evil.example/x", "///evil.example"):
        resp = client.get(path)
        assert resp.status_code == 404
        assert 'href="//' not in resp.text and 'href="/\\' not in resp.text, path


def test_log_in_never_sends_you_to_another_site(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("applicant", email="staff@example.go.th"))
    for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/", "/\t/evil.example"):
        token = csrf(client)
        resp = client.post("/login", data={"email": "staff@example.go.th", "password": PASSWORD,
                                           "_csrf": token, "next": target}, follow_redirects=False)
        location = resp.headers["location"]
        assert resp.status_code == 303 and location.startswith("/") and "evil" not in location, target
        assert not location.startswith(("//", "/\\")), target
        client.cookies.delete("tdsid")


def test_method_not_allowed_names_the_allowed_methods(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.delete("/api/v1/editions", headers={"Authorization": "Bearer x"})
    assert resp.status_code == 405
    allowed = {m.strip() for m in resp.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed


@pytest.mark.parametrize(("path", "methods"), [("/api/v1/editions", {"GET", "POST"}),
                                               ("/api/v1/entries/1", {"GET", "PATCH"}),
                                               ("/api/v1/rounds/1", {"GET", "PATCH"})])
def test_options_lists_every_method_of_a_path(client, path: str, methods: set[str]) -> None:  # type: ignore[no-untyped-def]
    resp = client.options(path)
    assert resp.status_code == 204
    allowed = {m.strip() for m in resp.headers["allow"].split(",")}
    assert methods | {"OPTIONS"} <= allowed


def test_data_downloads_answer_errors_as_json(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/open-data/2400/results.csv", "/open-data/2400/results.json"):
        resp = client.get(path, headers={"Accept": "text/html"})
        assert resp.status_code == 404 and resp.headers["content-type"].startswith("application/json"), path
        assert resp.json()["code"]


def test_log_lines_leave_out_the_secrets_of_links() -> None:
    from contest.web import loggable_path

    assert loggable_path("/account/reset/SECRET-abc") == "/account/reset/…"
    assert loggable_path("/account/confirm/SECRET-abc") == "/account/confirm/…"
    assert loggable_path("/entries/3") == "/entries/3"
