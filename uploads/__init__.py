"""Attachment intake, storage, checks and serving.

A leaf package: it knows nothing of contests or judging and reads no environment; settings
(storage URL, size limit, clamd address) are passed in by the application shell.
"""

from uploads.checks import CheckResult, CheckState, CheckStates, ScanUnavailable, check_file
from uploads.errors import (
    EmptyFile,
    IncompleteUpload,
    MalformedUpload,
    UnsupportedFileType,
    UploadError,
    UploadTooLarge,
)
from uploads.s3 import S3Storage
from uploads.serving import file_response
from uploads.storage import LocalStorage, Storage, StorageError, make_storage
from uploads.streaming import ReceivedUpload, receive_upload

__all__ = [
    "CheckResult",
    "CheckState",
    "CheckStates",
    "EmptyFile",
    "IncompleteUpload",
    "LocalStorage",
    "MalformedUpload",
    "ReceivedUpload",
    "S3Storage",
    "ScanUnavailable",
    "Storage",
    "StorageError",
    "UnsupportedFileType",
    "UploadError",
    "UploadTooLarge",
    "check_file",
    "file_response",
    "make_storage",
    "receive_upload",
]
