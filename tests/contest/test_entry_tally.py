"""The entry tally the database keeps with triggers: after entries are created, moved between
states, categories and editions, their organisations moved to another province or kind, and
entries deleted (through the tables and through raw SQL), it equals a fresh count of the
entries, and the organisers' overview gives the same figures from it as from the entries."""

from __future__ import annotations

import asyncio
import importlib
import os
import random
from typing import Any

import pytest

from contest.db import fetch, is_sqlite
from contest.domain import entries
from contest.domain.audit import SYSTEM
from contest.tables import Edition, Entry, Organisation
from tests.conftest import run
from tests.factories import make_edition, make_submitted_entries

pytestmark = pytest.mark.integration

_FRESH = ("SELECT COALESCE(e.edition, 0) AS edition, COALESCE(e.state, '') AS state, "
          "COALESCE(e.category, '') AS category, COALESCE(o.province_code, '') AS province_code, "
          "COALESCE(o.kind, '') AS kind, count(*) AS n FROM entry e LEFT JOIN organisation o "
          "ON o.id = e.organisation GROUP BY 1, 2, 3, 4, 5")
_TALLY = ("SELECT edition, state, category, province_code, kind, sum(entries) AS n FROM entry_tally "
          "GROUP BY 1, 2, 3, 4, 5 HAVING sum(entries) <> 0")
#: The migration that makes the tally follow an organisation's removal (and refills it).
_REMOVAL = "contest.piccolo_migrations.contest_2026_12_05t10_15_00_000000"
#: The migration that moves an organisation's counts in one ordered statement.
_MOVE = "contest.piccolo_migrations.contest_2026_12_05t13_40_00_000000"


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
        for later in (_REMOVAL, _MOVE):  # back to the latest triggers
            await (await importlib.import_module(later).forwards()).run()

    run(migrate())
    _assert_tally_right()


async def _add_entries(organisation: int | None, *groups: tuple[int, str, str]) -> None:
    """Entries of ``organisation`` (or none) in each (year, state, category) of ``groups``."""
    years = {e["year"]: e["id"] for e in await Edition.select(Edition.id, Edition.year)}
    await Entry.insert(*[Entry(edition=years[year], organisation=organisation, state=state, category=category,
                               title=f"{state} {category}") for year, state, category in groups])


def _organisation_of(entry_id: int) -> int:
    found: int = run(Entry.select(Entry.organisation).where(Entry.id == entry_id).first())["organisation"]
    return found


def _two_editions_of_entries() -> list[int]:
    """Entries of two editions from organisations sharing groups, one organisation with entries in
    several states, categories and editions, and an entry of no organisation."""
    run(make_edition(2569))
    run(make_edition(2570))
    ids = run(make_submitted_entries(2569, 6, provinces=("50", "90")))
    ids += run(make_submitted_entries(2570, 3, provinces=("50",), state="draft"))
    for entry_id in ids[:2]:
        run(_add_entries(_organisation_of(entry_id), (2569, "shortlisted", "service"), (2569, "submitted", "b"),
                         (2570, "draft", "service"), (2570, "withdrawn", "service"), (2570, "returned", "a")))
    run(_add_entries(None, (2569, "submitted", "service"), (2570, "draft", "service")))
    _assert_tally_right()
    return ids


def test_deleting_an_organisation_takes_its_entries_out_of_the_tally(db) -> None:  # type: ignore[no-untyped-def]
    ids = _two_editions_of_entries()
    first, second, third = (_organisation_of(ids[0]), _organisation_of(ids[1]), _organisation_of(ids[6]))
    run(Organisation.delete().where(Organisation.id == first))  # its entries go by the foreign key's cascade
    assert run(Entry.count().where(Entry.organisation == first)) == 0
    _assert_tally_right()
    run(fetch("DELETE FROM organisation WHERE id = {}", second))
    _assert_tally_right()
    run(Organisation.delete().where(Organisation.id.is_in([third, _organisation_of(ids[2])])))
    _assert_tally_right()
    run(Organisation.update({Organisation.province_code: "10"}).where(Organisation.id == _organisation_of(ids[3])))
    run(Entry.update({Entry.state: "returned"}).where(Entry.id.is_in(ids[3:5])))
    _assert_tally_right()
    assert run(Entry.count()) == 7


def test_deleting_an_edition_takes_its_entries_out_of_the_tally(db) -> None:  # type: ignore[no-untyped-def]
    _two_editions_of_entries()
    run(Edition.delete().where(Edition.year == 2570))  # its entries go by the foreign key's cascade
    assert run(Entry.count()) == 11
    _assert_tally_right()
    run(fetch("DELETE FROM edition WHERE year = {}", 2569))
    assert run(Entry.count()) == 0
    _assert_tally_right()


