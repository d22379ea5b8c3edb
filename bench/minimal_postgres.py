"""The minimal same-stack ceiling on PostgreSQL: Litestar + msgspec, the token checked in memory, and
one prepared statement per request through an asyncpg pool. Run under uvicorn with Waybill's worker
count: ``BENCH_MINIMAL='{...}' uvicorn bench.minimal_postgres:app --workers 2``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from litestar import Litestar, Request, Response, get, post

from bench import minimal as m

UPSERT = (
    f"INSERT INTO artifact_deployment_records ({m.UPSERT_COLUMNS}) VALUES"
    " ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12) " + m.UPSERT_CONFLICT
)
READ = f"SELECT {m.READ_COLUMNS} FROM artifact_deployment_records WHERE org_id = $1 AND digest = $2"
POOL: dict[str, asyncpg.Pool] = {}


async def _no_reset(connection: asyncpg.Connection) -> None:
    """The default reset on release is a second round trip per request; these connections hold no
    session state (no LISTEN, no SET, no advisory locks) to reset."""


async def startup() -> None:
    # asyncpg prepares each statement once per connection and keeps it in its statement cache.
    POOL["pool"] = await asyncpg.create_pool(m.CONFIG["database"], min_size=8, max_size=8, reset=_no_reset)


async def shutdown() -> None:
    await POOL["pool"].close()


@post("/orgs/{org:str}/artifacts/metadata/deployment-record")
async def upsert(request: Request[Any, Any, Any], org: str) -> Response[bytes]:
    refused = m.refusal(request, org)
    body = refused or m.decode(await request.body(), org)
    if isinstance(body, Response):
        return body
    row = await POOL["pool"].fetchrow(UPSERT, *m.upsert_values(org, body, datetime.now(UTC)))
    records = [m.record(body, row[0], m.iso(row[1]), m.iso(row[2]), row[3])] if body.return_records else None
    return m.reply(200, {"total_count": 1, **({"deployment_records": records} if records else {})})


@get("/orgs/{org:str}/artifacts/{digest:str}/metadata/deployment-records")
async def by_digest(request: Request[Any, Any, Any], org: str, digest: str) -> Response[bytes]:
    refused = m.refusal(request, org)
    if refused:
        return refused
    rows = await POOL["pool"].fetch(READ, m.ORGS[org], digest)
    return m.listing([m.read_record(row, m.iso) for row in rows])


app = Litestar([upsert, by_digest], on_startup=[startup], on_shutdown=[shutdown], openapi_config=None)
