from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawMembership(Table, tablename="membership", schema=None):
    pass


ID = "2026-12-04T02:33:07:000000"
VERSION = "1.38.0"
DESCRIPTION = "Accounts acting for an organisation before memberships were checked become its verified members"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def members_already_acting() -> None:
        # Accounts that acted for an organisation before memberships existed were bound to it
        # by sign-up or by an operator: they stay able to act, as verified members.
        await RawMembership.raw(
            'INSERT INTO "membership" ("user", "organisation", "state", "requested_at", "decided_at", '
            '"reason", "letter_name", "letter_size", "letter_sha256", "letter_check_state", "letter_check_message") '
            'SELECT "id", "organisation", \'verified\', "created_at", "created_at", '
            '\'in place before memberships were checked\', \'\', 0, \'\', \'\', \'\' '
            'FROM "app_user" WHERE "role" = \'applicant\' AND "organisation" IS NOT NULL'
        )

    manager.add_raw(members_already_acting)

    return manager
