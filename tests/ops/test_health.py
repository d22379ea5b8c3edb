"""Health and readiness probes: alive, ready, and exempt from GitHub's rate limits."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import text

from tests.harness import running
from waybill.config import Settings


async def test_probes_answer_without_spending_the_anonymous_quota(settings: Settings, backend: str) -> None:
    tight = replace(settings, rate_limit_enabled=True, rate_limit_anonymous=1, run_worker=True)
    async with running(tight, backend) as api:
        for _ in range(5):
            alive = await api.get("/waybill/healthz")
            assert alive.status_code == 200
            assert alive.json() == {"status": "ok"}
            assert "x-ratelimit-remaining" not in alive.headers
            ready = await api.get("/waybill/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json() == {
                "status": "ok",
                "checks": {"database": "ok", "migrations": "ok", "job_worker": "ok"},
            }
        assert (await api.get("/")).status_code == 200
        assert (await api.get("/")).status_code == 403


async def test_not_ready_names_the_failed_check(settings: Settings, backend: str) -> None:
    async with running(replace(settings, run_worker=True), backend) as api:
        await api.app.worker.stop()
        response = await api.get("/waybill/readyz")
        assert response.status_code == 503
        assert response.json()["failed"] == ["job_worker"]
        assert response.json()["checks"]["job_worker"] == "the job worker is not running"

        async with api.app.db.write() as conn:
            applied = sorted((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())
            await conn.execute(text("DELETE FROM alembic_version WHERE version_num = :v"), {"v": applied[0]})
        try:
            body = (await api.get("/waybill/readyz")).json()
        finally:
            async with api.app.db.write() as conn:
                await conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": applied[0]})
        assert body["failed"] == ["job_worker", "migrations"]
        assert body["checks"]["migrations"] == f"migrations not at head: missing {applied[0]}"


async def test_not_ready_when_the_database_does_not_answer(settings: Settings, backend: str) -> None:
    async with running(replace(settings, run_worker=False), backend) as api:
        await api.app.db.engine.dispose()
        original = api.app.db.query

        def broken() -> object:
            raise ConnectionRefusedError("down")

        api.app.db.query = broken  # type: ignore[method-assign,assignment]
        try:
            response = await api.get("/waybill/readyz")
        finally:
            api.app.db.query = original  # type: ignore[method-assign]
        assert response.status_code == 503
        assert response.json()["failed"] == ["database", "migrations"]
        assert response.json()["checks"]["database"] == "the database does not answer: ConnectionRefusedError"
