"""The process's attachment store, built once from settings."""

from __future__ import annotations

from functools import lru_cache

from contest.settings import get_settings
from uploads.storage import Storage, make_storage


@lru_cache(maxsize=1)
def get_storage() -> Storage:
    s = get_settings()
    if s.storage_url.startswith("s3://"):
        return make_storage(s.storage_url, endpoint_url=s.s3_endpoint_url, region=s.s3_region,
                            access_key_id=s.s3_access_key_id, secret_access_key=s.s3_secret_access_key,
                            allow_http=bool(s.s3_endpoint_url and s.s3_endpoint_url.startswith("http://")))
    return make_storage(s.storage_url, reserve_bytes=s.storage_reserve_bytes)
