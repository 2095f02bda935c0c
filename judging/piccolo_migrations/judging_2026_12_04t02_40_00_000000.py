from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T02:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "declared conflicts of interest: the table class is ConflictOfInterest (table judging_conflict kept)"


class ClassRenameManager(MigrationManager):
    """Renames table classes only: a rename that keeps the database table's name changes the
    migrations' record of the schema and runs no SQL (the data stays where it is)."""

    async def run(self, backwards: bool = False):
        self.rename_tables = [r for r in self.rename_tables if r.old_tablename != r.new_tablename]
        await super().run(backwards=backwards)


async def forwards():
    manager = ClassRenameManager(migration_id=ID, app_name="judging", description=DESCRIPTION)

    manager.rename_table(
        old_class_name="Tie",
        old_tablename="judging_conflict",
        new_class_name="ConflictOfInterest",
        new_tablename="judging_conflict",
        schema=None,
    )

    return manager
