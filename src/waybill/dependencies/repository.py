"""All SQL of the dependency graph."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import and_, any_, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import Text

from waybill.core.db import upsert
from waybill.dependencies.models import (
    dependency_heads,
    dependency_manifests,
    dependency_packages,
    dependency_resolved,
    dependency_sbom_reports,
    dependency_snapshots,
)
from waybill.dependencies.purls import Package
from waybill.dependencies.schemas import Snapshot

# Rows per statement for the IN lists of SQLite (its limit is 32,766 variables).
_SQLITE_BATCH = 10_000
# Rows per INSERT of a large snapshot (an imported SBOM has hundreds of thousands): each statement's
# parameters stay a few megabytes, and progress can be reported between them.
WRITE_BATCH = 10_000

# Called with the rows written so far and the rows to write.
Progress = Callable[[int, int], None]

_packages = dependency_packages
_snapshots = dependency_snapshots
_manifests = dependency_manifests
_resolved = dependency_resolved
_heads = dependency_heads
_reports = dependency_sbom_reports


def _is_postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


async def _package_ids(conn: AsyncConnection, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    if not keys:
        return found
    if _is_postgres(conn):
        # One array parameter instead of thousands of bound values.
        stmt = select(_packages.c.purl, _packages.c.id).where(
            _packages.c.purl == any_(bindparam("purls", type_=ARRAY(Text)))
        )
        found.update((purl, id_) for purl, id_ in await conn.execute(stmt, {"purls": list(keys)}))
        return found
    for start in range(0, len(keys), _SQLITE_BATCH):
        chunk = keys[start : start + _SQLITE_BATCH]
        stmt = select(_packages.c.purl, _packages.c.id).where(_packages.c.purl.in_(chunk))
        found.update((purl, id_) for purl, id_ in await conn.execute(stmt))
    return found


async def package_ids(
    conn: AsyncConnection, packages: Iterable[Package], progress: Progress | None = None
) -> dict[str, int]:
    """Ids of the packages (by canonical package URL), inserting those not yet stored."""
    wanted = {p.purl: p for p in packages}
    ids: dict[str, int] = {}
    keys = list(wanted)
    for start in range(0, len(keys), WRITE_BATCH):
        await _package_batch(conn, [wanted[k] for k in keys[start : start + WRITE_BATCH]], ids)
        if progress is not None:
            progress(min(start + WRITE_BATCH, len(keys)), len(keys))
    return ids


async def _package_batch(conn: AsyncConnection, batch: list[Package], ids: dict[str, int]) -> None:
    found = await _package_ids(conn, [p.purl for p in batch])
    missing = [p for p in batch if p.purl not in found]
    if missing:
        # A concurrent writer inserting the same package makes the insert a no-op for it; the
        # select after it finds the row either way.
        rows = [(p.purl, p.type, p.namespace, p.name, p.version, p.base) for p in missing]
        if _is_postgres(conn):
            # One multi-row INSERT ... ON CONFLICT for the whole batch, its rows passed as one
            # array per column.
            await conn.execute(
                text(
                    "INSERT INTO dependency_packages (purl, type, namespace, name, version, base)"
                    " SELECT * FROM unnest(CAST(:purl AS text[]), CAST(:type AS text[]),"
                    " CAST(:namespace AS text[]), CAST(:name AS text[]), CAST(:version AS text[]),"
                    " CAST(:base AS text[]))"
                    " ON CONFLICT (purl) DO NOTHING"
                ),
                _columns(rows, ("purl", "type", "namespace", "name", "version", "base")),
            )
        else:
            await conn.exec_driver_sql(
                "INSERT INTO dependency_packages (purl, type, namespace, name, version, base)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (purl) DO NOTHING",
                rows,
            )
        found.update(await _package_ids(conn, [p.purl for p in missing]))
    ids.update(found)


def _columns(rows: Sequence[tuple[Any, ...]], names: Sequence[str]) -> dict[str, list[Any]]:
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


async def insert_snapshot(conn: AsyncConnection, repository_id: int, snap: Snapshot, now: datetime) -> int:
    result = await conn.execute(
        insert(_snapshots)
        .values(
            repository_id=repository_id,
            sha=snap.sha,
            ref=snap.ref,
            version=snap.version,
            job_id=snap.job_id,
            correlator=snap.correlator,
            job_html_url=snap.job_html_url,
            detector_name=snap.detector_name,
            detector_version=snap.detector_version,
            detector_url=snap.detector_url,
            metadata=snap.metadata,
            scanned=snap.scanned,
            created_at=now,
        )
        .returning(_snapshots.c.id)
    )
    return int(result.scalar_one())


async def insert_manifests(
    conn: AsyncConnection,
    snapshot_id: int,
    snap: Snapshot,
    ids: dict[str, int],
    progress: Progress | None = None,
) -> None:
    if not snap.manifests:
        return
    result = await conn.execute(
        insert(_manifests).returning(_manifests.c.id, sort_by_parameter_order=True),
        [
            {
                "snapshot_id": snapshot_id,
                "key": m.key,
                "name": m.name,
                "source_location": m.source_location,
                "metadata": m.metadata,
            }
            for m in snap.manifests
        ],
    )
    manifest_ids = list(result.scalars())
    total = sum(len(m.resolved) for m in snap.manifests)
    done = 0
    batch: list[tuple[Any, ...]] = []
    for manifest_id, manifest in zip(manifest_ids, snap.manifests, strict=True):
        for entry in manifest.resolved:
            batch.append(
                (
                    manifest_id,
                    ids[entry.package.purl],
                    entry.key,
                    entry.relationship,
                    entry.scope,
                    _json(entry.metadata),
                    _json([ids[c] for c in entry.dependencies]) if entry.dependencies else None,
                )
            )
            if len(batch) == WRITE_BATCH:
                await _insert_resolved(conn, batch)
                done += len(batch)
                batch = []
                if progress is not None:
                    progress(done, total)
    if batch:
        await _insert_resolved(conn, batch)
    if progress is not None:
        progress(total, total)


async def _insert_resolved(conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
    # The bulk of a snapshot: inserted without per-row work in SQLAlchemy (JSON is encoded once
    # here), as one array-backed INSERT on PostgreSQL and one executemany on SQLite.
    if _is_postgres(conn):
        await conn.execute(
            text(
                "INSERT INTO dependency_resolved"
                " (manifest_id, package_id, key, relationship, scope, metadata, depends_on)"
                " SELECT m, p, k, r, s, CAST(md AS jsonb), CAST(d AS jsonb)"
                " FROM unnest(CAST(:m AS bigint[]), CAST(:p AS bigint[]), CAST(:k AS text[]),"
                " CAST(:r AS text[]), CAST(:s AS text[]), CAST(:md AS text[]), CAST(:d AS text[]))"
                " AS t(m, p, k, r, s, md, d)"
            ),
            _columns(rows, ("m", "p", "k", "r", "s", "md", "d")),
        )
    else:
        await conn.exec_driver_sql(
            "INSERT INTO dependency_resolved"
            " (manifest_id, package_id, key, relationship, scope, metadata, depends_on)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


async def advance_head(conn: AsyncConnection, repository_id: int, snap: Snapshot, snapshot_id: int) -> bool:
    """Make the snapshot its (correlator, detector) pair's head unless a newer one (by scan time,
    then submission order) already is; True when it became the head. One statement, so two
    concurrent submissions for the same pair cannot both win."""
    stmt = upsert(conn, _heads).values(
        repository_id=repository_id,
        correlator=snap.correlator,
        detector_name=snap.detector_name,
        snapshot_id=snapshot_id,
        scanned=snap.scanned,
    )
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["repository_id", "correlator", "detector_name"],
        set_={"snapshot_id": excluded.snapshot_id, "scanned": excluded.scanned},
        where=or_(
            excluded.scanned > _heads.c.scanned,
            and_(excluded.scanned == _heads.c.scanned, excluded.snapshot_id > _heads.c.snapshot_id),
        ),
    ).returning(_heads.c.snapshot_id)
    return (await conn.execute(stmt)).scalar() == snapshot_id


async def head_snapshot_ids(conn: AsyncConnection, repository_id: int) -> list[int]:
    stmt = select(_heads.c.snapshot_id).where(_heads.c.repository_id == repository_id)
    return list((await conn.execute(stmt)).scalars())


@dataclass(frozen=True)
class SnapshotHead:
    id: int
    sha: str
    correlator: str
    detector_name: str


async def snapshots_matching(
    conn: AsyncConnection,
    repository_id: int,
    *,
    sha: str | None = None,
    sha_prefix: str | None = None,
    ref: str | None = None,
) -> list[SnapshotHead]:
    """Snapshots of the repository at a commit (or commits starting with a prefix) or on a ref,
    newest first."""
    where = [_snapshots.c.repository_id == repository_id]
    if sha is not None:
        where.append(_snapshots.c.sha == sha)
    if sha_prefix is not None:
        # A range, so the (repository_id, sha) index serves it; shas are lower-case hex.
        where += [_snapshots.c.sha >= sha_prefix, _snapshots.c.sha < sha_prefix + "g"]
    if ref is not None:
        where.append(_snapshots.c.ref == ref)
    stmt = (
        select(_snapshots.c.id, _snapshots.c.sha, _snapshots.c.correlator, _snapshots.c.detector_name)
        .where(*where)
        .order_by(_snapshots.c.scanned.desc(), _snapshots.c.id.desc())
    )
    return [SnapshotHead(*list(row)) for row in await conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class GraphRow:
    manifest_key: str
    manifest_name: str
    source_location: str | None
    package_id: int
    purl: str
    type: str
    namespace: str | None
    name: str
    version: str | None
    relationship: str | None
    scope: str | None
    depends_on: list[int] | None


_graph_columns = (
    _manifests.c.key,
    _manifests.c.name,
    _manifests.c.source_location,
    _packages.c.id,
    _packages.c.purl,
    _packages.c.type,
    _packages.c.namespace,
    _packages.c.name,
    _packages.c.version,
    _resolved.c.relationship,
    _resolved.c.scope,
    _resolved.c.depends_on,
)


async def graph_rows(conn: AsyncConnection, snapshot_ids: Sequence[int]) -> list[GraphRow]:
    """Every resolved package of these snapshots' manifests."""
    if not snapshot_ids:
        return []
    stmt = (
        select(*_graph_columns)
        .select_from(
            _manifests.join(_resolved, _resolved.c.manifest_id == _manifests.c.id).join(
                _packages, _packages.c.id == _resolved.c.package_id
            )
        )
        .where(_manifests.c.snapshot_id.in_(list(snapshot_ids)))
        .order_by(_manifests.c.id, _packages.c.id)
    )
    return [GraphRow(*list(row)) for row in await conn.execute(stmt)]


