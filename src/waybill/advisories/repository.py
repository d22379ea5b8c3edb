"""All SQL of the advisory database."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.advisories.ecosystems import Ecosystem
from waybill.advisories.merging import Merged
from waybill.advisories.models import advisories, advisory_cwes, advisory_documents, advisory_vulnerabilities
from waybill.advisories.types import (
    Advisory,
    AdvisoryFilter,
    AdvisoryType,
    AffectedPackage,
    ImportedDocument,
    SeverityLevel,
    Span,
    Vulnerability,
)
from waybill.core import keyset
from waybill.core.db import chunks, upsert
from waybill.core.keyset import Position
from waybill.core.rows import values_of


@dataclass(frozen=True)
class StoredDocument:
    ghsa_id: str
    modified_at: datetime
    content_hash: str
    withdrawn_at: datetime | None


async def stored_documents(conn: AsyncConnection, osv_ids: Collection[str]) -> dict[str, StoredDocument]:
    found: dict[str, StoredDocument] = {}
    t = advisory_documents.c
    for chunk in chunks(list(osv_ids)):
        rows = await conn.execute(
            select(t.osv_id, t.ghsa_id, t.modified_at, t.content_hash, t.withdrawn_at).where(
                t.osv_id.in_(chunk)
            )
        )
        for row in rows:
            found[row.osv_id] = StoredDocument(
                row.ghsa_id, row.modified_at, row.content_hash, row.withdrawn_at
            )
    return found


async def upsert_documents(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = upsert(conn, advisory_documents)
    stmt = stmt.on_conflict_do_update(
        index_elements=[advisory_documents.c.osv_id],
        set_={
            name: stmt.excluded[name]
            for name in ("ghsa_id", "modified_at", "withdrawn_at", "content_hash", "document", "imported_at")
        },
    )
    for chunk in chunks(rows):
        await conn.execute(stmt, list(chunk))


_imported_document = values_of(ImportedDocument)


async def documents_of(conn: AsyncConnection, ghsa_ids: Collection[str]) -> list[ImportedDocument]:
    t = advisory_documents.c
    out: list[ImportedDocument] = []
    for chunk in chunks(sorted(ghsa_ids)):
        rows = await conn.execute(select(t.ghsa_id, t.document).where(t.ghsa_id.in_(chunk)))
        out.extend(_imported_document(row) for row in rows)
    return out


def _advisory_row(m: Merged) -> dict[str, Any]:
    return {
        "ghsa_id": m.ghsa_id,
        "cve_id": m.cve_id,
        "type": m.type.value,
        "severity": m.severity.value,
        "summary": m.summary,
        "description": m.description,
        "source_code_location": m.source_code_location,
        "identifiers": m.identifiers,
        "reference_urls": m.references,
        "cwes": m.cwes,
        "cvss_v3_vector": m.cvss.v3_vector,
        "cvss_v3_score": m.cvss.v3_score,
        "cvss_v4_vector": m.cvss.v4_vector,
        "cvss_v4_score": m.cvss.v4_score,
        "epss_percentage": m.epss_percentage,
        "epss_percentile": m.epss_percentile,
        "published_at": m.published_at,
        "updated_at": m.updated_at,
        "github_reviewed_at": m.github_reviewed_at,
        "nvd_published_at": m.nvd_published_at,
        "withdrawn_at": m.withdrawn_at,
    }


async def replace_advisories(conn: AsyncConnection, merged: list[Merged], gone: Collection[str]) -> None:
    """Write the advisories rebuilt from their documents; drop those left without any document."""
    a = advisories.c
    for chunk in chunks(sorted(gone)):
        await conn.execute(delete(advisories).where(a.ghsa_id.in_(chunk)))
    if not merged:
        return
    rows = [_advisory_row(m) for m in merged]
    stmt = upsert(conn, advisories)
    stmt = stmt.on_conflict_do_update(
        index_elements=[a.ghsa_id], set_={k: stmt.excluded[k] for k in rows[0] if k != "ghsa_id"}
    )
    ids: dict[str, int] = {}
    for chunk in chunks(rows):
        await conn.execute(stmt, list(chunk))
        found = await conn.execute(
            select(a.ghsa_id, a.id).where(a.ghsa_id.in_([r["ghsa_id"] for r in chunk]))
        )
        ids.update({row.ghsa_id: row.id for row in found})
    id_list = list(ids.values())
    for chunk in chunks(id_list):
        await conn.execute(
            delete(advisory_vulnerabilities).where(advisory_vulnerabilities.c.advisory_id.in_(chunk))
        )
        await conn.execute(delete(advisory_cwes).where(advisory_cwes.c.advisory_id.in_(chunk)))
    vulnerabilities = [
        {
            "advisory_id": ids[m.ghsa_id],
            "osv_id": v.osv_id,
            "ecosystem": v.ecosystem.value,
            "package_name": v.package_name,
            "package_key": v.package_key,
            "ranges": v.ranges,
            "versions": v.versions,
            "vulnerable_functions": v.vulnerable_functions,
        }
        for m in merged
        for v in m.vulnerabilities
    ]
    for chunk in chunks(vulnerabilities):
        await conn.execute(insert(advisory_vulnerabilities), list(chunk))
    cwes = [{"advisory_id": ids[m.ghsa_id], "cwe_id": c} for m in merged for c in m.cwes]
    for chunk in chunks(cwes):
        await conn.execute(insert(advisory_cwes), list(chunk))


async def count_advisories(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(advisories))).scalar_one())


_advisory = values_of(Advisory, type=AdvisoryType, severity=SeverityLevel)


_vulnerability = values_of(Vulnerability, ecosystem=Ecosystem)


_affected_package = values_of(AffectedPackage, ecosystem=Ecosystem)


async def find_advisory(conn: AsyncConnection, identifier: str) -> Advisory | None:
    a = advisories.c
    row = (await conn.execute(select(advisories).where(a.ghsa_id == identifier))).first()
    return None if row is None else _advisory(row)


async def vulnerabilities_of(conn: AsyncConnection, advisory_ids: Collection[int]) -> list[Vulnerability]:
    v = advisory_vulnerabilities.c
    out: list[Vulnerability] = []
    for chunk in chunks(sorted(advisory_ids)):
        rows = await conn.execute(
            select(advisory_vulnerabilities).where(v.advisory_id.in_(chunk)).order_by(v.id)
        )
        out.extend(_vulnerability(row) for row in rows)
    return out


async def package_vulnerabilities(
    conn: AsyncConnection, keys: Collection[tuple[str, str]], *, live_only: bool
) -> list[AffectedPackage]:
    """The affected packages of the given (ecosystem, package_key) pairs, with their advisory."""
    v = advisory_vulnerabilities.c
    a = advisories.c
    out: list[AffectedPackage] = []
    for chunk in chunks(sorted(keys)):
        query = (
            select(v.advisory_id, a.ghsa_id, v.ecosystem, v.package_name, v.package_key, v.ranges, v.versions)
            .join(advisories, a.id == v.advisory_id)
            .where(tuple_(v.ecosystem, v.package_key).in_(list(chunk)))
        )
        if live_only:
            query = query.where(a.withdrawn_at.is_(None))
        out.extend(_affected_package(row) for row in await conn.execute(query))
    return out


def within(column: Any, span: Span) -> ColumnElement[bool]:
    """The condition that ``column`` lies in ``span`` (and is not NULL)."""
    parts: list[ColumnElement[bool]] = [column.is_not(None)]
    if span.lower is not None:
        parts.append(column >= span.lower.value if span.lower.inclusive else column > span.lower.value)
    if span.upper is not None:
        parts.append(column <= span.upper.value if span.upper.inclusive else column < span.upper.value)
    return and_(*parts)


SORT_COLUMNS = {
    "published": advisories.c.published_at,
    "updated": advisories.c.updated_at,
    "epss_percentage": func.coalesce(advisories.c.epss_percentage, literal(-1.0)),
    "epss_percentile": func.coalesce(advisories.c.epss_percentile, literal(-1.0)),
}


def _where(f: AdvisoryFilter) -> list[ColumnElement[bool]]:
    a = advisories.c
    where: list[ColumnElement[bool]] = [a.type == f.type]
    if f.ghsa_id is not None:
        where.append(a.ghsa_id == f.ghsa_id)
    if f.cve_id is not None:
        where.append(a.cve_id == f.cve_id)
    if f.severity is not None:
        where.append(a.severity == f.severity)
    if f.ecosystem is not None:
        v = advisory_vulnerabilities.c
        where.append(exists().where(v.advisory_id == a.id, v.ecosystem == f.ecosystem))
    if f.cwes:
        c = advisory_cwes.c
        where.append(exists().where(c.advisory_id == a.id, c.cwe_id.in_(f.cwes)))
    if f.is_withdrawn is not None:
        where.append(a.withdrawn_at.is_not(None) if f.is_withdrawn else a.withdrawn_at.is_(None))
    if f.ids is not None:
        where.append(a.id.in_(sorted(f.ids)) if f.ids else false())
    if f.published is not None:
        where.append(within(a.published_at, f.published))
    if f.updated is not None:
        where.append(within(a.updated_at, f.updated))
    if f.modified is not None:
        where.append(or_(within(a.updated_at, f.modified), within(a.published_at, f.modified)))
    if f.epss_percentage is not None:
        where.append(within(a.epss_percentage, f.epss_percentage))
    if f.epss_percentile is not None:
        where.append(within(a.epss_percentile, f.epss_percentile))
    return where


async def list_advisories(
    conn: AsyncConnection,
    f: AdvisoryFilter,
    *,
    sort: str,
    descending: bool,
    per_page: int,
    after: Position | None,
    before: Position | None,
) -> tuple[list[Advisory], bool]:
    """A page of advisories in (sort value, id) order, and whether more lie beyond it
    (beyond its end for ``after`` or the first page, before its start for ``before``)."""
    column = SORT_COLUMNS[sort]
    query = select(advisories).where(*_where(f))
    rows, more = await keyset.fetch_sorted(
        conn,
        query,
        column,
        advisories.c.id,
        descending=descending,
        per_page=per_page,
        after=after,
        before=before,
    )
    return [_advisory(row) for row in rows], more


# Advisory types that raise alerts: GitHub alerts on reviewed advisories and on malware, never on
# unreviewed ones.
ALERTING_TYPES = ("reviewed", "malware")


async def alerting_vulnerabilities(
    conn: AsyncConnection, keys: Collection[tuple[str, str]] | None
) -> list[AffectedPackage]:
    """Affected packages of live alerting advisories: of the given (ecosystem, package_key) pairs,
    or all of them when ``keys`` is None."""
    v = advisory_vulnerabilities.c
    a = advisories.c
    query = (
        select(v.advisory_id, a.ghsa_id, v.ecosystem, v.package_name, v.package_key, v.ranges, v.versions)
        .join(advisories, a.id == v.advisory_id)
        .where(a.withdrawn_at.is_(None), a.type.in_(ALERTING_TYPES))
    )
    out: list[AffectedPackage] = []
    if keys is None:
        out.extend(_affected_package(row) for row in await conn.execute(query))
        return out
    for chunk in chunks(sorted(keys)):
        rows = await conn.execute(query.where(tuple_(v.ecosystem, v.package_key).in_(list(chunk))))
        out.extend(_affected_package(row) for row in rows)
    return out


async def withdrawn_or_silent(conn: AsyncConnection, advisory_ids: Collection[int]) -> set[int]:
    """Of these advisories, those withdrawn or no longer of a type that raises alerts."""
    a = advisories.c
    out: set[int] = set()
    for chunk in chunks(sorted(advisory_ids)):
        rows = await conn.execute(
            select(a.id).where(
                a.id.in_(chunk), or_(a.withdrawn_at.is_not(None), a.type.not_in(ALERTING_TYPES))
            )
        )
        out.update(row[0] for row in rows)
    return out


async def advisories_by_ids(conn: AsyncConnection, ids: Collection[int]) -> dict[int, Advisory]:
    out: dict[int, Advisory] = {}
    for chunk in chunks(sorted(ids)):
        for row in await conn.execute(select(advisories).where(advisories.c.id.in_(chunk))):
            out[row.id] = _advisory(row)
    return out
