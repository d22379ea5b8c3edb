"""All SQL of the attestations domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.models import accounts, repositories
from waybill.attestations.models import (
    attestation_bundles,
    attestation_owner_policies,
    attestation_repository_policies,
    attestation_subjects,
    attestation_verifications,
    attestations,
)
from waybill.attestations.schemas import Bundle, PredicateFilter
from waybill.attestations.types import (
    DEFAULT_MODE,
    AttestationVerification,
    BundleToVerify,
    DigestAttestation,
    Mode,
    OwnedAttestation,
    Policy,
    PolicySource,
    StoredAttestation,
    StoredVerdict,
    SubjectAttestation,
    SubjectVerdict,
    VerificationDetail,
    VerificationState,
)
from waybill.attestations.verification import Step, TimeSource
from waybill.auth.repository import RepositoryIds
from waybill.core.db import upsert
from waybill.core.jobs import jobs
from waybill.core.keyset import Cursor, Page, fetch_page
from waybill.core.rows import values_of

a = attestations
s = attestation_subjects
b = attestation_bundles
v = attestation_verifications
op = attestation_owner_policies
rp = attestation_repository_policies


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
    queued: bool = False,
) -> int:
    """The new attestation's id, or the id of the one already stored for the same bundle; ``queued``:
    its verification is being queued (marked on the one already stored too)."""
    queued_at = now if queued else None
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
                verification_queued_at=queued_at,
            )
            .on_conflict_do_nothing(index_elements=["repository_id", "bundle_hash"])
            .returning(a.c.id)
        )
    ).scalar()
    if new_id is None:
        same = and_(a.c.repository_id == repository_id, a.c.bundle_hash == bundle.content_hash)
        if queued:
            existing = await conn.execute(
                update(a).where(same).values(verification_queued_at=queued_at).returning(a.c.id)
            )
        else:
            existing = await conn.execute(select(a.c.id).where(same))
        return int(existing.scalar_one())
    await conn.execute(insert(b).values(attestation_id=new_id, data=compressed))
    await conn.execute(
        insert(s), [{"digest": digest, "attestation_id": new_id} for digest in bundle.subject_digests]
    )
    return int(new_id)


def _columns(with_bundle: bool, with_verification: bool = False) -> list[Any]:
    columns: list[Any] = [a.c.id, a.c.repository_id, a.c.initiator]
    if with_bundle:
        columns.append(b.c.data)
    if with_verification:
        columns += [a.c.predicate_type, a.c.created_at, *VERIFICATION_COLUMNS]
    return columns


VERIFICATION_COLUMNS = [
    v.c.attestation_id.label("checked_id"),
    v.c.verified,
    v.c.failed_step,
    v.c.reason,
    v.c.trust_root,
    v.c.time_source,
    v.c.signed_at,
    v.c.san,
    v.c.issuer,
    v.c.source_repository_uri,
    v.c.build_signer_uri,
    v.c.checked_at,
    # Not checked yet, but queued: pending.
    a.c.verification_queued_at,
]


def _with_bundle(query: Select[Any], with_bundle: bool) -> Select[Any]:
    return query.join(b, b.c.attestation_id == a.c.id) if with_bundle else query


def _with_verification(query: Select[Any], verified: bool | None) -> Select[Any]:
    """Joined with the verdicts; ``verified``: only those verified (True) or not verified, failed or
    never checked (False)."""
    if verified is True:
        return query.join(v, v.c.attestation_id == a.c.id).where(v.c.verified == true())
    query = query.outerjoin(v, v.c.attestation_id == a.c.id)
    if verified is False:
        query = query.where(or_(v.c.verified.is_(None), v.c.verified != true()))
    return query


def _stored_attestation(row: Row[Any]) -> StoredAttestation:
    m = row._mapping
    return StoredAttestation(
        id=m["id"],
        repository_id=m["repository_id"],
        initiator=m["initiator"],
        compressed_bundle=m.get("data"),
    )


def _attestation_verification(row: Row[Any]) -> AttestationVerification:
    m = row._mapping
    failed_step, time_source = m["failed_step"], m["time_source"]
    return AttestationVerification(
        id=m["id"],
        repository_id=m["repository_id"],
        initiator=m["initiator"],
        predicate_type=m["predicate_type"],
        created_at=m["created_at"],
        verification=VerificationState(
            checked_id=m["checked_id"],
            verified=m["verified"],
            failed_step=None if failed_step is None else Step(failed_step),
            reason=m["reason"],
            trust_root=m["trust_root"],
            time_source=None if time_source is None else TimeSource(time_source),
            signed_at=m["signed_at"],
            san=m["san"],
            issuer=m["issuer"],
            source_repository_uri=m["source_repository_uri"],
            build_signer_uri=m["build_signer_uri"],
            checked_at=m["checked_at"],
            verification_queued_at=m["verification_queued_at"],
        ),
    )


def _by_digest(
    columns: list[Any],
    *,
    digest: str,
    readable: RepositoryIds | None,
    repository_id: int | None,
    owner_id: int | None,
    predicate: PredicateFilter | None,
) -> Select[Any]:
    # Ordered by the subject index's own attestation_id: the digest's rows are read newest first
    # straight from the primary key (digest, attestation_id).
    query = (
        select(s.c.attestation_id, *columns)
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
    return query


async def list_by_digest(
    conn: AsyncConnection,
    *,
    digest: str,
    readable: RepositoryIds | None,
    repository_id: int | None = None,
    owner_id: int | None = None,
    predicate: PredicateFilter | None,
    with_bundle: bool,
    cursor: Cursor,
) -> Page[StoredAttestation]:
    query = _by_digest(
        _columns(with_bundle),
        digest=digest,
        readable=readable,
        repository_id=repository_id,
        owner_id=owner_id,
        predicate=predicate,
    )
    query = _with_bundle(query, with_bundle)
    page = await fetch_page(conn, query, s.c.attestation_id, cursor)
    return page.map(_stored_attestation)


async def list_verified_by_digest(
    conn: AsyncConnection,
    *,
    digest: str,
    readable: RepositoryIds | None,
    repository_id: int | None = None,
    owner_id: int | None = None,
    predicate: PredicateFilter | None,
    verified: bool | None,
    cursor: Cursor,
) -> Page[AttestationVerification]:
    query = _by_digest(
        _columns(False, True),
        digest=digest,
        readable=readable,
        repository_id=repository_id,
        owner_id=owner_id,
        predicate=predicate,
    )
    query = _with_verification(query, verified)
    page = await fetch_page(conn, query, s.c.attestation_id, cursor)
    return page.map(_attestation_verification)


@dataclass(frozen=True)
class BulkPage:
    page: Page[StoredAttestation]
    # attestation id -> the requested digests among its subjects
    digests: dict[int, list[str]]


async def bulk_list(
    conn: AsyncConnection,
    *,
    digests: Sequence[str],
    owner_id: int,
    readable: RepositoryIds,
    predicate: PredicateFilter | None,
    with_bundle: bool,
    cursor: Cursor,
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
    fetched = await fetch_page(conn, _with_bundle(query, with_bundle), a.c.id, cursor)
    page = fetched.map(_stored_attestation)
    found: dict[int, list[str]] = {}
    if page.items:
        pairs = await conn.execute(
            select(s.c.attestation_id, s.c.digest).where(
                s.c.attestation_id.in_([row.id for row in page.items]), s.c.digest.in_(digests)
            )
        )
        for attestation_id, digest in pairs:
            found.setdefault(attestation_id, []).append(digest)
    return BulkPage(page, found)


_owned = values_of(OwnedAttestation)


async def owned(
    conn: AsyncConnection,
    owner_id: int,
    *,
    ids: Sequence[int] | None = None,
    digests: Sequence[str] | None = None,
) -> list[OwnedAttestation]:
    """The owner's attestations with these ids or subject digests."""
    query = (
        select(a.c.id, a.c.repository_id)
        .select_from(a.join(repositories, repositories.c.id == a.c.repository_id))
        .where(repositories.c.owner_id == owner_id)
    )
    if ids is not None:
        query = query.where(a.c.id.in_(ids))
    if digests is not None:
        query = query.where(a.c.id.in_(select(s.c.attestation_id).where(s.c.digest.in_(digests))))
    return [_owned(row) for row in await conn.execute(query)]


