"""Alembic environment: every domain's tables share ``waybill.core.models.metadata``."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from waybill.core.db import TRANSACTION_POOLER_CONNECT_ARGS
from waybill.tables import metadata


def _run(connection: Connection) -> None:
    postgresql = connection.dialect.name == "postgresql"

    def compared(item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        # A table whose references PostgreSQL checks by statement-level triggers has no foreign
        # keys there (``dependencies_0002``); its models keep them for SQLite.
        table = getattr(item, "table", None)
        by_trigger = table is not None and table.info.get("postgresql_references_by_trigger", False)
        return not (postgresql and type_ == "foreign_key_constraint" and by_trigger)

    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=compared,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _online() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or ""
    pooler = context.config.attributes.get("transaction_pooler", False) and not url.startswith("sqlite")
    engine = create_async_engine(url, connect_args=TRANSACTION_POOLER_CONNECT_ARGS if pooler else {})
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_online())
