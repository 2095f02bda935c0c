"""Piccolo configuration: the engine comes from ``DATABASE_URL`` (see contest.settings)."""

from piccolo.conf.apps import AppRegistry

from contest.db import make_engine
from contest.settings import get_settings

DB = make_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(apps=["contest.piccolo_app", "judging.piccolo_app"])
