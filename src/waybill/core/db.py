"""The database: one async engine, and transactions that the request, job or command owns."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

# SQLite durability: WAL with synchronous=NORMAL survives a process crash; a power loss may drop the
# last transactions but never corrupts. Printed by the benchmarks next to their figures.
SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "foreign_keys": "ON",
    "busy_timeout": "10000",
    "cache_size": "-65536",
    "temp_store": "MEMORY",
}


class Database:
    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # Overflow connections are closed on return; keep enough pooled that a busy worker never
        # pays for a new connection per request (TLS on PostgreSQL; on SQLite a thread, the file
        # and the PRAGMAs below).
        options: dict[str, Any] = {
            "pool_pre_ping": False,
            "pool_size": pool_size,
            "max_overflow": pool_size // 2,
        }
        self.engine: AsyncEngine = create_async_engine(url, **options)
        # SQLite has one writer at a time: queue this process's writers here, and the processes'
        # writers on a lock file beside the database, instead of polling on SQLITE_BUSY (its retries
        # sleep up to 100 ms, while the other process's queue keeps the lock); and take the write
        # lock at BEGIN so a reader never has to upgrade.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._writers_file = _writers_file(url) if self.is_sqlite else None
        # query(): statements in autocommit. Not SQLAlchemy's AUTOCOMMIT level on SQLite, whose reset
        # on checkin would turn pysqlite's own implicit transactions back on: its BEGIN is skipped below.
        self._autocommit = self.engine.execution_options(
            **({"waybill_autocommit": True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"})
        )
        if self.is_sqlite:
            _configure_sqlite(self.engine)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def query(self) -> AsyncIterator[AsyncConnection]:
        """A connection without a transaction: each statement runs and commits on its own, which
        saves the BEGIN and COMMIT round trips. For reads of one statement (consistent by itself), or
        of several that need not see one snapshot; never for writes."""
        async with self._autocommit.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        if self._write_lock is None:
            async with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        async with self._write_lock, _exclusive(self._writers_file), self.engine.connect() as conn:
            conn = await conn.execution_options(waybill_write=True)
            async with conn.begin():
                yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._writers_file is not None:
            os.close(self._writers_file)
            self._writers_file = None


def _writers_file(url: str) -> int | None:
    """The lock file the processes' writers of an SQLite database queue on (none in memory)."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return os.open(f"{path}-writers.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


@asynccontextmanager
async def _exclusive(fd: int | None) -> AsyncIterator[None]:
    """Hold the exclusive lock of ``fd`` (waiting for it in a thread: the kernel hands it over in
    turn, without polling). SQLite's own lock still guards the data: this only queues."""
    if fd is None:
        yield
        return
    acquiring = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX))
    try:
        await asyncio.shield(acquiring)
    except asyncio.CancelledError:
        # The thread goes on to take the lock: give it back as soon as it has.
        acquiring.add_done_callback(lambda _: fcntl.flock(fd, fcntl.LOCK_UN))
        raise
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's implicit BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for name, value in SQLITE_PRAGMAS.items():
            cursor.execute(f"PRAGMA {name}={value}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("waybill_autocommit", False):
            return
        immediate = options.get("waybill_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def upsert(conn: AsyncConnection, table: Table) -> Any:
    """The dialect's ``INSERT`` for ``table``, which has ``on_conflict_do_update/nothing``."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
