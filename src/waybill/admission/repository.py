"""All SQL of the admission gate.

A decision is taken on every pod a cluster creates, so its reads and its record go straight through
the drivers (``Database.fetch``, ``Database.group_write``) as SQL written once: built by SQLAlchemy
on every call, the same statements cost several times the database's own work. Policies and the
decision log go through SQLAlchemy."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.repository import ACCOUNT_COLUMNS, account_from_values
from waybill.accounts.types import Account, OrgRole
from waybill.admission.models import admission_decisions, admission_policies
from waybill.admission.types import (
    DecisionFilter,
    EnvironmentPolicy,
    OpenAlert,
    RepositoryName,
    SignedProvenance,
    StoredDecision,
)
from waybill.core import audit, outbox
from waybill.core.db import Database
from waybill.core.drivers import Sql, sqlite_time
from waybill.core.rows import values_of

p = admission_policies.c
d = admission_decisions.c


async def policies(conn: AsyncConnection, org_id: int) -> dict[str, EnvironmentPolicy]:
    rows = await conn.execute(
        select(p.environment, p.policy).where(p.org_id == org_id).order_by(p.environment)
    )
    return {row.environment: EnvironmentPolicy.from_json(row.policy) for row in rows}


async def policy(conn: AsyncConnection, org_id: int, environment: str) -> EnvironmentPolicy | None:
    row = (
        await conn.execute(select(p.policy).where(p.org_id == org_id, p.environment == environment))
    ).first()
    return None if row is None else EnvironmentPolicy.from_json(row.policy)


async def replace_policies(
    conn: AsyncConnection, org_id: int, environments: Mapping[str, EnvironmentPolicy], now: datetime
) -> None:
    await conn.execute(delete(admission_policies).where(p.org_id == org_id))
    if environments:
        await conn.execute(
            insert(admission_policies),
            [
                {"org_id": org_id, "environment": name, "policy": value.as_json(), "updated_at": now}
                for name, value in environments.items()
            ],
        )


async def set_policy(
    conn: AsyncConnection, org_id: int, environment: str, value: EnvironmentPolicy, now: datetime
) -> None:
    await conn.execute(delete(admission_policies).where(p.org_id == org_id, p.environment == environment))
    await conn.execute(
        insert(admission_policies).values(
            org_id=org_id, environment=environment, policy=value.as_json(), updated_at=now
        )
    )


# The decision's reads and its record.


def _among(sqlite: bool, column: str, param: str, cast: str) -> str:
    """``column`` is one of the values of the list parameter ``param`` (a JSON array on SQLite, an
    array on PostgreSQL): one statement, prepared once, whatever the list's length."""
    if sqlite:
        return f"{column} IN (SELECT value FROM json_each(:{param}))"
    return f"{column} = ANY(:{param}::{cast}[])"


def _list(db: Database, values: Sequence[Any]) -> Any:
    return json.dumps(list(values)) if db.is_sqlite else list(values)


def _json(value: Any) -> Any:
    """A JSON column as read through the drivers (text on both)."""
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Context:
    """The organization asked about (None when there is none), the caller's role in it, and the
    environment's policy (None when it has none)."""

    org: Account | None
    role: OrgRole | None
    policy: EnvironmentPolicy | None


_CONTEXT = Sql(
    f"""
SELECT {", ".join(f"a.{c}" for c in ACCOUNT_COLUMNS)},
    (SELECT m.role FROM memberships AS m WHERE m.org_id = a.id AND m.user_id = :user_id),
    (SELECT p.policy FROM admission_policies AS p WHERE p.org_id = a.id AND p.environment = :environment)
FROM accounts AS a WHERE a.login_key = :login
"""
)


async def context(db: Database, login: str, user_id: int, environment: str) -> Context:
    rows = await db.fetch(_CONTEXT, {"login": login.lower(), "user_id": user_id, "environment": environment})
    if not rows:
        return Context(None, None, None)
    row = rows[0]
    role, policy = row[len(ACCOUNT_COLUMNS)], row[len(ACCOUNT_COLUMNS) + 1]
    return Context(
        account_from_values(row),
        None if role is None else OrgRole(role),
        None if policy is None else EnvironmentPolicy.from_json(_json(policy)),
    )


