"""All SQL of the dependency graph."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from sqlalchemy import and_, any_, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import Text

from waybill.core import audit, jobs, outbox
from waybill.core.db import Database, upsert
from waybill.core.drivers import Sql, sqlite_time
from waybill.dependencies.models import (
    dependency_heads,
    dependency_manifests,
    dependency_packages,
    dependency_resolved,
    dependency_sbom_reports,
    dependency_snapshots,
)
from waybill.dependencies.purls import Package
from waybill.dependencies.schemas import Manifest, Snapshot

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


# The current graph in one statement (so it is consistent without a transaction), run straight
# through the drivers: ``depends_on`` comes back as JSON text from both, and is read by msgspec.
_CURRENT_GRAPH = Sql(
    """
SELECT m.key, m.name, m.source_location, p.id, p.purl, p.type, p.namespace, p.name, p.version,
    r.relationship, r.scope, r.depends_on
FROM dependency_heads AS h
JOIN dependency_manifests AS m ON m.snapshot_id = h.snapshot_id
JOIN dependency_resolved AS r ON r.manifest_id = m.id
JOIN dependency_packages AS p ON p.id = r.package_id
WHERE h.repository_id = :repository_id
ORDER BY m.id, p.id
"""
)
_read_ids = msgspec.json.Decoder(list[int]).decode


async def current_graph_rows(db: Database, repository_id: int) -> list[GraphRow]:
    """``graph_rows`` of the repository's head snapshots. On SQLite the rows are read in the event
    loop: fetching them is C code, and costs the loop less than SQLAlchemy's rows would."""
    rows = await db.fetch(_CURRENT_GRAPH, {"repository_id": repository_id})
    return [
        GraphRow(
            key,
            name,
            location,
            pid,
            purl,
            type_,
            ns,
            pname,
            ver,
            rel,
            scope,
            None if d is None else _read_ids(d),
        )
        for key, name, location, pid, purl, type_, ns, pname, ver, rel, scope, d in rows
    ]


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


# A submitted snapshot, written in one unit straight through the drivers: SQLite's group-commit
# writer, or one asyncpg transaction of prepared statements over arrays on PostgreSQL. (An imported
# SBOM takes the batched path above, in its caller's transaction, with progress between batches.)


@dataclass(frozen=True)
class Queued:
    """A job to queue in the snapshot's transaction when the snapshot becomes its pair's head,
    unless one of its kind and key is already waiting to start."""

    kind: str
    key: str
    payload: Any


@dataclass(frozen=True)
class Stored:
    snapshot_id: int
    # Whether the snapshot became its (correlator, detector) pair's head.
    head: bool


_PACKAGE_COLUMNS = "purl, type, namespace, name, version, base"

_KNOWN_PACKAGES_SQLITE = (
    "SELECT j.value, p.id FROM json_each(?) AS j JOIN dependency_packages AS p ON p.purl = j.value"
)
_INSERT_PACKAGES_SQLITE = (
    f"INSERT INTO dependency_packages ({_PACKAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (purl) DO NOTHING"
)

# The packages not stored yet are inserted (in key order, so that concurrent writers never
# deadlock), and the ids of all are returned. A package a concurrent transaction commits meanwhile
# is neither inserted nor seen here: the caller looks those up again (``_PACKAGES_BY_PURL_PG``).
_PACKAGE_IDS_PG = Sql(
    f"""
WITH wanted AS (
    SELECT * FROM unnest(:purl::text[], :type::text[], :namespace::text[], :name::text[],
        :version::text[], :base::text[]) AS w({_PACKAGE_COLUMNS})
), known AS (
    SELECT p.purl, p.id FROM dependency_packages AS p JOIN wanted AS w ON w.purl = p.purl
), inserted AS (
    INSERT INTO dependency_packages ({_PACKAGE_COLUMNS})
    SELECT * FROM wanted AS w WHERE NOT EXISTS (SELECT 1 FROM known WHERE known.purl = w.purl)
    ORDER BY w.purl
    ON CONFLICT (purl) DO NOTHING
    RETURNING purl, id
)
SELECT purl, id FROM known UNION ALL SELECT purl, id FROM inserted
"""
)
_PACKAGES_BY_PURL_PG = Sql("SELECT purl, id FROM dependency_packages WHERE purl = ANY(:purls::text[])")

