"""On PostgreSQL the index of a reviewer's assignments in a round also holds their ids, as
SQLite's index holds each row's id by itself: where a sheet sits in its reviewer's queue (asked
by every score sheet's page) is then read from the index alone, not from a thousand rows that
carry their score sheets (measured with bench/reviewing/run.py). It takes the place of the index
on (round, reviewer, state), whose every use it serves."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T20:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a reviewer's queue read from the index on PostgreSQL"

NAME = "judging_assignment_round_reviewer_state_id"
REPLACED = "judging_assignment_round_reviewer_state"


class Assignment(Table, tablename="judging_assignment"):
    pass


def _postgres() -> bool:
    return Assignment._meta.db.engine_type == "postgres"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="judging", description=DESCRIPTION)

    async def create() -> None:
        if _postgres():
            await Assignment.raw(f'CREATE INDEX IF NOT EXISTS {NAME} ON judging_assignment '
                                 '("round", "reviewer", "state", "id")')
            await Assignment.raw(f"DROP INDEX IF EXISTS {REPLACED}")

    async def drop() -> None:
        if _postgres():
            await Assignment.raw(f'CREATE INDEX IF NOT EXISTS {REPLACED} ON judging_assignment '
                                 '("round", "reviewer", "state")')
            await Assignment.raw(f"DROP INDEX IF EXISTS {NAME}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
