"""Verification queued by a create under ``record``: the 201 comes before any Sigstore work, the job
then stores the verdict the inline check would have, again the same when run twice, after a restart,
and as soon as the worker is woken; ``enforce`` still verifies inline and ``off`` queues nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, update
from sqlalchemy.engine import make_url

from tests.attestations.test_verification import DIGEST, INSTANCE, made, tampered_signature
from tests.harness import Harness, running
from waybill.attestations import checking, service
from waybill.attestations.verification import Verdict
from waybill.config import Settings
from waybill.core import clock, jobs
from waybill.core.migrate import alembic_config

APP = "/waybill/repos/octo-org/app/attestations"


@pytest.fixture
def vsettings(settings: Settings, tmp_path: Path) -> Settings:
    roots = tmp_path / "roots"
    roots.mkdir()
    (roots / "test-instance.json").write_text(json.dumps(INSTANCE.trusted_root()))
    return replace(settings, trust_roots=roots)


@pytest.fixture
async def vapi(vsettings: Settings, backend: str) -> AsyncIterator[Harness]:
    async with running(vsettings, backend) as harness:
        yield harness


class Ctx:
    def __init__(self, api: Harness, owner: str, admin: str) -> None:
        self.api, self.owner, self.admin = api, owner, admin

    async def post(self, bundle: Any) -> Any:
        return await self.api.post(
            "/repos/octo-org/app/attestations", token=self.owner, json={"bundle": bundle}
        )

    async def attest(self, bundle: Any) -> int:
        r = await self.post(bundle)
        assert r.status_code == 201, r.text
        assert r.json() == {"id": r.json()["id"]}
        return int(r.json()["id"])

    async def verification(self, attestation_id: int, api: Harness | None = None) -> dict[str, Any]:
        r = await (api or self.api).get(f"{APP}/{attestation_id}/verification", token=self.owner)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def policy(self, mode: str) -> None:
        r = await self.api.request(
            "PUT", "/waybill/orgs/octo-org/attestation-policy", token=self.admin, json={"mode": mode}
        )
        assert r.status_code == 200, r.text

    async def queued(self, attestation_id: int) -> jobs.Job | None:
        async with self.api.db.read() as conn:
            return await jobs.find_active(conn, service.VERIFY_JOB, str(attestation_id))


async def _ctx(api: Harness) -> Ctx:
    await api.user("olga")
    await api.user("root", site_admin=True)
    await api.org("octo-org", owner="olga")
    await api.repo("octo-org/app")
    return Ctx(api, await api.token("olga"), await api.token("root", "site_admin,repo"))


@pytest.fixture
async def ctx(vapi: Harness) -> Ctx:
    return await _ctx(vapi)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many bundles each call to the verification pool was given."""
    real = checking.verify_bundles
    calls: list[int] = []

    async def counting(path: Path | None, bundles: Sequence[bytes]) -> list[Verdict]:
        calls.append(len(bundles))
        return await real(path, bundles)

    monkeypatch.setattr(checking, "verify_bundles", counting)
    return calls


def verdict_of(body: dict[str, Any]) -> dict[str, Any]:
    # Everything but when it was checked.
    return {k: v for k, v in body.items() if k != "checked_at"}


async def test_record_answers_before_verifying_then_the_job_stores_the_verdict(
    ctx: Ctx, verifications: list[int]
) -> None:
    attestation_id = await ctx.attest(made())
    assert verifications == []
    pending = await ctx.verification(attestation_id)
    assert (pending["status"], pending["verified"], pending["checked_at"]) == ("pending", None, None)
    r = await ctx.api.get(f"{APP}/{DIGEST}", token=ctx.owner)
    assert [item["verification"]["status"] for item in r.json()["attestations"]] == ["pending"]
    # Not verified yet: not among the verified ones.
    r = await ctx.api.get(f"{APP}/{DIGEST}?verified=true", token=ctx.owner)
    assert r.json()["attestations"] == []
    job = await ctx.queued(attestation_id)
    assert job is not None
    assert job.payload["attestation_id"] == attestation_id

    assert await ctx.api.app.worker.run_until_idle() == 1
    assert verifications == [1]
    body = await ctx.verification(attestation_id)
    assert (body["status"], body["verified"], body["trust_root"]) == ("verified", True, "test-instance")
    assert body["signer"]["source_repository_uri"] == "https://github.com/octo-org/app"
    assert await ctx.queued(attestation_id) is None
    async with ctx.api.db.read() as conn:
        done = await jobs.get(conn, job.id)
    assert done is not None
    assert (done.status, done.result) == (
        jobs.JobStatus.COMPLETED,
        {"attestation_id": attestation_id, "status": "verified"},
    )


async def test_the_queued_verdict_is_the_inline_one(ctx: Ctx, verifications: list[int]) -> None:
    # One bundle verified inline under enforce, then posted again under record: the same attestation,
    # checked again by the job (a failure cannot be compared so: enforce refuses it).
    bundle = made()
    await ctx.policy("enforce")
    attestation_id = await ctx.attest(bundle)
    inline = await ctx.verification(attestation_id)
    await ctx.policy("record")
    assert await ctx.attest(bundle) == attestation_id
    assert await ctx.api.app.worker.run_until_idle() == 1
    assert verifications == [1, 1]
    assert verdict_of(await ctx.verification(attestation_id)) == verdict_of(inline)


async def test_a_failure_is_stored_by_the_job_and_the_create_still_accepted(ctx: Ctx) -> None:
    attestation_id = await ctx.attest(tampered_signature(made()))
    await ctx.api.app.worker.run_until_idle()
    body = await ctx.verification(attestation_id)
    assert (body["status"], body["failed_step"]) == ("failed", "signature")


