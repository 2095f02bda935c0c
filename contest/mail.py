"""Outgoing mail. Embedded default: each message is written to ``var/mail/`` as an .eml file
(and logged), named by its message id so a re-run job never writes it twice. With
``SMTP_URL`` (smtp://user:pass@host:port, or smtps://) it is sent over SMTP; SMTP cannot be
told "only once", so a job re-run after a crash may send again, but with the same Message-ID
(``stable_message_id``), which lets mail systems and readers recognise the duplicate."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlparse

from contest.settings import get_settings

log = logging.getLogger("contest.mail")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


def mail_domain() -> str:
    """The domain that mail comes from: MAIL_FROM's, else BASE_URL's host."""
    settings = get_settings()
    _, address = parseaddr(settings.mail_from)
    domain = address.rpartition("@")[2].strip().lower() if "@" in address else ""
    return domain or urlparse(settings.base_url).hostname or "localhost"


def stable_message_id(job_key: str) -> str:
    """The Message-ID of the mail an outbox job sends: the job's own key at the mail domain, the
    same on every run of that job, so an SMTP re-send after a crash (sent, but not yet marked
    done) is a duplicate the receiving side can recognise and drop. A tag derived from
    SECRET_KEY tells installations apart: a staging site mailing from the same domain, whose
    outbox counts from 1 too, must not produce the production site's ids."""
    local = re.sub(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]", "-", job_key).strip(".") or "mail"
    site = hmac.new(get_settings().secret_key.encode(), b"message-id", hashlib.sha256).hexdigest()[:12]
    return f"<{local}.{site}@{mail_domain()}>"


def build_message(mail: Mail, message_id: str) -> EmailMessage:
    settings = get_settings()
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = stable_message_id(message_id)
    msg.set_content(mail.text, charset="utf-8")
    return msg


def _write_file(directory: Path, message_id: str, msg: EmailMessage) -> Path | None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{message_id}.eml"
    if path.exists():
        return None  # already delivered by an earlier run of the same job
    tmp = directory / f".{message_id}.tmp"
    tmp.write_bytes(bytes(msg))
    os.replace(tmp, path)
    return path


def _send_smtp(url: str, msg: EmailMessage) -> None:
    parsed = urlparse(url)
    cls = smtplib.SMTP_SSL if parsed.scheme == "smtps" else smtplib.SMTP
    with cls(parsed.hostname or "localhost", parsed.port or (465 if parsed.scheme == "smtps" else 25),
             timeout=30) as smtp:
        if parsed.scheme == "smtp+starttls":
            smtp.starttls()
        if parsed.username:
            smtp.login(unquote(parsed.username), unquote(parsed.password or ""))
        smtp.send_message(msg)


async def deliver(mail: Mail, *, message_id: str) -> None:
    """Deliver one message. ``message_id`` must be stable across retries of the same job."""
    settings = get_settings()
    msg = build_message(mail, message_id)
    if settings.smtp_url:
        await asyncio.to_thread(_send_smtp, settings.smtp_url, msg)
        log.info("mail sent to %s: %s", mail.to, mail.subject)
        return
    path = await asyncio.to_thread(_write_file, settings.mail_dir, message_id, msg)
    if path is not None:
        # The body carries confirmation and reset links: it stays in the file, never in the log.
        log.warning("mail to %s: %s (written to %s)", mail.to, mail.subject, path)
