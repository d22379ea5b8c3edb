"""The code scanning branch goes down and up again cleanly on both databases, and its tables match
the models (every column the models name exists after the migration)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from waybill.codescanning import models
from waybill.config import Settings
from waybill.core.migrate import alembic_config

TABLES = (
    models.code_scanning_sarifs,
    models.code_scanning_analyses,
    models.code_scanning_alerts,
    models.code_scanning_alert_instances,
    models.code_scanning_alert_numbers,
    models.code_scanning_alert_assignees,
)


def _tables(settings: Settings) -> dict[str, set[str]]:
    url = make_url(settings.resolved_database_url)
    engine = create_engine(
        url.set(drivername="sqlite" if url.drivername.startswith("sqlite") else "postgresql+psycopg")
    )
    try:
        found = inspect(engine)
        names = set(found.get_table_names())
        return {t.name: {c["name"] for c in found.get_columns(t.name)} for t in TABLES if t.name in names}
    finally:
        engine.dispose()


def test_down_and_up(settings: Settings) -> None:
    assert _tables(settings) == {t.name: {c.name for c in t.columns} for t in TABLES}
    config = alembic_config(settings.resolved_database_url)
    command.downgrade(config, "codescanning@base")
    try:
        assert _tables(settings) == {}
    finally:
        command.upgrade(config, "heads")
    assert _tables(settings) == {t.name: {c.name for c in t.columns} for t in TABLES}