@cache
def _provenance_sql(sqlite: bool, predicate_types: tuple[str, ...]) -> Sql:
    types = ", ".join(f"'{t}'" for t in predicate_types)
    return Sql(
        f"""
SELECT s.digest, a.id, a.repository_id, v.verified, v.build_signer_uri, v.identity
FROM attestation_subjects AS s
JOIN attestations AS a ON a.id = s.attestation_id
JOIN repositories AS r ON r.id = a.repository_id
LEFT JOIN attestation_verifications AS v ON v.attestation_id = a.id
WHERE {_among(sqlite, "s.digest", "digests", "text")} AND r.owner_id = :owner_id
    AND a.predicate_type IN ({types})
ORDER BY s.attestation_id DESC
"""
    )


async def provenance(
    db: Database, owner_id: int, digests: Sequence[str], predicate_types: tuple[str, ...]
) -> dict[str, list[SignedProvenance]]:
    """For each (lower-case ``sha256:``) digest, the provenance attestations stored in the owner's
    repositories, newest first. Read from the subjects' primary key (digest, attestation_id)."""
    sql = _provenance_sql(db.is_sqlite, predicate_types)
    found: dict[str, list[SignedProvenance]] = {}
    for digest, attestation_id, repository_id, verified, signer, identity in await db.fetch(
        sql, {"digests": _list(db, digests), "owner_id": owner_id}
    ):
        found.setdefault(digest, []).append(
            SignedProvenance(
                attestation_id=attestation_id,
                repository_id=repository_id,
                verified=None if verified is None else bool(verified),
                build_signer_uri=signer,
                source_repository_ref=_json(identity or "{}").get("source_repository_ref"),
            )
        )
    return found


@cache
def _registries_sql(sqlite: bool) -> Sql:
    return Sql(
        f"""
SELECT DISTINCT digest, registry_url FROM artifact_storage_records
WHERE org_id = :org_id AND {_among(sqlite, "digest", "digests", "text")} AND status <> 'deleted'
"""
    )


async def registries(db: Database, org_id: int, digests: Sequence[str]) -> dict[str, set[str]]:
    """For each digest, the registry URLs of the organization's storage records of it that are not
    marked deleted."""
    params = {"org_id": org_id, "digests": _list(db, digests)}
    found: dict[str, set[str]] = {}
    for digest, url in await db.fetch(_registries_sql(db.is_sqlite), params):
        found.setdefault(digest, set()).add(url)
    return found


@cache
def _alerts_sql(sqlite: bool, with_patch: bool) -> Sql:
    patched = "AND t.first_patched_version IS NOT NULL" if with_patch else ""
    return Sql(
        f"""
SELECT repository_id, number, ghsa_id, severity, package_name FROM (
    SELECT t.repository_id, t.number, v.ghsa_id, v.severity, t.package_name, ROW_NUMBER() OVER (
        PARTITION BY t.repository_id ORDER BY t.created_at DESC, t.id DESC) AS place
    FROM dependabot_alerts AS t JOIN advisories AS v ON v.id = t.advisory_id
    WHERE {_among(sqlite, "t.repository_id", "repository_ids", "bigint")} AND t.state = 'open'
        AND {_among(sqlite, "v.severity", "severities", "text")} {patched}
) AS ranked WHERE place <= :limit ORDER BY repository_id, place
"""
    )


async def open_alerts(
    db: Database, repository_ids: Sequence[int], severities: Sequence[str], *, with_patch: bool, limit: int
) -> dict[int, list[OpenAlert]]:
    """Up to ``limit`` open Dependabot alerts of each repository at these severities (only those with
    a patched version when ``with_patch``), newest first."""
    # Alerts show an advisory of unknown severity as low.
    wanted = [*severities, *(["unknown"] if "low" in severities else [])]
    params = {"repository_ids": _list(db, repository_ids), "severities": _list(db, wanted), "limit": limit}
    found: dict[int, list[OpenAlert]] = {}
    for repository_id, number, ghsa_id, severity, package in await db.fetch(
        _alerts_sql(db.is_sqlite, with_patch), params
    ):
        found.setdefault(repository_id, []).append(OpenAlert(number, ghsa_id, severity, package))
    return found


@cache
def _names_sql(sqlite: bool) -> Sql:
    return Sql(
        f"""
SELECT r.id, r.name, o.login FROM repositories AS r JOIN accounts AS o ON o.id = r.owner_id
WHERE {_among(sqlite, "r.id", "ids", "bigint")}
"""
    )


