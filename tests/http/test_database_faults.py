"""An exhausted PostgreSQL pool answers 503 with Retry-After, never 500, and logs one
warning line with the request id and no traceback; a read whose connection was lost is run again."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import replace

import asyncpg
import pytest

from tests.harness import running
from waybill.config import Settings

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def warnings() -> Iterator[list[logging.LogRecord]]:
    handler = _Records()
    logger = logging.getLogger("waybill")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def tiny(settings: Settings) -> Settings:
    return replace(settings, database_connections=4, database_pool_timeout=0.3)


async def test_no_free_connection_answers_503_with_retry_after(
    tiny: Settings, warnings: list[logging.LogRecord]
) -> None:
    async with running(tiny, "postgresql") as api:
        await api.user("alice")
        token = await api.token("alice")
        db = api.db
        pool = await db._open_pool()
        async with contextlib.AsyncExitStack() as held:
            for _ in range(pool.get_max_size()):
                await held.enter_async_context(pool.acquire())
            for _ in range(db.engine.pool.size()):  # type: ignore[attr-defined]
                await held.enter_async_context(db.engine.connect())
            warnings.clear()
            r = await api.get("/user", token=token)
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "1"
        assert r.json()["message"] == "Service Unavailable"
        lines = list(warnings)
        assert len(lines) == 1
        assert lines[0].exc_info is None
        assert r.headers["X-GitHub-Request-Id"] in lines[0].getMessage()
        # Once connections are free again, requests are served.
        assert (await api.get("/user", token=token)).status_code == 200


async def test_reads_after_connections_terminated_are_answered(
    tiny: Settings, warnings: list[logging.LogRecord]
) -> None:
    async with running(tiny, "postgresql") as api:
        await api.user("alice")
        token = await api.token("alice")
        assert (await api.get("/user", token=token)).status_code == 200
        admin = await asyncpg.connect(api.db.url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            statuses = []
            for _ in range(6):
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                statuses.append((await api.get("/user", token=token)).status_code)
        finally:
            await admin.close()
        print("statuses after each termination:", statuses)
        # A read that finds its connection gone is run again on a fresh one.
        assert statuses == [200] * 6, statuses
        assert not [rec for rec in warnings if rec.exc_info]
