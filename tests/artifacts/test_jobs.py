"""Cluster jobs: checks at once, writes in the background, one active job per cluster."""

from __future__ import annotations

import socket
from typing import Any

import httpx
from sqlalchemy import delete

from tests.artifacts.conftest import World, cluster_path, digest, entry
from tests.spec import assert_conforms
from waybill.accounts.models import repositories
from waybill.artifacts.jobs import JOB_HANDLERS
from waybill.artifacts.service import CLUSTER_JOB
from waybill.core.db import Database
from waybill.core.jobs import Job, Worker

CREATE = "orgs/create-cluster-deployment-records-job"
GET = "orgs/get-cluster-deployment-records-job"
DOCS = "https://docs.github.com/rest"


async def _create(
    world: World, deployments: list[dict[str, Any]], cluster: str = "moda-1", token: str | None = None
) -> httpx.Response:
    body = {"logical_environment": "prod", "deployments": deployments}
    r = await world.api.post(cluster_path(cluster) + "/jobs", token=token or world.alice, json=body)
    assert_conforms(r, CREATE)
    return r


async def _status(
    world: World, job_id: int, cluster: str = "moda-1", token: str | None = None
) -> httpx.Response:
    r = await world.api.get(f"{cluster_path(cluster)}/jobs/{job_id}", token=token or world.alice)
    assert_conforms(r, GET)
    return r


async def test_lifecycle_survives_a_worker_dying_mid_job(world: World) -> None:
    r = await _create(world, [entry("a"), entry("b")])
    assert r.status_code == 202
    job_id = r.json()["job_id"]
    assert (await _status(world, job_id)).json() == {"job_id": job_id, "status": "pending"}

    # A worker claims the job and dies before finishing it: its lease (here already over) runs out.
    dead = Worker(world.api.db, JOB_HANDLERS, lease_seconds=-1)
    claimed = await dead._claim()
    assert claimed is not None
    assert claimed.id == job_id
    processing = (await _status(world, job_id)).json()
    assert set(processing) == {"job_id", "status", "started_at"}
    assert processing["status"] == "processing"

    # After a restart, another worker takes the job over and completes it.
    assert await Worker(world.api.db, JOB_HANDLERS).run_until_idle() == 1
    done = (await _status(world, job_id)).json()
    assert done == {
        "job_id": job_id,
        "status": "completed",
        "started_at": processing["started_at"],
        "total_count": 2,
        "errors": [],
    }
    listed = await world.api.get(f"/orgs/acme/artifacts/{digest('a')}/metadata/deployment-records")
    assert [(d["cluster"], d["deployment_name"]) for d in listed.json()["deployment_records"]] == [
        ("moda-1", "a")
    ]


async def test_rejected_entries_come_back_at_once_and_the_rest_is_written(world: World) -> None:
    r = await _create(world, [entry("a"), entry("b", github_repository="secret")], token=world.dave)
    assert r.status_code == 202
    assert [(e["cause"], e["deployment"]["deployment_name"]) for e in r.json()["errors"]] == [
        ("not_found", "b")
    ]
    await Worker(world.api.db, JOB_HANDLERS).run_until_idle()
    done = (await _status(world, r.json()["job_id"], token=world.dave)).json()
    assert (done["status"], done["total_count"]) == ("completed", 1)


async def test_one_active_job_per_cluster(world: World) -> None:
    first = await _create(world, [entry("a")])
    assert first.status_code == 202
    second = await _create(world, [entry("b")])
    assert second.status_code == 409
    assert second.json() == {
        "message": "A job is already in progress for this cluster.",
        "documentation_url": DOCS,
        "status": "409",
    }
    assert (await _create(world, [entry("b")], cluster="moda-2")).status_code == 202
    await Worker(world.api.db, JOB_HANDLERS).run_until_idle()
    assert (await _create(world, [entry("b")])).status_code == 202


async def test_a_repository_deleted_before_the_job_runs_is_reported(world: World) -> None:
    job_id = (await _create(world, [entry("a")])).json()["job_id"]
    await world.api.tx(lambda c: c.execute(delete(repositories).where(repositories.c.id == world.web_id)))
    await Worker(world.api.db, JOB_HANDLERS).run_until_idle()
    done = (await _status(world, job_id)).json()
    assert (done["status"], done["total_count"], done["errors"]) == (
        "completed",
        0,
        [{"cause": "not_found", "deployment_name": "a"}],
    )