@dataclass(frozen=True)
class Summary:
    """What an attestation's webhook event says of it."""

    id: int
    repository_id: int
    predicate_type: str
    created_at: datetime
    digests: list[str]


async def summaries(conn: AsyncConnection, ids: Sequence[int]) -> list[Summary]:
    rows = await conn.execute(
        select(a.c.id, a.c.repository_id, a.c.predicate_type, a.c.created_at)
        .where(a.c.id.in_(ids))
        .order_by(a.c.id)
    )
    found = list(rows)
    digests: dict[int, list[str]] = {row.id: [] for row in found}
    for subject in await conn.execute(
        select(s.c.attestation_id, s.c.digest).where(s.c.attestation_id.in_(ids)).order_by(s.c.digest)
    ):
        digests[subject.attestation_id].append(subject.digest)
    return [Summary(r.id, r.repository_id, r.predicate_type, r.created_at, digests[r.id]) for r in found]


async def delete_ids(conn: AsyncConnection, ids: Sequence[int]) -> None:
    # Subjects and bundles go with their attestation (ON DELETE CASCADE).
    await conn.execute(delete(a).where(a.c.id.in_(ids)))


async def repositories_page(
    conn: AsyncConnection,
    *,
    owner_id: int,
    readable: RepositoryIds,
    predicate: PredicateFilter | None,
    cursor: Cursor,
) -> Page[tuple[int, str]]:
    """The (id, name) of the owner's readable repositories that have attestations, by id ascending."""
    has_attestations = select(a.c.id).where(a.c.repository_id == repositories.c.id)
    if predicate is not None:
        has_attestations = has_attestations.where(_predicate(predicate))
    query = select(repositories.c.id, repositories.c.name).where(
        repositories.c.owner_id == owner_id,
        repositories.c.id.in_(readable),
        exists(has_attestations),
    )
    page = await fetch_page(conn, query, repositories.c.id, cursor, ascending=True)
    return page.map(lambda row: (row.id, row.name))


