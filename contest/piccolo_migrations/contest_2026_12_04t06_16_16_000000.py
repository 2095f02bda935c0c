from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T06:16:16:000000"
VERSION = "1.38.0"
DESCRIPTION = "Seal the personal data of the audit events written before it was sealed, and re-chain them"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def seal() -> None:
        from contest.db import atomic
        from contest.domain.audit import SYSTEM, append_event, seal_existing_chain

        async with atomic():
            report = await seal_existing_chain()
            if report["events"]:
                # The old head is kept on record: anyone who noted it can see where it went.
                await append_event(actor=SYSTEM, action="audit.sealed", subject_type="audit",
                                   subject_id="chain", after=report)

    manager.add_raw(seal)

    return manager
