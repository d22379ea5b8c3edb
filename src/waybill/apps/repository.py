"""All SQL of the apps domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.models import accounts
from waybill.accounts.repository import account_from_row
from waybill.apps.models import app_installations, apps, installation_tokens
from waybill.apps.types import App, Installation
from waybill.core.db import upsert

_owner = accounts.alias("app_owner")
_bot = accounts.alias("app_bot")
_target = accounts.alias("target")

_APP_COLUMNS = (
    *(c.label(f"app__{c.name}") for c in apps.c),
    *(c.label(f"owner__{c.name}") for c in _owner.c),
    *(c.label(f"bot__{c.name}") for c in _bot.c),
)
_APP_FROM = apps.join(_owner, _owner.c.id == apps.c.owner_id).join(_bot, _bot.c.id == apps.c.bot_id)
_app_select = select(*_APP_COLUMNS).select_from(_APP_FROM)
_installation_select = select(
    *_APP_COLUMNS,
    *(c.label(f"inst__{c.name}") for c in app_installations.c),
    *(c.label(f"target__{c.name}") for c in _target.c),
).select_from(
    _APP_FROM.join(app_installations, app_installations.c.app_id == apps.c.id).join(
        _target, _target.c.id == app_installations.c.account_id
    )
)


def _app(row: Any) -> App:
    m = row._mapping
    return App(
        id=m["app__id"],
        slug=m["app__slug"],
        name=m["app__name"],
        owner=account_from_row(row, "owner__"),
        bot=account_from_row(row, "bot__"),
        client_id=m["app__client_id"],
        public_key=m["app__public_key"],
        permissions=dict(m["app__permissions"]),
        created_at=m["app__created_at"],
        updated_at=m["app__updated_at"],
    )


def _installation(row: Any) -> Installation:
    m = row._mapping
    ids = m["inst__repository_ids"]
    return Installation(
        id=m["inst__id"],
        app=_app(row),
        account=account_from_row(row, "target__"),
        repository_ids=None if ids is None else frozenset(ids),
        permissions=dict(m["inst__permissions"]),
        suspended_at=m["inst__suspended_at"],
        created_at=m["inst__created_at"],
        updated_at=m["inst__updated_at"],
    )


async def insert_app(
    conn: AsyncConnection,
    *,
    slug: str,
    name: str,
    owner_id: int,
    bot_id: int,
    client_id: str,
    public_key: str,
    permissions: dict[str, str],
    now: datetime,
) -> int | None:
    """The new app's id, or None when the slug is taken (case-insensitively)."""
    stmt = (
        upsert(conn, apps)
        .values(
            slug=slug,
            slug_key=slug.lower(),
            name=name,
            owner_id=owner_id,
            bot_id=bot_id,
            client_id=client_id,
            public_key=public_key,
            permissions=permissions,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["slug_key"])
        .returning(apps.c.id)
    )
    found = (await conn.execute(stmt)).scalar_one_or_none()
    return None if found is None else int(found)


async def app_by_id(conn: AsyncConnection, app_id: int) -> App | None:
    row = (await conn.execute(_app_select.where(apps.c.id == app_id))).first()
    return None if row is None else _app(row)


async def app_by_client_id(conn: AsyncConnection, client_id: str) -> App | None:
    row = (await conn.execute(_app_select.where(apps.c.client_id == client_id))).first()
    return None if row is None else _app(row)


async def app_by_slug(conn: AsyncConnection, slug: str) -> App | None:
    row = (await conn.execute(_app_select.where(apps.c.slug_key == slug.lower()))).first()
    return None if row is None else _app(row)


async def count_installations(conn: AsyncConnection, app_id: int) -> int:
    stmt = select(func.count()).select_from(app_installations).where(app_installations.c.app_id == app_id)
    return int((await conn.execute(stmt)).scalar_one())


async def insert_installation(
    conn: AsyncConnection,
    *,
    app_id: int,
    account_id: int,
    repository_ids: list[int] | None,
    permissions: dict[str, str],
    now: datetime,
) -> int | None:
    """The new installation's id, or None when the app is installed on that account already."""
    stmt = (
        upsert(conn, app_installations)
        .values(
            app_id=app_id,
            account_id=account_id,
            repository_ids=repository_ids,
            permissions=permissions,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["app_id", "account_id"])
        .returning(app_installations.c.id)
    )
    found = (await conn.execute(stmt)).scalar_one_or_none()
    return None if found is None else int(found)


async def installation_by_id(conn: AsyncConnection, installation_id: int) -> Installation | None:
    row = (await conn.execute(_installation_select.where(app_installations.c.id == installation_id))).first()
    return None if row is None else _installation(row)


async def installation_on(conn: AsyncConnection, app_id: int, account_id: int) -> Installation | None:
    stmt = _installation_select.where(
        app_installations.c.app_id == app_id, app_installations.c.account_id == account_id
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else _installation(row)


async def installations_of_app(
    conn: AsyncConnection, app_id: int, *, limit: int, offset: int
) -> list[Installation]:
    stmt = (
        _installation_select.where(app_installations.c.app_id == app_id)
        .order_by(app_installations.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_installation(row) for row in await conn.execute(stmt)]


async def installation_of_token(conn: AsyncConnection, token_id: int) -> Installation | None:
    stmt = _installation_select.join(
        installation_tokens, installation_tokens.c.installation_id == app_installations.c.id
    ).where(installation_tokens.c.token_id == token_id)
    row = (await conn.execute(stmt)).first()
    return None if row is None else _installation(row)


async def set_suspended(
    conn: AsyncConnection, installation_id: int, when: datetime | None, now: datetime
) -> None:
    await conn.execute(
        update(app_installations)
        .where(app_installations.c.id == installation_id)
        .values(suspended_at=when, updated_at=now)
    )


async def delete_installation(conn: AsyncConnection, installation_id: int) -> None:
    await conn.execute(delete(app_installations).where(app_installations.c.id == installation_id))


async def link_token(conn: AsyncConnection, token_id: int, installation_id: int) -> None:
    await conn.execute(insert(installation_tokens).values(token_id=token_id, installation_id=installation_id))


async def token_ids(conn: AsyncConnection, installation_ids: Iterable[int]) -> list[int]:
    """Every token the installations issued (revoking one twice is a no-op in the auth domain)."""
    stmt = select(installation_tokens.c.token_id).where(
        installation_tokens.c.installation_id.in_(sorted(set(installation_ids)))
    )
    return [int(i) for i in (await conn.execute(stmt)).scalars()]
