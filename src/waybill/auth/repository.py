"""The SQL of authentication and authorization: tokens, and the subqueries of the repositories a
caller may read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, false, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.models import accounts, repositories
from waybill.accounts.repository import account_from_row, readable_by_user
from waybill.auth.models import tokens
from waybill.auth.types import Principal, Token, TokenKind
from waybill.core import clock

RepositoryIds = Select[tuple[int]]
"""A subquery of repository ids, for ``column.in_(...)`` in the domains' repositories."""


async def insert_token(
    conn: AsyncConnection,
    *,
    token_hash: str,
    hint: str,
    user_id: int,
    kind: TokenKind,
    scopes: list[str],
    resource_owner_id: int | None,
    repository_ids: list[int] | None,
    permissions: dict[str, str],
    expires_at: datetime | None,
) -> int:
    result = await conn.execute(
        insert(tokens)
        .values(
            user_id=user_id,
            kind=kind,
            token_hash=token_hash,
            hint=hint,
            scopes=scopes,
            resource_owner_id=resource_owner_id,
            repository_ids=repository_ids,
            permissions=permissions,
            expires_at=expires_at,
            created_at=clock.now(),
        )
        .returning(tokens.c.id)
    )
    return int(result.scalar_one())


async def revoke_token(conn: AsyncConnection, token_hash: str) -> bool:
    """Whether a live token had this hash (it is revoked now)."""
    result = await conn.execute(
        update(tokens)
        .where(tokens.c.token_hash == token_hash, tokens.c.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return result.rowcount > 0


async def revoke_tokens(conn: AsyncConnection, ids: Iterable[int]) -> None:
    wanted = sorted(set(ids))
    if wanted:
        await conn.execute(
            update(tokens)
            .where(tokens.c.id.in_(wanted), tokens.c.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )


_BY_HASH = (
    select(tokens, *(c.label(f"user__{c.name}") for c in accounts.c))
    .join(accounts, accounts.c.id == tokens.c.user_id)
    .where(tokens.c.token_hash == bindparam("token_hash"))
)


async def live_principal(conn: AsyncConnection, token_hash: str) -> Principal | None:
    """The principal of the token with this hash, unless it is unknown or revoked (its expiry is
    the caller's to check)."""
    row = (await conn.execute(_BY_HASH, {"token_hash": token_hash})).first()
    if row is None or row.revoked_at is not None:
        return None
    token = Token(
        id=row.id,
        kind=TokenKind(row.kind),
        scopes=frozenset(row.scopes),
        resource_owner_id=row.resource_owner_id,
        repository_ids=None if row.repository_ids is None else frozenset(row.repository_ids),
        permissions=dict(row.permissions),
        expires_at=row.expires_at,
    )
    return Principal(user=account_from_row(row, "user__"), token=token)


@lru_cache(maxsize=4096)
def readable_ids(
    private_for: int | None, site_admin: bool, owner_id: int | None, repository_ids: frozenset[int] | None
) -> RepositoryIds:
    """Public repositories, and the private ones user ``private_for`` reads (site admins: all),
    narrowed to ``owner_id``'s (fine-grained tokens, which always name a resource owner) and to
    ``repository_ids``. Memoized, as each of a caller's reads would build the same subquery again
    (SQL elements are immutable, so sharing one is safe)."""
    public = repositories.c.private == false()
    if private_for is None:
        return select(repositories.c.id).where(public)
    private = true() if site_admin else readable_by_user(private_for)
    if owner_id is not None:
        private = private & (repositories.c.owner_id == owner_id)
    if repository_ids is not None:
        private = private & repositories.c.id.in_(sorted(repository_ids))
    return select(repositories.c.id).where(or_(public, private))


def organization_repository_ids(
    org_id: int, *, public_only: bool, repository_ids: frozenset[int] | None
) -> RepositoryIds:
    """The organization's repositories, only its public ones or only ``repository_ids`` if so narrowed."""
    r = repositories.c
    where: list[Any] = [r.owner_id == org_id]
    if public_only:
        where.append(r.private == false())
    if repository_ids is not None:
        where.append(r.id.in_(sorted(repository_ids)))
    return select(r.id).where(*where)
