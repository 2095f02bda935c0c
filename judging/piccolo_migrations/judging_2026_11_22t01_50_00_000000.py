"""Composite indexes Piccolo cannot declare on a table: progress and the queues group a round's
assignments by reviewer or by entry and state, answered from the index alone
(measured with bench/ranking/db.py)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-22T01:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes on judging_assignment"

INDEXES = (
    ("judging_assignment_round_reviewer_state", '"round", "reviewer", "state"'),
    ("judging_assignment_round_entry_state", '"round", "entry", "state"'),
)


class Assignment(Table, tablename="judging_assignment"):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="judging", description=DESCRIPTION)

    async def create() -> None:
        for name, columns in INDEXES:
            await Assignment.raw(f"CREATE INDEX IF NOT EXISTS {name} ON judging_assignment ({columns})")

    async def drop() -> None:
        for name, _ in INDEXES:
            await Assignment.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
