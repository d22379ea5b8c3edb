"""All SQL of the webhooks domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.core import keyset
from waybill.core.jobs import JobStatus, jobs
from waybill.core.keyset import Cursor, Page
from waybill.core.outbox import event_subscriptions
from waybill.core.rows import values_of
from waybill.webhooks.models import deliveries, hooks
from waybill.webhooks.types import ATTEMPTED, QUEUED, ContentType, Delivery, DeliveryState, Hook

_hook = values_of(Hook, events=list, content_type=ContentType, last_response=dict)


_delivery = values_of(Delivery, state=DeliveryState)


def _scope(owner_id: int, repository_id: int | None) -> Any:
    if repository_id is None:
        return and_(hooks.c.owner_id == owner_id, hooks.c.repository_id.is_(None))
    return hooks.c.repository_id == repository_id


async def insert_hook(conn: AsyncConnection, values: dict[str, Any]) -> Hook:
    row = (await conn.execute(insert(hooks).values(**values).returning(*hooks.c))).one()
    hook = _hook(row)
    await _subscribe(conn, hook)
    return hook


async def get_hook(
    conn: AsyncConnection, owner_id: int, repository_id: int | None, hook_id: int
) -> Hook | None:
    row = (
        await conn.execute(select(hooks).where(hooks.c.id == hook_id, _scope(owner_id, repository_id)))
    ).first()
    return None if row is None else _hook(row)


async def hooks_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Hook]:
    if not ids:
        return {}
    return {row.id: _hook(row) for row in await conn.execute(select(hooks).where(hooks.c.id.in_(ids)))}


async def list_hooks(
    conn: AsyncConnection, owner_id: int, repository_id: int | None, *, limit: int, offset: int
) -> list[Hook]:
    rows = await conn.execute(
        select(hooks).where(_scope(owner_id, repository_id)).order_by(hooks.c.id).limit(limit).offset(offset)
    )
    return [_hook(row) for row in rows]


async def count_hooks(conn: AsyncConnection, owner_id: int, repository_id: int | None) -> int:
    return int(
        (
            await conn.execute(select(func.count()).select_from(hooks).where(_scope(owner_id, repository_id)))
        ).scalar_one()
    )


async def update_hook(conn: AsyncConnection, hook_id: int, values: dict[str, Any]) -> Hook:
    row = (
        await conn.execute(update(hooks).where(hooks.c.id == hook_id).values(**values).returning(*hooks.c))
    ).one()
    hook = _hook(row)
    await _subscribe(conn, hook)
    return hook


async def delete_hook(conn: AsyncConnection, hook_id: int) -> None:
    await conn.execute(delete(event_subscriptions).where(event_subscriptions.c.hook_id == hook_id))
    await conn.execute(delete(hooks).where(hooks.c.id == hook_id))


async def _subscribe(conn: AsyncConnection, hook: Hook) -> None:
    """Mirror what the hook hears into ``event_subscriptions``: nothing while it is inactive."""
    await conn.execute(delete(event_subscriptions).where(event_subscriptions.c.hook_id == hook.id))
    if hook.active and hook.events:
        await conn.execute(
            insert(event_subscriptions),
            [{"account_id": hook.owner_id, "event": e, "hook_id": hook.id} for e in sorted(set(hook.events))],
        )


async def set_last_response(conn: AsyncConnection, hook_id: int, response: dict[str, Any]) -> None:
    await conn.execute(update(hooks).where(hooks.c.id == hook_id).values(last_response=response))


async def hooks_hearing(
    conn: AsyncConnection, owner_id: int | None, repository_id: int | None, event: str
) -> list[Hook]:
    """The active hooks that hear ``event`` of the account (and of the repository, if any); of an
    event of no account (None), every active hook that hears it."""
    s = event_subscriptions
    if owner_id is None:
        rows = await conn.execute(
            select(hooks)
            .where(hooks.c.id.in_(select(s.c.hook_id).where(s.c.event.in_([event, "*"]))))
            .order_by(hooks.c.id)
        )
        return [_hook(row) for row in rows]
    scope: Any = hooks.c.repository_id.is_(None)
    if repository_id is not None:
        scope = or_(scope, hooks.c.repository_id == repository_id)
    rows = await conn.execute(
        select(hooks)
        .where(
            hooks.c.owner_id == owner_id,
            scope,
            hooks.c.id.in_(
                select(s.c.hook_id).where(s.c.account_id == owner_id, s.c.event.in_([event, "*"]))
            ),
        )
        .order_by(hooks.c.id)
    )
    return [_hook(row) for row in rows]


# Deliveries.


async def insert_delivery(conn: AsyncConnection, values: dict[str, Any], *, sequence: int | None) -> int:
    """A queued attempt; a new event's first attempt takes its own id as its place in the queue."""
    delivery_id = int(
        (
            await conn.execute(
                insert(deliveries).values(**values, sequence=sequence).returning(deliveries.c.id)
            )
        ).scalar_one()
    )
    if sequence is None:
        await conn.execute(
            update(deliveries).where(deliveries.c.id == delivery_id).values(sequence=delivery_id)
        )
    return delivery_id


