"""Re-verification of stored attestations when the operator's trust roots change: the queued job, its
progress, a restart in the middle of it, and the command line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from testkit.sigstore import SigstoreDouble

from tests.harness import Harness, running
from waybill.attestations import checking, service
from waybill.attestations.verification import Verdict
from waybill.cli.main import main
from waybill.config import Settings
from waybill.core import clock
from waybill.core.jobs import jobs

INSTANCE = SigstoreDouble(name="test-instance")
OTHER = SigstoreDouble(name="other")


@pytest.fixture
def roots_dir(tmp_path: Path) -> Path:
    # Only another instance's root at first: the test instance's bundles do not verify.
    roots = tmp_path / "roots"
    roots.mkdir()
    (roots / "other.json").write_text(json.dumps(OTHER.trusted_root()))
    return roots


@pytest.fixture
def vsettings(settings: Settings, roots_dir: Path) -> Settings:
    return replace(settings, trust_roots=roots_dir)


@pytest.fixture
async def vapi(vsettings: Settings, backend: str) -> AsyncIterator[Harness]:
    async with running(vsettings, backend) as harness:
        yield harness


class Ctx:
    def __init__(self, api: Harness, owner: str, admin: str) -> None:
        self.api, self.owner, self.admin = api, owner, admin

    async def attest(self) -> int:
        r = await self.api.post(
            "/repos/octo-org/app/attestations", token=self.owner, json={"bundle": INSTANCE.bundle()}
        )
        assert r.status_code == 201, r.text
        # Verified by its queued job, as the server's worker would within a second.
        await self.api.app.worker.run_until_idle()
        return int(r.json()["id"])

    async def status(self, attestation_id: int) -> tuple[str, str | None]:
        r = await self.api.get(
            f"/waybill/repos/octo-org/app/attestations/{attestation_id}/verification", token=self.owner
        )
        return r.json()["status"], r.json()["failed_step"]

    async def reverify(self) -> dict[str, Any]:
        r = await self.api.post("/waybill/attestations/reverify", token=self.admin)
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        await self.api.app.worker.run_until_idle()
        r = await self.api.get(f"/waybill/jobs/{job_id}", token=self.admin)
        assert r.status_code == 200
        body: dict[str, Any] = r.json()
        return body


async def _ctx(api: Harness) -> Ctx:
    await api.user("olga")
    await api.user("root", site_admin=True)
    await api.org("octo-org", owner="olga")
    await api.repo("octo-org/app")
    return Ctx(api, await api.token("olga"), await api.token("root", "site_admin"))


@pytest.fixture
async def ctx(vapi: Harness) -> Ctx:
    return await _ctx(vapi)


async def test_adding_then_removing_a_root(ctx: Ctx, roots_dir: Path) -> None:
    ids = [await ctx.attest(), await ctx.attest()]
    assert [await ctx.status(i) for i in ids] == [("failed", "timestamp")] * 2

    (roots_dir / "test-instance.json").write_text(json.dumps(INSTANCE.trusted_root()))
    job = await ctx.reverify()
    assert job["kind"] == "attestations.reverify"
    assert job["status"] == "completed"
    assert job["result"] == {
        "processed": 2,
        "total": 2,
        "verified": 2,
        "failed": 0,
        "skipped": 0,
        "last_id": ids[-1],
        "upto_id": ids[-1],
    }
    assert [await ctx.status(i) for i in ids] == [("verified", None)] * 2

    (roots_dir / "test-instance.json").unlink()
    job = await ctx.reverify()
    assert (job["result"]["verified"], job["result"]["failed"]) == (0, 2)
    assert [await ctx.status(i) for i in ids] == [("failed", "timestamp")] * 2


async def test_repositories_whose_policy_is_off_are_skipped(ctx: Ctx, roots_dir: Path) -> None:
    attestation_id = await ctx.attest()
    await ctx.api.request(
        "PUT", "/waybill/repos/octo-org/app/attestation-policy", token=ctx.admin, json={"mode": "off"}
    )
    (roots_dir / "test-instance.json").write_text(json.dumps(INSTANCE.trusted_root()))
    job = await ctx.reverify()
    assert (job["result"]["processed"], job["result"]["skipped"]) == (1, 1)
    # The earlier verdict stays as it was.
    assert await ctx.status(attestation_id) == ("failed", "timestamp")


async def test_asking_twice_answers_the_queued_job(ctx: Ctx) -> None:
    first = await ctx.api.post("/waybill/attestations/reverify", token=ctx.admin)
    again = await ctx.api.post("/waybill/attestations/reverify", token=ctx.admin)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "pending"


async def test_jobs_and_reverify_are_for_site_administrators(ctx: Ctx) -> None:
    assert (await ctx.api.post("/waybill/attestations/reverify", token=ctx.owner)).status_code == 404
    r = await ctx.api.post("/waybill/attestations/reverify", token=ctx.admin)
    assert (await ctx.api.get(f"/waybill/jobs/{r.json()['id']}", token=ctx.owner)).status_code == 404
    assert (await ctx.api.get("/waybill/jobs/999", token=ctx.admin)).status_code == 404


async def test_a_restart_in_the_middle_continues_after_the_last_batch(
    ctx: Ctx, vsettings: Settings, backend: str, roots_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [await ctx.attest() for _ in range(3)]
    (roots_dir / "test-instance.json").write_text(json.dumps(INSTANCE.trusted_root()))
    async with ctx.api.db.write() as conn:
        job, _ = await service.request_reverify(conn, roots_dir)
        # One attestation a batch, so that the job has a middle.
        await conn.execute(
            update(jobs).where(jobs.c.id == job.id).values(payload={**job.payload, "batch_size": 1})
        )

    real = checking.verify_bundles
    verified: list[int] = []
    stuck = asyncio.Event()

    async def first_batch_only(path: Path | None, bundles: Sequence[bytes]) -> list[Verdict]:
        if verified:
            stuck.set()
            await asyncio.Event().wait()  # the process dies here
        verified.append(len(bundles))
        return await real(path, bundles)

    monkeypatch.setattr(checking, "verify_bundles", first_batch_only)
    running_job = asyncio.get_running_loop().create_task(ctx.api.app.worker.run_once())
    await asyncio.wait_for(stuck.wait(), 60)
    running_job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running_job
    r = await ctx.api.get(f"/waybill/jobs/{job.id}", token=ctx.admin)
    assert r.json()["status"] == "processing"
    assert (r.json()["result"]["processed"], r.json()["result"]["total"]) == (1, 3)

    # The lease of the dead worker runs out; a new server takes the job over.
    async with ctx.api.db.write() as conn:
        await conn.execute(update(jobs).where(jobs.c.id == job.id).values(lease_until=clock.now()))
    monkeypatch.setattr(checking, "verify_bundles", real)
    counted: list[int] = []

    async def counting(path: Path | None, bundles: Sequence[bytes]) -> list[Verdict]:
        counted.append(len(bundles))
        return await real(path, bundles)

    monkeypatch.setattr(checking, "verify_bundles", counting)
    async with running(vsettings, backend) as restarted:
        assert await restarted.app.worker.run_until_idle() == 1
        r = await restarted.get(f"/waybill/jobs/{job.id}", token=ctx.admin)
    body = r.json()
    assert (body["status"], body["attempts"]) == ("completed", 2)
    assert body["result"] == {
        "processed": 3,
        "total": 3,
        "verified": 3,
        "failed": 0,
        "skipped": 0,
        "last_id": ids[-1],
        "upto_id": ids[-1],
    }
    # Only the two attestations after the first batch were verified again.
    assert counted == [1, 1]
    assert [await ctx.status(i) for i in ids] == [("verified", None)] * 3


# The command line.


@pytest.fixture
def waybill(vsettings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WAYBILL_DATA_DIR", str(vsettings.data_dir))
    monkeypatch.setenv("WAYBILL_DATABASE_URL", vsettings.database_url)
    monkeypatch.setenv("WAYBILL_TRUST_ROOTS", str(vsettings.trust_roots))
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


async def test_cli_policies(ctx: Ctx, waybill: Any) -> None:
    workflow = "https://github.com/octo-org/builder/.github/workflows/build.yml"
    result = await asyncio.to_thread(
        waybill, "policies", "set", "octo-org", "--mode", "enforce", "--allow-workflow", workflow
    )
    assert result.exit_code == 0, result.output
    assert result.output == (
        "octo-org (owner)\n"
        "  own policy: enforce\n"
        "  effective: enforce (from owner)\n"
        f"  allowed workflows: {workflow}\n"
    )
    result = await asyncio.to_thread(waybill, "policies", "set", "octo-org/app", "--mode", "record")
    result = await asyncio.to_thread(waybill, "policies", "show", "octo-org/app")
    assert result.output == (
        "octo-org/app (repository)\n"
        "  own policy: record\n"
        "  effective: record (from repository)\n"
        "  allowed workflows: any workflow of the repository\n"
    )
    result = await asyncio.to_thread(waybill, "policies", "clear", "octo-org/app")
    assert result.output.splitlines()[2] == "  effective: enforce (from owner)"


async def test_cli_policy_errors(ctx: Ctx, waybill: Any) -> None:
    result = await asyncio.to_thread(waybill, "policies", "set", "octo-org/nope", "--mode", "off")
    assert (result.exit_code, result.output) == (1, "waybill: no repository octo-org/nope\n")
    result = await asyncio.to_thread(
        waybill, "policies", "set", "octo-org", "--mode", "enforce", "--allow-workflow", "build.yml"
    )
    assert result.exit_code == 1
    assert result.output == (
        "waybill: an allowed workflow is a URI such as "
        "https://github.com/OWNER/REPO/.github/workflows/FILE.yml, optionally with @REF\n"
    )
    result = await asyncio.to_thread(waybill, "policies", "set", "octo-org", "--mode", "strict")
    assert result.exit_code == 2


async def test_cli_reverify_wait(ctx: Ctx, waybill: Any, roots_dir: Path) -> None:
    attestation_id = await ctx.attest()
    (roots_dir / "test-instance.json").write_text(json.dumps(INSTANCE.trusted_root()))
    result = await asyncio.to_thread(waybill, "attestations", "reverify", "--wait")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # Job 1 was the upload's own verification.
    assert lines[0] == "queued job 2 (attestations.reverify)"
    assert lines[-1] == "job 2: completed, 1/1 processed (1 verified, 0 failed, 0 skipped)"
    assert await ctx.status(attestation_id) == ("verified", None)


async def test_cli_reverify_without_wait_queues_once(ctx: Ctx, waybill: Any) -> None:
    assert (
        await asyncio.to_thread(waybill, "attestations", "reverify")
    ).output == "queued job 1 (attestations.reverify)\n"
    assert (await asyncio.to_thread(waybill, "attestations", "reverify")).output == (
        "already queued: job 1 (attestations.reverify)\n"
    )
