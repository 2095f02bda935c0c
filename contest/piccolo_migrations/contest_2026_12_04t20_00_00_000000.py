from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-04T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "PostgreSQL: an audit event is chained when its transaction commits, under the chain's lock"

# A change writes its audit event unchained (``seq`` below zero; ``pii`` holds the event's
# commitments and its canonical body without the ``seq``, around where it goes). When the
# transaction commits, this deferred trigger takes the chain's lock (contest.domain.audit's key),
# reads the last chained event and gives the new one the next ``seq``, its predecessor's hash and
# its own: SHA-256 of that hash, then the body with the ``seq``, the hash
# contest.domain.audit.row_hash recomputes. The lock is held only while the commit runs in the
# database, never while the app works. A volatile function's statements each read what was
# committed before they began, so the last event is read after the lock was granted; a
# transaction's events are chained in the order it wrote them.
CREATE = ("""
CREATE OR REPLACE FUNCTION audit_chain_on_commit() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    pending jsonb;
    last_seq bigint;
    last_hash varchar;
BEGIN
    IF NEW.seq > 0 THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(78502569);
    pending := NEW.pii::jsonb;
    SELECT "seq", "hash" INTO last_seq, last_hash FROM audit_event WHERE "seq" > 0 ORDER BY "seq" DESC LIMIT 1;
    last_seq := COALESCE(last_seq, 0) + 1;
    last_hash := COALESCE(last_hash, repeat('0', 64));
    UPDATE audit_event SET "seq" = last_seq, "prev_hash" = last_hash,
        "hash" = encode(sha256(convert_to(last_hash || (pending->>'head') || last_seq::text || (pending->>'tail'),
                                          'UTF8')), 'hex'),
        "pii" = pending->>'pii'
    WHERE id = NEW.id;
    RETURN NULL;
END
$$""",
    "DROP TRIGGER IF EXISTS audit_chain_on_commit ON audit_event",
    """CREATE CONSTRAINT TRIGGER audit_chain_on_commit AFTER INSERT ON audit_event
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_chain_on_commit()""")

DROP = ("DROP TRIGGER IF EXISTS audit_chain_on_commit ON audit_event",
        "DROP FUNCTION IF EXISTS audit_chain_on_commit()")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def create_trigger() -> None:
        db = engine_finder()
        if isinstance(db, PostgresEngine):
            for statement in CREATE:
                await db.run_ddl(statement)

    async def drop_trigger() -> None:
        db = engine_finder()
        if isinstance(db, PostgresEngine):
            for statement in DROP:
                await db.run_ddl(statement)

    manager.add_raw(create_trigger)
    manager.add_raw_backwards(drop_trigger)
    return manager
