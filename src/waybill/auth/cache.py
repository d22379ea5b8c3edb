"""Principals by token hash, kept a few seconds so that a request need not look its token up.

What keeps it safe:

- an entry serves only while younger than the caller's ``max_age`` (``WAYBILL_TOKEN_CACHE_SECONDS``);
- an entry serves only while its database's change signal (``waybill.auth.signals``) is the one it
  was stored under: any UPDATE or DELETE of ``tokens`` or ``accounts``, in any process on any host
  sharing the database, moves it, so a token revoked (or whose app was suspended or uninstalled) is
  refused on its very next request everywhere;
- the caller checks the token's own expiry on every use, cached or not;
- in this process, such a change also empties the cache when it runs and again when its connection
  goes back to the pool (after the commit or rollback), and no lookup that overlapped it stores what
  it read, which may predate the change;
- an unknown, revoked or expired token is never stored: it costs a lookup every time.

One cache per process, whatever the number of databases: entries are keyed by database (its URL) too.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Delete, Update, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from waybill.auth.signals import NOTIFY, Signals
from waybill.auth.types import Principal

# Tables whose rows a Principal is made of.
_SOURCES = frozenset({"tokens", "accounts"})
# Set in a connection's info while it holds an uncommitted change to them: the database it changed.
_CHANGING = "waybill_principal_change"


@dataclass(frozen=True)
class Stamp:
    """When a lookup began: the cache's own generation and the database's change signal."""

    generation: int
    version: int | None


class PrincipalCache:
    def __init__(self, max_entries: int = 10_000, signals: Signals | None = None) -> None:
        self.max_entries = max_entries
        self.signals = signals or Signals()
        self._entries: dict[tuple[Hashable, str], tuple[float, int, Principal]] = {}
        # Bumped by every invalidation; a lookup stores only if it did not move meanwhile.
        self.generation = 0
        # Connections holding a change not yet committed or rolled back.
        self._changing = 0

    def _version(self, database: Hashable) -> int | None:
        signal = self.signals.of(database)
        return None if signal is None else signal.version()

    def stamp(self, database: Hashable) -> Stamp:
        return Stamp(self.generation, self._version(database))

    def get(self, database: Hashable, token_hash: str, max_age: float) -> Principal | None:
        key = (database, token_hash)
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, version, principal = entry
        if time.monotonic() - stored_at >= max_age or self._version(database) != version:
            del self._entries[key]
            return None
        return principal

    def put(self, database: Hashable, token_hash: str, principal: Principal, stamp: Stamp) -> None:
        """Store what a lookup begun at ``stamp`` read, unless a change may have overlapped it."""
        if stamp.generation != self.generation or self._changing or stamp.version is None:
            return
        key = (database, token_hash)
        # Removed first so that insertion order stays age order: the oldest entry makes room.
        self._entries.pop(key, None)
        if len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
        # Stored under the version read before the lookup: a change during it makes the entry stale.
        self._entries[key] = (time.monotonic(), stamp.version, principal)

    def invalidate(self) -> None:
        self.generation += 1
        self._entries.clear()

    def change_started(self, info: dict[str, Any], database: Hashable) -> None:
        if _CHANGING not in info:
            info[_CHANGING] = database
            self._changing += 1
        self._announce(database)
        self.invalidate()

    def change_ended(self, info: dict[str, Any]) -> None:
        if _CHANGING in info:
            database = info.pop(_CHANGING)
            self._changing -= 1
            self._announce(database)
            self.invalidate()

    def _announce(self, database: Hashable) -> None:
        signal = self.signals.of(database)
        if signal is not None:
            signal.changed()


PRINCIPALS = PrincipalCache()


@event.listens_for(Engine, "after_execute")
def _on_execute(conn: Any, statement: Any, *_args: Any) -> None:
    if isinstance(statement, Update | Delete) and getattr(statement.table, "name", None) in _SOURCES:
        if conn.dialect.name == "postgresql":
            # Delivered by PostgreSQL to every listening server when (and only if) this commits.
            conn.exec_driver_sql(NOTIFY)
        PRINCIPALS.change_started(conn.info, conn.engine.url)


@event.listens_for(Pool, "checkin")
def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    # Checked in after the transaction ended, so a lookup from now on reads the committed rows.
    if record is not None:
        PRINCIPALS.change_ended(record.info)
