"""All SQL of the attestations domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.models import repositories
from waybill.attestations.models import attestation_bundles, attestation_subjects, attestations
from waybill.attestations.schemas import Bundle, PredicateFilter
from waybill.core.db import upsert
from waybill.core.keyset import KeysetPage, fetch_page

a = attestations
s = attestation_subjects
b = attestation_bundles


def _predicate(filter_: PredicateFilter) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = [a.c.predicate_type.in_(filter_.exact)]
    clauses += [a.c.predicate_type.startswith(prefix + "/", autoescape=True) for prefix in filter_.versioned]
    return or_(*clauses)


async def insert_attestation(
    conn: AsyncConnection,
    *,
    repository_id: int,
    bundle: Bundle,
    compressed: bytes,
    initiator: str,
    now: datetime,
) -> int:
    """The new attestation's id, or the id of the one already stored for the same bundle."""
    new_id = (
        await conn.execute(
            upsert(conn, a)
            .values(
                repository_id=repository_id,
                predicate_type=bundle.predicate_type,
                media_type=bundle.media_type.value,
                bundle_hash=bundle.content_hash,
                initiator=initiator,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["repository_id", "bundle_hash"])
            .returning(a.c.id)
        )
    ).scalar()
    if new_id is None:
        existing = await conn.execute(
            select(a.c.id).where(a.c.repository_id == repository_id, a.c.bundle_hash == bundle.content_hash)
        )
        return int(existing.scalar_one())
    await conn.execute(insert(b).values(attestation_id=new_id, data=compressed))
    await conn.execute(
        insert(s), [{"digest": digest, "attestation_id": new_id} for digest in bundle.subject_digests]
    )
    return int(new_id)


def _columns(with_bundle: bool) -> list[Any]:
    columns: list[Any] = [a.c.id, a.c.repository_id, a.c.initiator]
    if with_bundle:
        columns.append(b.c.data)
    return columns


def _with_bundle(query: Select[Any], with_bundle: bool) -> Select[Any]:
    return query.join(b, b.c.attestation_id == a.c.id) if with_bundle else query


async def list_by_digest(
    conn: AsyncConnection,
    *,
    digest: str,
    readable: Any | None,
    repository_id: int | None = None,
    owner_id: int | None = None,
    predicate: PredicateFilter | None,
    with_bundle: bool,
    per_page: int,
    after: int | None,
    before: int | None,
) -> KeysetPage:
    # Ordered by the subject index's own attestation_id: the digest's rows are read newest first
    # straight from the primary key (digest, attestation_id).
    query = (
        select(s.c.attestation_id, *_columns(with_bundle))
        .select_from(s.join(a, a.c.id == s.c.attestation_id))
        .where(s.c.digest == digest)
    )
    if readable is not None:
        query = query.where(a.c.repository_id.in_(readable))
    if repository_id is not None:
        query = query.where(a.c.repository_id == repository_id)
    if owner_id is not None:
        query = query.join(repositories, repositories.c.id == a.c.repository_id).where(
            repositories.c.owner_id == owner_id
        )
    if predicate is not None:
        query = query.where(_predicate(predicate))
    query = _with_bundle(query, with_bundle)
    return await fetch_page(conn, query, s.c.attestation_id, per_page=per_page, after=after, before=before)


@dataclass(frozen=True)
class BulkPage:
    page: KeysetPage
    # attestation id -> the requested digests among its subjects
    digests: dict[int, list[str]]


async def bulk_list(
    conn: AsyncConnection,
    *,
    digests: Sequence[str],
    owner_id: int,
    readable: Any,
    predicate: PredicateFilter | None,
    with_bundle: bool,
    per_page: int,
    after: int | None,
    before: int | None,
) -> BulkPage:
    """A page of the attestations (newest first) having any of ``digests`` as a subject; one
    attestation appears once per page even when it has several of the digests."""
    matching = select(s.c.attestation_id).where(s.c.digest.in_(digests))
    query = (
        select(*_columns(with_bundle))
        .select_from(a.join(repositories, repositories.c.id == a.c.repository_id))
        .where(a.c.id.in_(matching), repositories.c.owner_id == owner_id, a.c.repository_id.in_(readable))
    )
    if predicate is not None:
        query = query.where(_predicate(predicate))
    page = await fetch_page(
        conn, _with_bundle(query, with_bundle), a.c.id, per_page=per_page, after=after, before=before
    )
    found: dict[int, list[str]] = {}
    if page.rows:
        pairs = await conn.execute(
            select(s.c.attestation_id, s.c.digest).where(
                s.c.attestation_id.in_([row.id for row in page.rows]), s.c.digest.in_(digests)
            )
        )
        for attestation_id, digest in pairs:
            found.setdefault(attestation_id, []).append(digest)
    return BulkPage(page, found)