def test_an_organisation_given_another_id_keeps_its_entries_counted(db) -> None:  # type: ignore[no-untyped-def]
    ids = _two_editions_of_entries()
    first = _organisation_of(ids[0])
    top = run(fetch("SELECT max(id) AS top FROM organisation"))[0]["top"]
    run(fetch("UPDATE organisation SET id = {} WHERE id = {}", top + 100, first))  # its entries follow by cascade
    assert run(Entry.count().where(Entry.organisation == top + 100)) == 6
    _assert_tally_right()
    run(fetch("UPDATE organisation SET id = {}, province_code = '10', kind = 'sao' WHERE id = {}", top + 200,
              top + 100))
    assert run(Entry.count().where(Entry.organisation == top + 200)) == 6
    _assert_tally_right()


def _tally_triggers() -> dict[str, str]:
    """The definitions of the database's triggers and functions that keep the tally."""
    if is_sqlite():
        sql = "SELECT name, sql AS definition FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'entry_tally%'"
    else:
        sql = ("SELECT tgname AS name, pg_get_triggerdef(oid) AS definition FROM pg_trigger "
               "WHERE tgname LIKE 'entry_tally%' UNION ALL SELECT proname, prosrc FROM pg_proc "
               "WHERE proname LIKE 'entry_tally%'")
    return {r["name"]: r["definition"] for r in run(fetch(sql))}


def test_the_tallys_migrations_recount_and_each_steps_back_to_the_one_before(db) -> None:  # type: ignore[no-untyped-def]
    first = importlib.import_module("contest.piccolo_migrations.contest_2026_12_05t02_23_00_000000")
    removal = importlib.import_module(_REMOVAL)
    moving = importlib.import_module(_MOVE)

    async def step(migration: Any, *, backwards: bool = False) -> None:
        await (await migration.forwards()).run(backwards=backwards)

    current = _tally_triggers()
    assert {"entry_tally_organisation_delete", "entry_tally_organisation_id"} <= set(current)
    try:
        run(step(moving, backwards=True))
        before_moving = _tally_triggers()
        assert before_moving != current
        run(step(removal, backwards=True))
        stepped_back = _tally_triggers()
        run(step(first, backwards=True))
        assert _tally_triggers() == {}
        run(step(first))
        assert stepped_back == _tally_triggers()  # exactly what the tally's first migration makes
        run(step(removal))
        assert before_moving == _tally_triggers()  # exactly what the removal's migration makes
    finally:
        run(step(first))
        run(step(removal))
        run(step(moving))
    assert _tally_triggers() == current

    ids = _two_editions_of_entries()
    run(fetch("UPDATE entry_tally SET entries = entries + 3"))  # counts gone wrong before this migration
    run(step(removal))
    _assert_tally_right()
    run(Organisation.delete().where(Organisation.id == _organisation_of(ids[0])))
    _assert_tally_right()


