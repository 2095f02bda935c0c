from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawOrganisation(Table, tablename="organisation", schema=None):
    pass


ID = "2026-12-04T05:51:21:000000"
VERSION = "1.38.0"
DESCRIPTION = "Organisations get their search text without tone marks, their name key and their Thai order key"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def fill_search_columns() -> None:
        from contest.domain.organisations import search_columns

        rows = await RawOrganisation.raw(
            'SELECT "id", "code", "name_th", "name_en", "district_name_th", "province_name_th" FROM "organisation"')
        for row in rows:
            values = search_columns(code=row["code"], name_th=row["name_th"], name_en=row["name_en"],
                                    district_name_th=row["district_name_th"],
                                    province_name_th=row["province_name_th"])
            await RawOrganisation.raw(
                'UPDATE "organisation" SET "search_text" = {}, "name_key" = {}, "sort_key" = {} WHERE "id" = {}',
                values["search_text"], values["name_key"], values["sort_key"], row["id"])

    manager.add_raw(fill_search_columns)

    return manager