async def packages_by_ids(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, Package]:
    wanted = sorted(set(ids))
    found: dict[int, Package] = {}
    for start in range(0, len(wanted), _SQLITE_BATCH):
        stmt = select(
            _packages.c.id,
            _packages.c.purl,
            _packages.c.type,
            _packages.c.namespace,
            _packages.c.name,
            _packages.c.version,
        ).where(_packages.c.id.in_(wanted[start : start + _SQLITE_BATCH]))
        for row in await conn.execute(stmt):
            found[row[0]] = Package(*row[1:])
    return found


@dataclass(frozen=True)
class DependentRow:
    repository_id: int
    manifest_name: str
    source_location: str | None
    purl: str
    type: str
    namespace: str | None
    name: str
    version: str | None
    relationship: str | None
    scope: str | None


async def dependents(conn: AsyncConnection, base: str, version: str | None) -> list[DependentRow]:
    """Where the package (any version when ``version`` is None) is in a repository's current graph."""
    where = [_packages.c.base == base]
    if version is not None:
        where.append(_packages.c.version == version)
    stmt = (
        select(
            _heads.c.repository_id,
            _manifests.c.name,
            _manifests.c.source_location,
            _packages.c.purl,
            _packages.c.type,
            _packages.c.namespace,
            _packages.c.name,
            _packages.c.version,
            _resolved.c.relationship,
            _resolved.c.scope,
        )
        .select_from(
            _packages.join(_resolved, _resolved.c.package_id == _packages.c.id)
            .join(_manifests, _manifests.c.id == _resolved.c.manifest_id)
            .join(_heads, _heads.c.snapshot_id == _manifests.c.snapshot_id)
        )
        .where(*where)
        .order_by(_heads.c.repository_id, _manifests.c.id, _packages.c.id)
    )
    return [DependentRow(*list(row)) for row in await conn.execute(stmt)]


