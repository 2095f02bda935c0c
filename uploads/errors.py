"""Errors raised by the upload intake, each carrying the HTTP status and a bilingual message.

The application shell maps :class:`UploadError` to a response with one exception handler;
the status and both messages live here so every caller says the same thing, Thai first.
"""

from __future__ import annotations

__all__ = [
    "EmptyFile",
    "IncompleteUpload",
    "MalformedUpload",
    "UnsupportedFileType",
    "UploadError",
    "UploadTooLarge",
]

#: What an applicant may send, in words; repeated in the 415 message so the fix is obvious.
ALLOWED_TYPES_TH = "PDF, JPEG, PNG, WebP, MP4, DOCX, PPTX หรือ XLSX"
ALLOWED_TYPES_EN = "PDF, JPEG, PNG, WebP, MP4, DOCX, PPTX or XLSX"


class UploadError(Exception):
    """Base of every upload rejection: status code, machine code, Thai and English message."""

    status_code: int = 400
    code: str = "upload_error"

    def __init__(self, message_th: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_th = message_th
        self.message_en = message_en

    def as_dict(self) -> dict[str, str | int]:
        """A JSON-ready body, so handlers need not know the attributes."""
        return {
            "status_code": self.status_code,
            "code": self.code,
            "message_th": self.message_th,
            "message_en": self.message_en,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message_en={self.message_en!r})"


def format_mb(n_bytes: int) -> str:
    """Megabytes as people read them on the form (binary MB, no trailing .0)."""
    mb = n_bytes / (1024 * 1024)
    return f"{mb:.0f}" if mb >= 10 or mb == int(mb) else f"{mb:.1f}"


class UploadTooLarge(UploadError):
    """The file (or the whole request body) is over the configured limit."""

    status_code = 413
    code = "file_too_large"

    def __init__(self, max_bytes: int) -> None:
        limit = format_mb(max_bytes)
        super().__init__(
            f"ไฟล์มีขนาดใหญ่เกินกำหนด ขนาดสูงสุดที่รับได้คือ {limit} MB กรุณาลดขนาดไฟล์แล้วส่งใหม่",
            f"The file is too large. The maximum size is {limit} MB; please reduce it and try again.",
        )
        self.max_bytes = max_bytes


class UnsupportedFileType(UploadError):
    """The content is not on the allow-list, or does not match the file name's extension."""

    status_code = 415
    code = "unsupported_type"

    @classmethod
    def not_allowed(cls) -> UnsupportedFileType:
        """The content itself is not one of the accepted kinds."""
        return cls(
            f"ระบบไม่รองรับไฟล์ประเภทนี้ รับเฉพาะไฟล์ {ALLOWED_TYPES_TH}",
            f"This type of file is not accepted. Allowed: {ALLOWED_TYPES_EN}.",
        )

    @classmethod
    def extension_mismatch(cls, extension: str, detected: str) -> UnsupportedFileType:
        """The name says one thing, the content another: a renamed or disguised file."""
        return cls(
            f"นามสกุลไฟล์ ({extension}) ไม่ตรงกับเนื้อหาจริงของไฟล์ ({detected}) "
            "กรุณาตรวจสอบว่าเลือกไฟล์ถูกต้องและไม่ได้เปลี่ยนนามสกุลไฟล์เอง",
            f"The file name's extension ({extension}) does not match its content ({detected}). "
            "Please check you chose the right file and did not rename its extension.",
        )


class EmptyFile(UploadError):
    """Zero bytes arrived for the file part: usually a file picked but not readable."""

    status_code = 422
    code = "empty_file"

    def __init__(self) -> None:
        super().__init__(
            "ไฟล์ที่ส่งมาว่างเปล่า (0 ไบต์) กรุณาเลือกไฟล์ใหม่อีกครั้ง",
            "The file is empty (0 bytes). Please choose the file again.",
        )


class MalformedUpload(UploadError):
    """The request is not a well-formed multipart form with exactly one file field."""

    status_code = 400
    code = "malformed_multipart"

    def __init__(self, detail_th: str = "", detail_en: str = "") -> None:
        super().__init__(
            "รูปแบบคำขออัปโหลดไม่ถูกต้อง" + (f": {detail_th}" if detail_th else "")
            + " กรุณาลองส่งไฟล์ใหม่",
            "The upload request is malformed" + (f": {detail_en}" if detail_en else "")
            + ". Please try sending the file again.",
        )


class IncompleteUpload(UploadError):
    """The body stopped before the closing boundary: the connection dropped mid-upload."""

    status_code = 400
    code = "incomplete_upload"

    def __init__(self) -> None:
        super().__init__(
            "การอัปโหลดไม่สมบูรณ์ การเชื่อมต่อขาดหายระหว่างส่งไฟล์ ระบบไม่ได้บันทึกไฟล์นี้ "
            "กรุณาส่งใหม่อีกครั้ง",
            "The upload did not complete: the connection was lost while sending. "
            "Nothing was saved; please send the file again.",
        )
