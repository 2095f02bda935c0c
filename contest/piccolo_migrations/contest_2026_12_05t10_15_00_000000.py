from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

from contest.piccolo_migrations.contest_2026_12_05t02_23_00_000000 import (
    _FILL,
    _KEY,
    _ORG_CHANGED,
    _ORG_JOIN,
    _ORG_LEAVE,
    PG_CREATE as TALLY_PG,
    SQLITE_CREATE as TALLY_SQLITE,
    _sqlite,
)

ID = "2026-12-05T10:15:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The entry tally follows an organisation's removal: its entries count as of no organisation first"

# An entry's group takes its province and kind from its organisation row, and an entry whose
# organisation row is absent counts as of no province and kind ('' / ''), as a fresh count (a
# LEFT JOIN) has it. When an organisation is deleted, or given another id, its row is gone
# under the old id before the foreign keys' cascade deletes (or updates) its entries, on both
# databases: the entry triggers then see the entries as of no organisation. So just before the
# row goes, its entries' counts move from its province and kind to '' / '', and the cascade
# takes each entry from there (deleted, or moved to the organisation under its new id). An
# organisation's AFTER UPDATE trigger leaves a change of id to these: its entries are under the
# new id by then, and counting them again would count them twice.
#
# The move is one statement taking the rows' locks in the key's order, as an entry's move does.
# On PostgreSQL the organisation's entries are locked before any tally row, as every change of
# an entry takes its row before its groups': an entry changed meanwhile is waited for, never
# deadlocked with.
_ORG_GONE = (f"INSERT INTO entry_tally ({_KEY}, entries) SELECT {_KEY}, sum(entries) FROM ("
             "SELECT COALESCE(e.edition, 0) AS edition, COALESCE(e.state, '') AS state, "
             "COALESCE(e.category, '') AS category, COALESCE(OLD.province_code, '') AS province_code, "
             "COALESCE(OLD.kind, '') AS kind, -1 AS entries FROM entry e WHERE e.organisation = OLD.id "
             "UNION ALL SELECT COALESCE(e.edition, 0), COALESCE(e.state, ''), COALESCE(e.category, ''), '', '', 1 "
             "FROM entry e WHERE e.organisation = OLD.id) AS moved "
             f"WHERE 1 = 1 GROUP BY {_KEY} HAVING sum(entries) <> 0 ORDER BY {_KEY} "
             f"ON CONFLICT ({_KEY}) DO UPDATE SET entries = entry_tally.entries + excluded.entries")

_ID_CHANGED = "OLD.id IS DISTINCT FROM NEW.id"
_ID_KEPT = "OLD.id IS NOT DISTINCT FROM NEW.id"  # SQLite: OLD.id IS NEW.id

SQLITE_CREATE = (
    "DROP TRIGGER IF EXISTS entry_tally_organisation_delete",
    f"CREATE TRIGGER entry_tally_organisation_delete BEFORE DELETE ON organisation BEGIN {_ORG_GONE}; END",
    "DROP TRIGGER IF EXISTS entry_tally_organisation_id",
    f"CREATE TRIGGER entry_tally_organisation_id BEFORE UPDATE OF id ON organisation "
    f"WHEN {_sqlite(_ID_CHANGED)} BEGIN {_ORG_GONE}; END",
    "DROP TRIGGER IF EXISTS entry_tally_organisation",
    "CREATE TRIGGER entry_tally_organisation AFTER UPDATE OF province_code, kind ON organisation "
    f"WHEN ({_sqlite(_ORG_CHANGED)}) AND OLD.id IS NEW.id BEGIN {_ORG_LEAVE}; {_ORG_JOIN}; END",
)
# Back to the triggers the tally's first migration made.
SQLITE_DROP = ("DROP TRIGGER IF EXISTS entry_tally_organisation_delete",
               "DROP TRIGGER IF EXISTS entry_tally_organisation_id",
               "DROP TRIGGER IF EXISTS entry_tally_organisation",
               *(s for s in TALLY_SQLITE if "TRIGGER IF NOT EXISTS entry_tally_organisation " in s))

PG_CREATE = (
    f"""CREATE OR REPLACE FUNCTION entry_tally_organisation_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM entry WHERE organisation = OLD.id ORDER BY id FOR UPDATE;
    {_ORG_GONE};
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$""",
    "DROP TRIGGER IF EXISTS entry_tally_organisation_delete ON organisation",
    "CREATE TRIGGER entry_tally_organisation_delete BEFORE DELETE ON organisation "
    "FOR EACH ROW EXECUTE FUNCTION entry_tally_organisation_gone()",
    "DROP TRIGGER IF EXISTS entry_tally_organisation_id ON organisation",
    "CREATE TRIGGER entry_tally_organisation_id BEFORE UPDATE OF id ON organisation "
    f"FOR EACH ROW WHEN ({_ID_CHANGED}) EXECUTE FUNCTION entry_tally_organisation_gone()",
    "DROP TRIGGER IF EXISTS entry_tally_organisation ON organisation",
    "CREATE TRIGGER entry_tally_organisation AFTER UPDATE OF province_code, kind ON organisation "
    f"FOR EACH ROW WHEN (({_ORG_CHANGED}) AND {_ID_KEPT}) EXECUTE FUNCTION entry_tally_on_organisation()",
)
PG_DROP = ("DROP TRIGGER IF EXISTS entry_tally_organisation_delete ON organisation",
           "DROP TRIGGER IF EXISTS entry_tally_organisation_id ON organisation",
           "DROP FUNCTION IF EXISTS entry_tally_organisation_gone()",
           *(s for s in TALLY_PG if "TRIGGER IF EXISTS entry_tally_organisation ON" in s
             or "TRIGGER entry_tally_organisation AFTER" in s))


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def create_triggers() -> None:
        db = engine_finder()
        for statement in PG_CREATE if isinstance(db, PostgresEngine) else SQLITE_CREATE:
            await db.run_ddl(statement)
        # Counts left behind by organisations deleted before these triggers existed.
        await db.run_ddl("DELETE FROM entry_tally")
        await db.run_ddl(_FILL)

    async def drop_triggers() -> None:
        db = engine_finder()
        for statement in PG_DROP if isinstance(db, PostgresEngine) else SQLITE_DROP:
            await db.run_ddl(statement)

    manager.add_raw(create_triggers)
    manager.add_raw_backwards(drop_triggers)
    return manager
