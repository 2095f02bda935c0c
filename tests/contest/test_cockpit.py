"""The organiser's edition figures (GET /api/v1/editions/{year}/stats): counts by state, the
cumulative day-by-day curve in Bangkok days, provinces, kinds and categories, days left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contest import clock
from contest.tables import Edition, Entry, Organisation
from tests.conftest import run
from tests.factories import login_token, make_edition, make_org, make_user

pytestmark = pytest.mark.integration


def _entry(edition_id: int, org_code: str, *, created: datetime, submitted: datetime | None = None,
           state: str = "draft", category: str = "service") -> None:
    org = run(Organisation.select(Organisation.id).where(Organisation.code == org_code).first())["id"]
    run(Entry.insert(Entry(edition=edition_id, organisation=org, title="x", state=state, category=category,
                           created_at=created, submitted_at=submitted)))


def test_stats_follow_the_entries_day_by_day_in_bangkok_time(client: Any) -> None:
    opens = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)  # 08:00 in Bangkok
    run(make_edition(2569, submission_opens_at=opens, submission_closes_at=opens + timedelta(days=10)))
    edition_id = run(Edition.select(Edition.id).where(Edition.year == 2569).first())["id"]
    north = run(make_org(province_code="50", province_name_th="เชียงใหม่"))
    north2 = run(make_org(province_code="50", province_name_th="เชียงใหม่", kind="subdistrict_municipality"))
    south = run(make_org(province_code="90", province_name_th="สงขลา"))
    day = timedelta(days=1)
    # Day 0: two drafts; 23:30 UTC on day 1 is already day 2 in Bangkok.
    _entry(edition_id, north, created=opens, submitted=opens + day + timedelta(hours=22, minutes=30),
           state="submitted")
    _entry(edition_id, north2, created=opens + timedelta(hours=2))
    _entry(edition_id, south, created=opens + 2 * day, state="withdrawn")
    _entry(edition_id, south, created=opens + 2 * day, submitted=opens + 3 * day, state="submitted",
           category="data")
    clock.freeze(opens + 3 * day + timedelta(hours=5))
    try:
        run(make_user("admin", email="organiser@dga.or.th"))
        resp = client.get("/api/v1/editions/2569/stats", headers=login_token(client, "organiser@dga.or.th"))
    finally:
        clock.freeze(None)
    assert resp.status_code == 200, resp.text
    stats = resp.json()
    assert stats["entries_by_state"] == {"draft": 1, "submitted": 2, "withdrawn": 1}
    assert stats["by_day"] == [
        {"date": "2026-11-01", "drafts": 2, "submitted": 0},
        {"date": "2026-11-02", "drafts": 2, "submitted": 0},
        {"date": "2026-11-03", "drafts": 2, "submitted": 1},  # 23:30 UTC on 2 Nov is 3 Nov in Bangkok
        {"date": "2026-11-04", "drafts": 1, "submitted": 2},
    ]
    assert stats["by_province"] == [
        {"province_code": "50", "name_th": "เชียงใหม่", "entries": 2, "organisations": 2},
        {"province_code": "90", "name_th": "สงขลา", "entries": 1, "organisations": 1},
    ]
    assert stats["by_kind"] == {"sao": 2, "subdistrict_municipality": 1}
    assert stats["by_category"] == {"data": 1, "service": 2}
    assert stats["days_left"] == 7


def test_stats_are_for_organisers_only_and_an_unknown_year_is_404(client: Any) -> None:
    run(make_edition(2569))
    org = run(make_org())
    run(make_user("applicant", email="staff@example.go.th", org=org))
    assert client.get("/api/v1/editions/2569/stats").status_code == 401
    staff = login_token(client, "staff@example.go.th")
    assert client.get("/api/v1/editions/2569/stats", headers=staff).status_code == 403
    run(make_user("admin", email="organiser@dga.or.th"))
    admin = login_token(client, "organiser@dga.or.th")
    assert client.get("/api/v1/editions/2400/stats", headers=admin).status_code == 404
    empty = client.get("/api/v1/editions/2569/stats", headers=admin).json()
    assert empty["entries_by_state"] == {} and empty["by_province"] == [] and empty["previous_year"] is None


def test_the_previous_edition_is_compared_on_the_same_days_before_its_own_deadline(client: Any) -> None:
    # Last year: a month of submission; this year: ten days. The comparison pairs each day of this
    # year's curve with the day as many days before last year's deadline, not after its opening.
    then = datetime(2025, 10, 1, 1, 0, tzinfo=UTC)
    run(make_edition(2568, submission_opens_at=then, submission_closes_at=then + timedelta(days=30)))
    opens = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    run(make_edition(2569, submission_opens_at=opens, submission_closes_at=opens + timedelta(days=10)))
    earlier, current = (run(Edition.select(Edition.id).where(Edition.year == y).first())["id"] for y in (2568, 2569))
    org = run(make_org(province_code="50", province_name_th="เชียงใหม่"))
    day = timedelta(days=1)
    _entry(earlier, org, created=then + day)  # a draft from the second day on
    _entry(earlier, org, created=then + 2 * day, submitted=then + 21 * day, state="submitted")  # 9 days before
    _entry(earlier, org, created=then + 3 * day, submitted=then + 29 * day, state="submitted")  # the last day
    _entry(current, org, created=opens, submitted=opens + day, state="submitted")
    clock.freeze(opens + 3 * day + timedelta(hours=5))
    try:
        run(make_user("admin", email="organiser@dga.or.th"))
        stats = client.get("/api/v1/editions/2569/stats", headers=login_token(client, "organiser@dga.or.th")).json()
    finally:
        clock.freeze(None)
    assert stats["previous_year"] == 2568
    assert [d["date"] for d in stats["by_day"]] == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
    assert stats["previous_by_day"] == [
        {"date": "2025-10-21", "drafts": 3, "submitted": 0, "days_before_deadline": 10, "day": 0},
        {"date": "2025-10-22", "drafts": 2, "submitted": 1, "days_before_deadline": 9, "day": 1},
        {"date": "2025-10-23", "drafts": 2, "submitted": 1, "days_before_deadline": 8, "day": 2},
        {"date": "2025-10-24", "drafts": 2, "submitted": 1, "days_before_deadline": 7, "day": 3},
    ]
