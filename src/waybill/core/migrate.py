"""Schema changes go only through Alembic; this runs them from the CLI, the server and the tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from waybill.config import Settings


def alembic_config(database_url: str, *, transaction_pooler: bool = False) -> Config:
    config = Config()
    config.set_main_option("script_location", "waybill:migrations")
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["transaction_pooler"] = transaction_pooler
    return config


def upgrade(settings: Settings) -> None:
    """Bring the database to the newest schema, creating the SQLite data directory first.

    Runs its own event loop: call it before the server starts, or from a thread.
    """
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    pooler = settings.database_pool_mode == "transaction"
    command.upgrade(alembic_config(settings.resolved_database_url, transaction_pooler=pooler), "heads")