async def queue_head(conn: AsyncConnection, hook_id: int) -> Delivery | None:
    """The hook's next attempt in order (being sent, or waiting), locked on PostgreSQL."""
    d = deliveries
    row = (
        await conn.execute(
            select(d)
            .where(d.c.hook_id == hook_id, d.c.state.in_(QUEUED))
            .order_by(d.c.sequence, d.c.id)
            .limit(1)
            .with_for_update()
        )
    ).first()
    return None if row is None else _delivery(row)


async def claim(conn: AsyncConnection, delivery_id: int, lease_until: datetime) -> None:
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(state=DeliveryState.SENDING, lease_until=lease_until)
    )


async def record_attempt(conn: AsyncConnection, delivery_id: int, values: dict[str, Any]) -> None:
    await conn.execute(
        update(deliveries).where(deliveries.c.id == delivery_id).values(**values, lease_until=None)
    )


async def get_delivery(conn: AsyncConnection, hook_id: int, delivery_id: int) -> Delivery | None:
    d = deliveries
    row = (
        await conn.execute(
            select(d).where(d.c.id == delivery_id, d.c.hook_id == hook_id, d.c.state.in_(ATTEMPTED))
        )
    ).first()
    return None if row is None else _delivery(row)


async def list_deliveries(
    conn: AsyncConnection, hook_id: int, cursor: Cursor, *, succeeded: bool | None
) -> Page[Delivery]:
    """Attempts made, newest first (what GitHub lists: an attempt not yet made is not there)."""
    d = deliveries
    query = select(d).where(d.c.hook_id == hook_id, d.c.state.in_(ATTEMPTED))
    if succeeded is True:
        query = query.where(d.c.state == DeliveryState.DELIVERED)
    elif succeeded is False:
        query = query.where(d.c.state != DeliveryState.DELIVERED)
    return (await keyset.fetch_page(conn, query, d.c.id, cursor)).map(_delivery)


async def wakeup_queued(conn: AsyncConnection, kind: str, key: str, at: datetime) -> bool:
    """Whether a pending job of ``kind`` and ``key`` will run by ``at`` already."""
    row = (
        await conn.execute(
            select(jobs.c.id)
            .where(
                jobs.c.kind == kind,
                jobs.c.key == key,
                jobs.c.status == JobStatus.PENDING,
                jobs.c.run_after <= at,
            )
            .limit(1)
        )
    ).first()
    return row is not None


async def prune_deliveries(conn: AsyncConnection, older_than: datetime) -> int:
    """Remove the attempts made before ``older_than`` (those still queued stay); how many went."""
    d = deliveries
    attempted = [s.value for s in ATTEMPTED]
    made = func.coalesce(d.c.delivered_at, d.c.created_at)
    result = await conn.execute(delete(d).where(d.c.state.in_(attempted), made < older_than))
    return int(result.rowcount or 0)
