"""The entry tally the database keeps with triggers: after entries are created, moved between
states, categories and editions, their organisations moved to another province or kind, and
entries deleted (through the tables and through raw SQL), it equals a fresh count of the
entries, and the organisers' overview gives the same figures from it as from the entries."""

from __future__ import annotations

import importlib
import random

import pytest

from contest.db import fetch
from contest.domain import entries
from contest.domain.audit import SYSTEM
from contest.tables import Entry, Organisation
from tests.conftest import run
from tests.factories import make_edition, make_submitted_entries

pytestmark = pytest.mark.integration

_FRESH = ("SELECT COALESCE(e.edition, 0) AS edition, COALESCE(e.state, '') AS state, "
          "COALESCE(e.category, '') AS category, COALESCE(o.province_code, '') AS province_code, "
          "COALESCE(o.kind, '') AS kind, count(*) AS n FROM entry e LEFT JOIN organisation o "
          "ON o.id = e.organisation GROUP BY 1, 2, 3, 4, 5")
_TALLY = ("SELECT edition, state, category, province_code, kind, sum(entries) AS n FROM entry_tally "
          "GROUP BY 1, 2, 3, 4, 5 HAVING sum(entries) <> 0")


def _groups(sql: str) -> dict[tuple[object, ...], int]:
    return {(r["edition"], r["state"], r["category"], r["province_code"], r["kind"]): int(r["n"])
            for r in run(fetch(sql))}


def _assert_tally_right() -> None:
    assert _groups(_TALLY) == _groups(_FRESH)
    for filters in (entries.EntryFilters(year=2569), entries.EntryFilters(year=2570), entries.EntryFilters(),
                    entries.EntryFilters(year=2569, state="submitted"),
                    entries.EntryFilters(year=2569, province="50", category="b"),
                    entries.EntryFilters(year=2569, kind="sao", state="draft")):
        assert run(entries.overview_counts(SYSTEM, filters)) == run(entries.overview_counts(SYSTEM, filters,
                                                                                            tally=False)), filters


def test_the_tally_follows_every_change_of_entries_and_organisations(db) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(2569)
    run(make_edition(2569))
    run(make_edition(2570))
    ids = run(make_submitted_entries(2569, 12, provinces=("50", "90", "10")))
    ids += run(make_submitted_entries(2570, 6, provinces=("50",), state="draft"))
    _assert_tally_right()
    states = ("draft", "submitted", "returned", "withdrawn", "shortlisted")
    for _ in range(40):
        entry_id = rng.choice(ids)
        move = rng.randrange(4)
        if move == 0:
            run(Entry.update({Entry.state: rng.choice(states)}).where(Entry.id == entry_id))
        elif move == 1:
            run(Entry.update({Entry.category: rng.choice(("a", "b", ""))}).where(Entry.id == entry_id))
        elif move == 2:
            org = run(Entry.select(Entry.organisation).where(Entry.id == entry_id).first())["organisation"]
            run(Organisation.update({Organisation.province_code: rng.choice(("50", "90", "10")),
                                     Organisation.kind: rng.choice(("sao", "city_municipality"))})
                .where(Organisation.id == org))
        else:
            other = rng.choice(ids)
            org = run(Entry.select(Entry.organisation).where(Entry.id == other).first())["organisation"]
            run(fetch("UPDATE entry SET organisation = {}, title = title WHERE id = {}", org, entry_id))
    _assert_tally_right()
    for entry_id in ids[:5]:
        run(Entry.delete().where(Entry.id == entry_id))
    run(fetch("DELETE FROM entry WHERE id = {}", ids[5]))
    run(Entry.update({Entry.title: "unchanged counts"}).where(Entry.id == ids[6]))
    _assert_tally_right()


def test_the_migration_fills_the_tally_from_the_entries_already_there(db) -> None:  # type: ignore[no-untyped-def]
    run(make_edition(2569))
    run(make_submitted_entries(2569, 7, provinces=("50", "90")))
    run(fetch("DELETE FROM entry_tally"))
    assert _groups(_TALLY) == {}
    migration = importlib.import_module("contest.piccolo_migrations.contest_2026_12_05t02_23_00_000000")

    async def migrate() -> None:
        await (await migration.forwards()).run()

    run(migrate())
    _assert_tally_right()