async def test_a_failing_job_reports_failed_with_errors(world: World) -> None:
    job_id = (await _create(world, [entry("a")])).json()["job_id"]

    async def broken(db: Database, job: Job) -> None:
        raise RuntimeError("disk on fire")

    await Worker(world.api.db, {CLUSTER_JOB: broken}, max_attempts=1).run_until_idle()
    failed = (await _status(world, job_id)).json()
    assert set(failed) == {"job_id", "status", "started_at", "errors"}
    assert (failed["status"], failed["errors"]) == (
        "failed",
        [{"message": "Processing failed; no deployment of this job was written."}],
    )


async def test_job_is_visible_only_to_its_creator_at_its_cluster(world: World) -> None:
    job_id = (await _create(world, [entry("a")])).json()["job_id"]
    for token, cluster, path_id in (
        (world.carol, "moda-1", str(job_id)),
        (world.alice, "moda-2", str(job_id)),
        (world.alice, "moda-1", "123456"),
        (world.alice, "moda-1", "not-a-number"),
    ):
        r = await world.api.get(f"{cluster_path(cluster)}/jobs/{path_id}", token=token)
        assert r.status_code == 404
        assert r.json() == {"message": "Not Found", "documentation_url": DOCS, "status": "404"}


async def test_five_thousand_entries_run_and_five_thousand_and_one_are_refused(world: World) -> None:
    r = await _create(world, [entry(f"d{i}") for i in range(5001)])
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"] == "deployments: Expected `array` of length <= 5000"
    r = await _create(world, [entry(f"d{i}") for i in range(5000)])
    assert r.status_code == 202
    await Worker(world.api.db, JOB_HANDLERS).run_until_idle()
    done = (await _status(world, r.json()["job_id"])).json()
    assert (done["status"], done["total_count"]) == ("completed", 5000)


async def test_a_caller_outside_the_organization_gets_404_like_the_synchronous_set(world: World) -> None:
    for repository, status in (("secret", 404), ("web", 403)):
        body = {"logical_environment": "prod", "deployments": [entry("a", github_repository=repository)]}
        synchronous = await world.api.post(cluster_path("moda-1"), token=world.carol, json=body)
        queued = await world.api.post(cluster_path("moda-1") + "/jobs", token=world.carol, json=body)
        assert synchronous.status_code == queued.status_code == status
        assert queued.json() == synchronous.json()
    assert (await _create(world, [entry("a")])).status_code == 202


async def test_pending_jobs_per_token_are_bounded(world: World) -> None:
    for i in range(10):
        assert (await _create(world, [entry("a")], cluster=f"c{i}")).status_code == 202
    refused = await _create(world, [entry("a")], cluster="c10")
    assert refused.status_code == 429
    assert "WAYBILL_MAX_PENDING_JOBS_PER_TOKEN" in refused.json()["message"]
    # Another token has its own allowance; finished jobs no longer count.
    assert (await _create(world, [entry("a")], cluster="c10", token=world.dave)).status_code == 202
    await Worker(world.api.db, JOB_HANDLERS).run_until_idle()
    assert (await _create(world, [entry("a")], cluster="c11")).status_code == 202


async def test_a_new_server_takes_back_at_once_the_jobs_of_its_dead_predecessors(world: World) -> None:
    job_id = (await _create(world, [entry("a")])).json()["job_id"]
    dead = Worker(world.api.db, JOB_HANDLERS)
    # A process of this host that no longer runs: its pid is past the kernel's limit.
    dead.instance = f"{socket.gethostname()}/4194305/1"
    assert (await dead._claim()) is not None
    other_host = Worker(world.api.db, JOB_HANDLERS)
    assert await other_host.run_once() is False  # the lease (10 s) still holds it
    assert await Worker(world.api.db, JOB_HANDLERS).reclaim_dead() == 1
    assert await Worker(world.api.db, JOB_HANDLERS).run_until_idle() == 1
    assert (await _status(world, job_id)).json()["status"] == "completed"


async def test_a_live_process_keeps_its_jobs(world: World) -> None:
    await _create(world, [entry("a")])
    alive = Worker(world.api.db, JOB_HANDLERS)
    assert (await alive._claim()) is not None
    assert await Worker(world.api.db, JOB_HANDLERS).reclaim_dead() == 0
