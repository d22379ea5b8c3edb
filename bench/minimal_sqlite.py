"""The minimal same-stack ceiling on SQLite: Litestar + msgspec, the token checked in memory, one writer
thread with the stdlib ``sqlite3`` that commits whatever writes are queued as one transaction (group
commit: each request answers once its own batch is committed), and reads on the event loop's own
connection (WAL readers do not wait for the writer). One process: a second would be a second writer
queueing on SQLite's lock. ``BENCH_MINIMAL='{...}' uvicorn bench.minimal_sqlite:app --workers 1``."""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar, Request, Response, get, post

from bench import minimal as m
from waybill.core.db import SQLITE_PRAGMAS

UPSERT = f"INSERT INTO artifact_deployment_records ({m.UPSERT_COLUMNS}) VALUES ({', '.join('?' * 12)}) "
UPSERT += m.UPSERT_CONFLICT
READ = f"SELECT {m.READ_COLUMNS} FROM artifact_deployment_records WHERE org_id = ? AND digest = ?"
Job = tuple[tuple[Any, ...], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]
JOBS: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
READER: dict[str, sqlite3.Connection] = {}


def connect() -> sqlite3.Connection:
    conn = sqlite3.connect(m.CONFIG["database"], isolation_level=None, check_same_thread=False)
    for name, value in SQLITE_PRAGMAS.items():
        conn.execute(f"PRAGMA {name}={value}")
    return conn


def settle(future: asyncio.Future[Any], outcome: Any) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def drain(first: Job) -> list[Job]:
    batch = [first]
    while len(batch) < 256:
        try:
            job = JOBS.get_nowait()
        except queue.Empty:
            break
        if job is None:
            JOBS.put(None)  # the stop signal is for the outer loop
            break
        batch.append(job)
    return batch


def writer() -> None:
    conn = connect()
    while (job := JOBS.get()) is not None:
        batch = drain(job)
        conn.execute("BEGIN IMMEDIATE")
        # A failed statement rolls back only itself in SQLite: the rest of the batch still commits.
        outcomes: list[Any] = []
        for values, _, _ in batch:
            try:
                outcomes.append(conn.execute(UPSERT, values).fetchone())
            except sqlite3.Error as error:
                outcomes.append(error)
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as error:
            conn.rollback()
            outcomes = [error] * len(batch)
        for (_, loop, future), outcome in zip(batch, outcomes, strict=True):
            loop.call_soon_threadsafe(settle, future, outcome)
    conn.close()


def startup() -> None:
    READER["conn"] = connect()
    threading.Thread(target=writer, name="sqlite-writer", daemon=True).start()


def shutdown() -> None:
    JOBS.put(None)
    READER["conn"].close()


def stamp(stored: str) -> str:
    return stored[:10] + "T" + stored[11:19] + "Z"


@post("/orgs/{org:str}/artifacts/metadata/deployment-record")
async def upsert(request: Request[Any, Any, Any], org: str) -> Response[bytes]:
    refused = m.refusal(request, org)
    body = refused or m.decode(await request.body(), org)
    if isinstance(body, Response):
        return body
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    JOBS.put((m.upsert_values(org, body, now), loop, future))
    row = await future
    records = [m.record(body, row[0], stamp(row[1]), stamp(row[2]), row[3])] if body.return_records else None
    return m.reply(200, {"total_count": 1, **({"deployment_records": records} if records else {})})


@get("/orgs/{org:str}/artifacts/{digest:str}/metadata/deployment-records")
async def by_digest(request: Request[Any, Any, Any], org: str, digest: str) -> Response[bytes]:
    refused = m.refusal(request, org)
    if refused:
        return refused
    rows = READER["conn"].execute(READ, (m.ORGS[org], digest)).fetchall()
    return m.listing([m.read_record(row, stamp) for row in rows])


app = Litestar([upsert, by_digest], on_startup=[startup], on_shutdown=[shutdown], openapi_config=None)
