"""The rules of hooks: creating, changing and removing them, pings, and their deliveries."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.types import Account
from waybill.core import audit, clock
from waybill.core.errors import NotFound, ValidationFailed
from waybill.core.keyset import Cursor, Page
from waybill.webhooks import payloads, queue, schemas
from waybill.webhooks import repository as repo
from waybill.webhooks.access import Target
from waybill.webhooks.payloads import Links
from waybill.webhooks.schemas import HOOK_RESOURCE, ConfigChange, Unset
from waybill.webhooks.sending import destination_problem
from waybill.webhooks.types import ContentType, Delivery, Event, Hook

NEVER_USED = {"code": None, "status": "unused", "message": None}


def _check_url(url: str, allow_private: bool) -> None:
    problem = destination_problem(url, allow_private)
    if problem is not None:
        raise ValidationFailed.one(HOOK_RESOURCE, "config.url", "invalid", problem, url)


async def get_hook(conn: AsyncConnection, target: Target, hook_id: int) -> Hook:
    found = await repo.get_hook(
        conn, target.owner.id, None if target.repository is None else target.repository.id, hook_id
    )
    if found is None:
        raise NotFound()
    return found


async def list_hooks(
    conn: AsyncConnection, target: Target, *, per_page: int, page: int
) -> tuple[list[Hook], int]:
    repository_id = None if target.repository is None else target.repository.id
    items = await repo.list_hooks(
        conn, target.owner.id, repository_id, limit=per_page, offset=(page - 1) * per_page
    )
    return items, await repo.count_hooks(conn, target.owner.id, repository_id)


async def ping(
    conn: AsyncConnection, target: Target, hook: Hook, sender: Account | None, links: Links
) -> None:
    """Queue a ``ping`` for the hook, whatever it subscribes to (GitHub does the same)."""
    await queue.enqueue(
        conn,
        hook,
        event=Event.PING.value,
        action=None,
        repository_id=hook.repository_id,
        payload=payloads.ping(links, hook, target.owner, target.repository, sender),
    )


async def create_hook(
    conn: AsyncConnection,
    target: Target,
    body: schemas.HookCreateBody,
    *,
    sender: Account,
    links: Links,
    allow_private: bool,
) -> Hook:
    schemas.check_name(body.name)
    change = schemas.config_change(body.config, url_required=True)
    assert change.url is not None
    _check_url(change.url, allow_private)
    events = schemas.DEFAULT_EVENTS if isinstance(body.events, Unset) else schemas.events_of(body.events)
    now = clock.now()
    hook = await repo.insert_hook(
        conn,
        {
            "owner_id": target.owner.id,
            "repository_id": None if target.repository is None else target.repository.id,
            "name": "web",
            "active": True if isinstance(body.active, Unset) else body.active,
            "events": events,
            "url": change.url,
            "content_type": (change.content_type or ContentType.FORM).value,
            "secret": change.secret or None,
            "insecure_ssl": change.insecure_ssl or "0",
            "last_response": NEVER_USED,
            "created_at": now,
            "updated_at": now,
        },
    )
    if hook.active:
        # GitHub pings a new hook; in this transaction, so a hook never exists without its ping.
        await ping(conn, target, hook, sender, links)
    await _audit(conn, target, "hook.created", hook.id)
    return hook


async def _audit(conn: AsyncConnection, target: Target, action: str, hook_id: int) -> None:
    repository_id = None if target.repository is None else target.repository.id
    await audit.record(conn, target.owner.id, action, repository_id=repository_id, target=str(hook_id))


def _config_values(change: ConfigChange, allow_private: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if change.url is not None:
        _check_url(change.url, allow_private)
        values["url"] = change.url
    if change.content_type is not None:
        values["content_type"] = change.content_type.value
    if change.secret is not None:
        values["secret"] = change.secret or None
    if change.insecure_ssl is not None:
        values["insecure_ssl"] = change.insecure_ssl
    return values


async def update_hook(
    conn: AsyncConnection, target: Target, hook_id: int, body: schemas.HookUpdateBody, *, allow_private: bool
) -> Hook:
    hook = await get_hook(conn, target, hook_id)
    schemas.check_name(body.name)
    # An organization hook's config is given whole (its url required); a repository's may be partial.
    change = schemas.config_change(
        body.config, url_required=target.repository is None and not isinstance(body.config, Unset)
    )
    values = _config_values(change, allow_private)
    events = list(hook.events)
    if not isinstance(body.events, Unset):
        events = schemas.events_of(body.events)
    if not isinstance(body.add_events, Unset):
        events += [e for e in schemas.events_of(body.add_events, "add_events") if e not in events]
    if not isinstance(body.remove_events, Unset):
        removed = set(schemas.events_of(body.remove_events, "remove_events"))
        events = [e for e in events if e not in removed]
    values["events"] = events
    if not isinstance(body.active, Unset):
        values["active"] = body.active
    values["updated_at"] = clock.now()
    await _audit(conn, target, "hook.updated", hook.id)
    return await repo.update_hook(conn, hook.id, values)


async def update_config(
    conn: AsyncConnection,
    target: Target,
    hook_id: int,
    body: schemas.ConfigUpdateBody,
    *,
    allow_private: bool,
) -> Hook:
    hook = await get_hook(conn, target, hook_id)
    values = _config_values(schemas.config_change(body, url_required=False), allow_private)
    if not values:
        return hook
    await _audit(conn, target, "hook.config_updated", hook.id)
    return await repo.update_hook(conn, hook.id, {**values, "updated_at": clock.now()})


async def delete_hook(conn: AsyncConnection, target: Target, hook_id: int) -> None:
    hook = await get_hook(conn, target, hook_id)
    await repo.delete_hook(conn, hook.id)
    await _audit(conn, target, "hook.deleted", hook.id)


async def list_deliveries(
    conn: AsyncConnection,
    target: Target,
    hook_id: int,
    cursor: Cursor,
    *,
    status: str | None,
) -> Page[Delivery]:
    hook = await get_hook(conn, target, hook_id)
    succeeded = None if status is None else status == "success"
    return await repo.list_deliveries(conn, hook.id, cursor, succeeded=succeeded)


async def get_delivery(conn: AsyncConnection, target: Target, hook_id: int, delivery_id: int) -> Delivery:
    hook = await get_hook(conn, target, hook_id)
    found = await repo.get_delivery(conn, hook.id, delivery_id)
    if found is None:
        raise NotFound()
    return found


async def redeliver(conn: AsyncConnection, target: Target, hook_id: int, delivery_id: int) -> None:
    """Send an attempted delivery's event again, as it was, at the end of the hook's queue."""
    hook = await get_hook(conn, target, hook_id)
    found = await repo.get_delivery(conn, hook.id, delivery_id)
    if found is None:
        raise NotFound()
    await queue.enqueue(
        conn,
        hook,
        event=found.event,
        action=found.action,
        repository_id=found.repository_id,
        payload=found.payload,
        guid=found.guid,
        redelivery=True,
    )
