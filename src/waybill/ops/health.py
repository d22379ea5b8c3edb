"""Readiness checks: each answers ``None`` when it passes, else why it fails."""

from __future__ import annotations

import asyncio
from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy import text

from waybill.core.db import Database
from waybill.core.jobs import Worker
from waybill.core.migrate import alembic_config

# A probe that waits longer than its kubelet would is no answer at all.
CHECK_SECONDS = 5.0


@cache
def migration_heads() -> frozenset[str]:
    """The newest revision of each migration branch this code ships with."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(script.get_heads())


async def database_and_migrations(db: Database) -> tuple[str | None, str | None]:
    """(database problem, migrations problem)."""
    try:
        async with asyncio.timeout(CHECK_SECONDS), db.query() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except Exception as error:
        return f"the database does not answer: {type(error).__name__}", "unknown"
    applied = frozenset(str(row[0]) for row in rows)
    missing = migration_heads() - applied
    if missing:
        return None, f"migrations not at head: missing {', '.join(sorted(missing))}"
    return None, None


def job_worker(worker: Worker | None, expected: bool) -> str | None:
    if not expected:
        return None
    if worker is None or not worker.running:
        return "the job worker is not running"
    return None
