"""The database: one async engine, and transactions that the request, job or command owns; and the
drivers themselves for the hot statements (``waybill.core.drivers``)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import JSON, Table, bindparam, event, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from waybill.config import Settings
from waybill.core.drivers import Compiled, GroupCommitWriter, Sql, compile_core, connect_sqlite, postgres_pool

T = TypeVar("T")

# SQLite durability: WAL with synchronous=NORMAL survives a process crash; a power loss may drop the
# last transactions but never corrupts. Printed by the benchmarks next to their figures.
SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "foreign_keys": "ON",
    "busy_timeout": "10000",
    "cache_size": "-65536",
    "temp_store": "MEMORY",
    # One bound for every connection of the process together (it is SQLite's process-wide heap
    # limit): each pooled connection keeps a page cache of its own, and with ``cache_size`` alone a
    # process holding twenty of them grew by every page each one had read, up to twenty times that.
    "soft_heap_limit": str(32 * 1024 * 1024),
}


def _unique_statement_name() -> str:
    return f"__waybill_{uuid.uuid4().hex}__"


# SQLAlchemy's asyncpg driver behind a transaction pooler: a named statement may be sent to a server
# connection that never prepared it, or collide with another client's there, so nothing is kept
# prepared and each statement gets a name of its own.
TRANSACTION_POOLER_CONNECT_ARGS: dict[str, Any] = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": _unique_statement_name,
}


class PoolTimeout(Exception):
    """No connection of the pool came free within the pool timeout."""


# What a lost, refused or exhausted database connection raises, through asyncpg or SQLAlchemy.
_CONNECTION_FAULTS: tuple[type[BaseException], ...] = (
    PoolTimeout,
    sa_exc.TimeoutError,
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.AdminShutdownError,
    asyncpg.ConnectionFailureError,
    ConnectionError,
)


# A connection that was open and went away: the server closed it (terminated, restarted, failed
# over). asyncpg reports a connection that received the server's closing error while idle as being
# busy with it when it is next used.
_LOST: tuple[type[BaseException], ...] = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.AdminShutdownError,
    asyncpg.ConnectionFailureError,
    ConnectionResetError,
    BrokenPipeError,
)

# SQLite: another process holds the write lock past the busy timeout; and the file system is full.
_SQLITE_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _lost(exc: BaseException) -> bool:
    if isinstance(exc, _LOST):
        return True
    if isinstance(exc, asyncpg.InternalClientError) and str(exc).startswith("cannot switch to state"):
        return True
    return isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc)


def is_connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says a connection that was open was lost: a read may be tried once more on a
    fresh connection."""
    return any(
        _lost(e) or (isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated) for e in _chain(exc)
    )


def _sqlite_code(exc: BaseException) -> int | None:
    return getattr(exc, "sqlite_errorcode", None) if isinstance(exc, sqlite3.Error) else None


def is_storage_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the database's disk is full (SQLite): writes fail, reads go on."""
    return any(_sqlite_code(e) == sqlite3.SQLITE_FULL for e in _chain(exc))


def fault_line(exc: BaseException) -> str:
    """An expected fault in one line (its type and the first line of its message), for a log line
    without a traceback."""
    text = str(exc)
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached, its connection was lost, or (SQLite)
    another process kept it locked: the request may be tried again later (503), it is not a fault of
    the server's code."""
    for current in _chain(exc):
        if isinstance(current, _CONNECTION_FAULTS) or _lost(current):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        code = _sqlite_code(current)
        if code is not None and code & 0xFF in _SQLITE_BUSY:
            return True
    return False