def test_an_organisation_deleted_while_its_entry_changes_waits_for_it_without_deadlock(db) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: one transaction has moved an entry of an organisation (its row and its two
    groups locked) and is about to move an entry of another organisation in a group the first
    organisation also has entries in; meanwhile the first organisation is deleted. The delete
    waits for the changed entry before taking any group, so the transaction finishes and the
    delete follows, both counted."""
    if is_sqlite():
        pytest.skip("PostgreSQL's row locks")
    import asyncpg

    run(make_edition(2569))
    moved, other = run(make_submitted_entries(2569, 2, provinces=("50",)))
    organisation = _organisation_of(moved)
    run(_add_entries(organisation, (2569, "draft", "service")))
    run(Entry.update({Entry.state: "draft"}).where(Entry.id == other))  # a group both organisations have
    url = os.environ["DATABASE_URL"]

    async def go() -> None:
        changing, deleting = await asyncpg.connect(url), await asyncpg.connect(url)
        try:
            await deleting.execute("SET deadlock_timeout = '100ms'")
            async with changing.transaction():
                await changing.execute("UPDATE entry SET state = 'returned' WHERE id = $1", moved)
                delete = asyncio.ensure_future(deleting.execute("DELETE FROM organisation WHERE id = $1",
                                                                organisation))
                await asyncio.sleep(0.5)
                assert not delete.done()  # waiting for the changed entry
                await changing.execute("UPDATE entry SET state = 'returned' WHERE id = $1", other)
            await delete
        finally:
            await changing.close()
            await deleting.close()

    run(go())
    assert run(Entry.count()) == 1
    _assert_tally_right()


def test_organisations_moving_province_and_kind_take_their_entries_counts_along(db) -> None:  # type: ignore[no-untyped-def]
    """Moves in every direction, to and from an empty province, of province and kind together or
    one at a time, of an organisation with no entries: each time the tally equals a fresh count."""
    ids = _two_editions_of_entries()
    first, second, third = (_organisation_of(ids[0]), _organisation_of(ids[1]), _organisation_of(ids[6]))
    run(make_submitted_entries(2569, 1, provinces=("10",)))
    empty = run(fetch("SELECT max(id) AS id FROM organisation"))[0]["id"]
    run(Entry.delete().where(Entry.organisation == empty))
    moves: list[tuple[int, str, str]] = [
        (first, "90", "sao"), (second, "50", "sao"), (first, "50", "sao"), (third, "", "sao"),
        (first, "", "city_municipality"), (third, "10", "city_municipality"), (empty, "90", "sao"),
        (first, "", "sao"), (second, "90", "sao"), (first, "90", "subdistrict_municipality")]
    for organisation, province, kind in moves:
        run(fetch("UPDATE organisation SET province_code = {}, kind = {} WHERE id = {}", province, kind,
                  organisation))
        _assert_tally_right()
    # Several organisations in one statement.
    run(fetch("UPDATE organisation SET province_code = CASE WHEN province_code = '90' THEN '50' ELSE '90' END "
              "WHERE id IN ({}, {}, {})", first, second, third))
    _assert_tally_right()


def test_organisations_moving_opposite_ways_wait_for_each_other_without_deadlock(db) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: a registry import moves two organisations from province 10 to 90 in one
    transaction while an organisation moves from 90 to 10. Each move takes only its own groups'
    rows, in the key's order, so the lone move finishes while the import's first move waits
    (here for a third transaction holding a group it needs), and the import's second move waits
    for it: no deadlock, all counted. Leaving the old groups in one statement and joining the
    new ones in another, the lone move held every row of its old province and waited for the
    import's, which waited for it."""
    if is_sqlite():
        pytest.skip("PostgreSQL's row locks")
    import asyncpg

    run(make_edition(2569))
    importing_first, importing_second, other_way, staying = run(
        make_submitted_entries(2569, 4, provinces=("10", "10", "90", "10")))
    run(Entry.update({Entry.category: "b"}).where(Entry.id.is_in([importing_second, other_way, staying])))
    first_org, second_org, other_org = (_organisation_of(importing_first), _organisation_of(importing_second),
                                        _organisation_of(other_way))
    run(fetch("DELETE FROM entry_tally WHERE entries = 0"))  # no group counts what it no longer has
    _assert_tally_right()
    url = os.environ["DATABASE_URL"]

    async def go() -> None:
        importing, moving, holding = (await asyncpg.connect(url), await asyncpg.connect(url),
                                      await asyncpg.connect(url))
        try:
            for connection in (importing, moving):
                await connection.execute("SET deadlock_timeout = '100ms'")
            # Someone else is making the group the import's first move joins.
            await holding.execute("BEGIN")
            await holding.execute(
                "INSERT INTO entry_tally (edition, state, category, province_code, kind, entries) "
                "SELECT edition, state, category, '90', kind, 0 FROM entry_tally "
                "WHERE province_code = '10' AND category = 'service'")
            await importing.execute("BEGIN")
            first_move = asyncio.ensure_future(importing.execute(
                "UPDATE organisation SET province_code = '90' WHERE id = $1", first_org))
            await asyncio.sleep(0.5)
            assert not first_move.done()  # waiting for the group being made
            await moving.execute("BEGIN")
            # The lone move takes only its own groups: it ends while the import's first move waits.
            await asyncio.wait_for(moving.execute(
                "UPDATE organisation SET province_code = '10' WHERE id = $1", other_org), 30)
            await holding.execute("ROLLBACK")
            await asyncio.wait_for(first_move, 30)
            second_move = asyncio.ensure_future(importing.execute(
                "UPDATE organisation SET province_code = '90' WHERE id = $1", second_org))
            await asyncio.sleep(0.5)
            assert not second_move.done()  # waiting for the lone move's groups
            await moving.execute("COMMIT")
            await asyncio.wait_for(second_move, 30)
            await importing.execute("COMMIT")
        finally:
            for connection in (importing, moving, holding):
                await connection.close()

    run(go())
    _assert_tally_right()
    counted = _groups(_TALLY)
    assert counted[(run(Edition.select(Edition.id).first())["id"], "submitted", "b", "10",
                    "subdistrict_municipality")] == 2  # the one that stayed and the one that came
