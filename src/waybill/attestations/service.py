"""The rules of the attestations domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cramjam
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Account, Role
from waybill.attestations import repository as sql
from waybill.attestations.schemas import SLSA_PROVENANCE, Bundle, PredicateFilter
from waybill.auth import permissions
from waybill.auth.types import Need, Principal
from waybill.core import clock
from waybill.core.errors import NotFound
from waybill.core.keyset import KeysetPage
from waybill.http.pagination import Cursor

READ = Need(Role.READ, ("attestations",))
# GitHub documents "Attestations" repository permissions (write) for creating and for every delete.
WRITE = Need(Role.WRITE, ("attestations",))

# Every caller is a user acting through a personal access token (Waybill has no GitHub Actions).
USER_INITIATOR = "user"


@dataclass(frozen=True)
class Provenance:
    attestation_id: int
    repository_id: int


async def _owner(conn: AsyncConnection, login: str) -> Account:
    # Organizations and users alike: `gh attestation verify --owner` asks /orgs/{owner}/... for
    # personal accounts too.
    owner = await accounts.find_account(conn, login)
    if owner is None:
        raise NotFound()
    return owner


async def create(conn: AsyncConnection, principal: Principal, owner: str, name: str, bundle: Bundle) -> int:
    repo = await accounts.find_repository(conn, owner, name)
    if repo is None:
        raise NotFound()
    await permissions.require(conn, principal, repo, WRITE)
    return await sql.insert_attestation(
        conn,
        repository_id=repo.id,
        bundle=bundle,
        # Snappy block format: the bytes GitHub serves from bundle_url and `gh` decodes.
        compressed=bytes(cramjam.snappy.compress_raw(bundle.raw)),
        initiator=USER_INITIATOR,
        now=clock.now(),
    )


def decompress(data: bytes) -> bytes:
    return bytes(cramjam.snappy.decompress_raw(data))


async def list_for_repository(
    conn: AsyncConnection,
    principal: Principal,
    owner: str,
    name: str,
    digest: str,
    predicate: PredicateFilter | None,
    cursor: Cursor,
    *,
    with_bundle: bool,
) -> KeysetPage:
    repo = await accounts.find_repository(conn, owner, name)
    if repo is None:
        raise NotFound()
    await permissions.require(conn, principal, repo, READ)
    return await sql.list_by_digest(
        conn,
        digest=digest,
        readable=None,
        repository_id=repo.id,
        predicate=predicate,
        with_bundle=with_bundle,
        per_page=cursor.per_page,
        after=cursor.after,
        before=cursor.before,
    )


async def list_for_owner(
    conn: AsyncConnection,
    principal: Principal,
    login: str,
    digest: str,
    predicate: PredicateFilter | None,
    cursor: Cursor,
    *,
    with_bundle: bool,
) -> KeysetPage:
    owner = await _owner(conn, login)
    return await sql.list_by_digest(
        conn,
        digest=digest,
        readable=permissions.readable_repository_ids(principal, READ),
        owner_id=owner.id,
        predicate=predicate,
        with_bundle=with_bundle,
        per_page=cursor.per_page,
        after=cursor.after,
        before=cursor.before,
    )


async def bulk_list(
    conn: AsyncConnection,
    principal: Principal,
    login: str,
    digests: Sequence[str],
    predicate: PredicateFilter | None,
    cursor: Cursor,
    *,
    with_bundle: bool,
) -> sql.BulkPage:
    owner = await _owner(conn, login)
    return await sql.bulk_list(
        conn,
        digests=sorted(set(digests)),
        owner_id=owner.id,
        readable=permissions.readable_repository_ids(principal, READ),
        predicate=predicate,
        with_bundle=with_bundle,
        per_page=cursor.per_page,
        after=cursor.after,
        before=cursor.before,
    )


async def delete(
    conn: AsyncConnection,
    principal: Principal,
    login: str,
    *,
    ids: Sequence[int] | None = None,
    digests: Sequence[str] | None = None,
) -> int:
    """Delete the owner's attestations with these ids or subject digests; the number deleted.

    Attestations of repositories the caller cannot see are left alone as if absent (404 when nothing
    else matches). A visible repository the caller may not write refuses the whole request, so that
    a delete never half-applies.
    """
    owner = await _owner(conn, login)
    rows = await sql.owned(conn, owner.id, ids=ids, digests=digests)
    repos = await accounts.repositories_by_ids(conn, {row.repository_id for row in rows})
    decisions = await permissions.allowed(conn, principal, list(repos.values()), WRITE)
    visible = [row for row in rows if not isinstance(decisions[row.repository_id], NotFound)]
    if not visible:
        raise NotFound()
    for repository_id in sorted({row.repository_id for row in visible}):
        error = decisions[repository_id]
        if error is not None:
            raise error
    await sql.delete_ids(conn, [row.id for row in visible])
    return len(visible)


@dataclass(frozen=True)
class RepositoryPage:
    repositories: list[tuple[int, str]]
    next_key: int | None
    prev_key: int | None


async def repositories(
    conn: AsyncConnection,
    principal: Principal,
    login: str,
    predicate: PredicateFilter | None,
    cursor: Cursor,
) -> RepositoryPage:
    owner = await _owner(conn, login)
    rows, next_key, prev_key = await sql.repositories_page(
        conn,
        owner_id=owner.id,
        readable=permissions.readable_repository_ids(principal, READ),
        predicate=predicate,
        per_page=cursor.per_page,
        after=cursor.after,
        before=cursor.before,
    )
    return RepositoryPage([(row.id, row.name) for row in rows], next_key, prev_key)


async def bundle(conn: AsyncConnection, attestation_id: int) -> bytes:
    """The stored (snappy-compressed) bundle."""
    data = await sql.bundle_data(conn, attestation_id)
    if data is None:
        raise NotFound()
    return data


async def provenance_for(
    conn: AsyncConnection, owner_id: int, digests: Sequence[str]
) -> dict[str, Provenance]:
    """For each ``sha256:`` digest, the newest provenance attestation stored in a repository owned by
    ``owner_id``: the artifact metadata writes take the artifact's repository from it."""
    if not digests:
        return {}
    wanted = {digest.lower(): digest for digest in digests}
    rows = await sql.newest_with_predicate(conn, owner_id, sorted(wanted), SLSA_PROVENANCE)
    return {wanted[row.digest]: Provenance(row.id, row.repository_id) for row in rows}
