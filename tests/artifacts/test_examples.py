"""Every request example of operations #1-#5 answers its documented status, for both API versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.artifacts.conftest import (
    RECORD,
    STORAGE,
    VERSIONS,
    StoredProvenance,
    World,
    cluster_path,
    spec_request_example,
)
from tests.spec import assert_conforms

pytestmark = pytest.mark.parametrize("version", VERSIONS)


async def test_deployment_record_example_with_provenance(
    world: World, provenance: StoredProvenance, shared_dir: Path, version: str
) -> None:
    body = spec_request_example(shared_dir, "orgs/create-artifact-deployment-record")
    await provenance.add(body["digest"], attestation_id=456, repository_id=world.web_id)
    r = await world.api.post(RECORD, token=world.alice, version=version, json=body)
    assert r.status_code == 200, r.text
    assert_conforms(r, "orgs/create-artifact-deployment-record")
    [record] = r.json()["deployment_records"]
    assert r.json()["total_count"] == 1
    assert {k: record[k] for k in ("digest", "cluster", "deployment_name", "tags", "attestation_id")} == {
        "digest": body["digest"],
        "cluster": "moda-1",
        "deployment_name": "deployment-pod",
        "tags": {"data-access": "sensitive"},
        "attestation_id": 456,
    }

    listed = await world.api.get(
        f"/orgs/acme/artifacts/{body['digest']}/metadata/deployment-records",
        token=world.alice,
        version=version,
    )
    assert listed.status_code == 200
    assert_conforms(listed, "orgs/list-artifact-deployment-records")
    assert listed.json() == {"total_count": 1, "deployment_records": [record]}


async def test_deployment_record_example_without_provenance_needs_github_repository(
    world: World, shared_dir: Path, version: str
) -> None:
    body = spec_request_example(shared_dir, "orgs/create-artifact-deployment-record")
    r = await world.api.post(RECORD, token=world.alice, version=version, json=body)
    assert r.status_code == 404
    assert_conforms(r, "orgs/create-artifact-deployment-record")
    assert r.json()["message"] == "No provenance attestation for this digest and no github_repository given"

    r = await world.api.post(
        RECORD, token=world.alice, version=version, json={**body, "github_repository": "web"}
    )
    assert r.status_code == 200, r.text
    assert_conforms(r, "orgs/create-artifact-deployment-record")
    assert r.json()["deployment_records"][0]["attestation_id"] is None


async def test_cluster_set_example(world: World, shared_dir: Path, version: str) -> None:
    body = spec_request_example(shared_dir, "orgs/set-cluster-deployment-records")
    body = {**body, "deployments": [{**d, "github_repository": "web"} for d in body["deployments"]]}
    r = await world.api.post(cluster_path(), token=world.alice, version=version, json=body)
    assert r.status_code == 200, r.text
    assert_conforms(r, "orgs/set-cluster-deployment-records")
    [record] = r.json()["deployment_records"]
    assert (record["cluster"], record["physical_environment"], record["runtime_risks"]) == (
        "moda-1",
        "pacific-east",
        ["sensitive-data"],
    )


async def test_cluster_set_example_as_given_with_provenance(
    world: World, provenance: StoredProvenance, shared_dir: Path, version: str
) -> None:
    body = spec_request_example(shared_dir, "orgs/set-cluster-deployment-records")
    await provenance.add(body["deployments"][0]["digest"], attestation_id=9, repository_id=world.web_id)
    r = await world.api.post(cluster_path(), token=world.alice, version=version, json=body)
    assert r.status_code == 200, r.text
    assert_conforms(r, "orgs/set-cluster-deployment-records")
    assert r.json()["deployment_records"][0]["attestation_id"] == 9


async def test_cluster_job_example(
    world: World, provenance: StoredProvenance, shared_dir: Path, version: str
) -> None:
    body = spec_request_example(shared_dir, "orgs/create-cluster-deployment-records-job")
    await provenance.add(body["deployments"][0]["digest"], attestation_id=9, repository_id=world.web_id)
    r = await world.api.post(cluster_path() + "/jobs", token=world.alice, version=version, json=body)
    assert r.status_code == 202, r.text
    assert_conforms(r, "orgs/create-cluster-deployment-records-job")
    job_id = r.json()["job_id"]
    assert r.json() == {"job_id": job_id, "errors": []}

    await world.api.app.worker.run_until_idle()
    status = await world.api.get(f"{cluster_path()}/jobs/{job_id}", token=world.alice, version=version)
    assert status.status_code == 200
    assert_conforms(status, "orgs/get-cluster-deployment-records-job")
    assert status.json()["status"] == "completed"
    assert status.json()["total_count"] == 1


async def test_storage_record_example(
    world: World, provenance: StoredProvenance, shared_dir: Path, version: str
) -> None:
    body = spec_request_example(shared_dir, "orgs/create-artifact-storage-record")
    await provenance.add(body["digest"], attestation_id=1, repository_id=world.web_id)
    r = await world.api.post(STORAGE, token=world.alice, version=version, json=body)
    assert r.status_code == 200, r.text
    assert_conforms(r, "orgs/create-artifact-storage-record")
    [record] = r.json()["storage_records"]
    assert r.json()["total_count"] == 1
    assert {k: v for k, v in record.items() if k not in ("id", "created_at", "updated_at")} == {
        "name": "libfoo",
        "digest": body["digest"],
        "artifact_url": "https://reg.example.com/artifactory/bar/libfoo-1.2.3",
        "registry_url": "https://reg.example.com/artifactory/",
        "repository": "bar",
        "status": "active",
    }

    listed = await world.api.get(
        f"/orgs/acme/artifacts/{body['digest']}/metadata/storage-records", version=version
    )
    assert listed.status_code == 200
    assert_conforms(listed, "orgs/list-artifact-storage-records")
    assert listed.json() == {"total_count": 1, "storage_records": [record]}