async def bundle_data(conn: AsyncConnection, attestation_id: int) -> bytes | None:
    data = (
        await conn.execute(select(b.c.data).where(b.c.attestation_id == attestation_id))
    ).scalar_one_or_none()
    return None if data is None else bytes(data)


def _effective_mode() -> ColumnElement[Any]:
    """The mode of the attestation's repository, in a query joining ``repositories``, ``rp`` and ``op``."""
    return func.coalesce(rp.c.mode, op.c.mode, literal(DEFAULT_MODE.value))


_subject_attestation = values_of(SubjectAttestation)


async def newest_with_predicate(
    conn: AsyncConnection, owner_id: int, digests: Sequence[str], predicate_types: Sequence[str]
) -> list[SubjectAttestation]:
    """For each digest, the newest attestation of the owner's repositories with one of these
    predicate types; in a repository whose policy is ``enforce``, only an attestation that verified
    counts."""
    newest = (
        select(s.c.digest, func.max(a.c.id).label("id"))
        .select_from(
            s.join(a, a.c.id == s.c.attestation_id)
            .join(repositories, repositories.c.id == a.c.repository_id)
            .outerjoin(rp, rp.c.repository_id == a.c.repository_id)
            .outerjoin(op, op.c.account_id == repositories.c.owner_id)
            .outerjoin(v, v.c.attestation_id == a.c.id)
        )
        .where(
            s.c.digest.in_(digests),
            repositories.c.owner_id == owner_id,
            a.c.predicate_type.in_(predicate_types),
            or_(_effective_mode() != Mode.ENFORCE.value, v.c.verified == true()),
        )
        .group_by(s.c.digest)
        .subquery()
    )
    query = select(newest.c.digest, a.c.id, a.c.repository_id).join(a, and_(a.c.id == newest.c.id))
    return [_subject_attestation(row) for row in await conn.execute(query)]


def _stored_verdict(row: Any) -> StoredVerdict | None:
    m = row._mapping
    if m["checked_id"] is None:
        return None
    return StoredVerdict(
        verified=bool(m["verified"]),
        failed_step=m["failed_step"],
        reason=m["reason"],
        signed_at=m["signed_at"],
        checked_at=m["checked_at"],
        identity=dict(m["identity"] or {}),
    )


def _digest_attestation(row: Any) -> DigestAttestation:
    m = row._mapping
    return DigestAttestation(
        id=m["id"],
        repository_id=m["repository_id"],
        predicate_type=m["predicate_type"],
        created_at=m["created_at"],
        compressed_bundle=m["data"],
        verdict=_stored_verdict(row),
        verification_queued_at=m["verification_queued_at"],
    )


async def newest_for_digest(
    conn: AsyncConnection, *, owner_id: int, digest: str, readable: RepositoryIds, limit: int
) -> list[DigestAttestation]:
    """The newest ``limit`` attestations of the owner's readable repositories naming ``digest``, with
    their bundles and verdicts (None when never checked); read newest first from the subjects'
    primary key (digest, attestation_id)."""
    query = (
        select(
            a.c.id,
            a.c.repository_id,
            a.c.predicate_type,
            a.c.created_at,
            b.c.data,
            *VERIFICATION_COLUMNS,
            v.c.identity,
        )
        .select_from(
            s.join(a, a.c.id == s.c.attestation_id)
            .join(b, b.c.attestation_id == a.c.id)
            .join(repositories, repositories.c.id == a.c.repository_id)
            .outerjoin(v, v.c.attestation_id == a.c.id)
        )
        .where(s.c.digest == digest, repositories.c.owner_id == owner_id, a.c.repository_id.in_(readable))
        .order_by(s.c.attestation_id.desc())
        .limit(limit)
    )
    return [_digest_attestation(row) for row in await conn.execute(query)]


