"""Cursor pages stay whole while rows are inserted between them, in either order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.harness import Harness
from waybill.accounts.models import accounts
from waybill.core.keyset import Cursor, Page, fetch_page


async def _page(api: Harness, cursor: Cursor, *, ascending: bool = False) -> Page[Row[Any]]:
    async def run(conn: AsyncConnection) -> Page[Row[Any]]:
        return await fetch_page(conn, select(accounts.c.id), accounts.c.id, cursor, ascending=ascending)

    return await api.tx(run)


def _ids(page: Page[Row[Any]]) -> list[int]:
    return [row.id for row in page.items]


async def test_walk_forward_and_back_with_inserts_in_between(api: Harness) -> None:
    for n in range(25):
        await api.user(f"user{n}")
    seen: list[int] = []
    page = await _page(api, Cursor(10))
    assert page.prev_key is None
    while True:
        seen += _ids(page)
        await api.user(f"late{len(seen)}")  # newer rows must not shift older pages
        if page.next_key is None:
            break
        page = await _page(api, Cursor(10, after=page.next_key))
    assert seen == list(range(25, 0, -1))

    back = await _page(api, Cursor(10, before=15))
    assert _ids(back) == list(range(25, 15, -1))
    assert back.next_key == 16
    assert back.prev_key == 25


async def test_an_ascending_walk_pages_from_the_smallest_key(api: Harness) -> None:
    for n in range(25):
        await api.user(f"user{n}")
    first = await _page(api, Cursor(10), ascending=True)
    assert _ids(first) == list(range(1, 11))
    assert (first.next_key, first.prev_key) == (10, None)
    second = await _page(api, Cursor(10, after=10), ascending=True)
    assert _ids(second) == list(range(11, 21))
    assert (second.next_key, second.prev_key) == (20, 11)
    back = await _page(api, Cursor(10, before=11), ascending=True)
    assert _ids(back) == list(range(1, 11))
    assert (back.next_key, back.prev_key) == (10, None)
    last = await _page(api, Cursor(10, after=20), ascending=True)
    assert _ids(last) == list(range(21, 26))
    assert last.next_key is None
