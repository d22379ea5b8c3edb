"""SQLite's writers queue on a lock file beside the database, across processes: a writer waits for
the one holding it (without polling), and one that gives up waiting leaves the lock free."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from waybill.core.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    async with database.write() as conn:
        await conn.execute(text("CREATE TABLE t (v INTEGER)"))
    yield database
    await database.dispose()


def _hold(tmp_path: Path) -> int:
    """Take the writers' lock as another process would (its own open file); fails if it is held."""
    fd = os.open(tmp_path / "w.db-writers.lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


async def _insert(db: Database, value: int) -> None:
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": value})


async def test_a_writer_waits_for_the_holder_of_the_lock_file(db: Database, tmp_path: Path) -> None:
    fd = _hold(tmp_path)
    writing = asyncio.create_task(_insert(db, 1))
    await asyncio.sleep(0.3)
    assert not writing.done()
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    await asyncio.wait_for(writing, 10)
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT v FROM t"))).scalars().all() == [1]


async def test_a_writer_cancelled_while_waiting_leaves_the_lock_free(db: Database, tmp_path: Path) -> None:
    fd = _hold(tmp_path)
    waiting = asyncio.create_task(_insert(db, 1))
    await asyncio.sleep(0.3)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    await asyncio.wait_for(_insert(db, 2), 10)
    other = _hold(tmp_path)  # free for another process too
    fcntl.flock(other, fcntl.LOCK_UN)
    os.close(other)
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT v FROM t"))).scalars().all() == [2]
