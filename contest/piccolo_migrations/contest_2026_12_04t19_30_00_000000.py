"""A composite index Piccolo cannot declare on a table: the registry's provinces (code and names,
for every list's province filter) are read from the index alone, instead of from every
organisation's row (7,850 of them; measured with bench/pages/run.py)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T19:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the registry's provinces' index on organisation"

NAME = "organisation_province_names"


class Organisation(Table, tablename="organisation"):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def create() -> None:
        await Organisation.raw(f'CREATE INDEX IF NOT EXISTS {NAME} ON organisation '
                               '("province_code", "province_name_th", "province_name_en")')

    async def drop() -> None:
        await Organisation.raw(f"DROP INDEX IF EXISTS {NAME}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
