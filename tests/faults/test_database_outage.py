"""PostgreSQL stopped under a running server: every answer that needs it is 503 with
Retry-After (JSON for programs, the Thai page for browsers), /readyz says the database is down
while /healthz stays up, and once PostgreSQL is back the same requests succeed with no restart."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import contest_command
from tests.faults.support import PostgresCluster, Server, app_env, get_json, wait_until

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                 reason="runs once, in the PostgreSQL pass of the suite")]


def test_postgres_down_then_back(tmp_path: Path) -> None:
    cluster = PostgresCluster(tmp_path)
    migrated = subprocess.run([*contest_command(), "migrate"], env=app_env(tmp_path, DATABASE_URL=cluster.url),
                              capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    server = Server(tmp_path, DATABASE_URL=cluster.url)
    try:
        assert httpx.get(f"{server.base_url}/api/v1/editions", timeout=30).status_code == 200
        cluster.stop(mode="immediate")

        api = httpx.get(f"{server.base_url}/api/v1/editions", timeout=30)
        assert api.status_code == 503, api.text
        assert api.json()["code"] == "database_unavailable" and api.headers["retry-after"] == "30"
        assert api.json()["detail"] != api.json()["detail_en"]  # Thai first, English beside it
        page = httpx.post(f"{server.base_url}/login", data={"email": "a@b.go.th", "password": "x"},
                          headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code in (403, 503)  # the CSRF check may refuse first; never a 500
        status, report, _ = get_json(server.base_url + "/readyz", timeout=30)
        assert status == 503 and report["database"] == "down"
        assert get_json(server.base_url + "/healthz")[0] == 200

        cluster.start()
        wait_until(lambda: httpx.get(f"{server.base_url}/api/v1/editions", timeout=30).status_code == 200, 30,
                   "the server to use PostgreSQL again")
        assert get_json(server.base_url + "/readyz")[0] == 200
    finally:
        server.stop()
        cluster.remove()
    log = (server.log.read_text("utf-8", "replace"))
    assert "database down" in log and "Traceback" not in log.split("database down", 1)[1][:2000]