async def owned(
    conn: AsyncConnection,
    owner_id: int,
    *,
    ids: Sequence[int] | None = None,
    digests: Sequence[str] | None = None,
) -> list[Any]:
    """``(id, repository_id)`` of the owner's attestations with these ids or subject digests."""
    query = (
        select(a.c.id, a.c.repository_id)
        .select_from(a.join(repositories, repositories.c.id == a.c.repository_id))
        .where(repositories.c.owner_id == owner_id)
    )
    if ids is not None:
        query = query.where(a.c.id.in_(ids))
    if digests is not None:
        query = query.where(a.c.id.in_(select(s.c.attestation_id).where(s.c.digest.in_(digests))))
    return list((await conn.execute(query)).all())


async def delete_ids(conn: AsyncConnection, ids: Sequence[int]) -> None:
    # Subjects and bundles go with their attestation (ON DELETE CASCADE).
    await conn.execute(delete(a).where(a.c.id.in_(ids)))


async def repositories_page(
    conn: AsyncConnection,
    *,
    owner_id: int,
    readable: Any,
    predicate: PredicateFilter | None,
    per_page: int,
    after: int | None,
    before: int | None,
) -> tuple[list[Any], int | None, int | None]:
    """The owner's readable repositories that have attestations, by id ascending: rows, the id to
    continue after, and the id to go back before."""
    has_attestations = select(a.c.id).where(a.c.repository_id == repositories.c.id)
    if predicate is not None:
        has_attestations = has_attestations.where(_predicate(predicate))
    query = select(repositories.c.id, repositories.c.name).where(
        repositories.c.owner_id == owner_id,
        repositories.c.id.in_(readable),
        exists(has_attestations),
    )
    key = repositories.c.id
    if before is not None:
        rows = list(
            (await conn.execute(query.where(key < before).order_by(key.desc()).limit(per_page + 1))).all()
        )
        more_before = len(rows) > per_page
        rows = rows[:per_page][::-1]
        return rows, (rows[-1].id if rows else None), (rows[0].id if rows and more_before else None)
    if after is not None:
        query = query.where(key > after)
    rows = list((await conn.execute(query.order_by(key.asc()).limit(per_page + 1))).all())
    more_after = len(rows) > per_page
    rows = rows[:per_page]
    return (
        rows,
        rows[-1].id if rows and more_after else None,
        rows[0].id if rows and after is not None else None,
    )


async def bundle_data(conn: AsyncConnection, attestation_id: int) -> bytes | None:
    data = (
        await conn.execute(select(b.c.data).where(b.c.attestation_id == attestation_id))
    ).scalar_one_or_none()
    return None if data is None else bytes(data)


async def newest_with_predicate(
    conn: AsyncConnection, owner_id: int, digests: Sequence[str], predicate_types: Sequence[str]
) -> list[Any]:
    """``(digest, id, repository_id)``: for each digest, the newest attestation of the owner's
    repositories with one of these predicate types."""
    newest = (
        select(s.c.digest, func.max(a.c.id).label("id"))
        .select_from(
            s.join(a, a.c.id == s.c.attestation_id).join(repositories, repositories.c.id == a.c.repository_id)
        )
        .where(
            s.c.digest.in_(digests),
            repositories.c.owner_id == owner_id,
            a.c.predicate_type.in_(predicate_types),
        )
        .group_by(s.c.digest)
        .subquery()
    )
    query = select(newest.c.digest, a.c.id, a.c.repository_id).join(a, and_(a.c.id == newest.c.id))
    return list((await conn.execute(query)).all())
