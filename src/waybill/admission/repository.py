"""All SQL of the admission gate."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.admission.models import admission_decisions, admission_policies
from waybill.admission.types import DecisionFilter, EnvironmentPolicy, StoredDecision

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


async def insert_decision(conn: AsyncConnection, row: dict[str, Any]) -> int:
    result = await conn.execute(insert(admission_decisions).values(**row).returning(d.id))
    return int(result.scalar_one())


def _stored(row: Any) -> StoredDecision:
    return StoredDecision(
        id=row.id,
        created_at=row.created_at,
        environment=row.environment,
        entry=row.entry,
        namespace=row.namespace,
        workload=row.workload,
        operation=row.operation,
        mode=row.mode,
        verdict=row.verdict,
        allowed=bool(row.allowed),
        images=list(row.images),
        reasons=list(row.reasons),
    )


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
