from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-04T19:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "PostgreSQL: one call takes the audit chain's lock and appends an event after the chain's last"

# The chain's lock key is contest.domain.audit's; the hash is the one contest.domain.audit.row_hash
# recomputes: SHA-256 of the last event's hash, then the event's canonical body, whose ``seq``
# (known only under the lock) the caller leaves out between ``head`` and ``tail``. A volatile
# function's statements each read what was committed before they began, so the last event is
# read after the lock was granted.
CREATE = """
CREATE OR REPLACE FUNCTION audit_append(
    p_at varchar, p_actor_id integer, p_actor_email varchar, p_action varchar, p_subject_type varchar,
    p_subject_id varchar, p_before text, p_after text, p_pii text, p_head text, p_tail text, p_genesis varchar
) RETURNS varchar LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    last_seq bigint;
    last_hash varchar;
    new_hash varchar;
BEGIN
    PERFORM pg_advisory_xact_lock(78502569);
    SELECT "seq", "hash" INTO last_seq, last_hash FROM audit_event ORDER BY "seq" DESC LIMIT 1;
    last_seq := COALESCE(last_seq, 0) + 1;
    last_hash := COALESCE(last_hash, p_genesis);
    new_hash := encode(sha256(convert_to(last_hash || p_head || last_seq::text || p_tail, 'UTF8')), 'hex');
    INSERT INTO audit_event ("seq", "at", "actor_id", "actor_email", "action", "subject_type", "subject_id",
                             "before", "after", "pii", "prev_hash", "hash")
    VALUES (last_seq, p_at, p_actor_id, p_actor_email, p_action, p_subject_type, p_subject_id,
            p_before, p_after, p_pii, last_hash, new_hash);
    RETURN new_hash;
END
$$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def create_function() -> None:
        db = engine_finder()
        if isinstance(db, PostgresEngine):
            await db.run_ddl(CREATE)

    async def drop_function() -> None:
        db = engine_finder()
        if isinstance(db, PostgresEngine):
            await db.run_ddl("DROP FUNCTION IF EXISTS audit_append(varchar, integer, varchar, varchar, varchar, "
                             "varchar, text, text, text, text, text, varchar)")

    manager.add_raw(create_function)
    manager.add_raw_backwards(drop_function)
    return manager
