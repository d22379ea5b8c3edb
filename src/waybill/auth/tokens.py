"""Issuing, revoking and resolving personal access tokens."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import secrets
import string
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.auth import repository
from waybill.auth.cache import PRINCIPALS
from waybill.auth.types import (
    CLASSIC_PREFIX,
    CLASSIC_SCOPES,
    FINE_GRAINED_PERMISSIONS,
    FINE_GRAINED_PREFIX,
    INSTALLATION_PREFIX,
    LEVELS,
    PUBLISHER_PREFIX,
    Principal,
    TokenKind,
)
from waybill.core import audit, clock
from waybill.core.errors import NotFound, Unauthenticated, ValidationFailed

_ALPHABET = string.ascii_letters + string.digits


def _generate(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def create_classic(conn: AsyncConnection, login: str, scopes: Iterable[str]) -> str:
    user = await accounts.get_user(conn, login)
    wanted = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in wanted if s not in CLASSIC_SCOPES]
    if unknown:
        raise ValidationFailed.one("Token", "scopes", "invalid", f"unknown scope: {', '.join(unknown)}")
    raw = _generate(CLASSIC_PREFIX, 36)
    await _insert(conn, raw, user.id, TokenKind.CLASSIC, scopes=wanted)
    return raw


async def create_fine_grained(
    conn: AsyncConnection,
    login: str,
    *,
    resource_owner: str,
    repositories: list[str] | None,
    permissions: dict[str, str],
    expires_in_days: int | None,
) -> str:
    user = await accounts.get_user(conn, login)
    owner = await accounts.get_account(conn, resource_owner)
    for name, level in permissions.items():
        if name not in FINE_GRAINED_PERMISSIONS:
            raise ValidationFailed.one("Token", "permissions", "invalid", f"unknown permission: {name}")
        if level not in LEVELS:
            raise ValidationFailed.one(
                "Token", "permissions", "invalid", f"{name}: level must be read or write"
            )
    repository_ids: list[int] | None = None
    if repositories is not None:
        found = await accounts.repositories_of(conn, owner, repositories)
        missing = sorted(set(n.lower() for n in repositories) - set(found))
        if missing:
            raise NotFound(f"repository not found: {owner.login}/{missing[0]}")
        repository_ids = sorted(r.id for r in found.values())
    if expires_in_days is not None and expires_in_days < 1:
        raise ValidationFailed.one("Token", "expires_in_days", "invalid", "expiry must be at least one day")
    raw = _generate(FINE_GRAINED_PREFIX, 82)
    await _insert(
        conn,
        raw,
        user.id,
        TokenKind.FINE_GRAINED,
        resource_owner_id=owner.id,
        repository_ids=repository_ids,
        permissions=permissions,
        expires_at=None if expires_in_days is None else clock.now() + timedelta(days=expires_in_days),
    )
    # In the log of the account it reaches (a classic token reaches no account of its own).
    await audit.record(conn, owner.id, "token.created", repository_id=None, target=login)
    return raw


@dataclass(frozen=True)
class Issued:
    raw: str
    id: int
    expires_at: datetime


_INTEGRATION_PREFIXES = {TokenKind.INSTALLATION: INSTALLATION_PREFIX, TokenKind.PUBLISHER: PUBLISHER_PREFIX}


async def issue_integration(
    conn: AsyncConnection,
    kind: TokenKind,
    *,
    acting_as: int,
    resource_owner_id: int,
    repository_ids: list[int] | None,
    permissions: dict[str, str],
    lifetime: timedelta,
) -> Issued:
    """A short-lived token of an app installation or a trusted publisher, acting as the bot account
    ``acting_as``. Its grants were settled by the caller (the installation's, narrowed)."""
    raw = _generate(_INTEGRATION_PREFIXES[kind], 36)
    expires_at = clock.now() + lifetime
    token_id = await _insert(
        conn,
        raw,
        acting_as,
        kind,
        resource_owner_id=resource_owner_id,
        repository_ids=repository_ids,
        permissions=permissions,
        expires_at=expires_at,
    )
    return Issued(raw, token_id, expires_at)


async def _insert(
    conn: AsyncConnection,
    raw: str,
    user_id: int,
    kind: TokenKind,
    *,
    scopes: list[str] | None = None,
    resource_owner_id: int | None = None,
    repository_ids: list[int] | None = None,
    permissions: dict[str, str] | None = None,
    expires_at: datetime | None = None,
) -> int:
    return await repository.insert_token(
        conn,
        token_hash=digest(raw),
        hint=raw[-4:],
        user_id=user_id,
        kind=kind,
        scopes=scopes or [],
        resource_owner_id=resource_owner_id,
        repository_ids=repository_ids,
        permissions=permissions or {},
        expires_at=expires_at,
    )


async def revoke(conn: AsyncConnection, raw: str) -> None:
    """Revoke a token; every process refuses it on its next request (``waybill.auth.cache``)."""
    if not await repository.revoke_token(conn, digest(raw)):
        raise NotFound("token not found (or already revoked)")


async def revoke_ids(conn: AsyncConnection, ids: Iterable[int]) -> None:
    """Revoke these tokens (those still live), as when their app installation is suspended."""
    await repository.revoke_tokens(conn, ids)


def parse_authorization(header: str) -> str:
    """The token from ``Bearer T``, ``token T`` or HTTP Basic with the token as password (as git sends it)."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic" and value:
        try:
            value = base64.b64decode(value, validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            value = ""
    elif scheme.lower() not in ("bearer", "token"):
        value = ""
    if not value:
        raise Unauthenticated("Bad credentials")
    return value


def cached(database: Hashable, raw: str, max_age: float) -> Principal | None:
    """The caller ``raw`` names, if this process looked it up less than ``max_age`` seconds ago
    (``waybill.auth.cache`` says why that is safe); None when it must be looked up."""
    principal = PRINCIPALS.get(database, digest(raw), max_age) if max_age > 0 else None
    return None if principal is None else _unexpired(principal)


# Lookups in flight, by database and token hash: a burst of requests with a token this process has
# not cached (a deployment-tracker sends 50 at once) makes one lookup, not one each.
_LOOKUPS: dict[tuple[Hashable, str], asyncio.Future[Principal]] = {}


async def looked_up_once(
    database: Hashable, raw: str, lookup: Callable[[], Awaitable[Principal]]
) -> Principal:
    """``lookup()``'s answer for ``raw``, shared with the requests that ask for it meanwhile."""
    key = (database, digest(raw))
    pending = _LOOKUPS.get(key)
    if pending is not None:
        return await asyncio.shield(pending)
    future: asyncio.Future[Principal] = asyncio.get_running_loop().create_future()
    _LOOKUPS[key] = future
    try:
        principal = await lookup()
    except Exception as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: nobody else may be waiting
        raise
    except BaseException:
        future.cancel()
        raise
    else:
        future.set_result(principal)
        return principal
    finally:
        del _LOOKUPS[key]


async def authenticate(conn: AsyncConnection, raw: str, *, max_age: float = 0.0) -> Principal:
    """The caller ``raw`` names, from this process's cache when fresh enough (``cached``)."""
    url = conn.engine.url
    principal = cached(url, raw, max_age)
    if principal is None:
        token_hash = digest(raw)
        stamp = PRINCIPALS.stamp(url)
        principal = _unexpired(await _lookup(conn, token_hash))
        PRINCIPALS.put(url, token_hash, principal, stamp)
    return principal


def _unexpired(principal: Principal) -> Principal:
    expires_at = principal.token.expires_at if principal.token is not None else None
    if expires_at is not None and expires_at <= clock.now():
        raise Unauthenticated("Bad credentials")
    return principal


async def _lookup(conn: AsyncConnection, token_hash: str) -> Principal:
    principal = await repository.live_principal(conn, token_hash)
    if principal is None:
        raise Unauthenticated("Bad credentials")
    return principal