async def repository_names(db: Database, ids: Sequence[int]) -> dict[int, RepositoryName]:
    rows = await db.fetch(_names_sql(db.is_sqlite), {"ids": _list(db, ids)})
    return {id_: RepositoryName(name, f"{owner}/{name}") for id_, name, owner in rows}


_DECISION_COLUMNS = (
    "org_id, environment, entry, namespace, workload, operation, mode, verdict, allowed, images, "
    "reasons, created_at"
)
_INSERT_DECISION_SQLITE = (
    f"INSERT INTO admission_decisions ({_DECISION_COLUMNS}) VALUES (:org_id, :environment, :entry, "
    ":namespace, :workload, :operation, :mode, :verdict, :allowed, :images, :reasons, :created_at) "
    "RETURNING id"
)
# One statement on PostgreSQL, as the hot writes are: the decision, its audit entry, and its event
# queued when a hook hears it, whose object takes the new id in the database.
_INSERT_DECISION_PG = Sql(
    f"WITH decision AS (INSERT INTO admission_decisions ({_DECISION_COLUMNS}) VALUES (:org_id, :environment,"
    " :entry, :namespace, :workload, :operation, :mode, :verdict, :allowed, :images::jsonb, :reasons::jsonb,"
    " :created_at) RETURNING id),"
    f" entry AS (INSERT INTO audit_log ({audit.ENTRY_COLUMNS}) SELECT CAST(:org_id AS bigint), NULL,"
    f" CAST(:action AS text), NULL, {audit.ACTOR_VALUES_PG}, CAST(:created_at AS timestamptz) FROM decision),"
    f" queued AS ({outbox.JOB_INSERT} SELECT {outbox.JOB_VALUES},"
    " jsonb_set(CAST(:payload AS jsonb), '{object,id}', to_jsonb(decision.id)), 0,"
    " CAST(:created_at AS timestamptz), CAST(:created_at AS timestamptz) FROM decision"
    f" WHERE {outbox.subscribed_sql('CAST(:org_id AS bigint)', 'CAST(:event AS text)')})"
    " SELECT id FROM decision"
)


async def insert_decision(db: Database, row: Mapping[str, Any], event: Callable[[int], outbox.Event]) -> None:
    """The decision and ``event`` (of its id) published, committed together before this returns
    (on SQLite in a group of the writer's)."""
    params = {**row, "images": json.dumps(row["images"]), "reasons": json.dumps(row["reasons"])}
    now = row["created_at"]
    if not db.is_sqlite:
        # The id is not known yet: the statement writes it into the object.
        unnumbered = event(0)
        published = {
            "action": unnumbered.action_name,
            "payload": unnumbered.payload(),
            "event": unnumbered.event,
        }
        await db.fetch_written(_INSERT_DECISION_PG, {**params, **published, **audit.actor_params()})
        return
    local = {**params, "created_at": sqlite_time(now)}
    who = audit.actor_params()

    def work(conn: sqlite3.Connection) -> None:
        (decision_id,) = conn.execute(_INSERT_DECISION_SQLITE, local).fetchone()
        outbox.publish_sqlite(conn, event(decision_id), now, who)

    await db.group_write(work)


_stored = values_of(StoredDecision, allowed=bool, images=list, reasons=list)


async def decisions(
    conn: AsyncConnection, org_id: int, where: DecisionFilter, *, per_page: int, after: int | None
) -> tuple[list[StoredDecision], int | None]:
    """A page newest first, and the id to continue after (None on the last page)."""
    conditions = [d.org_id == org_id]
    if where.environment is not None:
        conditions.append(d.environment == where.environment)
    if where.verdict is not None:
        conditions.append(d.verdict == str(where.verdict))
    if where.namespace is not None:
        conditions.append(d.namespace == where.namespace)
    if where.since is not None:
        conditions.append(d.created_at >= where.since)
    if after is not None:
        conditions.append(d.id < after)
    query = select(admission_decisions).where(*conditions).order_by(d.id.desc()).limit(per_page + 1)
    rows = list((await conn.execute(query)).all())
    more = len(rows) > per_page
    page = [_stored(row) for row in rows[:per_page]]
    return page, (page[-1].id if more and page else None)
