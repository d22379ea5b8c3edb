"""The database-queued jobs: run, retried, failed, and taken over when a worker dies mid-job."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from tests.harness import Harness
from waybill.core import clock, jobs
from waybill.core.db import Database


async def test_a_job_runs_once_and_keeps_its_result(api: Harness) -> None:
    seen: list[Any] = []

    async def handler(db: Database, job: jobs.Job) -> Any:
        seen.append(job.payload)
        return {"doubled": job.payload["n"] * 2}

    job_id = await api.tx(lambda c: jobs.enqueue(c, "test.double", {"n": 21}, key="k"))
    assert (await api.tx(lambda c: jobs.find_active(c, "test.double", "k"))) is not None
    worker = jobs.Worker(api.db, {"test.double": handler})
    assert await worker.run_until_idle() == 1
    done = await api.tx(lambda c: jobs.get(c, job_id))
    assert done is not None
    assert done.status is jobs.JobStatus.COMPLETED
    assert done.result == {"doubled": 42}
    assert done.started_at is not None
    assert done.finished_at is not None
    assert seen == [{"n": 21}]
    assert (await api.tx(lambda c: jobs.find_active(c, "test.double", "k"))) is None


async def test_a_failing_job_is_retried_then_failed(api: Harness) -> None:
    async def broken(db: Database, job: jobs.Job) -> Any:
        raise RuntimeError("disk on fire")

    job_id = await api.tx(lambda c: jobs.enqueue(c, "test.broken", {}))
    worker = jobs.Worker(api.db, {"test.broken": broken}, max_attempts=2)
    assert await worker.run_once()
    retry = await api.tx(lambda c: jobs.get(c, job_id))
    assert retry is not None
    assert retry.status is jobs.JobStatus.PENDING
    assert retry.error == "RuntimeError: disk on fire"

    async def due_now(conn):  # type: ignore[no-untyped-def]
        await conn.execute(update(jobs.jobs).values(run_after=clock.now()))

    await api.tx(due_now)
    assert await worker.run_once()
    failed = await api.tx(lambda c: jobs.get(c, job_id))
    assert failed is not None
    assert failed.status is jobs.JobStatus.FAILED
    assert failed.attempts == 2


async def test_a_job_whose_worker_died_is_taken_over_after_its_lease(api: Harness) -> None:
    started = asyncio.Event()

    async def hangs(db: Database, job: jobs.Job) -> Any:
        started.set()
        await asyncio.sleep(3600)

    job_id = await api.tx(lambda c: jobs.enqueue(c, "test.work", {"step": 1}))
    dying = jobs.Worker(api.db, {"test.work": hangs}, lease_seconds=30)
    task = asyncio.create_task(dying.run_once())
    await started.wait()
    task.cancel()  # the process dies: no completion is written and the lease stays
    processing = await api.tx(lambda c: jobs.get(c, job_id))
    assert processing is not None
    assert processing.status is jobs.JobStatus.PROCESSING

    async def finishes(db: Database, job: jobs.Job) -> Any:
        return "done"

    survivor = jobs.Worker(api.db, {"test.work": finishes})
    assert not await survivor.run_once()  # the lease still holds

    async def lease_expires(conn):  # type: ignore[no-untyped-def]
        await conn.execute(update(jobs.jobs).values(lease_until=clock.now() - timedelta(seconds=1)))

    await api.tx(lease_expires)
    assert await survivor.run_once()
    done = await api.tx(lambda c: jobs.get(c, job_id))
    assert done is not None
    assert done.status is jobs.JobStatus.COMPLETED
    assert done.attempts == 2


async def test_the_background_loop_picks_up_work(api: Harness) -> None:
    ran = asyncio.Event()

    async def handler(db: Database, job: jobs.Job) -> Any:
        ran.set()

    worker = jobs.Worker(api.db, {"test.loop": handler}, poll_seconds=0.05)
    worker.start()
    try:
        await api.tx(lambda c: jobs.enqueue(c, "test.loop", {}))
        worker.wake()
        await asyncio.wait_for(ran.wait(), 10)
    finally:
        await worker.stop()


async def test_a_stopped_worker_hands_its_job_back_at_once(api: Harness) -> None:
    started = asyncio.Event()

    async def hangs(db: Database, job: jobs.Job) -> Any:
        started.set()
        await asyncio.sleep(3600)

    job_id = await api.tx(lambda c: jobs.enqueue(c, "test.work", {}))
    stopping = jobs.Worker(api.db, {"test.work": hangs}, lease_seconds=30, poll_seconds=0.05)
    stopping.start()
    stopping.wake()
    await asyncio.wait_for(started.wait(), 10)
    await stopping.stop()  # the server was told to stop (SIGTERM)
    back = await api.tx(lambda c: jobs.get(c, job_id))
    assert back is not None
    assert back.status is jobs.JobStatus.PENDING
    assert back.attempts == 0

    async def finishes(db: Database, job: jobs.Job) -> Any:
        return "done"

    # Due at once: the next worker does not wait for the 30 s lease.
    assert await jobs.Worker(api.db, {"test.work": finishes}).run_once()
    done = await api.tx(lambda c: jobs.get(c, job_id))
    assert done is not None
    assert done.status is jobs.JobStatus.COMPLETED
    assert done.attempts == 1
