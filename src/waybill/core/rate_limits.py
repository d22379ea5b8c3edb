"""The rate-limit windows every server process shares through the database: how many requests each
token (or anonymous address) has made in its current window, across all processes and hosts.

A process counts its requests in memory and adds them here about once a second (``add``); what it
reads back is the window as every process has counted it so far. The database decides the window:
the first process to add to a key starts it, and the others adopt its end.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import BigInteger, Column, Integer, String, Table, case, delete
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.core.db import upsert
from waybill.core.models import metadata

rate_limit_windows = Table(
    "rate_limit_windows",
    metadata,
    # "t:" and the SHA-256 of the Authorization header, or "a:" and the client address.
    Column("key", String(80), primary_key=True),
    # The window's end, in seconds since the epoch.
    Column("reset", BigInteger, nullable=False),
    Column("used", Integer, nullable=False),
)


async def add(
    conn: AsyncConnection, hits: Mapping[str, tuple[int, int]], now: int
) -> dict[str, tuple[int, int]]:
    """Add each key's requests (the end this process would give a new window, and how many it
    counted) to its window, starting a new one where the stored one has ended; (end, used) of each
    window afterwards. One statement for every 500 keys."""
    t = rate_limit_windows.c
    found: dict[str, tuple[int, int]] = {}
    keys = sorted(hits)
    for start in range(0, len(keys), 500):
        rows = [{"key": k, "reset": hits[k][0], "used": hits[k][1]} for k in keys[start : start + 500]]
        statement = upsert(conn, rate_limit_windows).values(rows)
        current = t.reset > now
        statement = statement.on_conflict_do_update(
            index_elements=[t.key],
            set_={
                "used": case((current, t.used + statement.excluded.used), else_=statement.excluded.used),
                "reset": case((current, t.reset), else_=statement.excluded.reset),
            },
        ).returning(t.key, t.reset, t.used)
        for key, reset, used in await conn.execute(statement):
            found[key] = (int(reset), int(used))
    return found


async def forget_ended(conn: AsyncConnection, now: int) -> None:
    await conn.execute(delete(rate_limit_windows).where(rate_limit_windows.c.reset <= now))
