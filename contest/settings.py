"""Settings, read once from the environment.

This is the only module that reads ``os.environ``. Every default runs on one machine with
nothing else installed: SQLite under ``var/``, files on local disk, jobs in-process, mail to
``var/mail/``.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _var_dir() -> Path:
    return Path(os.environ.get("VAR_DIR", PROJECT_ROOT / "var")).resolve()


def _secret_key(var_dir: Path) -> str:
    """Use SECRET_KEY, or a key generated once and kept in var/ so restarts keep sessions."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def positive_int(name: str, default: int) -> int:
    """A whole-number setting of at least 1 (``default`` when unset); anything else stops the
    process at start-up, naming the setting."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str, setting: str = "TRUSTED_PROXIES") -> tuple[IPNetwork, ...]:
    """Comma-separated addresses or CIDR networks ("10.0.0.0/8, 192.168.1.7"); a wrong entry is
    refused at start-up rather than silently trusting nothing (or everything)."""
    networks = []
    for item in value.split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(f"{setting}: {item.strip()!r} is not an address or a CIDR network") from exc
    return tuple(networks)


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str
    redis_url: str | None
    storage_url: str
    secret_key: str
    base_url: str
    port: int
    host: str
    workers: int
    mail_dir: Path
    smtp_url: str | None
    mail_from: str
    demo_password: str
    demo_totp_secret: str
    clamd_url: str | None
    s3_endpoint_url: str | None
    s3_region: str
    s3_access_key_id: str | None
    s3_secret_access_key: str | None
    secure_cookies: bool
    session_days: int
    api_token_hours: int
    debug: bool
    db_pool: bool
    # Connections each process keeps open to PostgreSQL at most (its pool).
    db_pool_size: int = 10
    # Reverse proxies whose X-Forwarded-For is believed; every other peer is the client itself.
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # DGA Digital ID (OpenID Connect); unset issuer: no Digital ID log-in.
    oidc_issuer: str | None = None
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid email given_name family_name"
    # Addresses allowed to read /metrics without an administrator's token (the scraper).
    metrics_allow: tuple[IPNetwork, ...] = ()
    # Uploads are refused (507) while the storage volume has less free space than this, so the
    # database, its journal and the logs always have room, and deleting a file always works.
    storage_reserve_bytes: int = 512 * 1024 * 1024
    # Part files not written to for this long belong to no upload still arriving.
    upload_max_seconds: int = 3 * 3600


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    var_dir = _var_dir()
    redis_url = os.environ.get("REDIS_URL") or None
    port = int(os.environ.get("PORT", "8000"))
    return Settings(
        var_dir=var_dir,
        database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'contest.sqlite3'}",
        redis_url=redis_url,
        storage_url=os.environ.get("STORAGE_URL") or str(var_dir / "uploads"),
        secret_key=_secret_key(var_dir),
        base_url=(os.environ.get("BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
        port=port,
        host=os.environ.get("HOST", "127.0.0.1"),
        workers=int(os.environ.get("WEB_WORKERS", "1")),
        mail_dir=Path(os.environ.get("MAIL_DIR") or var_dir / "mail"),
        smtp_url=os.environ.get("SMTP_URL") or None,
        mail_from=os.environ.get("MAIL_FROM", "ท้องถิ่นดิจิทัล <no-reply@localhost>"),
        demo_password=os.environ.get("DEMO_PASSWORD", "demo-password"),
        # The demo's admins and committee members sign in with codes from this base32 key.
        demo_totp_secret=os.environ.get("DEMO_TOTP_SECRET", "DEMODEMODEMODEMODEMODEMODEMODEMO"),
        clamd_url=os.environ.get("CLAMD_URL") or None,
        s3_endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
        s3_region=os.environ.get("S3_REGION", "us-east-1"),
        s3_access_key_id=os.environ.get("S3_ACCESS_KEY_ID") or os.environ.get("AWS_ACCESS_KEY_ID"),
        s3_secret_access_key=os.environ.get("S3_SECRET_ACCESS_KEY")
        or os.environ.get("AWS_SECRET_ACCESS_KEY"),
        secure_cookies=_bool("SECURE_COOKIES", False),
        session_days=int(os.environ.get("SESSION_DAYS", "14")),
        api_token_hours=int(os.environ.get("API_TOKEN_HOURS", "12")),
        debug=_bool("DEBUG", False),
        db_pool=_bool("DB_POOL", True),
        db_pool_size=positive_int("DB_POOL_SIZE", 10),
        trusted_proxies=parse_networks(os.environ.get("TRUSTED_PROXIES", "")),
        oidc_issuer=(os.environ.get("OIDC_ISSUER") or "").rstrip("/") or None,
        oidc_client_id=os.environ.get("OIDC_CLIENT_ID", ""),
        oidc_client_secret=os.environ.get("OIDC_CLIENT_SECRET", ""),
        oidc_scopes=os.environ.get("OIDC_SCOPES") or "openid email given_name family_name",
        metrics_allow=parse_networks(os.environ.get("METRICS_ALLOW", ""), "METRICS_ALLOW"),
        storage_reserve_bytes=int(os.environ.get("STORAGE_RESERVE_MB", "512")) * 1024 * 1024,
        upload_max_seconds=int(os.environ.get("UPLOAD_MAX_SECONDS", str(3 * 3600))),
    )


PRIVATE_UMASK = 0o077


def keep_files_private() -> None:
    """Every file and folder this process creates (the SQLite database, uploads and their
    ``.part`` files, mail written to disk, the secret key) is readable by its owner only:
    0600 files, 0700 folders."""
    os.umask(PRIVATE_UMASK)
