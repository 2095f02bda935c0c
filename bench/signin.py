"""Signing in from the benchmarks as a browser does: the log-in form, then, for accounts with
two-factor sign-in (the admins and committee members the benchmarks create), the code."""

from __future__ import annotations

import re
import time

import httpx

from contest.domain import twofactor

#: The key the benchmarks enrol their admins and committee members with.
BENCH_TOTP_SECRET = "BENCHBENCHBENCHBENCHBENCHBENCHBE"


async def accept_privacy_notice() -> None:
    """Every account the benchmark made accepts the privacy notice in force, as a real person
    does before anything else (else pages lead to the notice and the API answers 403)."""
    from contest.db import atomic
    from contest.domain import notices
    from contest.tables import User

    async with atomic():
        for user in await User.select(User.id):
            await notices.accept_current(user["id"], "demo")


def sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    """Post the log-in form (and the second step when asked); the last response."""
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text)
    csrf = token.group(1) if token else ""
    resp = client.post("/login", data={"email": email, "password": password, "_csrf": csrf})
    challenge = re.search(r'name="challenge" value="([^"]+)"', resp.text) if resp.status_code == 200 else None
    if challenge is None:
        return resp
    step = int(time.time()) // twofactor.STEP_SECONDS
    # A code works once: a second sign-in of the same person within 30 seconds takes the next step's.
    for offset in range(twofactor.DRIFT_STEPS + 1):
        resp = client.post("/login/otp", data={"challenge": challenge.group(1), "_csrf": csrf,
                                               "otp": twofactor.code_at(BENCH_TOTP_SECRET, step + offset)})
        if resp.status_code == 303:
            break
    return resp
