"""The hot statements' way to the database: SQL written once, run straight through the drivers.

SQLAlchemy builds, compiles and post-processes every statement it runs, which costs far more than
the database itself on the hottest requests (reads by digest, record upserts). Those statements are
written here as SQL text with ``:name`` parameters, turned into each driver's form once, and run:

- on SQLite through the standard ``sqlite3`` module: reads on one connection per process, in the
  event loop (an indexed read takes microseconds, less than a hand-off to a thread); writes on one
  writer thread that runs the queued writes in groups, each in a savepoint, under one commit
  (``GroupCommitWriter``);
- on PostgreSQL through an asyncpg pool of its own, with asyncpg's prepared-statement cache and
  without the reset query asyncpg sends on every release by default.

Everything else goes through SQLAlchemy (``waybill.core.db``).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")

_PARAMETER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class Sql:
    """A statement with ``:name`` parameters, and its asyncpg form (``$1``, ``$2``...) made once."""

    text: str
    postgres: str = field(init=False)
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        object.__setattr__(self, "postgres", _PARAMETER.sub(number, self.text))
        object.__setattr__(self, "names", tuple(names))

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


@dataclass(frozen=True)
class Compiled:
    """A SQLAlchemy Core statement compiled once for a dialect, with the values bound at build time;
    ``bind`` adds those of the ``bindparam`` left open for each run."""

    sql: Sql
    params: Mapping[str, Any]

    def bind(self, **values: Any) -> dict[str, Any]:
        return {**self.params, **values}


def compile_core(statement: Any, dialect: Any) -> Compiled:
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    return Compiled(Sql(compiled.string), dict(compiled.params))


# SQLite keeps SQLAlchemy's storage forms, so that rows written either way read back alike.


def sqlite_time(value: datetime) -> str:
    """A UTC time as SQLAlchemy stores it in SQLite: naive, with microseconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def utc(value: str | datetime) -> datetime:
    """A time read back from either database, as an aware UTC datetime."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def connect_sqlite(path: str, pragmas: Mapping[str, str]) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are begun explicitly) with the server's PRAGMAs."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for name, value in pragmas.items():
        conn.execute(f"PRAGMA {name}={value}")
    return conn


@dataclass
class _Unit:
    work: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class GroupCommitWriter:
    """One connection on one thread for this process's hot writes.

    A unit of work is a function of the connection. Units queued while a group runs form the next
    group: one ``BEGIN IMMEDIATE``, each unit in a savepoint (a unit that raises is rolled back alone
    and its caller gets the exception), one ``COMMIT``. A caller's await returns only after the commit
    of its group, so an acknowledged write is on disk (in the WAL) before the response goes out.

    The processes of one database take turns per group on the lock file that SQLAlchemy's writers
    queue on too (``waybill.core.db``), so that nobody polls on SQLITE_BUSY.

    The writer never checkpoints: a commit that crossed SQLite's automatic checkpoint threshold
    would copy the WAL into the database and wait for its fsync before its callers are answered.
    A checkpointer thread of its own does that beside it (in WAL mode a passive checkpoint and the
    writer do not block each other), at most every ``CHECKPOINT_SECONDS`` while writes come in.
    """

    MAX_GROUP = 256
    CHECKPOINT_SECONDS = 0.25

    def __init__(self, path: str, pragmas: Mapping[str, str], lock_path: str | None) -> None:
        self.connection = connect_sqlite(path, pragmas)
        self.connection.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpoints = connect_sqlite(path, pragmas)
        self._lock_fd = (
            None if lock_path is None else os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        )
        self._queue: queue.SimpleQueue[_Unit | None] = queue.SimpleQueue()
        self._committed = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="waybill-sqlite-writer", daemon=True)
        self._checkpointer = threading.Thread(
            target=self._checkpoint, name="waybill-sqlite-checkpointer", daemon=True
        )
        self._thread.start()
        self._checkpointer.start()

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Unit(work, future, loop))
        return await future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._closing = True
        self._committed.set()
        self._checkpointer.join()
        self._checkpoints.close()
        self.connection.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = False
            while len(group) < self.MAX_GROUP:
                try:
                    unit = self._queue.get_nowait()
                except queue.Empty:
                    break
                if unit is None:
                    stop = True
                    break
                group.append(unit)
            for unit, (ok, value) in zip(group, self._commit(group), strict=True):
                unit.loop.call_soon_threadsafe(_settle, unit.future, ok, value)
            self._committed.set()
            if stop:
                return

    def _checkpoint(self) -> None:
        while True:
            self._committed.wait()
            if self._closing:
                self._checkpoints.execute("PRAGMA wal_checkpoint(PASSIVE)")
                return
            self._committed.clear()
            self._checkpoints.execute("PRAGMA wal_checkpoint(PASSIVE)")
            time.sleep(self.CHECKPOINT_SECONDS)

    def _commit(self, group: Sequence[_Unit]) -> list[tuple[bool, Any]]:
        conn = self.connection
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            conn.execute("BEGIN IMMEDIATE")
            outcomes: list[tuple[bool, Any]] = []
            for unit in group:
                conn.execute("SAVEPOINT unit")
                try:
                    outcomes.append((True, unit.work(conn)))
                except Exception as exc:
                    conn.execute("ROLLBACK TO unit")
                    outcomes.append((False, exc))
                conn.execute("RELEASE unit")
            conn.execute("COMMIT")
            return outcomes
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [(False, exc)] * len(group)
        finally:
            if self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Releasing a connection resets nothing: the hot statements change no session state, and the
    default reset is one more round trip per request."""


async def postgres_pool(url: str, size: int, *, prepared: bool = True) -> asyncpg.Pool:
    """``prepared``: keep each statement prepared on its connection (asyncpg's statement cache);
    off behind a transaction pooler, where the next transaction may run on another connection."""
    return await asyncpg.create_pool(
        url, min_size=1, max_size=size, reset=_keep_session, statement_cache_size=100 if prepared else 0
    )
