"""A job queue kept in the database, so that background work survives restarts and is shared
by every worker process and host (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer).

A job is claimed with a short lease that heartbeats keep alive, and names the server process that
holds it (``instance_id``). A worker that dies mid-job lets the lease run out and another worker
takes the job again; a server starting on the same host takes back at once the jobs of its
predecessors there that are gone. Handlers must therefore be idempotent (they are upserts
throughout).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.core import audit, clock
from waybill.core.db import Database, fault_line, is_unavailable
from waybill.core.drivers import Sql
from waybill.core.models import BigId, Json, UTCDateTime, metadata

log = logging.getLogger("waybill.jobs")

jobs = Table(
    "jobs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    # Jobs sharing a key are related (e.g. one cluster): lets a domain allow one active job per key.
    Column("key", String(512), nullable=True),
    Column("status", String(16), nullable=False),
    Column("payload", Json, nullable=False),
    Column("result", Json, nullable=True),
    Column("error", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_after", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    # The server process holding the lease (``instance_id``), while processing.
    Column("holder", String(255), nullable=True),
    # The token that queued the job, which bounds how many pending jobs it may have.
    Column("token_id", BigId, nullable=True),
    Index("ix_jobs_status_run_after", "status", "run_after"),
    Index("ix_jobs_kind_key", "kind", "key"),
    Index("ix_jobs_token_id_status", "token_id", "status"),
)


def _process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), which tells a process from a
    later one that reuses its pid; None where there is no /proc or no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


_instance: tuple[int, str] | None = None


def instance_id() -> str:
    """This server process: ``host/pid/start``, computed again in a forked child."""
    global _instance
    pid = os.getpid()
    if _instance is None or _instance[0] != pid:
        start = _process_start(pid) or f"t{time.time_ns()}"
        _instance = (pid, f"{socket.gethostname()}/{pid}/{start}")
    return _instance[1]


def _gone(holder: str, host: str) -> bool:
    """Whether ``holder`` was a process of this host that no longer runs."""
    parts = holder.split("/")
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False
    pid, start = int(parts[1]), parts[2]
    if start.startswith("t"):
        # No /proc where it ran: only whether the pid is taken can be told.
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return _process_start(pid) != start


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


ACTIVE = (JobStatus.PENDING, JobStatus.PROCESSING)


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    key: str | None
    status: JobStatus
    payload: Any
    result: Any
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


Handler = Callable[[Database, Job], Awaitable[Any]]


def _job(row: Any) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        key=row.key,
        status=JobStatus(row.status),
        payload=row.payload,
        result=row.result,
        error=row.error,
        attempts=row.attempts,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


async def enqueue(
    conn: AsyncConnection,
    kind: str,
    payload: Any,
    *,
    key: str | None = None,
    run_after: datetime | None = None,
    token_id: int | None = None,
) -> int:
    now = clock.now()
    result = await conn.execute(
        insert(jobs)
        .values(
            kind=kind,
            key=key,
            status=JobStatus.PENDING,
            payload=payload,
            attempts=0,
            run_after=run_after or now,
            created_at=now,
            token_id=token_id,
        )
        .returning(jobs.c.id)
    )
    return int(result.scalar_one())


async def count_pending(conn: AsyncConnection, token_id: int) -> int:
    """Jobs the token queued that have not finished (pending or processing)."""
    query = (
        select(func.count()).select_from(jobs).where(jobs.c.token_id == token_id, jobs.c.status.in_(ACTIVE))
    )
    return int((await conn.execute(query)).scalar_one())


async def counts(conn: AsyncConnection) -> dict[tuple[str, str], int]:
    """How many jobs there are, by kind and status."""
    query = select(jobs.c.kind, jobs.c.status, func.count()).group_by(jobs.c.kind, jobs.c.status)
    return {(str(kind), str(status)): count for kind, status, count in (await conn.execute(query)).all()}


# For writes that run straight through the drivers (``waybill.core.drivers``) and queue a job in the
# same transaction: a job of this kind and key, unless one is already waiting to start (it will see
# whatever this write changed when it runs). Parameters: kind, key, payload (JSON text), now.
_ENQUEUE_UNLESS_PENDING = """
INSERT INTO jobs (kind, key, status, payload, attempts, run_after, created_at)
SELECT CAST(:kind AS text), CAST(:key AS text), '{pending}', {payload}, 0, {now}, {now}
WHERE NOT EXISTS (
    SELECT 1 FROM jobs WHERE kind = CAST(:kind AS text) AND key = CAST(:key AS text) AND status = '{pending}'
)
"""
# PostgreSQL types the values of a SELECT list from themselves, not from the columns they go to:
# hence the casts.
ENQUEUE_UNLESS_PENDING_SQLITE = Sql(
    _ENQUEUE_UNLESS_PENDING.format(pending=JobStatus.PENDING.value, payload=":payload", now=":now")
)
ENQUEUE_UNLESS_PENDING_POSTGRES = Sql(
    _ENQUEUE_UNLESS_PENDING.format(
        pending=JobStatus.PENDING.value, payload="CAST(:payload AS jsonb)", now="CAST(:now AS timestamptz)"
    )
)


async def get(conn: AsyncConnection, job_id: int) -> Job | None:
    row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).first()
    return None if row is None else _job(row)


async def find_active(conn: AsyncConnection, kind: str, key: str) -> Job | None:
    row = (
        await conn.execute(
            select(jobs).where(jobs.c.kind == kind, jobs.c.key == key, jobs.c.status.in_(ACTIVE)).limit(1)
        )
    ).first()
    return None if row is None else _job(row)


class Worker:
    """Claims and runs jobs, up to ``concurrency`` at a time, until stopped."""

    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler],
        *,
        poll_seconds: float = 1.0,
        lease_seconds: float = 10.0,
        max_attempts: int = 5,
        concurrency: int = 1,
    ) -> None:
        self.db = db
        self.handlers = dict(handlers)
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        # Jobs the loop runs at once: one waiting on the network (a webhook's receiver) then holds
        # up none of the others.
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.instance = instance_id()

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop the loop, interrupting the job it runs, and hand that job back to the queue, due at
        once and without counting the attempt: another process need not wait for its lease."""
        if self._task is None:
            return
        self._task.cancel()
        for running in list(self._running):
            running.cancel()
        for task in [self._task, *self._running]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        try:
            async with self.db.write() as conn:
                await conn.execute(
                    update(jobs)
                    .where(jobs.c.status == JobStatus.PROCESSING, jobs.c.holder == self.instance)
                    .values(
                        status=JobStatus.PENDING,
                        attempts=jobs.c.attempts - 1,
                        holder=None,
                        lease_until=None,
                        run_after=clock.now(),
                    )
                )
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            log.warning(
                "job worker: could not hand back its job (%s); its lease will run out", fault_line(exc)
            )

    async def reclaim_dead(self) -> int:
        """Put back in the queue, due at once, the jobs held by earlier processes of this host that
        are gone (killed mid-job): they need not wait for their leases to run out."""
        host = self.instance.split("/", 1)[0]
        async with self.db.read() as conn:
            holders = (
                await conn.execute(
                    select(jobs.c.holder)
                    .where(jobs.c.status == JobStatus.PROCESSING, jobs.c.holder.like(f"{host}/%"))
                    .distinct()
                )
            ).scalars()
            dead = [h for h in holders if h != self.instance and _gone(h, host)]
        if not dead:
            return 0
        async with self.db.write() as conn:
            result = await conn.execute(
                update(jobs)
                .where(jobs.c.status == JobStatus.PROCESSING, jobs.c.holder.in_(dead))
                .values(status=JobStatus.PENDING, holder=None, lease_until=None, run_after=clock.now())
            )
        taken = int(result.rowcount or 0)
        log.warning(
            "took back %d job(s) of %d server process(es) of this host that are gone", taken, len(dead)
        )
        return taken

    async def _loop(self) -> None:
        try:
            await self.reclaim_dead()
        except Exception:
            log.exception("taking back the jobs of gone processes failed")
        slots = asyncio.Semaphore(self.concurrency)
        while True:
            await slots.acquire()
            try:
                job = await self._claim()
            except Exception as exc:
                self._log_failure(exc, "job worker: claiming a job failed")
                job = None
            if job is None:
                slots.release()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                continue
            task = asyncio.get_running_loop().create_task(self._run_logged(job))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            task.add_done_callback(lambda _: slots.release())

    @staticmethod
    def _log_failure(exc: Exception, what: str) -> None:
        if is_unavailable(exc):
            # An expected fault: the next poll tries again.
            log.warning("job worker: database unavailable (%s)", fault_line(exc))
        else:
            log.exception(what)

    async def _run_logged(self, job: Job) -> None:
        try:
            await self._run(job)
        except Exception as exc:
            self._log_failure(exc, "job worker iteration failed")

    async def run_once(self) -> bool:
        """Claim one due job and run it; False when there was none."""
        job = await self._claim()
        if job is None:
            return False
        await self._run(job)
        return True

    async def _run(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        # What the job writes is recorded as the job's: it runs on the worker's own context.
        audit.set_actor(audit.Actor(audit.ActorType.JOB, job.kind))
        audit.set_request(f"job-{job.id}")
        heartbeat = asyncio.get_running_loop().create_task(self._heartbeat(job.id))
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            result = await handler(self.db, job)
        except Exception as exc:
            if is_unavailable(exc):
                log.warning(
                    "job %s (%s): database unavailable, to be tried again (%s)",
                    job.id,
                    job.kind,
                    fault_line(exc),
                )
            else:
                log.exception("job %s (%s) failed", job.id, job.kind)
            await self._fail(job, f"{type(exc).__name__}: {exc}")
        else:
            await self._finish(job.id, result)
        finally:
            heartbeat.cancel()

    async def run_until_idle(self) -> int:
        count = 0
        while await self.run_once():
            count += 1
        return count

    async def _claim(self) -> Job | None:
        now = clock.now()
        due = or_(
            and_(jobs.c.status == JobStatus.PENDING, jobs.c.run_after <= now),
            and_(jobs.c.status == JobStatus.PROCESSING, jobs.c.lease_until < now),
        )
        kinds = jobs.c.kind.in_(self.handlers)
        # Look before taking the write lock: an idle poll must not queue behind SQLite's one writer.
        async with self.db.read() as conn:
            if (await conn.execute(select(jobs.c.id).where(due, kinds).limit(1))).first() is None:
                return None
        async with self.db.write() as conn:
            candidate = (
                await conn.execute(
                    select(jobs.c.id)
                    .where(due, kinds)
                    .order_by(jobs.c.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).scalar()
            if candidate is None:
                return None
            row = (
                await conn.execute(
                    update(jobs)
                    .where(jobs.c.id == candidate)
                    .values(
                        status=JobStatus.PROCESSING,
                        attempts=jobs.c.attempts + 1,
                        lease_until=now + self.lease,
                        holder=self.instance,
                        started_at=func.coalesce(jobs.c.started_at, literal(now, UTCDateTime)),
                    )
                    .returning(*jobs.c)
                )
            ).one()
        return _job(row)

    async def _heartbeat(self, job_id: int) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                async with self.db.write() as conn:
                    await conn.execute(
                        update(jobs)
                        .where(jobs.c.id == job_id, jobs.c.holder == self.instance)
                        .values(lease_until=clock.now() + self.lease)
                    )
            except Exception as exc:
                # The next beat may get through before the lease runs out.
                log.warning("job %s: lease not renewed: %s", job_id, exc)

    async def _finish(self, job_id: int, result: Any) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    status=JobStatus.COMPLETED,
                    result=result,
                    finished_at=clock.now(),
                    lease_until=None,
                    holder=None,
                )
            )

    async def _fail(self, job: Job, error: str) -> None:
        now = clock.now()
        final = job.attempts >= self.max_attempts
        async with self.db.write() as conn:
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job.id)
                .values(
                    status=JobStatus.FAILED if final else JobStatus.PENDING,
                    error=error,
                    lease_until=None,
                    holder=None,
                    run_after=now + timedelta(seconds=2**job.attempts),
                    finished_at=now if final else None,
                )
            )