_SNAPSHOT_COLUMNS = (
    "repository_id, sha, ref, version, job_id, correlator, job_html_url, detector_name,"
    " detector_version, detector_url, metadata, scanned, created_at"
)
# JSON columns are text on SQLite and jsonb on PostgreSQL, which takes the JSON text with a cast.
_INSERT_SNAPSHOT = (
    f"INSERT INTO dependency_snapshots ({_SNAPSHOT_COLUMNS}) VALUES (:repository_id, :sha, :ref,"
    " :version, :job_id, :correlator, :job_html_url, :detector_name, :detector_version,"
    " :detector_url, {metadata}, :scanned, :created_at) RETURNING id"
)
_INSERT_SNAPSHOT_SQLITE = _INSERT_SNAPSHOT.format(metadata=":metadata")
_INSERT_SNAPSHOT_PG = Sql(_INSERT_SNAPSHOT.format(metadata="CAST(:metadata AS jsonb)"))
_INSERT_MANIFEST = (
    "INSERT INTO dependency_manifests (snapshot_id, key, name, source_location, metadata)"
    " VALUES (:snapshot_id, :key, :name, :source_location, {metadata}) RETURNING id"
)
_INSERT_MANIFEST_SQLITE = _INSERT_MANIFEST.format(metadata=":metadata")
_INSERT_MANIFEST_PG = Sql(_INSERT_MANIFEST.format(metadata="CAST(:metadata AS jsonb)"))
_RESOLVED_COLUMNS = "manifest_id, package_id, key, relationship, scope, metadata, depends_on"
_INSERT_RESOLVED_SQLITE = (
    f"INSERT INTO dependency_resolved ({_RESOLVED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_RESOLVED_PG = Sql(
    f"""
INSERT INTO dependency_resolved ({_RESOLVED_COLUMNS})
SELECT m, p, k, r, s, CAST(md AS jsonb), CAST(d AS jsonb)
FROM unnest(:m::bigint[], :p::bigint[], :k::text[], :r::text[], :s::text[], :md::text[], :d::text[])
    AS t(m, p, k, r, s, md, d)
"""
)
# As ``advance_head``: the newer snapshot by scan time, then submission order, wins.
_ADVANCE_HEAD = Sql(
    """
INSERT INTO dependency_heads AS h (repository_id, correlator, detector_name, snapshot_id, scanned)
VALUES (:repository_id, :correlator, :detector_name, :snapshot_id, :scanned)
ON CONFLICT (repository_id, correlator, detector_name) DO UPDATE SET
    snapshot_id = excluded.snapshot_id, scanned = excluded.scanned
WHERE excluded.scanned > h.scanned OR (excluded.scanned = h.scanned AND excluded.snapshot_id > h.snapshot_id)
RETURNING snapshot_id
"""
)


def _package_row(p: Package) -> tuple[str, str, str | None, str, str | None, str]:
    return (p.purl, p.type, p.namespace, p.name, p.version, p.base)


def _id_list(ids: Iterable[int]) -> str:
    # The JSON of a list of integers, without an encoder call per row.
    return "[" + ",".join(map(str, ids)) + "]"


def _resolved_rows(manifest_id: int, manifest: Manifest, ids: dict[str, int]) -> list[tuple[Any, ...]]:
    return [
        (
            manifest_id,
            ids[entry.package.purl],
            entry.key,
            entry.relationship,
            entry.scope,
            None if entry.metadata is None else _json(entry.metadata),
            _id_list(ids[c] for c in entry.dependencies) if entry.dependencies else None,
        )
        for entry in manifest.resolved
    ]


def _snapshot_params(repository_id: int, snap: Snapshot, now: Any, scanned: Any) -> dict[str, Any]:
    return {
        "repository_id": repository_id,
        "sha": snap.sha,
        "ref": snap.ref,
        "version": snap.version,
        "job_id": snap.job_id,
        "correlator": snap.correlator,
        "job_html_url": snap.job_html_url,
        "detector_name": snap.detector_name,
        "detector_version": snap.detector_version,
        "detector_url": snap.detector_url,
        "metadata": _json(snap.metadata),
        "scanned": scanned,
        "created_at": now,
    }


async def store_snapshot(
    db: Database,
    repository_id: int,
    snap: Snapshot,
    now: datetime,
    *,
    may_become_head: bool,
    on_head: Queued | None,
    event: Callable[[int], outbox.Event],
) -> Stored:
    """The snapshot with its manifests, resolved packages and new packages, all or nothing; then,
    when ``may_become_head``, the head advanced as ``advance_head`` does, and ``on_head`` queued
    when the snapshot became the head; and ``event`` (of the new snapshot's id) published."""
    if db.is_sqlite:
        who = audit.actor_params()

        def work(conn: sqlite3.Connection) -> Stored:
            stored = _store_snapshot_sqlite(conn, repository_id, snap, now, may_become_head, on_head)
            outbox.publish_sqlite(conn, event(stored.snapshot_id), now, who)
            return stored

        return await db.group_write(work)
    async with db.driver_transaction() as conn:
        stored = await _store_snapshot_pg(conn, repository_id, snap, now, may_become_head, on_head)
        await outbox.publish_asyncpg(conn, event(stored.snapshot_id), now)
        return stored


