"""Every field limit, enum and pattern of operations #1, #2, #3 and #5 answers 422 naming the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.artifacts.conftest import RECORD, STORAGE, World, cluster_path, digest, entry, record_body
from tests.spec import assert_conforms

DOCS = "https://docs.github.com/rest"
DIGEST_REGEX = "Expected `str` matching regex '^sha256:[a-f0-9]{64}$'"
REPO_REGEX = "Expected `str` matching regex '^[A-Za-z0-9.\\\\-_]+$'"
GOOD = digest("good")
FIVE_RISKS = ["critical-resource", "internet-exposed", "lateral-movement", "sensitive-data", "sensitive-data"]

SINGLE = [
    # (field, value, reported field, message detail); value None: the field is left out.
    ("name", None, "name", None),
    ("name", "", "name", "Expected `str` of length >= 1"),
    ("name", "n" * 257, "name", "Expected `str` of length <= 256"),
    ("digest", None, "digest", None),
    ("digest", "sha256:" + "A" * 64, "digest", DIGEST_REGEX),
    ("digest", "sha512:" + "a" * 64, "digest", DIGEST_REGEX),
    ("digest", "sha256:" + "g" * 64, "digest", DIGEST_REGEX),
    ("digest", "sha256:" + "a" * 63, "digest", "Expected `str` of length >= 71"),
    ("digest", GOOD + "\n", "digest", "Expected `str` of length <= 71"),
    ("digest", 42, "digest", "Expected `str`, got `int`"),
    ("version", "", "version", "Expected `str` of length >= 1"),
    ("version", "v" * 101, "version", "Expected `str` of length <= 100"),
    ("status", None, "status", None),
    ("status", "running", "status", "Invalid enum value 'running'"),
    ("logical_environment", None, "logical_environment", None),
    ("logical_environment", "", "logical_environment", "Expected `str` of length >= 1"),
    ("logical_environment", "l" * 129, "logical_environment", "Expected `str` of length <= 128"),
    ("physical_environment", "p" * 129, "physical_environment", "Expected `str` of length <= 128"),
    ("cluster", "c" * 129, "cluster", "Expected `str` of length <= 128"),
    ("deployment_name", None, "deployment_name", None),
    ("deployment_name", "d" * 257, "deployment_name", "Expected `str` of length <= 256"),
    ("tags", {str(i): "v" for i in range(6)}, "tags", "Expected `object` of length <= 5"),
    ("tags", {"a": 1}, "tags[...]", "Expected `str`, got `int`"),
    ("runtime_risks", ["unknown"], "runtime_risks[0]", "Invalid enum value 'unknown'"),
    ("runtime_risks", FIVE_RISKS, "runtime_risks", "Expected `array` of length <= 4"),
    ("github_repository", "", "github_repository", "Expected `str` of length >= 1"),
    ("github_repository", "acme/web", "github_repository", REPO_REGEX),
    ("github_repository", "r" * 101, "github_repository", "Expected `str` of length <= 100"),
    ("return_records", "yes", "return_records", "Expected `bool`, got `str`"),
]


def _expected(resource: str, field: str, detail: str | None) -> dict[str, Any]:
    if detail is None:
        error = {
            "resource": resource,
            "field": field,
            "code": "missing_field",
            "message": f"{field} is missing",
        }
    else:
        error = {"resource": resource, "field": field, "code": "invalid", "message": f"{field}: {detail}"}
    return {"message": "Validation Failed", "documentation_url": DOCS, "status": "422", "errors": [error]}


def _with(body: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    if value is None:
        body.pop(field, None)
    else:
        body[field] = value
    return body


@pytest.mark.parametrize(("field", "value", "reported", "detail"), SINGLE)
async def test_deployment_record_field(
    world: World, field: str, value: Any, reported: str, detail: str
) -> None:
    r = await world.api.post(RECORD, token=world.alice, json=_with(record_body(), field, value))
    assert_conforms(r, "orgs/create-artifact-deployment-record")
    assert r.status_code == 422, r.text
    assert r.json() == _expected("ArtifactDeploymentRecord", reported, detail)


async def test_deployment_record_duplicate_runtime_risk(world: World) -> None:
    body = record_body(runtime_risks=["sensitive-data", "sensitive-data"])
    r = await world.api.post(RECORD, token=world.alice, json=body)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "resource": "ArtifactDeploymentRecord",
            "field": "runtime_risks",
            "code": "invalid",
            "message": "runtime_risks must not contain duplicate items",
        }
    ]


async def test_limits_themselves_are_accepted(world: World) -> None:
    body = record_body(
        name="n" * 256,
        version="v" * 100,
        logical_environment="l" * 128,
        physical_environment="p" * 128,
        cluster="c" * 128,
        deployment_name="",
        tags={str(i): "v" for i in range(5)},
        runtime_risks=FIVE_RISKS[:4],
        github_repository="web",
    )
    r = await world.api.post(RECORD, token=world.alice, json=body)
    assert r.status_code == 200, r.text


CLUSTER_ENTRY = [
    ("name", None, None),
    ("name", "", "Expected `str` of length >= 1"),
    ("name", "n" * 257, "Expected `str` of length <= 256"),
    ("digest", None, None),
    ("digest", "sha256:" + "F" * 64, DIGEST_REGEX),
    ("version", "v" * 101, "Expected `str` of length <= 100"),
    ("status", "gone", "Invalid enum value 'gone'"),
    ("deployment_name", None, None),
    ("deployment_name", "", "Expected `str` of length >= 1"),
    ("deployment_name", "d" * 257, "Expected `str` of length <= 256"),
    ("github_repository", "a b", REPO_REGEX),
    ("github_repository", "r" * 101, "Expected `str` of length <= 100"),
    ("tags", ["x"], "Expected `object | null`, got `array`"),
    ("runtime_risks", FIVE_RISKS, "Expected `array` of length <= 4"),
]


@pytest.mark.parametrize("jobs", [False, True], ids=["set", "job"])
@pytest.mark.parametrize(("field", "value", "detail"), CLUSTER_ENTRY)
async def test_cluster_entry_field(world: World, jobs: bool, field: str, value: Any, detail: str) -> None:
    bad = _with(entry("b"), field, value)
    body = {"logical_environment": "prod", "deployments": [entry("a"), bad]}
    path = cluster_path() + ("/jobs" if jobs else "")
    r = await world.api.post(path, token=world.alice, json=body)
    assert r.status_code == 422, r.text
    assert_conforms(
        r, "orgs/create-cluster-deployment-records-job" if jobs else "orgs/set-cluster-deployment-records"
    )
    reported = f"deployments[1].{field}"
    assert r.json() == _expected("ClusterDeploymentRecords", reported, detail)


CLUSTER_BODY = [
    ("logical_environment", None, "logical_environment", None),
    ("logical_environment", "", "logical_environment", "Expected `str` of length >= 1"),
    ("logical_environment", "l" * 129, "logical_environment", "Expected `str` of length <= 128"),
    ("physical_environment", "p" * 129, "physical_environment", "Expected `str` of length <= 128"),
    ("deployments", None, "deployments", None),
    ("deployments", {"a": 1}, "deployments", "Expected `array`, got `object`"),
]


@pytest.mark.parametrize("jobs", [False, True], ids=["set", "job"])
@pytest.mark.parametrize(("field", "value", "reported", "detail"), CLUSTER_BODY)
async def test_cluster_body_field(
    world: World, jobs: bool, field: str, value: Any, reported: str, detail: str
) -> None:
    body = _with({"logical_environment": "prod", "deployments": [entry("a")]}, field, value)
    r = await world.api.post(cluster_path() + ("/jobs" if jobs else ""), token=world.alice, json=body)
    assert r.status_code == 422, r.text
    assert r.json() == _expected("ClusterDeploymentRecords", reported, detail)


@pytest.mark.parametrize(("field", "value"), [("partial_success", "no"), ("return_records", 1)])
async def test_cluster_set_flags_are_booleans(world: World, field: str, value: Any) -> None:
    body = {"logical_environment": "prod", "deployments": [entry("a")], field: value}
    r = await world.api.post(cluster_path(), token=world.alice, json=body)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field


async def test_cluster_duplicate_runtime_risks_are_named_per_entry(world: World) -> None:
    body = {
        "logical_environment": "prod",
        "deployments": [entry("a", runtime_risks=["lateral-movement"] * 2)],
    }
    r = await world.api.post(cluster_path(), token=world.alice, json=body)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "deployments[0].runtime_risks"


def _storage(**overrides: Any) -> dict[str, Any]:
    body = {"name": "lib", "digest": GOOD, "registry_url": "https://r.example/", "github_repository": "web"}
    body.update(overrides)
    return body


STORAGE_FIELDS = [
    ("name", None, "name", None),
    ("name", "", "name", "Expected `str` of length >= 1"),
    ("name", "n" * 257, "name", "Expected `str` of length <= 256"),
    ("digest", None, "digest", None),
    ("digest", "sha256:xyz", "digest", "Expected `str` of length >= 71"),
    ("version", "", "version", "Expected `str` of length >= 1"),
    ("version", "v" * 101, "version", "Expected `str` of length <= 100"),
    ("artifact_url", "http://r.example/a", "artifact_url", "Expected `str` matching regex '^https://'"),
    ("artifact_url", "https://r.example/" + "a" * 135, "artifact_url", "Expected `str` of length <= 152"),
    ("path", "p" * 513, "path", "Expected `str` of length <= 512"),
    ("registry_url", None, "registry_url", None),
    ("registry_url", "", "registry_url", "Expected `str` of length >= 1"),
    ("registry_url", "ftp://r.example/", "registry_url", "Expected `str` matching regex '^https://'"),
    ("registry_url", "https://r.example/" + "a" * 239, "registry_url", "Expected `str` of length <= 256"),
    ("repository", "r" * 129, "repository", "Expected `str` of length <= 128"),
    ("status", "inactive", "status", "Invalid enum value 'inactive'"),
    ("github_repository", "", "github_repository", "Expected `str` of length >= 1"),
    ("github_repository", "acme/web", "github_repository", REPO_REGEX),
    ("return_records", "no", "return_records", "Expected `bool`, got `str`"),
]


@pytest.mark.parametrize(("field", "value", "reported", "detail"), STORAGE_FIELDS)
async def test_storage_record_field(world: World, field: str, value: Any, reported: str, detail: str) -> None:
    r = await world.api.post(STORAGE, token=world.alice, json=_with(_storage(), field, value))
    assert_conforms(r, "orgs/create-artifact-storage-record")
    assert r.status_code == 422, r.text
    assert r.json() == _expected("ArtifactStorageRecord", reported, detail)


@pytest.mark.parametrize(
    ("field", "value"), [("registry_url", "https:// spaced"), ("artifact_url", "https://")]
)
async def test_storage_urls_must_be_uris(world: World, field: str, value: Any) -> None:
    r = await world.api.post(STORAGE, token=world.alice, json=_storage(**{field: value}))
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "resource": "ArtifactStorageRecord",
            "field": field,
            "code": "invalid",
            "message": f"{field} must be an https:// URI",
            "value": value,
        }
    ]


async def test_storage_limits_themselves_are_accepted(world: World) -> None:
    body = _storage(
        artifact_url="https://r.example/" + "a" * 134,
        registry_url="https://r.example/" + "a" * 238,
        path="p" * 512,
        repository="r" * 128,
        version="v" * 100,
        status="eol",
    )
    r = await world.api.post(STORAGE, token=world.alice, json=body)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "path",
    [
        RECORD,
        STORAGE,
        cluster_path(),
        cluster_path() + "/jobs",
    ],
)
async def test_bad_json_is_400(world: World, path: str) -> None:
    r = await world.api.post(path, token=world.alice, content=b"{not json")
    assert r.status_code == 400
    assert r.json() == {"message": "Problems parsing JSON", "documentation_url": DOCS, "status": "400"}


@pytest.mark.parametrize(
    "bad", ["sha256:" + "A" * 64, "sha256:" + "a" * 63, "sha512:" + "a" * 64, "latest", GOOD + "0"]
)
@pytest.mark.parametrize("listing", ["deployment-records", "storage-records"])
async def test_list_subject_digest_must_be_sha256(world: World, bad: str, listing: str) -> None:
    r = await world.api.get(f"/orgs/acme/artifacts/{bad}/metadata/{listing}", token=world.alice)
    assert r.status_code == 422
    assert r.json() == {
        "message": "Validation Failed",
        "documentation_url": DOCS,
        "status": "422",
        "errors": [
            {
                "resource": "Artifact",
                "field": "subject_digest",
                "code": "invalid",
                "message": "subject_digest must be sha256: followed by 64 lowercase hex digits",
                "value": bad,
            }
        ],
    }