class Database:
    """``connections`` is what this process may open to PostgreSQL: a third for SQLAlchemy's pool, the
    rest for the hot statements' pool (``Settings.connections_per_process``)."""

    @classmethod
    def for_settings(cls, settings: Settings, *, connections: int = 30) -> Database:
        return cls(
            settings.resolved_database_url,
            connections=connections,
            transaction_pooler=settings.database_pool_mode == "transaction",
            pool_timeout=settings.database_pool_timeout,
        )

    def __init__(
        self,
        url: str,
        *,
        connections: int = 30,
        transaction_pooler: bool = False,
        pool_timeout: float = 5.0,
    ) -> None:
        self.url = url
        # How long a caller waits for a free connection before the request is refused (503).
        self.pool_timeout = pool_timeout
        self.is_sqlite = url.startswith("sqlite")
        self._transaction_pooler = transaction_pooler and not self.is_sqlite
        general = max(2, connections // 3)
        self._hot_size = max(2, connections - general)
        # Overflow connections are closed on return; keep enough pooled that a busy worker never
        # pays for a new connection per request (TLS on PostgreSQL; on SQLite a thread, the file
        # and the PRAGMAs below).
        options: dict[str, Any] = {
            "pool_pre_ping": False,
            "pool_size": general if not self.is_sqlite else 20,
            "max_overflow": 0 if not self.is_sqlite else 10,
            "pool_timeout": pool_timeout,
        }
        if self._transaction_pooler:
            options["connect_args"] = TRANSACTION_POOLER_CONNECT_ARGS
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
        self._tracers: list[Callable[[str], None]] = []
        self._reader: sqlite3.Connection | None = None
        self._writer: GroupCommitWriter | None = None
        self._pool: asyncpg.Pool | None = None
        self._pool_opening = asyncio.Lock()
        # Named parameters, which ``Sql`` turns into each driver's form.
        self._dialect = (sqlite if self.is_sqlite else postgresql).dialect(paramstyle="named")
        # By identity, with the statement kept beside so that its id cannot be reused meanwhile.
        self._compiled: dict[int, tuple[Any, Compiled]] = {}
        if self.is_sqlite:
            _configure_sqlite(self.engine)
            self._sqlite_path = make_url(url).database or ""
        else:
            _configure_postgres(self.engine)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def query(self) -> AsyncIterator[AsyncConnection]:
        """A connection without a transaction: each statement runs and commits on its own, which
        saves the BEGIN and COMMIT round trips. For reads of one statement (consistent by itself), or
        of several that need not see one snapshot; never for writes."""
        if self._transaction_pooler:
            # SQLAlchemy's driver prepares, then runs, each statement: outside a transaction the
            # pooler may hand the two steps to different server connections.
            async with self.read() as conn:
                yield conn
            return
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

    # The hot statements, through the drivers.

    def trace(self, callback: Callable[[str], None]) -> None:
        """Call ``callback`` with every statement the hot paths send (for counting them)."""
        self._tracers.append(callback)
        for conn in (self._reader, None if self._writer is None else self._writer.connection):
            if conn is not None:
                conn.set_trace_callback(self._traced)

    def _traced(self, statement: str) -> None:
        for callback in self._tracers:
            callback(statement)

    def compiled(self, statement: Any) -> Compiled:
        """``statement`` (built once, and kept by its maker) compiled once for this database."""
        found = self._compiled.get(id(statement))
        if found is None:
            if len(self._compiled) >= 4096:
                self._compiled.clear()
            found = self._compiled[id(statement)] = (statement, compile_core(statement, self._dialect))
        return found[1]

    async def fetch(self, sql: Sql, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """The rows of one statement, run on its own (no BEGIN or COMMIT). On SQLite a read only,
        in the event loop: use it for indexed reads that take microseconds."""
        if self.is_sqlite:
            return self._sqlite_reader().execute(sql.text, params).fetchall()
        pool = self._pool or await self._open_pool()
        if self._tracers:
            self._traced(sql.postgres)
        args = sql.args(params)
        try:
            async with self._acquire(pool) as conn:
                rows: list[Sequence[Any]] = await conn.fetch(sql.postgres, *args)
                return rows
        except Exception as exc:
            if not is_connection_lost(exc):
                raise
        # A read alone, outside any transaction: once more, on a fresh connection (the pool's
        # others were opened before the loss, and are replaced as they are taken).
        async with self._acquire(pool) as conn:
            rows = await conn.fetch(sql.postgres, *args)
            return rows

    async def fetch_written(self, sql: Sql, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """PostgreSQL: the rows of one statement that writes, committed on its own. Never run twice:
        a connection lost after the commit may have lost only its reply."""
        pool = self._pool or await self._open_pool()
        if self._tracers:
            self._traced(sql.postgres)
        async with self._acquire(pool) as conn:
            rows: list[Sequence[Any]] = await conn.fetch(sql.postgres, *sql.args(params))
            return rows

    @asynccontextmanager
    async def driver_transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """PostgreSQL: a connection of the hot statements' pool in a transaction, for a write of
        several statements through asyncpg that stands or falls as one (SQLite: ``group_write``)."""
        pool = self._pool or await self._open_pool()
        async with self._acquire(pool) as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def _acquire(self, pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
        try:
            conn = await pool.acquire(timeout=self.pool_timeout)
        except TimeoutError as exc:
            raise PoolTimeout(f"no connection free within {self.pool_timeout:g} s") from exc
        try:
            yield conn
        except BaseException as exc:
            if is_connection_lost(exc):
                # The server may have closed them all (restart, failover): each is opened anew when
                # next taken, rather than failing its next request.
                conn.terminate()
                await pool.expire_connections()
            raise
        finally:
            await pool.release(conn)

    async def group_write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """SQLite: ``work`` run on the writer thread with the writes queued beside it, committed together."""
        if self._writer is None:
            self._writer = GroupCommitWriter(self._sqlite_path, SQLITE_PRAGMAS, _writers_path(self.url))
            if self._tracers:
                self._writer.connection.set_trace_callback(self._traced)
        return await self._writer.run(work)

    def _sqlite_reader(self) -> sqlite3.Connection:
        if self._reader is None:
            self._reader = connect_sqlite(self._sqlite_path, SQLITE_PRAGMAS)
            if self._tracers:
                self._reader.set_trace_callback(self._traced)
        return self._reader

    async def _open_pool(self) -> asyncpg.Pool:
        async with self._pool_opening:
            if self._pool is None:
                url = make_url(self.url).set(drivername="postgresql")
                self._pool = await postgres_pool(
                    url.render_as_string(hide_password=False),
                    self._hot_size,
                    prepared=not self._transaction_pooler,
                )
        return self._pool

    def connections_in_use(self) -> int:
        """Connections checked out of this process's pools now (for the metrics' sampler)."""
        # The autocommit engine shares this engine's pool.
        checkedout = getattr(self.engine.pool, "checkedout", None)
        used = checkedout() if callable(checkedout) else 0
        if self._pool is not None:
            used += self._pool.get_size() - self._pool.get_idle_size()
        return used

    async def dispose(self) -> None:
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close)
            self._writer = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        await self.engine.dispose()
        if self._writers_file is not None:
            os.close(self._writers_file)
            self._writers_file = None


def _writers_path(url: str) -> str | None:
    """The lock file the processes' writers of an SQLite database queue on (none in memory)."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return f"{path}-writers.lock"


def _writers_file(url: str) -> int | None:
    path = _writers_path(url)
    return None if path is None else os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


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


def _configure_postgres(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: Any) -> None:
        # A lost connection SQLAlchemy would not recognise (asyncpg's busy state after the server's
        # closing error): discard it and the pool's older ones, so that the next try gets a fresh one.
        original = context.original_exception
        if not context.is_disconnect and original is not None and is_connection_lost(original):
            context.is_disconnect = True


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


# Bound parameters per statement that stay well under SQLite's and asyncpg's limits.
CHUNK = 500


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """``values`` in slices of ``size``, for statements that take one bound parameter a value."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def update_by_id(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]], key: str
) -> None:
    """Set ``columns`` of each row of ``table`` whose id is the row's ``key``, in batches of 200."""
    if not rows:
        return
    stmt = (
        update(table)
        .where(table.c.id == bindparam(key))
        .values({name: bindparam(f"new_{name}") for name in columns})
    )
    params = [{key: r[key], **{f"new_{n}": r[n] for n in columns}} for r in rows]
    for chunk in chunks(params, 200):
        await conn.execute(stmt, list(chunk))


async def allocate_numbers(conn: AsyncConnection, counters: Table, repository_id: int, count: int) -> int:
    """Reserve ``count`` numbers of a repository's sequence in ``counters`` (``repository_id``,
    ``last_number``); returns the first. One upsert adds to the stored counter, so concurrent
    callers get disjoint numbers."""
    stmt = upsert(conn, counters).values(repository_id=repository_id, last_number=count)
    stmt = stmt.on_conflict_do_update(
        index_elements=[counters.c.repository_id],
        set_={"last_number": counters.c.last_number + stmt.excluded.last_number},
    ).returning(counters.c.last_number)
    last = int((await conn.execute(stmt)).scalar_one())
    return last - count + 1


def upsert(conn: AsyncConnection, table: Table) -> Any:
    """The dialect's ``INSERT`` for ``table``, which has ``on_conflict_do_update/nothing``."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class json_rows(FunctionElement[Any]):
    """An aggregate: the rows of a query as one JSON array of arrays, so that one statement can
    return several differently shaped results. Over no rows it is NULL on PostgreSQL and ``[]`` on
    SQLite; the order of the rows is the database's."""

    type = JSON()
    inherit_cache = True
    name = "json_rows"


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element: json_rows, compiler: Any, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element: json_rows, compiler: Any, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"
