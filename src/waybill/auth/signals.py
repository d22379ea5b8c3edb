"""How every process sharing a database learns at once that a token or account changed, so that
the principals it cached stop serving on their very next use.

Each database has a ``Signal`` whose ``version`` a cached principal is stored under; an entry serves
only while the version is unchanged. Reading it is what every cache hit pays, so it costs no round
trip:

- SQLite (one host): eight bytes in a file beside the database (``waybill.db-principals``), mapped
  into memory. A change writes a new random value there when its statement runs and again after its
  commit, so the version read by a request that starts after the change returned differs from the
  one its cached entry was stored under.
- PostgreSQL (any number of hosts): ``NOTIFY waybill_principals`` is sent in the changing transaction,
  so PostgreSQL delivers it at commit to every server's listening connection, which bumps the
  version. While that connection is down the version is None and nothing is served from the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mmap
import os
import struct
from collections.abc import Hashable
from typing import Any

import asyncpg
from sqlalchemy.engine import URL, make_url

log = logging.getLogger("waybill.auth")

CHANNEL = "waybill_principals"
NOTIFY = f"SELECT pg_notify('{CHANNEL}', '')"
_SIZE = 8
_RECONNECT_SECONDS = 1.0


class Signal:
    def version(self) -> int | None:
        """The current version; None when changes could go unnoticed (serve nothing cached)."""
        raise NotImplementedError

    def changed(self) -> None:
        """This process changed principals' rows (PostgreSQL announces it in SQL instead)."""


class FileSignal(Signal):
    def __init__(self, path: str) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if os.fstat(fd).st_size < _SIZE:
                os.pwrite(fd, os.urandom(_SIZE), 0)
            self._map = mmap.mmap(fd, _SIZE)
        finally:
            os.close(fd)

    def version(self) -> int | None:
        value: int = struct.unpack_from("<Q", self._map)[0]
        return value

    def changed(self) -> None:
        # A fresh random value rather than an increment: no lock between processes is needed to
        # make it differ from every value a reader may have stored under.
        self._map[:_SIZE] = os.urandom(_SIZE)


class NotifySignal(Signal):
    """Listens on its own connection (not one of the pools'), reconnecting when it drops."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._version = 0
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def version(self) -> int | None:
        connection = self._connection
        if connection is None or connection.is_closed():
            return None
        return self._version

    def _bump(self, *_args: Any) -> None:
        self._version += 1

    async def start(self) -> None:
        await self._connect()
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _connect(self) -> None:
        connection = await asyncpg.connect(self._dsn)
        await connection.add_listener(CHANNEL, self._bump)
        # Whatever changed while nobody listened: entries stored before now must not serve.
        self._bump()
        self._connection = connection

    async def _watch(self) -> None:
        while not self._closing:
            await asyncio.sleep(_RECONNECT_SECONDS)
            if self._connection is not None and not self._connection.is_closed():
                continue
            try:
                await self._connect()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("principal change listener: cannot reconnect (%s); tokens are looked up", exc)

    async def stop(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


class Signals:
    """The signal of each database this process uses, by its SQLAlchemy URL."""

    def __init__(self) -> None:
        self._by_database: dict[Hashable, Signal | None] = {}
        # The last database asked about, by identity: every request names the same URL object, and
        # hashing a URL costs more than the rest of a cache hit.
        self._last: tuple[object, Signal | None] = (None, None)

    def of(self, database: Hashable) -> Signal | None:
        last, signal = self._last
        if database is last:
            return signal
        if database not in self._by_database:
            self._by_database[database] = self._file_signal(database)
        signal = self._by_database[database]
        self._last = (database, signal)
        return signal

    @staticmethod
    def _file_signal(database: Hashable) -> Signal | None:
        url = database if isinstance(database, URL) else make_url(str(database))
        path = url.database
        if (
            not url.drivername.startswith("sqlite")
            or not path
            or path == ":memory:"
            or path.startswith("file:")
        ):
            # PostgreSQL's signal is started by the server (``start``); until then, none.
            return None
        return FileSignal(f"{path}-principals")

    async def start(self, url: URL, *, listen_url: str | None = "") -> None:
        """Listen for PostgreSQL's notifications (the server's lifespan calls it), on ``listen_url``,
        by default the database's own. None: nowhere to listen (a transaction pooler, which does
        not keep a session's LISTEN), so nothing is served from the cache."""
        if url.drivername.startswith("sqlite") or listen_url is None:
            return
        where = make_url(listen_url) if listen_url else url
        signal = NotifySignal(where.set(drivername="postgresql").render_as_string(hide_password=False))
        await signal.start()
        self._by_database[url] = signal
        self._last = (None, None)

    async def stop(self, url: URL) -> None:
        signal = self._by_database.pop(url, None)
        self._last = (None, None)
        if isinstance(signal, NotifySignal):
            await signal.stop()
