"""The schema comes only from the migrations, and they match the tables the code declares."""

from __future__ import annotations

import asyncio

from alembic import command

from waybill.config import Settings
from waybill.core.migrate import alembic_config, upgrade


def test_migrations_match_the_declared_tables(settings: Settings) -> None:
    command.check(alembic_config(settings.resolved_database_url))


def test_upgrade_is_idempotent(settings: Settings) -> None:
    upgrade(settings)
    upgrade(settings)


async def test_upgrade_runs_from_a_thread_inside_an_event_loop(settings: Settings) -> None:
    await asyncio.to_thread(upgrade, settings)
