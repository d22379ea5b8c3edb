"""Contract cases of the artifact metadata operations (storage and deployment records, cluster sets
and jobs)."""

from __future__ import annotations

import hashlib
import itertools

import httpx

from tests.contract.registry import case
from tests.contract.world import Http, World

_n = itertools.count()
METADATA = "/orgs/{org}/artifacts/metadata"


def _digest() -> str:
    return "sha256:" + hashlib.sha256(f"contract-{next(_n)}".encode()).hexdigest()


def _record(w: World, digest: str) -> dict[str, object]:
    return {
        "name": "web-image",
        "digest": digest,
        "status": "deployed",
        "logical_environment": "prod",
        "physical_environment": "eu-west",
        "cluster": "moda-1",
        "deployment_name": f"web-{next(_n)}",
        "github_repository": w.public_repo,
    }


def _storage(w: World, digest: str) -> dict[str, object]:
    return {
        "name": "web-image",
        "digest": digest,
        "version": "1.0.0",
        "registry_url": "https://registry.example.com",
        "artifact_url": "https://registry.example.com/acme/web-image",
        "repository": "acme/web-image",
        "github_repository": w.public_repo,
    }


def _cluster(w: World, digest: str) -> dict[str, object]:
    entry = {
        "name": "web-image",
        "digest": digest,
        "deployment_name": "web",
        "github_repository": w.public_repo,
    }
    return {"logical_environment": "prod", "physical_environment": "eu-west", "deployments": [entry]}


# orgs/create-artifact-deployment-record


@case("orgs/create-artifact-deployment-record", "record", 200)
async def _create_record(http: Http, w: World, v: str) -> httpx.Response:
    path = METADATA.format(org=w.org) + "/deployment-record"
    return await http.request("POST", path, token=w.owner_token, version=v, json=_record(w, _digest()))


@case("orgs/create-artifact-deployment-record", "bad digest", 422, message="Validation Failed")
async def _create_record_bad(http: Http, w: World, v: str) -> httpx.Response:
    path = METADATA.format(org=w.org) + "/deployment-record"
    return await http.request("POST", path, token=w.owner_token, version=v, json=_record(w, "sha256:abc"))


@case("orgs/create-artifact-deployment-record", "unknown organization", 404, message="Not Found")
async def _create_record_unknown(http: Http, w: World, v: str) -> httpx.Response:
    path = METADATA.format(org="no-such-org") + "/deployment-record"
    return await http.request("POST", path, token=w.owner_token, version=v, json=_record(w, _digest()))


# orgs/set-cluster-deployment-records


@case("orgs/set-cluster-deployment-records", "cluster set", 200)
async def _set_cluster(http: Http, w: World, v: str) -> httpx.Response:
    path = METADATA.format(org=w.org) + "/deployment-record/cluster/moda-1"
    return await http.request("POST", path, token=w.owner_token, version=v, json=_cluster(w, _digest()))


@case(
    "orgs/set-cluster-deployment-records",
    "no write access",
    403,
    message="Artifact metadata write permission required on one or more repositories: acme/widgets",
)
async def _set_cluster_outsider(http: Http, w: World, v: str) -> httpx.Response:
    path = METADATA.format(org=w.org) + "/deployment-record/cluster/moda-1"
    return await http.request("POST", path, token=w.outsider_token, version=v, json=_cluster(w, _digest()))


# orgs/create-cluster-deployment-records-job, orgs/get-cluster-deployment-records-job


@case("orgs/create-cluster-deployment-records-job", "queued", 202)
async def _create_job(http: Http, w: World, v: str) -> httpx.Response:
    path = METADATA.format(org=w.org) + f"/deployment-record/cluster/jobs-{next(_n)}/jobs"
    return await http.request("POST", path, token=w.owner_token, version=v, json=_cluster(w, _digest()))


@case("orgs/create-cluster-deployment-records-job", "deployments missing", 422, message="Validation Failed")
async def _create_job_bad(http: Http, w: World, v: str) -> httpx.Response:
    path = METADATA.format(org=w.org) + "/deployment-record/cluster/moda-1/jobs"
    body = {"logical_environment": "prod"}
    return await http.request("POST", path, token=w.owner_token, version=v, json=body)


@case("orgs/get-cluster-deployment-records-job", "queued job", 200)
async def _get_job(http: Http, w: World, v: str) -> httpx.Response:
    cluster = f"jobs-{next(_n)}"
    base = METADATA.format(org=w.org) + f"/deployment-record/cluster/{cluster}/jobs"
    created = await http.request("POST", base, token=w.owner_token, version=v, json=_cluster(w, _digest()))
    assert created.status_code == 202, created.text
    return await http.request("GET", f"{base}/{created.json()['job_id']}", token=w.owner_token, version=v)


@case("orgs/get-cluster-deployment-records-job", "unknown job", 404, message="Not Found")
async def _get_job_unknown(http: Http, w: World, v: str) -> httpx.Response:
    path = METADATA.format(org=w.org) + "/deployment-record/cluster/moda-1/jobs/999999"
    return await http.request("GET", path, token=w.owner_token, version=v)


# orgs/create-artifact-storage-record


@case("orgs/create-artifact-storage-record", "record", 200)
async def _create_storage(http: Http, w: World, v: str) -> httpx.Response:
    path = METADATA.format(org=w.org) + "/storage-record"
    return await http.request("POST", path, token=w.owner_token, version=v, json=_storage(w, _digest()))


@case("orgs/create-artifact-storage-record", "registry not https", 422, message="Validation Failed")
async def _create_storage_bad(http: Http, w: World, v: str) -> httpx.Response:
    path = METADATA.format(org=w.org) + "/storage-record"
    body = {**_storage(w, _digest()), "registry_url": "http://registry.example.com"}
    return await http.request("POST", path, token=w.owner_token, version=v, json=body)


# orgs/list-artifact-deployment-records, orgs/list-artifact-storage-records


@case("orgs/list-artifact-deployment-records", "records of a digest", 200)
async def _list_records(http: Http, w: World, v: str) -> httpx.Response:
    digest = _digest()
    path = METADATA.format(org=w.org) + "/deployment-record"
    created = await http.request("POST", path, token=w.owner_token, version=v, json=_record(w, digest))
    assert created.status_code == 200, created.text
    listing = f"/orgs/{w.org}/artifacts/{digest}/metadata/deployment-records"
    return await http.request("GET", listing, token=w.owner_token, version=v)


@case("orgs/list-artifact-deployment-records", "unknown organization", 404, message="Not Found")
async def _list_records_unknown(http: Http, w: World, v: str) -> httpx.Response:
    listing = f"/orgs/no-such-org/artifacts/{_digest()}/metadata/deployment-records"
    return await http.request("GET", listing, token=w.owner_token, version=v)


@case("orgs/list-artifact-storage-records", "records of a digest", 200)
async def _list_storage(http: Http, w: World, v: str) -> httpx.Response:
    digest = _digest()
    path = METADATA.format(org=w.org) + "/storage-record"
    created = await http.request("POST", path, token=w.owner_token, version=v, json=_storage(w, digest))
    assert created.status_code == 200, created.text
    listing = f"/orgs/{w.org}/artifacts/{digest}/metadata/storage-records"
    return await http.request("GET", listing, token=w.owner_token, version=v)


@case("orgs/list-artifact-storage-records", "unknown organization", 404, message="Not Found")
async def _list_storage_unknown(http: Http, w: World, v: str) -> httpx.Response:
    listing = f"/orgs/no-such-org/artifacts/{_digest()}/metadata/storage-records"
    return await http.request("GET", listing, token=w.owner_token, version=v)
