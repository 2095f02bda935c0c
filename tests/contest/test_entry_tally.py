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
