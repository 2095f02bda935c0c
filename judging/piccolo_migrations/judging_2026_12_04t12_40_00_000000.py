"""A composite index Piccolo cannot declare on a table: the ranking's fingerprint (how many
sheets are submitted, the sum of their versions, the last change) is read from the index alone,
instead of from 21,000 rows that carry their score sheets (measured with bench/pages/run.py)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T12:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the ranking fingerprint's index on judging_assignment"

NAME = "judging_assignment_round_state_version"


class Assignment(Table, tablename="judging_assignment"):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="judging", description=DESCRIPTION)

    async def create() -> None:
        await Assignment.raw(f'CREATE INDEX IF NOT EXISTS {NAME} ON judging_assignment '
                             '("round", "state", "version", "updated_at")')

    async def drop() -> None:
        await Assignment.raw(f"DROP INDEX IF EXISTS {NAME}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
