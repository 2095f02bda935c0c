from datetime import UTC, datetime

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Integer, Text, Timestamptz
from piccolo.table import Table


class RawNotice(Table, tablename="privacy_notice", schema=None):
    version = Integer()
    text_th = Text()
    text_en = Text()
    published_at = Timestamptz()


ID = "2026-12-04T06:11:15:000000"
VERSION = "1.38.0"
DESCRIPTION = "The privacy notice the site showed until now is its version 1; one acceptance per person and version"

TEXT_TH = (
    "เราเก็บรวบรวมเฉพาะข้อมูลที่จำเป็นต่อการประกวด ได้แก่ ชื่อ อีเมลที่ใช้ในการทำงาน และหน่วยงานของท่าน "
    "รวมถึงผลงานที่หน่วยงานของท่านส่งเข้าประกวด ข้อมูลสำหรับติดต่อจะไม่ถูกเปิดเผยต่อสาธารณะ\n\n"
    "คะแนนรายบุคคลและรายชื่อของกรรมการผู้พิจารณาจะไม่ถูกเปิดเผย ผู้สมัครจะเห็นเฉพาะข้อเสนอแนะโดยรวมของคณะกรรมการเท่านั้น\n\n"
    "ข้อมูลส่วนบุคคลได้รับการดูแลตามพระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562 (PDPA) "
    "หากต้องการขอเข้าถึง แก้ไข หรือลบข้อมูลของท่าน กรุณาติดต่อผู้จัดการประกวดที่ สพร. เป็นลายลักษณ์อักษร")
TEXT_EN = (
    "We collect only what the contest needs: your name, work email and organisation, and the entries your "
    "organisation submits. Contact details are never published.\n\n"
    "Reviewers' individual scores and names are never published; applicants see the committee's aggregated "
    "feedback only.\n\n"
    "Personal data is handled under the Personal Data Protection Act B.E. 2562 (PDPA). To see, correct or "
    "delete your data, write to the contest organisers at DGA.")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def first_version() -> None:
        if not await RawNotice.exists():
            await RawNotice.insert(RawNotice(version=1, text_th=TEXT_TH, text_en=TEXT_EN,
                                             published_at=datetime.now(UTC)))

    async def one_acceptance_per_version() -> None:
        await RawNotice.raw('CREATE UNIQUE INDEX IF NOT EXISTS "notice_acceptance_user_version" '
                            'ON "notice_acceptance" ("user", "version")')

    manager.add_raw(first_version)
    manager.add_raw(one_acceptance_per_version)

    return manager
