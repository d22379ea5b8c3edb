"""Keyset pagination: over a strictly increasing integer key, newest (largest) first or in
ascending order (``fetch_page``), or over a sort value with the id to break its ties (``fetch_sorted``).

Pages stay stable while rows are inserted: a cursor names the key where the previous page ended,
never an offset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Row, Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Page(Generic[T]):
    """A page of a keyset walk, and the keys its neighbours start from (None: there is none)."""

    items: list[T]
    next_key: int | None
    prev_key: int | None = None

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        """The same page with ``fn`` applied to each item."""
        return Page([fn(item) for item in self.items], self.next_key, self.prev_key)


@dataclass(frozen=True)
class SortedPage(Generic[T]):
    """A page of a walk in (sort value, id) order (``fetch_sorted``); its cursors are the positions
    of its first and last items."""

    items: list[T]
    more: bool


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: past a key (``after``), back before one (``before``), or at the start."""

    per_page: int
    after: int | None = None
    before: int | None = None


async def fetch_page(
    conn: AsyncConnection, query: Select[Any], key: Any, cursor: Cursor, *, ascending: bool = False
) -> Page[Row[Any]]:
    """A page of ``query``'s rows by ``key``, the column (or label) ordering them, largest first or
    (``ascending``) smallest first; rows must expose it as ``row.<key.name>``."""
    name, size = key.name, cursor.per_page
    if cursor.before is not None:
        back = key < cursor.before if ascending else key > cursor.before
        order = key.desc() if ascending else key.asc()
        rows = list((await conn.execute(query.where(back).order_by(order).limit(size + 1))).all())
        more_back = len(rows) > size
        rows = rows[:size][::-1]
        return Page(
            rows,
            next_key=getattr(rows[-1], name) if rows else None,
            prev_key=getattr(rows[0], name) if rows and more_back else None,
        )
    if cursor.after is not None:
        query = query.where(key > cursor.after if ascending else key < cursor.after)
    order = key.asc() if ascending else key.desc()
    rows = list((await conn.execute(query.order_by(order).limit(size + 1))).all())
    more_on = len(rows) > size
    rows = rows[:size]
    return Page(
        rows,
        next_key=getattr(rows[-1], name) if rows and more_on else None,
        prev_key=getattr(rows[0], name) if rows and cursor.after is not None else None,
    )


@dataclass(frozen=True)
class Position:
    """Where a page starts: the sort value and id of the row just outside it."""

    value: Any
    id: int


async def fetch_sorted(
    conn: AsyncConnection,
    query: Select[Any],
    column: Any,
    ident: Any,
    *,
    descending: bool,
    per_page: int,
    after: Position | None = None,
    before: Position | None = None,
    offset: int = 0,
) -> tuple[list[Row[Any]], bool]:
    """A page of ``query``'s rows in (``column``, ``ident``) order, and whether more lie beyond it
    (beyond its end for ``after`` or the first page, before its start for ``before``). Without a
    position, the page starts ``offset`` rows in (for clients that page by number)."""
    # Walking backwards (``before``) reverses the order, then the page is flipped back.
    forward = before is None
    desc = descending if forward else not descending
    at = after if forward else before
    if at is not None:
        if desc:
            query = query.where(or_(column < at.value, and_(column == at.value, ident < at.id)))
        else:
            query = query.where(or_(column > at.value, and_(column == at.value, ident > at.id)))
    elif offset:
        query = query.offset(offset)
    order = (column.desc(), ident.desc()) if desc else (column.asc(), ident.asc())
    rows = list((await conn.execute(query.order_by(*order).limit(per_page + 1))).all())
    more = len(rows) > per_page
    rows = rows[:per_page]
    if not forward:
        rows.reverse()
    return rows, more
