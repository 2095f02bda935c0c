from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

from contest.piccolo_migrations.contest_2026_12_05t02_23_00_000000 import (
    _KEY,
    _ORG_CHANGED,
    PG_CREATE as TALLY_PG,
    _sqlite,
)
from contest.piccolo_migrations.contest_2026_12_05t10_15_00_000000 import (
    SQLITE_CREATE as REMOVAL_SQLITE,
)

ID = "2026-12-05T13:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The entry tally moves an organisation's counts to its new province and kind in one ordered statement"

# When an organisation changes province or kind, its entries' counts leave the old groups and
# join the new ones in one statement that takes the tally rows' locks in the key's order, as an
# entry's move and an organisation's removal do. Done as two statements (leave, then join), two
# organisations moving opposite ways between the same province groups could each hold the rows
# they left and wait for the rows the other left: a deadlock, which PostgreSQL ends by failing
# one of the two (a registry import, say). On PostgreSQL the organisation's entries are locked
# first, as every change of an entry takes its row before its groups': an entry changed
# meanwhile is waited for, and counted where it then is.
_ORG_MOVE = (f"INSERT INTO entry_tally ({_KEY}, entries) SELECT {_KEY}, sum(entries) FROM ("
             "SELECT COALESCE(e.edition, 0) AS edition, COALESCE(e.state, '') AS state, "
             "COALESCE(e.category, '') AS category, COALESCE(OLD.province_code, '') AS province_code, "
             "COALESCE(OLD.kind, '') AS kind, -1 AS entries FROM entry e WHERE e.organisation = OLD.id "
             "UNION ALL SELECT COALESCE(e.edition, 0), COALESCE(e.state, ''), COALESCE(e.category, ''), "
             "COALESCE(NEW.province_code, ''), COALESCE(NEW.kind, ''), 1 "
             "FROM entry e WHERE e.organisation = NEW.id) AS moved "
             f"WHERE 1 = 1 GROUP BY {_KEY} HAVING sum(entries) <> 0 ORDER BY {_KEY} "
             f"ON CONFLICT ({_KEY}) DO UPDATE SET entries = entry_tally.entries + excluded.entries")

# The trigger fires only when the id is kept: a change of id is the removal triggers' (they
# move the counts to no organisation before the cascade moves the entries to the new id).
SQLITE_CREATE = (
    "DROP TRIGGER IF EXISTS entry_tally_organisation",
    "CREATE TRIGGER entry_tally_organisation AFTER UPDATE OF province_code, kind ON organisation "
    f"WHEN ({_sqlite(_ORG_CHANGED)}) AND OLD.id IS NEW.id BEGIN {_ORG_MOVE}; END",
)
# Back to the trigger of the migration before this one.
SQLITE_DROP = ("DROP TRIGGER IF EXISTS entry_tally_organisation",
               *(s for s in REMOVAL_SQLITE if s.startswith("CREATE TRIGGER entry_tally_organisation AFTER")))

# The trigger stays; its function changes.
PG_CREATE = (
    f"""CREATE OR REPLACE FUNCTION entry_tally_on_organisation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM entry WHERE organisation = NEW.id ORDER BY id FOR UPDATE;
    {_ORG_MOVE};
    RETURN NULL;
END
$$""",
)
PG_DROP = tuple(s for s in TALLY_PG if s.startswith("CREATE OR REPLACE FUNCTION entry_tally_on_organisation()"))


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def create() -> None:
        db = engine_finder()
        for statement in PG_CREATE if isinstance(db, PostgresEngine) else SQLITE_CREATE:
            await db.run_ddl(statement)

    async def drop() -> None:
        db = engine_finder()
        for statement in PG_DROP if isinstance(db, PostgresEngine) else SQLITE_DROP:
            await db.run_ddl(statement)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
