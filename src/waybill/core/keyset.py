"""Keyset pagination over a strictly increasing integer key, newest (largest) first.

Pages stay stable while rows are inserted: a cursor names the key where the previous page ended,
never an offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class KeysetPage:
    rows: Sequence[Row[Any]]
    next_key: int | None
    prev_key: int | None


async def fetch_page(
    conn: AsyncConnection,
    query: Select[Any],
    key: Any,
    *,
    per_page: int,
    after: int | None = None,
    before: int | None = None,
) -> KeysetPage:
    """``key`` is the column (or label) ordering the rows; rows must expose it as ``row.<key.name>``."""
    name = key.name
    if before is not None:
        rows = list(
            (await conn.execute(query.where(key > before).order_by(key.asc()).limit(per_page + 1))).all()
        )
        more_newer = len(rows) > per_page
        rows = rows[:per_page][::-1]
        return KeysetPage(
            rows,
            next_key=getattr(rows[-1], name) if rows else None,
            prev_key=getattr(rows[0], name) if rows and more_newer else None,
        )
    if after is not None:
        query = query.where(key < after)
    rows = list((await conn.execute(query.order_by(key.desc()).limit(per_page + 1))).all())
    more_older = len(rows) > per_page
    rows = rows[:per_page]
    return KeysetPage(
        rows,
        next_key=getattr(rows[-1], name) if rows and more_older else None,
        prev_key=getattr(rows[0], name) if rows and after is not None else None,
    )
