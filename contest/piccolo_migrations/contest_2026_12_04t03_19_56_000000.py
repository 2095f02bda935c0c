from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawUser(Table, tablename="app_user", schema=None):
    pass


ID = "2026-12-04T03:19:56:000000"
VERSION = "1.38.0"
DESCRIPTION = "Administrators before this version count as administrators since their account was made"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def admins_since_created() -> None:
        await RawUser.raw('UPDATE "app_user" SET "admin_since" = "created_at" '
                          'WHERE "role" = \'admin\' AND "admin_since" IS NULL')

    manager.add_raw(admins_since_created)

    return manager
