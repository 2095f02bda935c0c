from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-05T02:23:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The entry tally is kept by triggers on entries and organisations, and filled from the entries"

# The tally is kept by the database: every insert, delete and change of an entry's edition,
# state, category or organisation, and every change of an organisation's province or kind,
# moves its counts, whichever code (or raw SQL, import, restore) made the change. A missing
# value is kept as 0 / ''; one row per group (the unique index) so a write adds to it.
_KEY = "edition, state, category, province_code, kind"
_INDEX = f"CREATE UNIQUE INDEX IF NOT EXISTS entry_tally_group ON entry_tally ({_KEY})"


def _group(row: str) -> str:
    """The tally's key of the entry ``row`` (NEW or OLD) as a value list."""
    return (f"COALESCE({row}.edition, 0), COALESCE({row}.state, ''), COALESCE({row}.category, ''), "
            f"COALESCE((SELECT province_code FROM organisation WHERE id = {row}.organisation), ''), "
            f"COALESCE((SELECT kind FROM organisation WHERE id = {row}.organisation), '')")


def _add(row: str) -> str:
    return (f"INSERT INTO entry_tally ({_KEY}, entries) VALUES ({_group(row)}, 1) "
            f"ON CONFLICT ({_KEY}) DO UPDATE SET entries = entry_tally.entries + 1")


def _move() -> str:
    """An entry's move from its old group to its new one as one statement that takes the two
    rows' locks in the key's order: two moves between the same two groups in opposite
    directions (a submission and a withdrawal) then wait for each other, never deadlock. A move
    within one group (to another organisation of the same province and kind) adds nothing."""
    return (f"INSERT INTO entry_tally ({_KEY}, entries) SELECT {_KEY}, sum(entries) FROM (VALUES "
            f"({_group('OLD')}, -1), ({_group('NEW')}, 1)) AS moved ({_KEY}, entries) "
            f"GROUP BY {_KEY} ORDER BY {_KEY} "
            f"ON CONFLICT ({_KEY}) DO UPDATE SET entries = entry_tally.entries + excluded.entries")


def _remove(row: str) -> str:
    return ("UPDATE entry_tally SET entries = entries - 1 WHERE edition = COALESCE({r}.edition, 0) "
            "AND state = COALESCE({r}.state, '') AND category = COALESCE({r}.category, '') "
            "AND province_code = COALESCE((SELECT province_code FROM organisation WHERE id = {r}.organisation), '') "
            "AND kind = COALESCE((SELECT kind FROM organisation WHERE id = {r}.organisation), '')").format(r=row)


# An organisation's entries move from its old province and kind to its new ones.
_ORG_LEAVE = ("UPDATE entry_tally SET entries = entries - (SELECT count(*) FROM entry e WHERE e.organisation = OLD.id "
              "AND COALESCE(e.edition, 0) = entry_tally.edition AND COALESCE(e.state, '') = entry_tally.state "
              "AND COALESCE(e.category, '') = entry_tally.category) "
              "WHERE province_code = COALESCE(OLD.province_code, '') AND kind = COALESCE(OLD.kind, '')")
_ORG_JOIN = (f"INSERT INTO entry_tally ({_KEY}, entries) SELECT COALESCE(e.edition, 0), COALESCE(e.state, ''), "
             "COALESCE(e.category, ''), COALESCE(NEW.province_code, ''), COALESCE(NEW.kind, ''), count(*) "
             "FROM entry e WHERE e.organisation = NEW.id "
             "GROUP BY COALESCE(e.edition, 0), COALESCE(e.state, ''), COALESCE(e.category, '') "
             f"ON CONFLICT ({_KEY}) DO UPDATE SET entries = entry_tally.entries + excluded.entries")

_ENTRY_CHANGED = ("OLD.edition IS DISTINCT FROM NEW.edition OR OLD.state IS DISTINCT FROM NEW.state "
                  "OR OLD.category IS DISTINCT FROM NEW.category OR OLD.organisation IS DISTINCT FROM NEW.organisation")
_ORG_CHANGED = "OLD.province_code IS DISTINCT FROM NEW.province_code OR OLD.kind IS DISTINCT FROM NEW.kind"

