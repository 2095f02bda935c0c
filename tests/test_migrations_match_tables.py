"""The migrations build exactly the tables the code declares: a column added to ``tables.py``
without its migration (or the other way round) fails here, not on a production database."""

from __future__ import annotations

import asyncio
from itertools import chain

import pytest
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.conf.apps import AppConfig

from contest.piccolo_app import APP_CONFIG as CONTEST
from judging.piccolo_app import APP_CONFIG as JUDGING

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("app_config", [CONTEST, JUDGING], ids=lambda c: c.app_name)
def test_migrations_and_tables_agree(app_config: AppConfig) -> None:
    altered = asyncio.run(AutoMigrationManager(auto_input="y").get_alter_statements(app_config=app_config))
    statements = list(chain.from_iterable(a.statements for a in altered))
    assert statements == [], "tables.py and the migrations differ; add a migration:\n" + "\n".join(statements)


@pytest.mark.parametrize("app_config", [CONTEST, JUDGING], ids=lambda c: c.app_name)
def test_every_declared_table_belongs_to_its_app(app_config: AppConfig) -> None:
    """A table class left out of the app's list would get no migration and no test database."""
    import importlib
    import inspect

    from piccolo.table import Table

    module = importlib.import_module(f"{app_config.app_name}.tables")
    declared = {obj for obj in vars(module).values()
                if inspect.isclass(obj) and issubclass(obj, Table) and obj is not Table
                and obj.__module__ == module.__name__}
    assert declared <= set(app_config.table_classes), declared - set(app_config.table_classes)
