"""Principals by token hash, kept a few seconds so that a request need not look its token up.

What keeps it safe:

- an entry serves only while younger than the caller's ``max_age`` (``WAYBILL_TOKEN_CACHE_SECONDS``):
  a token revoked by another process (``waybill tokens revoke``) stops working within it;
- the caller checks the token's own expiry on every use, cached or not;
- any UPDATE or DELETE of ``tokens`` or ``accounts`` made in this process empties the cache when it
  runs and again when its connection goes back to the pool (after the commit or rollback), and no
  lookup that overlapped it stores what it read, which may predate the change;
- an unknown, revoked or expired token is never stored: it costs a lookup every time.

One cache per process, whatever the number of databases: entries are keyed by database (its URL) too.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any

from sqlalchemy import Delete, Update, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from waybill.auth.types import Principal

# Tables whose rows a Principal is made of.
_SOURCES = frozenset({"tokens", "accounts"})
# Set in a connection's info while it holds an uncommitted change to them.
_CHANGING = "waybill_principal_change"


class PrincipalCache:
    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: dict[tuple[Hashable, str], tuple[float, Principal]] = {}
        # Bumped by every invalidation; a lookup stores only if it did not move meanwhile.
        self.generation = 0
        # Connections holding a change not yet committed or rolled back.
        self._changing = 0

    def get(self, database: Hashable, token_hash: str, max_age: float) -> Principal | None:
        key = (database, token_hash)
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, principal = entry
        if time.monotonic() - stored_at >= max_age:
            del self._entries[key]
            return None
        return principal

    def put(self, database: Hashable, token_hash: str, principal: Principal, generation: int) -> None:
        """Store what a lookup begun at ``generation`` read, unless a change may have overlapped it."""
        if generation != self.generation or self._changing:
            return
        key = (database, token_hash)
        # Removed first so that insertion order stays age order: the oldest entry makes room.
        self._entries.pop(key, None)
        if len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (time.monotonic(), principal)

    def invalidate(self) -> None:
        self.generation += 1
        self._entries.clear()

    def change_started(self, info: dict[str, Any]) -> None:
        if not info.get(_CHANGING):
            info[_CHANGING] = True
            self._changing += 1
        self.invalidate()

    def change_ended(self, info: dict[str, Any]) -> None:
        if info.pop(_CHANGING, False):
            self._changing -= 1
            self.invalidate()


PRINCIPALS = PrincipalCache()


@event.listens_for(Engine, "after_execute")
def _on_execute(conn: Any, statement: Any, *_args: Any) -> None:
    if isinstance(statement, Update | Delete) and getattr(statement.table, "name", None) in _SOURCES:
        PRINCIPALS.change_started(conn.info)


@event.listens_for(Pool, "checkin")
def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    # Checked in after the transaction ended, so a lookup from now on reads the committed rows.
    if record is not None:
        PRINCIPALS.change_ended(record.info)