async def test_running_the_job_again_stores_the_same_verdict(ctx: Ctx, verifications: list[int]) -> None:
    attestation_id = await ctx.attest(tampered_signature(made()))
    job = await ctx.queued(attestation_id)
    assert job is not None
    await ctx.api.app.worker.run_until_idle()
    first = await ctx.verification(attestation_id)

    # A worker that stored the verdict and died before marking the job done: its lease runs out and
    # the job runs again.
    async with ctx.api.db.write() as conn:
        await conn.execute(
            update(jobs.jobs)
            .where(jobs.jobs.c.id == job.id)
            .values(status=jobs.JobStatus.PROCESSING, lease_until=clock.now())
        )
    assert await ctx.api.app.worker.run_until_idle() == 1
    assert verifications == [1, 1]
    again = await ctx.verification(attestation_id)
    assert verdict_of(again) == verdict_of(first)
    assert again["status"] == "failed"


async def test_a_restart_finishes_the_queued_job(
    vsettings: Settings, backend: str, verifications: list[int]
) -> None:
    async with running(vsettings, backend) as api:
        ctx = await _ctx(api)
        attestation_id = await ctx.attest(made())
    # The server stopped before its worker took the job; another starts on the same database.
    async with running(vsettings, backend) as restarted:
        assert (await ctx.verification(attestation_id, restarted))["status"] == "pending"
        assert await restarted.app.worker.run_until_idle() == 1
        assert (await ctx.verification(attestation_id, restarted))["status"] == "verified"
    assert verifications == [1]


async def test_a_woken_worker_stores_the_verdict_within_a_second(vsettings: Settings, backend: str) -> None:
    # A poll far longer than the test: only the create's wake-up can start the job this soon.
    settings = replace(vsettings, run_worker=True, worker_poll_seconds=60)
    async with running(settings, backend) as api:
        await api.user("olga")
        await api.org("octo-org", owner="olga")
        await api.repo("octo-org/app")
        c = Ctx(api, await api.token("olga"), "")
        # The first verification starts the pool's processes, which takes longer than a verification.
        await checking.verify_bundle(vsettings.trust_roots, json.dumps(made()).encode())
        await asyncio.sleep(0.2)  # the worker's first look at the empty queue
        attestation_id = await c.attest(made())
        started = time.monotonic()
        while (await c.verification(attestation_id))["status"] == "pending":
            assert time.monotonic() - started < 5, "no verdict after 5 s"
            await asyncio.sleep(0.05)
        assert (await c.verification(attestation_id))["status"] == "verified"


async def test_enforce_verifies_inline_and_queues_nothing(ctx: Ctx, verifications: list[int]) -> None:
    await ctx.policy("enforce")
    r = await ctx.post(tampered_signature(made()))
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"].startswith("bundle does not verify (failed step: signature)")
    attestation_id = await ctx.attest(made())
    assert verifications == [1, 1]
    assert (await ctx.verification(attestation_id))["status"] == "verified"
    assert await ctx.api.app.worker.run_until_idle() == 0
    r = await ctx.api.get(f"/repos/octo-org/app/attestations/{DIGEST}", token=ctx.owner)
    # Only the bundle that verified was stored.
    assert len(r.json()["attestations"]) == 1


async def test_off_stores_unchecked_and_queues_nothing(ctx: Ctx, verifications: list[int]) -> None:
    await ctx.policy("off")
    attestation_id = await ctx.attest(made())
    assert await ctx.queued(attestation_id) is None
    assert await ctx.api.app.worker.run_until_idle() == 0
    assert verifications == []
    assert (await ctx.verification(attestation_id))["status"] == "unchecked"


async def test_a_policy_turned_off_before_the_job_runs_leaves_it_unchecked(
    ctx: Ctx, verifications: list[int]
) -> None:
    attestation_id = await ctx.attest(made())
    await ctx.policy("off")
    await ctx.api.app.worker.run_until_idle()
    assert verifications == []
    assert (await ctx.verification(attestation_id))["status"] == "unchecked"


async def test_an_attestation_deleted_before_the_job_runs_ends_it(ctx: Ctx) -> None:
    attestation_id = await ctx.attest(made())
    job = await ctx.queued(attestation_id)
    assert job is not None
    r = await ctx.api.delete(f"/orgs/octo-org/attestations/{attestation_id}", token=ctx.owner)
    assert r.status_code == 204, r.text
    assert await ctx.api.app.worker.run_until_idle() == 1
    async with ctx.api.db.read() as conn:
        done = await jobs.get(conn, job.id)
    assert done is not None
    assert (done.status, done.result["status"]) == (jobs.JobStatus.COMPLETED, "deleted")


async def test_the_same_bundle_again_is_verified_again(ctx: Ctx, verifications: list[int]) -> None:
    await ctx.policy("off")
    bundle = made()
    attestation_id = await ctx.attest(bundle)
    await ctx.policy("record")
    assert await ctx.attest(bundle) == attestation_id
    assert (await ctx.verification(attestation_id))["status"] == "pending"
    await ctx.api.app.worker.run_until_idle()
    assert (await ctx.verification(attestation_id))["status"] == "verified"


def test_the_migration_adds_and_removes_the_pending_column(settings: Settings) -> None:
    config = alembic_config(settings.resolved_database_url)
    url = make_url(settings.resolved_database_url)
    engine = create_engine(
        url.set(drivername="sqlite" if url.drivername.startswith("sqlite") else "postgresql+psycopg")
    )

    def columns() -> set[str]:
        with engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("attestations")}

    try:
        assert "verification_queued_at" in columns()
        command.downgrade(config, "verification_0001")
        assert "verification_queued_at" not in columns()
        command.upgrade(config, "heads")
        assert "verification_queued_at" in columns()
    finally:
        engine.dispose()
