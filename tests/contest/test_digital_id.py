"""Log-in with DGA Digital ID against a real certified OpenID provider (panva's oidc-provider,
scripts/oidc-provider, started by scripts/services.sh): sign-up, log-in, linking only after a
password log-in, and every forged or replayed answer refused with no session."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from contest.domain import identities
from contest.settings import get_settings
from contest.tables import AuditEvent, AuthToken, DigitalIdLogin, Identity, User
from tests.conftest import run
from tests.factories import PASSWORD, csrf, make_user

pytestmark = pytest.mark.integration

CALLBACK = "http://testserver.local/login/digital-id/callback"


@pytest.fixture()
def digital_id(db: str, oidc_issuer: str) -> Iterator[str]:
    """The app configured for the test provider (its client is registered there)."""
    saved = {k: os.environ.get(k) for k in ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")}
    os.environ.update(OIDC_ISSUER=oidc_issuer, OIDC_CLIENT_ID="contest-test", OIDC_CLIENT_SECRET="contest-test-secret")
    get_settings.cache_clear()
    identities.forget_provider()  # a fresh provider per test session
    yield oidc_issuer
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    get_settings.cache_clear()


@pytest.fixture()
def client(digital_id: str) -> Iterator[Any]:
    from litestar.testing import TestClient

    from contest.app import create_app

    with TestClient(app=create_app(), base_url="http://testserver.local") as c:
        yield c


def _at_provider(authorize_url: str) -> str:
    """Follow the provider's own redirects (its interaction signs the hinted person in) until it
    sends the browser back to the contest: the callback URL with code and state."""
    with httpx.Client(timeout=10) as browser:
        url = authorize_url
        for _ in range(10):
            resp = browser.get(url)
            location = resp.headers.get("location", "")
            if not location:
                raise AssertionError(f"the provider stopped at {url}: {resp.status_code} {resp.text[:300]}")
            url = httpx.URL(url).join(location).__str__()
            if url.startswith(CALLBACK):
                return url
    raise AssertionError("the provider never sent the browser back")


def _begin(client: Any, hint: str = "citizen-1", next_path: str = "") -> str:
    resp = client.get("/login/digital-id", params={"login_hint": hint, **({"next": next_path} if next_path else {})},
                      follow_redirects=False)
    assert resp.status_code == 303, resp.text
    params = parse_qs(urlparse(resp.headers["location"]).query)
    assert params["code_challenge_method"] == ["S256"] and params["nonce"] and params["state"]
    assert "tdoidc=" in resp.headers.get("set-cookie", "") and "HttpOnly" in resp.headers["set-cookie"]
    return _at_provider(resp.headers["location"])


def _back(client: Any, callback_url: str) -> Any:
    parts = urlparse(callback_url)
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def _link_token(page: str) -> str:
    import re

    match = re.search(r'name="link" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def test_a_new_person_signs_up_with_digital_id_and_later_logs_in_with_it(client) -> None:  # type: ignore[no-untyped-def]
    assert "/login/digital-id" in client.get("/login").text  # the button
    choice = _back(client, _begin(client))
    assert choice.status_code == 200 and "citizen-1@digital-id.test" in choice.text
    resp = client.post("/login/digital-id/new", data={"link": _link_token(choice.text), "_csrf": csrf(client)},
                       follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/account/membership"
    user = run(User.select().where(User.email == "citizen-1@digital-id.test").first())
    assert user["role"] == "applicant" and user["name"] == "สมชาย ใจดี" and user["organisation"] is None
    identity = run(Identity.select().first())
    assert identity["subject"] == "citizen-1" and identity["user"] == user["id"]
    # The citizen ID the provider sent is stored nowhere.
    for table in (User, Identity, DigitalIdLogin, AuditEvent):
        assert "1100700000001" not in json.dumps(run(table.select()), default=str)
    # Next time Digital ID alone signs in.
    client.cookies.clear()
    again = _back(client, _begin(client, next_path="/account"))
    assert again.status_code == 303 and again.headers["location"] == "/account"
    assert client.get("/account").status_code == 200
    assert run(User.count()) == 1


def test_an_identity_is_linked_only_after_the_accounts_own_password_log_in(client) -> None:  # type: ignore[no-untyped-def]
    # An account whose email matches what the provider says: not linked by that alone.
    run(make_user("applicant", email="citizen-2@digital-id.test"))
    choice = _back(client, _begin(client, hint="citizen-2"))
    assert choice.status_code == 200
    link = _link_token(choice.text)
    refused = client.post("/login/digital-id/new", data={"link": link, "_csrf": csrf(client)})
    assert refused.status_code == 400 and run(Identity.count()) == 0
    wrong = client.post("/login", data={"email": "citizen-2@digital-id.test", "password": "wrong-password!",
                                        "link": link, "_csrf": csrf(client)}, follow_redirects=False)
    assert wrong.status_code == 401 and run(Identity.count()) == 0
    ok = client.post("/login", data={"email": "citizen-2@digital-id.test", "password": PASSWORD, "link": link,
                                     "_csrf": csrf(client)}, follow_redirects=False)
    assert ok.status_code == 303
    assert run(Identity.select(Identity.subject).first())["subject"] == "citizen-2"
    assert run(AuditEvent.exists().where(AuditEvent.action == "user.digital_id_link"))


def test_a_copied_link_token_is_worthless_in_another_browser(client) -> None:  # type: ignore[no-untyped-def]
    """Someone who got the hidden link token cannot tie the identity to their own account: the
    token works only in the browser that came back from the provider."""
    run(make_user("applicant", email="attacker@example.go.th"))
    choice = _back(client, _begin(client, hint="citizen-2"))
    link = _link_token(choice.text)
    client.cookies.clear()  # another browser, with only the copied token
    stolen = client.post("/login", data={"email": "attacker@example.go.th", "password": PASSWORD, "link": link,
                                         "_csrf": csrf(client)}, follow_redirects=False)
    assert stolen.status_code == 400 and run(Identity.count()) == 0
    made = client.post("/login/digital-id/new", data={"link": link, "_csrf": csrf(client)})
    assert made.status_code == 400 and not run(User.exists().where(User.email == "citizen-2@digital-id.test"))


def _sessions() -> int:
    return run(AuthToken.count())


def test_a_wrong_state_is_refused_with_no_session(client) -> None:  # type: ignore[no-untyped-def]
    url = _begin(client)
    forged = url.replace("state=", "state=forged")
    resp = _back(client, forged)
    assert resp.status_code == 400 and "เริ่มใหม่" in resp.text and _sessions() == 0
    # Without the browser's cookie (another browser) the true state is refused too.
    client.cookies.clear()
    assert _back(client, url).status_code == 400 and _sessions() == 0


def test_a_replayed_code_is_refused_with_no_session(client) -> None:  # type: ignore[no-untyped-def]
    run(make_user("applicant", email="x@example.go.th"))
    url = _begin(client)
    first = _back(client, url)
    assert first.status_code == 200
    replay = _back(client, url)  # the same answer again
    assert replay.status_code == 400 and _sessions() == 0
    # And the provider itself refuses a code used once, even with a fresh state of ours.
    code = parse_qs(urlparse(url).query)["code"][0]
    second = _begin(client)
    stolen = second.replace(parse_qs(urlparse(second).query)["code"][0], code)
    resp = _back(client, stolen)
    assert resp.status_code == 400 and _sessions() == 0


def test_a_wrong_nonce_is_refused_with_no_session(client) -> None:  # type: ignore[no-untyped-def]
    url = _begin(client)
    run(DigitalIdLogin.update({DigitalIdLogin.nonce: "not-the-nonce-that-was-sent"}, force=True))
    resp = _back(client, url)
    assert resp.status_code == 400 and "ไม่ตรงกับการเข้าสู่ระบบครั้งนี้" in resp.text
    assert _sessions() == 0 and run(Identity.count()) == 0


def test_a_tampered_id_token_fails_the_signature_check(client, digital_id: str) -> None:  # type: ignore[no-untyped-def]
    """The provider's real ID token, verified by the real library: unchanged it passes; with one
    claim changed (the subject) or its signature cut, it is refused."""
    url = _begin(client)
    row = run(DigitalIdLogin.select().first())
    code = parse_qs(urlparse(url).query)["code"][0]
    resp = httpx.post(f"{digital_id}/token", auth=("contest-test", "contest-test-secret"), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
        "code_verifier": row["verifier"]})
    token = resp.json()["id_token"]
    claims = run(identities.verify_id_token(token, nonce=row["nonce"]))
    assert claims["sub"] == "citizen-1"
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["sub"] = "someone-else"
    forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode(), signature])
    for bad in (forged, f"{header}.{payload}.", token[:-4] + "AAAA"):
        with pytest.raises(identities.DigitalIdFailed) as exc:
            run(identities.verify_id_token(bad, nonce=row["nonce"]))
        assert exc.value.code == "digital_id_token"
    with pytest.raises(identities.DigitalIdFailed) as exc:
        run(identities.verify_id_token(token, nonce="another"))
    assert exc.value.code == "digital_id_nonce"


def test_a_refusal_at_the_provider_signs_nobody_in(client) -> None:  # type: ignore[no-untyped-def]
    _begin(client)
    cookie_state = client.cookies.get("tdoidc")
    resp = client.get(f"/login/digital-id/callback?error=access_denied&state={cookie_state}", follow_redirects=False)
    assert resp.status_code == 400 and _sessions() == 0


def test_without_settings_there_is_no_digital_id(db: str) -> None:
    from litestar.testing import TestClient

    from contest.app import create_app

    get_settings.cache_clear()
    with TestClient(app=create_app(), base_url="http://testserver.local") as plain:
        assert "/login/digital-id" not in plain.get("/login").text
        assert plain.get("/login/digital-id", follow_redirects=False).status_code == 404


def test_linking_an_account_with_two_factor_needs_its_code_too(client) -> None:  # type: ignore[no-untyped-def]
    import re

    from tests.factories import fresh_otp

    run(make_user("reviewer", email="citizen-2@digital-id.test"))
    link = _link_token(_back(client, _begin(client, hint="citizen-2")).text)
    step = client.post("/login", data={"email": "citizen-2@digital-id.test", "password": PASSWORD, "link": link,
                                       "_csrf": csrf(client)})
    challenge = re.search(r'name="challenge" value="([^"]+)"', step.text)
    assert step.status_code == 200 and challenge and f'name="link" value="{link}"' in step.text
    assert run(Identity.count()) == 0 and _sessions() == 0  # the password alone links nothing
    wrong = client.post("/login/otp", data={"challenge": challenge.group(1), "otp": "000000", "link": link,
                                            "_csrf": csrf(client)})
    assert wrong.status_code == 401 and run(Identity.count()) == 0 and _sessions() == 0
    ok = client.post("/login/otp", data={"challenge": challenge.group(1), "link": link, "_csrf": csrf(client),
                                         "otp": fresh_otp("citizen-2@digital-id.test") or ""},
                     follow_redirects=False)
    assert ok.status_code == 303 and _sessions() == 1
    assert run(Identity.select(Identity.subject).first())["subject"] == "citizen-2"


def test_digital_id_log_ins_and_refusals_are_audited(client) -> None:  # type: ignore[no-untyped-def]
    choice = _back(client, _begin(client))
    client.post("/login/digital-id/new", data={"link": _link_token(choice.text), "_csrf": csrf(client)})
    client.cookies.clear()
    assert _back(client, _begin(client)).status_code == 303
    login = run(AuditEvent.select().where(AuditEvent.action == "user.digital_id_login").first())
    assert login["actor_email"] == "citizen-1@digital-id.test"
    # A refused answer to a sign-in this browser started is on the record too, and signs nobody in.
    client.cookies.clear()
    sessions = _sessions()
    url = _begin(client)
    run(DigitalIdLogin.update({DigitalIdLogin.nonce: "not-the-nonce-that-was-sent"}, force=True).where(
        DigitalIdLogin.used_at.is_null()))
    assert _back(client, url).status_code == 400 and _sessions() == sessions
    refused = run(AuditEvent.select().where(AuditEvent.action == "user.digital_id_refused").first())
    assert json.loads(refused["after"]) == {"reason": "digital_id_nonce"}


def test_a_tampered_id_token_from_the_token_endpoint_is_refused_at_the_callback(client, digital_id) -> None:  # type: ignore[no-untyped-def]
    url = _begin(client)
    httpx.post(f"{digital_id}/test/tamper", timeout=10).raise_for_status()  # the next ID token is spoilt
    resp = _back(client, url)
    assert resp.status_code == 400 and _sessions() == 0 and run(Identity.count()) == 0 and run(User.count()) == 0
    assert "tdsid" not in resp.cookies
    refused = run(AuditEvent.select().where(AuditEvent.action == "user.digital_id_refused").first())
    assert json.loads(refused["after"]) == {"reason": "digital_id_token"}