def _store_snapshot_sqlite(
    conn: sqlite3.Connection,
    repository_id: int,
    snap: Snapshot,
    now: datetime,
    may_become_head: bool,
    on_head: Queued | None,
) -> Stored:
    packages = snap.packages()
    # One JSON array parameter: no limit on the number of variables, and no statement per size.
    ids: dict[str, int] = dict(conn.execute(_KNOWN_PACKAGES_SQLITE, (_json(list(packages)),)).fetchall())
    missing = [purl for purl in packages if purl not in ids]
    if missing:
        conn.executemany(_INSERT_PACKAGES_SQLITE, [_package_row(packages[purl]) for purl in missing])
        ids.update(conn.execute(_KNOWN_PACKAGES_SQLITE, (_json(missing),)).fetchall())
    at = sqlite_time(now)
    scanned = sqlite_time(snap.scanned)
    snapshot_id = conn.execute(
        _INSERT_SNAPSHOT_SQLITE, _snapshot_params(repository_id, snap, at, scanned)
    ).fetchone()[0]
    for manifest in snap.manifests:
        manifest_id = conn.execute(
            _INSERT_MANIFEST_SQLITE,
            {
                "snapshot_id": snapshot_id,
                "key": manifest.key,
                "name": manifest.name,
                "source_location": manifest.source_location,
                "metadata": _json(manifest.metadata),
            },
        ).fetchone()[0]
        conn.executemany(_INSERT_RESOLVED_SQLITE, _resolved_rows(manifest_id, manifest, ids))
    if not may_become_head:
        return Stored(snapshot_id, head=False)
    head = conn.execute(
        _ADVANCE_HEAD.text,
        {
            "repository_id": repository_id,
            "correlator": snap.correlator,
            "detector_name": snap.detector_name,
            "snapshot_id": snapshot_id,
            "scanned": scanned,
        },
    ).fetchone()
    became_head = head is not None and head[0] == snapshot_id
    if became_head and on_head is not None:
        conn.execute(
            jobs.ENQUEUE_UNLESS_PENDING_SQLITE.text,
            {"kind": on_head.kind, "key": on_head.key, "payload": _json(on_head.payload), "now": at},
        )
    return Stored(snapshot_id, became_head)


async def _store_snapshot_pg(
    conn: asyncpg.Connection,
    repository_id: int,
    snap: Snapshot,
    now: datetime,
    may_become_head: bool,
    on_head: Queued | None,
) -> Stored:
    packages = snap.packages()
    columns = _columns([_package_row(p) for p in packages.values()], _PACKAGE_COLUMNS.split(", "))
    ids: dict[str, int] = dict(await conn.fetch(_PACKAGE_IDS_PG.postgres, *_PACKAGE_IDS_PG.args(columns)))
    missing = [purl for purl in packages if purl not in ids]
    if missing:
        ids.update(await conn.fetch(_PACKAGES_BY_PURL_PG.postgres, missing))
    params = _snapshot_params(repository_id, snap, now, snap.scanned)
    snapshot_id = await conn.fetchval(_INSERT_SNAPSHOT_PG.postgres, *_INSERT_SNAPSHOT_PG.args(params))
    for manifest in snap.manifests:
        manifest_params = {
            "snapshot_id": snapshot_id,
            "key": manifest.key,
            "name": manifest.name,
            "source_location": manifest.source_location,
            "metadata": _json(manifest.metadata),
        }
        manifest_id = await conn.fetchval(
            _INSERT_MANIFEST_PG.postgres, *_INSERT_MANIFEST_PG.args(manifest_params)
        )
        rows = _columns(_resolved_rows(manifest_id, manifest, ids), ("m", "p", "k", "r", "s", "md", "d"))
        await conn.execute(_INSERT_RESOLVED_PG.postgres, *_INSERT_RESOLVED_PG.args(rows))
    if not may_become_head:
        return Stored(snapshot_id, head=False)
    head = await conn.fetchval(
        _ADVANCE_HEAD.postgres, repository_id, snap.correlator, snap.detector_name, snapshot_id, snap.scanned
    )
    became_head = head == snapshot_id
    if became_head and on_head is not None:
        enqueue = jobs.ENQUEUE_UNLESS_PENDING_POSTGRES
        await conn.execute(
            enqueue.postgres,
            *enqueue.args(
                {"kind": on_head.kind, "key": on_head.key, "payload": _json(on_head.payload), "now": now}
            ),
        )
    return Stored(snapshot_id, became_head)
