"""Cluster sets: validate everything first, then all-or-nothing or partial (207)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.artifacts.conftest import World, cluster_path, digest, entry
from tests.spec import assert_conforms

OP = "orgs/set-cluster-deployment-records"
DOCS = "https://docs.github.com/rest"


async def _set(
    world: World, deployments: list[dict[str, Any]], token: str | None = None, **extra: Any
) -> httpx.Response:
    body = {
        "logical_environment": "prod",
        "physical_environment": "east",
        "deployments": deployments,
        **extra,
    }
    r = await world.api.post(cluster_path(), token=token or world.alice, json=body)
    assert_conforms(r, OP)
    return r


async def _count(world: World, subject: str) -> int:
    r = await world.api.get(f"/orgs/acme/artifacts/{subject}/metadata/deployment-records", token=world.alice)
    value: int = r.json()["total_count"]
    return value


async def _history(world: World) -> list[dict[str, Any]]:
    r = await world.api.get("/waybill/orgs/acme/deployments/history", token=world.alice)
    value: list[dict[str, Any]] = r.json()["history"]
    return value


async def test_cluster_set_creates_then_updates_by_key(world: World) -> None:
    r = await _set(world, [entry("a"), entry("b")])
    assert r.status_code == 200, r.text
    first = {d["deployment_name"]: d for d in r.json()["deployment_records"]}
    assert r.json()["total_count"] == 2
    assert {d["cluster"] for d in first.values()} == {"moda-1"}

    r = await _set(world, [entry("a", digest=digest("a2")), entry("c")])
    assert r.status_code == 200
    second = {d["deployment_name"]: d for d in r.json()["deployment_records"]}
    assert second["a"]["id"] == first["a"]["id"]
    assert second["a"]["digest"] == digest("a2")
    assert second["c"]["id"] not in {d["id"] for d in first.values()}
    assert [h["change"] for h in await _history(world)] == ["created", "digest_changed", "created", "created"]


async def test_all_or_nothing_refuses_an_unresolvable_repository(world: World) -> None:
    r = await _set(world, [entry("a"), entry("b", github_repository="missing")])
    assert r.status_code == 404
    assert r.json() == {
        "message": "One or more repositories do not exist: missing",
        "documentation_url": DOCS,
        "status": "404",
    }
    assert await _count(world, digest("a")) == 0


async def test_all_or_nothing_refuses_without_write_access(world: World) -> None:
    # bob may read web but not write it; nothing of the set is written.
    r = await _set(world, [entry("a")], token=world.bob)
    assert r.status_code == 403
    assert r.json() == {
        "message": "Artifact metadata write permission required on one or more repositories: acme/web",
        "documentation_url": DOCS,
        "status": "403",
    }
    assert await _count(world, digest("a")) == 0


async def test_a_repository_the_caller_cannot_see_is_not_found(world: World) -> None:
    r = await _set(world, [entry("a"), entry("b", github_repository="secret")], token=world.dave)
    assert r.status_code == 404
    assert r.json()["message"] == "One or more repositories do not exist: secret"
    assert await _count(world, digest("a")) == 0


async def test_partial_success_writes_what_it_can_and_reports_the_rest(world: World) -> None:
    deployments = [
        entry("a"),
        entry(
            "b",
            github_repository="secret",
            version="2.1.1",
            tags={"t": "v"},
            runtime_risks=["sensitive-data"],
        ),
        entry("c", github_repository=None),
    ]
    r = await _set(world, deployments, token=world.dave, partial_success=True)
    assert r.status_code == 207, r.text
    body = r.json()
    assert body["total_count"] == 1
    assert [d["deployment_name"] for d in body["deployment_records"]] == ["a"]
    assert body["errors"] == [
        {
            "cause": "not_found",
            "deployment": {
                "name": "image",
                "digest": digest("b"),
                "deployment_name": "b",
                "version": "2.1.1",
                "status": "deployed",
                "github_repository": "secret",
                "tags": {"t": "v"},
                "runtime_risks": ["sensitive-data"],
            },
        },
        {
            "cause": "not_found",
            "deployment": {
                "name": "image",
                "digest": digest("c"),
                "deployment_name": "c",
                "version": None,
                "status": "deployed",
                "github_repository": None,
                "tags": {},
                "runtime_risks": [],
            },
        },
    ]
    assert await _count(world, digest("a")) == 1


async def test_partial_success_reports_unauthorized(world: World) -> None:
    r = await _set(world, [entry("a")], token=world.bob, partial_success=True, return_records=False)
    assert r.status_code == 207
    assert r.json()["total_count"] == 0
    assert [e["cause"] for e in r.json()["errors"]] == ["unauthorized"]
    assert "deployment_records" not in r.json()


async def test_partial_success_without_failures_is_a_plain_200(world: World) -> None:
    r = await _set(world, [entry("a")], partial_success=True)
    assert r.status_code == 200
    assert "errors" not in r.json()


async def test_first_entry_names_the_artifact(world: World) -> None:
    same = digest("shared")
    r = await _set(
        world,
        [
            entry("one", digest=same, name="first-name", version="1.0"),
            entry("two", digest=same, name="second-name", version="2.0"),
        ],
    )
    assert r.status_code == 200
    # A later writer does not rename it either.
    r = await _set(world, [entry("three", digest=same, name="third-name", version="3.0")])
    assert r.status_code == 200
    artifacts = {(h["artifact"]["name"], h["artifact"]["version"]) for h in await _history(world)}
    assert artifacts == {("first-name", "1.0")}


async def test_same_digest_in_two_repositories_is_two_artifacts(world: World) -> None:
    same = digest("shared")
    r = await _set(
        world,
        [
            entry("one", digest=same, name="web-name"),
            entry("two", digest=same, name="secret-name", github_repository="secret"),
        ],
    )
    assert r.status_code == 200
    names = {h["deployment_name"]: h["artifact"]["name"] for h in await _history(world)}
    assert names == {"one": "web-name", "two": "secret-name"}


async def test_a_thousand_entries_are_accepted(world: World) -> None:
    r = await _set(world, [entry(f"d{i}") for i in range(1000)], return_records=False)
    assert r.status_code == 200, r.text
    assert r.json() == {"total_count": 1000}
    again = await _set(world, [entry(f"d{i}", status="decommissioned") for i in range(1000)])
    assert again.status_code == 200
    assert len(again.json()["deployment_records"]) == 1000


async def test_a_thousand_and_one_entries_are_refused(world: World) -> None:
    r = await _set(world, [entry(f"d{i}") for i in range(1001)])
    assert r.status_code == 422
    assert r.json() == {
        "message": "Validation Failed",
        "documentation_url": DOCS,
        "status": "422",
        "errors": [
            {
                "resource": "ClusterDeploymentRecords",
                "field": "deployments",
                "code": "invalid",
                "message": "deployments: Expected `array` of length <= 1000",
            }
        ],
    }
    assert await _count(world, digest("d0")) == 0


async def test_duplicate_deployment_name_is_refused(world: World) -> None:
    r = await _set(world, [entry("a"), entry("b"), entry("a", digest=digest("z"))])
    assert r.status_code == 422
    assert r.json() == {
        "message": "Validation Failed",
        "documentation_url": DOCS,
        "status": "422",
        "errors": [
            {
                "resource": "ClusterDeploymentRecords",
                "field": "deployments[2].deployment_name",
                "code": "already_exists",
                "message": "deployment_name must be unique within deployments",
                "value": "a",
                "index": 2,
            }
        ],
    }
    assert await _count(world, digest("a")) == 0


async def test_invalid_cluster_name_is_refused(world: World) -> None:
    body = {"logical_environment": "prod", "deployments": [entry("a")]}
    for cluster in ("bad cluster", "x" * 129, "a:b", "caf\u00e9"):
        r = await world.api.post(cluster_path(cluster), token=world.alice, json=body)
        assert r.status_code == 422, cluster
        assert r.json()["errors"][0]["field"] == "cluster"
    r = await world.api.post(cluster_path("x" * 128), token=world.alice, json=body)
    assert r.status_code == 200
