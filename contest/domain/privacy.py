"""Records of processing (บันทึกรายการกิจกรรมการประมวลผล, PDPA section 39): every kind of
personal data the system holds, why, on what legal basis, who can see it and how long it is
kept, in Thai and English.

This list is the one definition: the administrators' page, its CSV and JSON exports and the
unit test that every table with personal columns is listed all read ``RECORDS``. Retention
texts name the periods in force (``contest.domain.retention``), filled in when shown.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from contest.domain.retention import DEFAULT_ATTACHMENT_YEARS, GlobalRules

CONTROLLER_TH = "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน) (สพร.)"
CONTROLLER_EN = "Digital Government Development Agency (Public Organization) (DGA)"


class LegalBasis(StrEnum):
    public_task = "public_task"
    legitimate_interest = "legitimate_interest"
    legal_obligation = "legal_obligation"
    consent = "consent"


@dataclass(frozen=True)
class Bilingual:
    th: str
    en: str

    def text(self, language: str) -> str:
        return self.en if language == "en" else self.th


#: The PDPA section of each legal basis, and its name.
BASES: dict[LegalBasis, tuple[str, Bilingual]] = {
    LegalBasis.public_task: ("24(4)", Bilingual(
        "การปฏิบัติหน้าที่ในการดำเนินภารกิจเพื่อประโยชน์สาธารณะ หรือการใช้อำนาจรัฐ (มาตรา 24(4))",
        "Public task: a task carried out in the public interest or in the exercise of official authority "
        "(section 24(4))")),
    LegalBasis.legitimate_interest: ("24(5)", Bilingual(
        "ประโยชน์โดยชอบด้วยกฎหมาย (มาตรา 24(5))", "Legitimate interest (section 24(5))")),
    LegalBasis.legal_obligation: ("24(6)", Bilingual(
        "การปฏิบัติตามกฎหมาย (มาตรา 24(6))", "Legal obligation (section 24(6))")),
    LegalBasis.consent: ("19", Bilingual("ความยินยอม (มาตรา 19)", "Consent (section 19)")),
}


@dataclass(frozen=True)
class ProcessingRecord:
    """One kind of personal data: one row of the records of processing."""

    key: str
    activity: Bilingual
    subjects: Bilingual
    data: Bilingual
    purpose: Bilingual
    bases: tuple[LegalBasis, ...]
    recipients: Bilingual
    #: May name ``{token_days}``, ``{rate_limit_days}``, ``{mail_weeks}``, ``{attachment_years}``.
    retention: Bilingual
    #: Table name -> the columns holding this personal data.
    columns: dict[str, tuple[str, ...]]
    #: Where else it is kept (files, Redis).
    elsewhere: Bilingual = Bilingual("", "")


RECORDS: tuple[ProcessingRecord, ...] = (
    ProcessingRecord(
        key="accounts",
        activity=Bilingual("บัญชีผู้ใช้และการเข้าสู่ระบบ", "User accounts and signing in"),
        subjects=Bilingual("เจ้าหน้าที่ อปท. กรรมการ และผู้ดูแลระบบ", "LAO staff, committee members and administrators"),
        data=Bilingual("ชื่อ อีเมลที่ใช้ทำงาน บทบาท หน่วยงาน ภาษา ค่าแฮชของรหัสผ่าน (argon2id ไม่เก็บรหัสผ่าน) "
                       "กุญแจและรหัสสำรองของการยืนยันตัวตนสองขั้นตอน (เก็บเป็นค่าแฮช) ลิงก์ยืนยันอีเมลและตั้งรหัสผ่านใหม่",
                       "Name, work e-mail, role, organisation, language, password hash (argon2id; the password "
                       "is never stored), two-factor key and recovery codes (hashed), e-mail confirmation and "
                       "password reset links"),
        purpose=Bilingual("ระบุตัวผู้ใช้ ให้สิทธิ์ตามบทบาท และส่งข้อความเกี่ยวกับการประกวด",
                          "Identify each user, grant what their role allows, send contest messages"),
        bases=(LegalBasis.public_task,),
        recipients=Bilingual("เจ้าของบัญชี และผู้ดูแลระบบของ สพร.", "The account holder and DGA administrators"),
        retention=Bilingual("ตลอดอายุบัญชี ลิงก์ทางอีเมลลบเมื่อหมดอายุแล้ว {token_days} วัน",
                            "As long as the account exists; e-mail links are deleted {token_days} days after "
                            "they expire"),
        columns={"app_user": ("email", "name", "password_hash", "totp_secret", "role", "organisation", "locale"),
                 "recovery_code": ("user", "code_hash"),
                 "email_token": ("user", "token_hash")},
    ),
    ProcessingRecord(
        key="sessions",
        activity=Bilingual("เซสชัน โทเค็น API และอุปกรณ์ที่เข้าสู่ระบบ", "Sessions, API tokens and signed-in devices"),
        subjects=Bilingual("ผู้ใช้ทุกคนที่เข้าสู่ระบบ", "Every user who signs in"),
        data=Bilingual("หมายเลข IP โปรแกรมค้นเว็บ (user agent) เวลาที่ใช้งานล่าสุด ค่าแฮชของโทเค็น",
                       "IP address, browser (user agent), last use, the token's hash"),
        purpose=Bilingual("คงสถานะการเข้าสู่ระบบ แสดงรายการอุปกรณ์ให้เจ้าของบัญชี และตรวจพบการใช้งานที่ผิดปกติ",
                          "Keep people signed in, show the account holder their devices, notice misuse"),
        bases=(LegalBasis.legitimate_interest,),
        recipients=Bilingual("เจ้าของบัญชี (รายการอุปกรณ์ของตน)", "The account holder (their own devices)"),
        retention=Bilingual("ลบเมื่อหมดอายุหรือถูกยกเลิกแล้ว {token_days} วัน",
                            "Deleted {token_days} days after expiry or revocation"),
        columns={"auth_token": ("user", "ip_address", "user_agent", "token_hash", "last_seen_at")},
    ),
    ProcessingRecord(
        key="digital_id",
        activity=Bilingual("การเข้าสู่ระบบด้วย DGA Digital ID", "Signing in with DGA Digital ID"),
        subjects=Bilingual("ผู้ใช้ที่เลือกเข้าสู่ระบบด้วย Digital ID", "Users who choose to sign in with Digital ID"),
        data=Bilingual("ผู้ให้บริการยืนยันตัวตนและรหัสประจำตัวที่ผู้ให้บริการกำหนด (ไม่เก็บเลขประจำตัวประชาชน) "
                       "ชื่อและอีเมลที่ผู้ให้บริการส่งมาระหว่างการเข้าสู่ระบบ",
                       "The identity provider and the subject it assigns (no citizen ID is stored); the name "
                       "and e-mail the provider sends during a sign-in"),
        purpose=Bilingual("เข้าสู่ระบบโดยไม่ต้องใช้รหัสผ่าน และผูกตัวตนกับบัญชี",
                          "Sign in without a password and tie the identity to an account"),
        bases=(LegalBasis.public_task,),
        recipients=Bilingual("เจ้าของบัญชี และผู้ดูแลระบบของ สพร.", "The account holder and DGA administrators"),
        retention=Bilingual("ตัวตนที่ผูกแล้วเก็บตลอดอายุบัญชี ข้อมูลระหว่างการเข้าสู่ระบบลบหลังเริ่มต้น {token_days} วัน",
                            "A linked identity as long as the account; a sign-in's data is deleted "
                            "{token_days} days after it started"),
        columns={"identity": ("key", "issuer", "subject", "user"),
                 "digital_id_login": ("issuer", "subject", "email", "name")},
    ),
    ProcessingRecord(
        key="memberships",
        activity=Bilingual("การเป็นผู้แทนหน่วยงานและหนังสือมอบหมาย", "Acting for an organisation, authorisation letters"),
        subjects=Bilingual("เจ้าหน้าที่ อปท. และผู้บริหารที่ลงนามในหนังสือมอบหมาย",
                           "LAO staff, and the executives who sign authorisation letters"),
        data=Bilingual("คำขอเข้าร่วมหน่วยงาน ผลการพิจารณาและเหตุผล ผู้พิจารณา หนังสือมอบหมาย (PDF มีชื่อและลายมือชื่อ)",
                       "Requests to join an organisation, the decision, its reason and who decided, the "
                       "authorisation letter (a PDF with names and signatures)"),
        purpose=Bilingual("ยืนยันว่าผู้ใช้มีอำนาจทำการแทน อปท. ก่อนส่งผลงาน",
                          "Verify that a user may act for the LAO before it submits entries"),
        bases=(LegalBasis.public_task,),
        recipients=Bilingual("ผู้ดูแลระบบของ สพร. และสมาชิกที่ได้รับการยืนยันของหน่วยงานเดียวกัน",
                             "DGA administrators and the organisation's verified members"),
        retention=Bilingual("ตลอดระยะเวลาที่เก็บผลงานที่หน่วยงานส่ง เป็นหลักฐานของอำนาจทำการแทน",
                            "As long as the entries the organisation submitted are kept, as evidence of "
                            "authority"),
        columns={"membership": ("user", "organisation", "decided_by", "reason", "letter_name", "letter_key",
                                "letter_sha256")},
        elsewhere=Bilingual("ที่จัดเก็บไฟล์ (หนังสือมอบหมาย)", "File storage (the letters)"),
    ),
    ProcessingRecord(
        key="adoptions",
        activity=Bilingual("การขยายผลนวัตกรรม", "Adoption of awarded innovations"),
        subjects=Bilingual("เจ้าหน้าที่ อปท. ที่ขอนำนวัตกรรมไปใช้ และที่ตอบคำขอ",
                           "LAO staff who ask to adopt an innovation, and those who answer"),
        data=Bilingual("ผู้ขอและผู้ตอบ (ชื่อและอีเมลซึ่งแสดงต่ออีกฝ่ายเมื่อตกลง) ข้อความของทั้งสองฝ่าย",
                       "Who asked and who answered (their name and e-mail, shown to the other side once "
                       "accepted), and both sides' messages"),
        purpose=Bilingual("ให้หน่วยงานที่ต้องการนำนวัตกรรมไปใช้ติดต่อหน่วยงานเจ้าของได้",
                          "Let an organisation that wants to adopt an innovation reach the one that built it"),
        bases=(LegalBasis.consent, LegalBasis.public_task),
        recipients=Bilingual("สมาชิกที่ได้รับการยืนยันของทั้งสองหน่วยงาน และผู้ดูแลระบบของ สพร. "
                             "ข้อมูลเปิดเผยเฉพาะชื่อหน่วยงาน ไม่มีข้อมูลบุคคล",
                             "The verified members of both organisations and DGA administrators; the open "
                             "data names organisations only, never a person"),
        retention=Bilingual("เก็บไว้เป็นบันทึกการขยายผลของหน่วยงาน", "Kept as the organisations' record of the "
                            "adoption"),
        columns={"adoption": ("requested_by", "answered_by", "message", "answer_message")},
    ),
    ProcessingRecord(
        key="entry_contacts",
        activity=Bilingual("ผู้ประสานงานของผลงาน", "Entry contact persons"),
        subjects=Bilingual("ผู้ประสานงานที่ อปท. ระบุ", "The contact person the LAO names"),
        data=Bilingual("ชื่อ อีเมล และโทรศัพท์ของผู้ประสานงาน ผู้สร้างและผู้ส่งผลงาน สำเนาในใบรับ",
                       "The contact person's name, e-mail and phone; who created and submitted the entry; "
                       "the copy on each receipt"),
        purpose=Bilingual("ติดต่อเรื่องผลงานและการประกวด", "Contact the organisation about its entry"),
        bases=(LegalBasis.public_task,),
        recipients=Bilingual("สมาชิกของหน่วยงานและผู้ดูแลระบบของ สพร. กรรมการไม่เห็น ไม่เปิดเผยต่อสาธารณะ",
                             "The organisation's members and DGA administrators; not reviewers; never published"),
        retention=Bilingual("เก็บพร้อมผลงานเป็นบันทึกของการประกวด", "Kept with the entry, as the contest's record"),
        columns={"entry": ("contact_name", "contact_email", "contact_phone", "created_by"),
                 "receipt": ("snapshot", "submitted_by")},
    ),
    ProcessingRecord(
        key="attachments",
        activity=Bilingual("ไฟล์แนบของผลงาน", "Entry attachments"),
        subjects=Bilingual("บุคคลที่ปรากฏในเอกสาร ภาพ หรือวิดีโอของผลงาน และผู้อัปโหลด",
                           "People shown in an entry's documents, images or videos, and the uploader"),
        data=Bilingual("เนื้อหาของไฟล์ ชื่อไฟล์ ผู้อัปโหลด ค่า SHA-256",
                       "The files' contents, their names, who uploaded them, their SHA-256"),
        purpose=Bilingual("พิจารณาตัดสินผลงาน และเผยแพร่ผลงานที่ได้รับรางวัลเมื่อหน่วยงานยินยอม",
                          "Judge the entries; show awarded ones where the organisation consented"),
        bases=(LegalBasis.public_task, LegalBasis.consent),
        recipients=Bilingual("สมาชิกของหน่วยงาน ผู้ดูแลระบบของ สพร. และกรรมการที่ได้รับมอบหมาย",
                             "The organisation's members, DGA administrators and the assigned reviewers"),
        retention=Bilingual("ไฟล์ของผลงานที่ไม่ผ่านการคัดเลือกลบเมื่อประกาศผลแล้ว {attachment_years} ปี "
                            "(กำหนดได้ในแต่ละปีการประกวด) ใบรับยังคงแสดงชื่อ ขนาด และค่า SHA-256 "
                            "ไฟล์ของผลงานที่ผ่านการคัดเลือกและได้รับรางวัลเก็บเป็นบันทึกของรางวัล",
                            "Files of entries that were not shortlisted are deleted {attachment_years} years "
                            "after the results are published (set per edition); their receipts still show "
                            "each name, size and SHA-256. Files of shortlisted and awarded entries are kept "
                            "as the award's record"),
        columns={"attachment": ("name", "storage_key", "uploaded_by", "sha256")},
        elsewhere=Bilingual("ที่จัดเก็บไฟล์", "File storage"),
    ),
    ProcessingRecord(
        key="judging",
        activity=Bilingual("คะแนนและความเห็นของกรรมการ", "Committee scores and comments"),
        subjects=Bilingual("กรรมการกลั่นกรองและกรรมการตัดสิน", "Screening committee and final panel members"),
        data=Bilingual("การเป็นกรรมการ จังหวัดของกรรมการ การมีส่วนได้เสียและเหตุผล คะแนน ความเห็น "
                       "เหตุผลการถอนตัว การลงนามรับรองผล",
                       "Committee membership, the member's province, declared conflicts of interest and "
                       "their reasons, scores, comments, recusal reasons, signatures of the results"),
        purpose=Bilingual("ตัดสินอย่างเป็นธรรมและตรวจสอบได้", "Judge fairly and accountably"),
        bases=(LegalBasis.public_task,),
        recipients=Bilingual("ผู้ดูแลระบบของ สพร. และกรรมการเจ้าของคะแนน ผู้สมัครเห็นเฉพาะข้อเสนอแนะโดยรวม "
                             "ไม่เปิดเผยชื่อและคะแนนรายบุคคล",
                             "DGA administrators and the member who scored; applicants see only the "
                             "committee's aggregated feedback; names and individual scores are never published"),
        retention=Bilingual("เก็บพร้อมผลการตัดสินของปีการประกวด", "Kept with the edition's results"),
        columns={"judging_member": ("user", "province_code", "added_by"),
                 "judging_conflict": ("user", "reason", "declared_by"),
                 "judging_assignment": ("reviewer", "scores", "comment", "recuse_reason"),
                 "judging_calibration_sheet": ("reviewer", "scores", "comment"),
                 "judging_signature": ("user",)},
    ),
    ProcessingRecord(
        key="staff_actions",
        activity=Bilingual("ผู้ดำเนินการของผู้ดูแลระบบ", "Who took administrative decisions"),
        subjects=Bilingual("ผู้ดูแลระบบและกรรมการ", "Administrators and committee members"),
        data=Bilingual("ผู้เสนอและผู้อนุมัติ (หลักสี่ตา) ผู้ขยายกำหนดส่ง ผู้ประกาศผล ผู้ตัดสินลำดับที่เท่ากัน "
                       "ผู้เปลี่ยนผล และเหตุผล",
                       "Who proposed and who approved (four eyes), who extended a deadline, published "
                       "results, ordered ties or overrode an outcome, and their reasons"),
        purpose=Bilingual("ความรับผิดชอบและการตรวจสอบการตัดสินใจ", "Accountability for every decision"),
        bases=(LegalBasis.public_task,),
        recipients=Bilingual("ผู้ดูแลระบบของ สพร.", "DGA administrators"),
        retention=Bilingual("เก็บพร้อมบันทึกที่เกี่ยวข้อง", "Kept with the record it belongs to"),
        columns={"pending_action": ("proposed_by", "decided_by", "payload", "private", "reason"),
                 "deadline_extension": ("granted_by", "reason"),
                 "entry": ("eligibility_reason",),
                 "result_snapshot": ("published_by",),
                 "judging_round": ("created_by",),
                 "judging_tie_decision": ("decided_by", "reason"),
                 "judging_decision": ("decided_by", "override_reason"),
                 "judging_presentation": ("updated_by", "note"),
                 "judging_calibration_entry": ("marked_by",),
                 "judging_calibration_notes": ("updated_by", "note"),
                 "privacy_notice": ("proposed_by", "published_by")},
    ),
    ProcessingRecord(
        key="notice_and_consent",
        activity=Bilingual("การรับทราบประกาศความเป็นส่วนตัวและความยินยอมให้เผยแพร่ผลงาน",
                           "Privacy notice acceptance and consent to publish entries"),
        subjects=Bilingual("ผู้ใช้ทุกคน และเจ้าหน้าที่ อปท. ที่ให้หรือถอนความยินยอม",
                           "Every user, and the LAO staff who give or withdraw consent"),
        data=Bilingual("ฉบับของประกาศที่รับทราบ เวลาและช่องทาง ผู้ให้หรือถอนความยินยอม เวลาและช่องทาง",
                       "Which notice version was accepted, when and how; who gave or withdrew consent, when "
                       "and how"),
        purpose=Bilingual("แสดงได้ว่าผู้ใช้ได้รับแจ้งและผลงานเผยแพร่ตามความยินยอม",
                          "Show that people were informed and that entries are published only with consent"),
        bases=(LegalBasis.legal_obligation, LegalBasis.consent),
        recipients=Bilingual("เจ้าของบัญชี สมาชิกของหน่วยงาน และผู้ดูแลระบบของ สพร.",
                             "The account holder, the organisation's members and DGA administrators"),
        retention=Bilingual("ตลอดอายุบัญชีและผลงานที่เกี่ยวข้อง", "As long as the account and the entry they concern"),
        columns={"notice_acceptance": ("user", "version", "accepted_at", "how"),
                 "entry_consent": ("granted", "given_by", "given_at", "how")},
    ),
    ProcessingRecord(
        key="audit",
        activity=Bilingual("บันทึกการตรวจสอบ (audit trail)", "Audit trail"),
        subjects=Bilingual("ผู้ใช้ทุกคนที่เปลี่ยนแปลงข้อมูล", "Every user who changes something"),
        data=Bilingual("ผู้กระทำ (รหัสและอีเมล) การกระทำ เวลา ค่าก่อนและหลังการเปลี่ยนแปลง "
                       "ข้อมูลส่วนบุคคลเข้าสู่ค่าแฮชเป็นค่าผูกมัด (salted SHA-256) เท่านั้น จึงลบได้โดยห่วงโซ่ยังตรวจสอบได้",
                       "The actor (id and e-mail), the action, its time, the values before and after; "
                       "personal values enter the hash only as salted SHA-256 commitments, so they can be "
                       "erased and the chain still verifies"),
        purpose=Bilingual("พิสูจน์ได้ว่าบันทึกของการประกวดไม่ถูกแก้ไข (ห่วงโซ่ค่าแฮช)",
                          "Prove the contest's record was not altered (a hash chain)"),
        bases=(LegalBasis.public_task, LegalBasis.legitimate_interest),
        recipients=Bilingual("ผู้ดูแลระบบของ สพร.", "DGA administrators"),
        retention=Bilingual("เพิ่มได้อย่างเดียว เก็บตลอดระยะเวลาที่เก็บบันทึกของการประกวด",
                            "Append-only; kept as long as the contest's records"),
        columns={"audit_event": ("actor_id", "actor_email", "before", "after")},
    ),
    ProcessingRecord(
        key="appeals",
        activity=Bilingual("การอุทธรณ์ผลการพิจารณาและการแก้ไขผลการประกาศ", "Appeals and corrections of published results"),
        subjects=Bilingual("เจ้าหน้าที่ อปท. ที่ยื่นอุทธรณ์ และผู้ดูแลระบบที่ลงนามในคำวินิจฉัย",
                           "LAO staff who appeal and the administrators who sign the decision"),
        data=Bilingual("ผู้ยื่น เหตุผลของการอุทธรณ์และเอกสารประกอบ (เป็นบันทึกขององค์กร) คำวินิจฉัยและเหตุผล "
                       "ผู้ลงนามทั้งสองคน ผู้แก้ไขผลการประกาศ",
                       "Who appealed, the appeal's reasons and supporting document (the organisation's record), "
                       "the decision and its reason, both signers, who corrected the published results"),
        purpose=Bilingual("พิจารณาอุทธรณ์อย่างเป็นธรรม แจ้งคำวินิจฉัยแก่องค์กร และแสดงได้ว่าผลการประกาศแก้ไขอย่างไร",
                          "Decide appeals fairly, tell the organisation the decision, show how published results "
                          "were corrected"),
        bases=(LegalBasis.public_task,),
        recipients=Bilingual("เจ้าหน้าที่ขององค์กรเจ้าของผลงาน และผู้ดูแลระบบของ สพร.",
                             "The entry's organisation's staff and DGA administrators"),
        retention=Bilingual("เก็บตลอดระยะเวลาที่เก็บบันทึกของการประกวด", "Kept as long as the contest's records"),
        columns={"appeal": ("reason", "lodged_by", "attachment_name", "attachment_key", "proposed_reason",
                            "first_signed_by", "second_signed_by"),
                 "result_correction": ("corrected_by",)},
    ),
    ProcessingRecord(
        key="erasure_requests",
        activity=Bilingual("คำขอลบข้อมูลส่วนบุคคล", "Requests to erase personal data"),
        subjects=Bilingual("ผู้ใช้ที่ขอให้ลบข้อมูลของตน", "Users who ask for their data to be erased"),
        data=Bilingual("ผู้ขอ เหตุผลที่ให้ไว้ ผลการพิจารณา เหตุผลตามกฎหมายและข้อความถึงผู้ขอ ผู้พิจารณา นามแฝงที่ใช้แทน",
                       "Who asked, the reason they gave, the decision, the lawful reason and the note to "
                       "them, who decided, the pseudonym that replaced them"),
        purpose=Bilingual("ปฏิบัติตามสิทธิของเจ้าของข้อมูล (มาตรา 33) และแสดงได้ว่าได้ปฏิบัติแล้ว",
                          "Honour the data subject's right to erasure (section 33) and show it was honoured"),
        bases=(LegalBasis.legal_obligation,),
        recipients=Bilingual("ผู้ดูแลระบบของ สพร. และผู้ขอ", "DGA administrators and the person who asked"),
        retention=Bilingual("เก็บเป็นหลักฐานการปฏิบัติตามคำขอ หลังการลบ ผู้ขอปรากฏเป็นนามแฝงเท่านั้น",
                            "Kept as evidence the request was handled; after erasure the person appears only "
                            "as a pseudonym"),
        columns={"erasure_request": ("user", "reason", "decision_reason", "decided_by")},
    ),
    ProcessingRecord(
        key="mail",
        activity=Bilingual("อีเมลที่ระบบส่ง", "Mail the system sends"),
        subjects=Bilingual("ผู้รับอีเมล", "The people mailed"),
        data=Bilingual("ที่อยู่ผู้รับ หัวเรื่อง และเนื้อความ (อาจมีลิงก์ยืนยันหรือตั้งรหัสผ่านใหม่)",
                       "The address, subject and text (it may hold confirmation or reset links)"),
        purpose=Bilingual("แจ้งใบรับ ผลการพิจารณา และลิงก์ของบัญชี", "Send receipts, decisions and account links"),
        bases=(LegalBasis.public_task,),
        recipients=Bilingual("ผู้รับ และผู้ดูแลเซิร์ฟเวอร์", "The addressee and the server's operators"),
        retention=Bilingual("ไฟล์อีเมลลบเมื่อเขียนแล้ว {mail_weeks} สัปดาห์ งานในคิวส่งเก็บเป็นบันทึกว่าได้ส่งแล้ว",
                            "Mail files are deleted {mail_weeks} weeks after they were written; outbox jobs "
                            "stay as the record of what was sent"),
        columns={"outbox": ("args",)},
        elsewhere=Bilingual("โฟลเดอร์ MAIL_DIR (var/mail)", "The MAIL_DIR folder (var/mail)"),
    ),
    ProcessingRecord(
        key="rate_limits",
        activity=Bilingual("การจำกัดจำนวนครั้ง", "Rate limits"),
        subjects=Bilingual("ผู้ที่พยายามเข้าสู่ระบบหรือขออีเมล", "Anyone who tries to sign in or asks for mail"),
        data=Bilingual("อีเมลและหมายเลข IP ในกุญแจของตัวนับ จำนวนครั้ง",
                       "The e-mail and IP address in a counter's key, the number of attempts"),
        purpose=Bilingual("ป้องกันการเดารหัสผ่านและการส่งอีเมลจำนวนมาก", "Stop password guessing and mail floods"),
        bases=(LegalBasis.legitimate_interest,),
        recipients=Bilingual("ไม่มีผู้ใดเห็น ระบบใช้เท่านั้น", "Nobody; the system alone"),
        retention=Bilingual("ลบเมื่อครบช่วงเวลาของตัวนับ อย่างช้า {rate_limit_days} วันหลังจากนั้น "
                            "ใน Redis หมดอายุเอง",
                            "Deleted when the counter's window ends, at the latest {rate_limit_days} days "
                            "after; Redis expires its own"),
        columns={"rate_counter": ("key",)},
        elsewhere=Bilingual("Redis (เมื่อกำหนด REDIS_URL)", "Redis (with REDIS_URL)"),
    ),
    ProcessingRecord(
        key="certificate_signatory",
        activity=Bilingual("ผู้ลงนามในเกียรติบัตร", "The signatory of the award certificates"),
        subjects=Bilingual("ผู้บริหารของ สพร. ที่ลงนามในเกียรติบัตร", "The DGA executive who signs the certificates"),
        data=Bilingual("ชื่อ ตำแหน่ง และภาพลายมือชื่อ ผู้เสนอและผู้อนุมัติ",
                       "Name, position and the signature image; who proposed and who approved them"),
        purpose=Bilingual("พิมพ์บนเกียรติบัตรที่มอบให้แก่หน่วยงานที่ได้รับรางวัล",
                          "Print them on the certificates given to the awarded organisations"),
        bases=(LegalBasis.public_task,),
        recipients=Bilingual("ผู้ดูแลระบบ และหน่วยงานที่ได้รับเกียรติบัตร (พิมพ์อยู่บนเกียรติบัตร)",
                             "Administrators, and the awarded organisations (printed on their certificates)"),
        retention=Bilingual("เก็บไว้กับรุ่นการประกวดเป็นหลักฐานของเกียรติบัตรที่ออกแล้ว",
                            "Kept with the edition as the record of the certificates issued"),
        columns={"certificate_signatory": ("signatory_name", "position_th", "position_en", "signature",
                                           "proposed_by", "approved_by")},
    ),
)

#: Tables that hold no personal data, and why.
NOT_PERSONAL: dict[str, str] = {
    "organisation": "LAOs are juristic persons: the public registry",
    "edition": "an edition's timeline, limits and settings",
    "judging_criterion": "a round's rubric",
    "judging_round_entry": "which entries a round judges",
    "entry_tally": "how many entries per edition, state, category, province and kind: counts only",
}


def retention_values(rules: GlobalRules | None = None) -> dict[str, int]:
    rules = rules or GlobalRules.from_environment()
    return {"token_days": rules.token_days, "rate_limit_days": rules.rate_limit_days,
            "mail_weeks": rules.mail_weeks, "attachment_years": DEFAULT_ATTACHMENT_YEARS}


def record_rows(language: str, rules: GlobalRules | None = None) -> list[dict[str, str]]:
    """The records in one language, retention periods filled in: what the page shows."""
    values = retention_values(rules)
    return [{"key": r.key, "activity": r.activity.text(language), "subjects": r.subjects.text(language),
             "data": r.data.text(language), "purpose": r.purpose.text(language),
             "bases": "; ".join(BASES[b][1].text(language) for b in r.bases),
             "recipients": r.recipients.text(language),
             "retention": r.retention.text(language).format(**values),
             "stored_in": ", ".join([*sorted(r.columns), *([r.elsewhere.text(language)] if r.elsewhere.th else [])])}
            for r in RECORDS]


EXPORT_FIELDS = ("activity", "subjects", "data", "purpose", "bases", "recipients", "retention")


def export_json(rules: GlobalRules | None = None) -> dict[str, Any]:
    """Both languages, every record: the JSON export."""
    th, en = record_rows("th", rules), record_rows("en", rules)
    records = []
    for record, row_th, row_en in zip(RECORDS, th, en, strict=True):
        item: dict[str, Any] = {"key": record.key}
        for name in EXPORT_FIELDS:
            item[f"{name}_th"], item[f"{name}_en"] = row_th[name], row_en[name]
        item["legal_bases"] = [{"basis": b.value, "pdpa_section": BASES[b][0]} for b in record.bases]
        item["tables"] = {table: list(cols) for table, cols in record.columns.items()}
        item["elsewhere_th"], item["elsewhere_en"] = record.elsewhere.th, record.elsewhere.en
        records.append(item)
    return {"controller_th": CONTROLLER_TH, "controller_en": CONTROLLER_EN,
            "retention": retention_values(rules), "records": records}


def export_csv(rules: GlobalRules | None = None) -> str:
    """The same as a spreadsheet: one row per record, Thai and English columns (UTF-8 with BOM,
    so Excel reads the Thai)."""
    data = export_json(rules)
    out = io.StringIO()
    writer = csv.writer(out)
    columns = ["key", *(f"{n}_{lang}" for n in EXPORT_FIELDS for lang in ("th", "en")), "pdpa_sections", "tables",
               "elsewhere_th", "elsewhere_en"]
    writer.writerow(columns)
    for item in data["records"]:
        writer.writerow([item["key"], *(item[f"{n}_{lang}"] for n in EXPORT_FIELDS for lang in ("th", "en")),
                         "; ".join(b["pdpa_section"] for b in item["legal_bases"]),
                         json.dumps(item["tables"], ensure_ascii=False), item["elsewhere_th"], item["elsewhere_en"]])
    return "\ufeff" + out.getvalue()