_subject_verdict = values_of(SubjectVerdict)


async def provenance_verdicts(
    conn: AsyncConnection,
    *,
    owner_id: int,
    digests: Sequence[str],
    readable: RepositoryIds,
    predicate_types: Sequence[str],
) -> list[SubjectVerdict]:
    """Every provenance attestation of the owner's readable repositories naming one of ``digests``,
    newest first."""
    query = (
        select(s.c.digest, a.c.id, v.c.verified, a.c.verification_queued_at)
        .select_from(
            s.join(a, a.c.id == s.c.attestation_id)
            .join(repositories, repositories.c.id == a.c.repository_id)
            .outerjoin(v, v.c.attestation_id == a.c.id)
        )
        .where(
            s.c.digest.in_(digests),
            repositories.c.owner_id == owner_id,
            a.c.predicate_type.in_(predicate_types),
            a.c.repository_id.in_(readable),
        )
        .order_by(s.c.attestation_id.desc())
    )
    return [_subject_verdict(row) for row in await conn.execute(query)]


# Verification.


# Built once per dialect: ``excluded`` makes an alias with a proxy per column, which cost about 0.7 ms
# of CPU on every verdict stored (a third of a queued verification's SQL). Statements are immutable.
_upsert_verifications: dict[str, Any] = {}