_FILL = (f"INSERT INTO entry_tally ({_KEY}, entries) SELECT COALESCE(e.edition, 0), COALESCE(e.state, ''), "
         "COALESCE(e.category, ''), COALESCE(o.province_code, ''), COALESCE(o.kind, ''), count(*) "
         "FROM entry e LEFT JOIN organisation o ON o.id = e.organisation WHERE 1 = 1 "
         "GROUP BY COALESCE(e.edition, 0), COALESCE(e.state, ''), COALESCE(e.category, ''), "
         "COALESCE(o.province_code, ''), COALESCE(o.kind, '')")


def _sqlite(changed: str) -> str:
    return changed.replace("IS DISTINCT FROM", "IS NOT")


SQLITE_CREATE = (
    _INDEX,
    f"CREATE TRIGGER IF NOT EXISTS entry_tally_insert AFTER INSERT ON entry BEGIN {_add('NEW')}; END",
    f"CREATE TRIGGER IF NOT EXISTS entry_tally_delete AFTER DELETE ON entry BEGIN {_remove('OLD')}; END",
    "CREATE TRIGGER IF NOT EXISTS entry_tally_update AFTER UPDATE OF edition, state, category, organisation "
    f"ON entry WHEN {_sqlite(_ENTRY_CHANGED)} BEGIN {_remove('OLD')}; {_add('NEW')}; END",
    "CREATE TRIGGER IF NOT EXISTS entry_tally_organisation AFTER UPDATE OF province_code, kind "
    f"ON organisation WHEN {_sqlite(_ORG_CHANGED)} BEGIN {_ORG_LEAVE}; {_ORG_JOIN}; END",
)
SQLITE_DROP = tuple(f"DROP TRIGGER IF EXISTS {name}" for name in
                    ("entry_tally_insert", "entry_tally_delete", "entry_tally_update", "entry_tally_organisation"))

PG_CREATE = (
    _INDEX,
    f"""CREATE OR REPLACE FUNCTION entry_tally_on_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        {_move()};
    ELSIF TG_OP = 'DELETE' THEN
        {_remove('OLD')};
    ELSE
        {_add('NEW')};
    END IF;
    RETURN NULL;
END
$$""",
    f"""CREATE OR REPLACE FUNCTION entry_tally_on_organisation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_ORG_LEAVE};
    {_ORG_JOIN};
    RETURN NULL;
END
$$""",
    "DROP TRIGGER IF EXISTS entry_tally_insert_delete ON entry",
    "CREATE TRIGGER entry_tally_insert_delete AFTER INSERT OR DELETE ON entry "
    "FOR EACH ROW EXECUTE FUNCTION entry_tally_on_entry()",
    "DROP TRIGGER IF EXISTS entry_tally_update ON entry",
    "CREATE TRIGGER entry_tally_update AFTER UPDATE OF edition, state, category, organisation ON entry "
    f"FOR EACH ROW WHEN ({_ENTRY_CHANGED}) EXECUTE FUNCTION entry_tally_on_entry()",
    "DROP TRIGGER IF EXISTS entry_tally_organisation ON organisation",
    "CREATE TRIGGER entry_tally_organisation AFTER UPDATE OF province_code, kind ON organisation "
    f"FOR EACH ROW WHEN ({_ORG_CHANGED}) EXECUTE FUNCTION entry_tally_on_organisation()",
)
PG_DROP = ("DROP TRIGGER IF EXISTS entry_tally_insert_delete ON entry",
           "DROP TRIGGER IF EXISTS entry_tally_update ON entry",
           "DROP TRIGGER IF EXISTS entry_tally_organisation ON organisation",
           "DROP FUNCTION IF EXISTS entry_tally_on_entry()",
           "DROP FUNCTION IF EXISTS entry_tally_on_organisation()")



async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def create_triggers() -> None:
        db = engine_finder()
        postgres = isinstance(db, PostgresEngine)
        for statement in PG_CREATE if postgres else SQLITE_CREATE:
            await db.run_ddl(statement)
        await db.run_ddl("DELETE FROM entry_tally")
        await db.run_ddl(_FILL)  # the entries already there

    async def drop_triggers() -> None:
        db = engine_finder()
        for statement in PG_DROP if isinstance(db, PostgresEngine) else SQLITE_DROP:
            await db.run_ddl(statement)

    manager.add_raw(create_triggers)
    manager.add_raw_backwards(drop_triggers)
    return manager
