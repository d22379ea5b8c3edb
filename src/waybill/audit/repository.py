"""All SQL of the audit log: its listing and its pruning (its entries are written by the changes
themselves, ``waybill.core.audit``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.models import repositories
from waybill.audit.models import audit_log
from waybill.audit.types import Entry, Filters
from waybill.core import keyset
from waybill.core.audit import ActorType
from waybill.core.keyset import Cursor, Page
from waybill.core.rows import values_of

_LISTED = select(audit_log, repositories.c.name.label("repository_name")).outerjoin(
    repositories, repositories.c.id == audit_log.c.repository_id
)


_entry = values_of(Entry, actor_type=ActorType)


async def list_entries(
    conn: AsyncConnection,
    org_id: int,
    filters: Filters,
    cursor: Cursor,
) -> Page[Entry]:
    """The organization's entries, newest first, a keyset page of them."""
    a = audit_log
    query = _LISTED.where(a.c.org_id == org_id)
    if filters.actor is not None:
        query = query.where(func.lower(a.c.actor_login) == filters.actor.lower())
    if filters.action is not None:
        query = query.where(
            or_(a.c.action == filters.action, a.c.action.startswith(filters.action + ".", autoescape=True))
        )
    if filters.repository_id is not None:
        query = query.where(a.c.repository_id == filters.repository_id)
    if filters.since is not None:
        query = query.where(a.c.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(a.c.created_at <= filters.until)
    return (await keyset.fetch_page(conn, query, a.c.id, cursor)).map(_entry)


async def prune(conn: AsyncConnection, older_than: datetime) -> int:
    """Remove the entries written before ``older_than``; how many went."""
    result = await conn.execute(delete(audit_log).where(audit_log.c.created_at < older_than))
    return int(result.rowcount or 0)