# SBOM reports.


async def insert_report(conn: AsyncConnection, uuid: str, repository_id: int, now: datetime) -> None:
    await conn.execute(insert(_reports).values(uuid=uuid, repository_id=repository_id, created_at=now))


async def delete_reports_before(conn: AsyncConnection, cutoff: datetime) -> None:
    await conn.execute(delete(_reports).where(_reports.c.created_at < cutoff))


@dataclass(frozen=True)
class ReportRow:
    uuid: str
    repository_id: int
    ready: bool
    created_at: datetime


async def report(conn: AsyncConnection, uuid: str) -> ReportRow | None:
    stmt = select(
        _reports.c.uuid,
        _reports.c.repository_id,
        _reports.c.completed_at.is_not(None),
        _reports.c.created_at,
    ).where(_reports.c.uuid == uuid)
    row = (await conn.execute(stmt)).first()
    return None if row is None else ReportRow(row[0], row[1], bool(row[2]), row[3])


async def report_document(conn: AsyncConnection, uuid: str) -> bytes | None:
    stmt = select(_reports.c.document).where(_reports.c.uuid == uuid)
    value = (await conn.execute(stmt)).scalar()
    return None if value is None else bytes(value)


async def complete_report(conn: AsyncConnection, uuid: str, document: bytes, now: datetime) -> None:
    await conn.execute(
        update(_reports)
        .where(_reports.c.uuid == uuid, _reports.c.completed_at.is_(None))
        .values(document=document, completed_at=now)
    )


async def repositories_with_graph(conn: AsyncConnection) -> list[int]:
    stmt = select(_heads.c.repository_id).distinct().order_by(_heads.c.repository_id)
    return list((await conn.execute(stmt)).scalars())
