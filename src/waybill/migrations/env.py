"""Alembic environment: every domain's tables share ``waybill.core.models.metadata``."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from waybill.core.db import TRANSACTION_POOLER_CONNECT_ARGS
from waybill.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
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
