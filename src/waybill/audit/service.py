"""The audit log's rules: who reads it, what a filter means, how long entries stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Account
from waybill.audit import access
from waybill.audit import repository as sql
from waybill.audit.types import Entry, Filters
from waybill.auth.types import Principal
from waybill.core.keyset import Cursor, Page


async def readable_org(conn: AsyncConnection, principal: Principal, login: str) -> Account:
    return await access.organization(conn, principal, login)


async def repository_id(conn: AsyncConnection, org: Account, name: str) -> int | None:
    """The id of the organization's repository named ``name`` or ``org/name``; None if none is."""
    owner, _, rest = name.rpartition("/")
    if owner and owner.lower() != org.login.lower():
        return None
    found = await accounts.find_repository(conn, org.login, rest)
    return None if found is None else found.id


async def list_entries(
    conn: AsyncConnection,
    org: Account,
    filters: Filters,
    cursor: Cursor,
) -> Page[Entry]:
    return await sql.list_entries(conn, org.id, filters, cursor)


async def prune(conn: AsyncConnection, now: datetime, retention_days: int) -> int:
    """Entries older than ``retention_days`` go; 0 days keeps them all."""
    if retention_days <= 0:
        return 0
    return await sql.prune(conn, now - timedelta(days=retention_days))
