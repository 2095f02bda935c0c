from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawAttachment(Table, tablename="attachment", schema=None):
    pass


ID = "2026-12-04T05:36:34:000000"
VERSION = "1.38.0"
DESCRIPTION = "A unique index on attachment.upload_key (SQLite cannot add a UNIQUE column in place)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def unique_upload_key() -> None:
        await RawAttachment.raw(
            'CREATE UNIQUE INDEX IF NOT EXISTS attachment_upload_key ON "attachment" ("upload_key")')

    manager.add_raw(unique_upload_key)

    return manager
