"""Piccolo app config for the judging tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from judging.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="judging",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "piccolo_migrations"),
    table_classes=ALL_TABLES,
    migration_dependencies=["contest.piccolo_app"],
    commands=[],
)
