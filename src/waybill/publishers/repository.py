"""All SQL of trusted publishing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.core.db import upsert
from waybill.core.rows import values_of
from waybill.publishers.models import oidc_issuers, oidc_used_tokens, trusted_publishers
from waybill.publishers.types import Issuer, StoredPublisher

_issuer = values_of(Issuer)
_joined_issuer = values_of(Issuer, prefix="issuer__")


async def upsert_issuer(
    conn: AsyncConnection, url: str, jwks: dict[str, Any] | None, now: datetime
) -> Issuer:
    """Trust ``url``; adding it again replaces its pinned keys (or unpins them)."""
    stmt = upsert(conn, oidc_issuers).values(url=url, jwks=jwks, created_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=["url"], set_={"jwks": stmt.excluded.jwks}).returning(
        *oidc_issuers.c
    )
    return _issuer((await conn.execute(stmt)).one())


async def issuer_by_url(conn: AsyncConnection, url: str) -> Issuer | None:
    row = (await conn.execute(select(oidc_issuers).where(oidc_issuers.c.url == url))).first()
    return None if row is None else _issuer(row)


async def issuers(conn: AsyncConnection) -> list[Issuer]:
    return [_issuer(r) for r in await conn.execute(select(oidc_issuers).order_by(oidc_issuers.c.id))]


async def delete_issuer(conn: AsyncConnection, url: str) -> bool:
    result = await conn.execute(delete(oidc_issuers).where(oidc_issuers.c.url == url))
    return bool(result.rowcount)


async def insert_publisher(
    conn: AsyncConnection,
    *,
    repository_id: int,
    issuer_id: int,
    claims: dict[str, str],
    workflow: str | None,
    environment: str | None,
    permissions: dict[str, str],
    now: datetime,
) -> int:
    stmt = (
        insert(trusted_publishers)
        .values(
            repository_id=repository_id,
            issuer_id=issuer_id,
            claims=claims,
            workflow=workflow,
            environment=environment,
            permissions=permissions,
            created_at=now,
        )
        .returning(trusted_publishers.c.id)
    )
    return int((await conn.execute(stmt)).scalar_one())


async def publishers(
    conn: AsyncConnection, *, issuer_id: int | None = None, repository_id: int | None = None
) -> list[StoredPublisher]:
    """Publishers of an issuer or of a repository, oldest first, with their issuer."""
    stmt = select(trusted_publishers, *(c.label(f"issuer__{c.name}") for c in oidc_issuers.c)).join(
        oidc_issuers, oidc_issuers.c.id == trusted_publishers.c.issuer_id
    )
    if issuer_id is not None:
        stmt = stmt.where(trusted_publishers.c.issuer_id == issuer_id)
    if repository_id is not None:
        stmt = stmt.where(trusted_publishers.c.repository_id == repository_id)
    return [_stored_publisher(row) for row in await conn.execute(stmt.order_by(trusted_publishers.c.id))]


def _stored_publisher(row: Row[Any]) -> StoredPublisher:
    m = row._mapping
    return StoredPublisher(
        id=m["id"],
        repository_id=m["repository_id"],
        issuer=_joined_issuer(row),
        claims=dict(m["claims"]),
        workflow=m["workflow"],
        environment=m["environment"],
        permissions=dict(m["permissions"]),
        created_at=m["created_at"],
    )


async def delete_publisher(conn: AsyncConnection, repository_id: int, publisher_id: int) -> bool:
    result = await conn.execute(
        delete(trusted_publishers).where(
            trusted_publishers.c.id == publisher_id, trusted_publishers.c.repository_id == repository_id
        )
    )
    return bool(result.rowcount)


async def use_token_id(
    conn: AsyncConnection, issuer_id: int, jti: str, expires_at: datetime, now: datetime
) -> bool:
    """Record ``jti`` as exchanged; False when it was already (one statement, so that of two
    concurrent exchanges of one token only one succeeds). Ids of expired tokens are dropped first:
    such a token is refused for its expiry anyway."""
    await conn.execute(delete(oidc_used_tokens).where(oidc_used_tokens.c.expires_at < now))
    stmt = (
        upsert(conn, oidc_used_tokens)
        .values(issuer_id=issuer_id, jti=jti, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["issuer_id", "jti"])
        .returning(oidc_used_tokens.c.jti)
    )
    return (await conn.execute(stmt)).first() is not None
