"""Cursor pages stay whole while rows are inserted between them."""

from __future__ import annotations

from sqlalchemy import select

from tests.harness import Harness
from waybill.accounts.models import accounts
from waybill.core.keyset import fetch_page


async def _page(api: Harness, **kwargs: int | None):  # type: ignore[no-untyped-def]
    async def run(conn):  # type: ignore[no-untyped-def]
        return await fetch_page(conn, select(accounts.c.id), accounts.c.id, per_page=10, **kwargs)

    return await api.tx(run)


async def test_walk_forward_and_back_with_inserts_in_between(api: Harness) -> None:
    for n in range(25):
        await api.user(f"user{n}")
    seen: list[int] = []
    page = await _page(api)
    assert page.prev_key is None
    while True:
        seen += [row.id for row in page.items]
        await api.user(f"late{len(seen)}")  # newer rows must not shift older pages
        if page.next_key is None:
            break
        page = await _page(api, after=page.next_key)
    assert seen == list(range(25, 0, -1))

    back = await _page(api, before=15)
    assert [row.id for row in back.items] == list(range(25, 15, -1))
    assert back.next_key == 16
    assert back.prev_key == 25