async def upsert_verifications(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Store verdicts (one statement for all); a newer check replaces the previous one."""
    if not rows:
        return
    statement = _upsert_verifications.get(conn.dialect.name)
    if statement is None:
        insert_ = upsert(conn, v)
        statement = insert_.on_conflict_do_update(
            index_elements=[v.c.attestation_id],
            set_={c.name: insert_.excluded[c.name] for c in v.c if c.name != "attestation_id"},
        )
        _upsert_verifications[conn.dialect.name] = statement
    await conn.execute(statement, list(rows))


async def verification(
    conn: AsyncConnection, attestation_id: int, repository_id: int
) -> VerificationDetail | None:
    """The attestation (of this repository) with its verification, or None when the repository has
    no such attestation."""
    query = _with_verification(
        select(*_columns(False, True)).where(a.c.id == attestation_id, a.c.repository_id == repository_id),
        None,
    ).add_columns(v.c.identity, v.c.details)
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return VerificationDetail(_attestation_verification(row), row.identity or {}, row.details or {})


def _policy(row: Row[Any], source: PolicySource) -> Policy:
    return Policy(Mode(row.mode), tuple(row.allowed_workflows or ()), source)


async def policies(
    conn: AsyncConnection, repository_id: int, owner_id: int
) -> tuple[Policy | None, Policy | None]:
    """The repository's own policy and its owner's (either may be None), in one query."""
    own = select(
        literal("repository").label("scope"), rp.c.mode, rp.c.allowed_workflows, rp.c.updated_at
    ).where(rp.c.repository_id == repository_id)
    owners = select(
        literal("owner").label("scope"), op.c.mode, op.c.allowed_workflows, op.c.updated_at
    ).where(op.c.account_id == owner_id)
    query = own.union_all(owners)
    found = {row.scope: row for row in await conn.execute(query)}
    repo_row, owner_row = found.get("repository"), found.get("owner")
    return (
        None if repo_row is None else _policy(repo_row, PolicySource.REPOSITORY),
        None if owner_row is None else _policy(owner_row, PolicySource.OWNER),
    )


async def policies_of_many(
    conn: AsyncConnection, repository_ids: Sequence[int], owner_ids: Sequence[int]
) -> tuple[dict[int, Policy], dict[int, Policy]]:
    """The policies of these repositories and of these owners, by repository and by owner id."""
    repo_rows = await conn.execute(select(rp).where(rp.c.repository_id.in_(repository_ids)))
    owner_rows = await conn.execute(select(op).where(op.c.account_id.in_(owner_ids)))
    return (
        {row.repository_id: _policy(row, PolicySource.REPOSITORY) for row in repo_rows},
        {row.account_id: _policy(row, PolicySource.OWNER) for row in owner_rows},
    )


async def set_owner_policy(
    conn: AsyncConnection, owner_id: int, mode: str, allowed_workflows: list[str], now: datetime
) -> None:
    statement = upsert(conn, op).values(
        account_id=owner_id, mode=mode, allowed_workflows=allowed_workflows, updated_at=now
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[op.c.account_id],
            set_={"mode": mode, "allowed_workflows": allowed_workflows, "updated_at": now},
        )
    )


async def set_repository_policy(
    conn: AsyncConnection, repository_id: int, mode: str, allowed_workflows: list[str], now: datetime
) -> None:
    statement = upsert(conn, rp).values(
        repository_id=repository_id, mode=mode, allowed_workflows=allowed_workflows, updated_at=now
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[rp.c.repository_id],
            set_={"mode": mode, "allowed_workflows": allowed_workflows, "updated_at": now},
        )
    )


async def delete_owner_policy(conn: AsyncConnection, owner_id: int) -> bool:
    result = await conn.execute(delete(op).where(op.c.account_id == owner_id))
    return bool(result.rowcount)


async def delete_repository_policy(conn: AsyncConnection, repository_id: int) -> bool:
    result = await conn.execute(delete(rp).where(rp.c.repository_id == repository_id))
    return bool(result.rowcount)


# Re-verification.


async def last_attestation_id(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.coalesce(func.max(a.c.id), 0)))).scalar_one())


async def count_between(conn: AsyncConnection, after_id: int, upto_id: int) -> int:
    query = select(func.count()).select_from(a).where(a.c.id > after_id, a.c.id <= upto_id)
    return int((await conn.execute(query)).scalar_one())


def _to_verify() -> Select[Any]:
    """``BundleToVerify``'s columns: attestations with their bundles and what their policy is looked
    up by."""
    return select(
        a.c.id,
        a.c.repository_id,
        repositories.c.owner_id,
        accounts.c.login.label("owner_login"),
        repositories.c.name.label("repository_name"),
        b.c.data,
    ).select_from(
        a.join(b, b.c.attestation_id == a.c.id)
        .join(repositories, repositories.c.id == a.c.repository_id)
        .join(accounts, accounts.c.id == repositories.c.owner_id)
    )


_bundle_to_verify = values_of(BundleToVerify, data=bytes)


async def batch_after(conn: AsyncConnection, after_id: int, upto_id: int, limit: int) -> list[BundleToVerify]:
    """The next attestations by id, with their bundles."""
    query = _to_verify().where(a.c.id > after_id, a.c.id <= upto_id).order_by(a.c.id).limit(limit)
    return [_bundle_to_verify(row) for row in await conn.execute(query)]


async def to_verify(conn: AsyncConnection, attestation_id: int) -> BundleToVerify | None:
    """One attestation with its bundle, or None when it is gone."""
    row = (await conn.execute(_to_verify().where(a.c.id == attestation_id))).first()
    return None if row is None else _bundle_to_verify(row)


async def store_queued_verdict(
    conn: AsyncConnection, attestation_id: int, row: dict[str, Any] | None
) -> bool:
    """Store the queued verification's verdict (None: the policy was turned ``off`` meanwhile, so none)
    and end the attestation's pending state; False when the attestation was deleted meanwhile."""
    result = await conn.execute(
        update(a).where(a.c.id == attestation_id).values(verification_queued_at=None).returning(a.c.id)
    )
    if result.first() is None:
        return False
    if row is not None:
        await upsert_verifications(conn, [row])
    return True


async def existing_ids(conn: AsyncConnection, ids: Sequence[int]) -> list[int]:
    if not ids:
        return []
    return list((await conn.execute(select(a.c.id).where(a.c.id.in_(ids)))).scalars())


async def record_job_progress(conn: AsyncConnection, job_id: int, progress: dict[str, Any]) -> None:
    # In the same transaction as the batch's verdicts: a job resumed after a restart continues from
    # exactly what was stored.
    await conn.execute(update(jobs).where(jobs.c.id == job_id).values(result=progress))


def subjects_of(repository_ids: Sequence[int]) -> Select[Any]:
    """(repository_id, digest, attested = 1) of every attestation subject of these repositories, as
    a query for another domain to join."""
    return (
        select(a.c.repository_id, s.c.digest, literal_column("1").label("attested"))
        .join(s, s.c.attestation_id == a.c.id)
        .where(a.c.repository_id.in_(sorted(set(repository_ids))))
    )


async def subject_digests(conn: AsyncConnection, repository_ids: Sequence[int]) -> list[tuple[int, str]]:
    """(repository id, subject digest) of every attestation of these repositories."""
    if not repository_ids:
        return []
    rows = await conn.execute(
        select(a.c.repository_id, s.c.digest)
        .join(s, s.c.attestation_id == a.c.id)
        .where(a.c.repository_id.in_(sorted(set(repository_ids))))
        .distinct()
    )
    return [(row[0], row[1]) for row in rows]
