"""Deployment records: identity and upsert, repository resolution, concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.artifacts.conftest import RECORD, StoredProvenance, World, digest, record_body
from tests.spec import assert_conforms

OP = "orgs/create-artifact-deployment-record"
ERROR = {"documentation_url": "https://docs.github.com/rest"}


async def _post(
    world: World, body: dict[str, Any], token: str | None = None, path: str = RECORD
) -> httpx.Response:
    r = await world.api.post(path, token=token or world.alice, json=body)
    assert_conforms(r, OP)
    return r


async def _records(world: World, subject: str) -> list[dict[str, Any]]:
    r = await world.api.get(f"/orgs/acme/artifacts/{subject}/metadata/deployment-records", token=world.alice)
    assert_conforms(r, "orgs/list-artifact-deployment-records")
    value: list[dict[str, Any]] = r.json()["deployment_records"]
    return value


async def test_same_key_updates_the_record_in_place(world: World) -> None:
    first = (await _post(world, record_body())).json()["deployment_records"][0]
    changed = record_body(
        digest=digest("v2"), status="decommissioned", tags={"team": "a"}, runtime_risks=["internet-exposed"]
    )
    r = await _post(world, changed)
    assert r.status_code == 200
    second = r.json()["deployment_records"][0]
    assert (second["id"], second["created_at"]) == (first["id"], first["created_at"])
    assert (second["digest"], second["tags"], second["runtime_risks"]) == (
        digest("v2"),
        {"team": "a"},
        ["internet-exposed"],
    )
    assert await _records(world, digest("awesome")) == []
    # Decommissioning keeps the record.
    assert await _records(world, digest("v2")) == [second]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("logical_environment", "staging"),
        ("physical_environment", "atlantic-west"),
        ("cluster", "moda-2"),
        ("deployment_name", "other-pod"),
    ],
)
async def test_any_key_part_different_creates_a_record(world: World, field: str, value: Any) -> None:
    first = (await _post(world, record_body())).json()["deployment_records"][0]
    second = (await _post(world, record_body(**{field: value}))).json()["deployment_records"][0]
    assert second["id"] != first["id"]
    assert len(await _records(world, digest("awesome"))) == 2


async def test_another_org_is_another_key(world: World) -> None:
    await world.api.repo("other/app")
    first = (await _post(world, record_body())).json()["deployment_records"][0]
    r = await _post(
        world,
        record_body(github_repository="app"),
        token=world.carol,
        path="/orgs/other/artifacts/metadata/deployment-record",
    )
    assert r.status_code == 200, r.text
    assert r.json()["deployment_records"][0]["id"] != first["id"]


async def test_missing_physical_environment_and_cluster_are_empty_strings_and_one_key(world: World) -> None:
    body = record_body(physical_environment=None, cluster=None)
    first = (await _post(world, body)).json()["deployment_records"][0]
    assert (first["physical_environment"], first["cluster"]) == ("", "")
    again = (await _post(world, {**body, "physical_environment": "", "cluster": ""})).json()
    assert again["deployment_records"][0]["id"] == first["id"]


async def test_return_records_false_still_counts(world: World) -> None:
    r = await _post(world, record_body(return_records=False))
    assert r.status_code == 200
    assert r.json() == {"total_count": 1}


async def test_org_name_is_case_insensitive(world: World) -> None:
    r = await _post(
        world, record_body(github_repository="WEB"), path="/orgs/AcMe/artifacts/metadata/deployment-record"
    )
    assert r.status_code == 200, r.text
    listed = await world.api.get(f"/orgs/ACME/artifacts/{digest('awesome')}/metadata/deployment-records")
    assert listed.json()["total_count"] == 1


async def test_unknown_org_and_user_account_are_not_found(world: World) -> None:
    for org in ("nobody", "alice"):
        r = await _post(world, record_body(), path=f"/orgs/{org}/artifacts/metadata/deployment-record")
        assert r.status_code == 404
        assert r.json() == {"message": "Not Found", "status": "404", **ERROR}
        listed = await world.api.get(f"/orgs/{org}/artifacts/{digest('x')}/metadata/deployment-records")
        assert listed.status_code == 404


async def test_github_repository_must_belong_to_the_org(world: World) -> None:
    await world.api.repo("other/only-there")
    r = await _post(world, record_body(github_repository="only-there"))
    assert r.status_code == 404
    assert r.json() == {"message": "Repository not found: only-there", "status": "404", **ERROR}


async def test_provenance_repository_wins_over_github_repository(
    world: World, provenance: StoredProvenance
) -> None:
    await provenance.add(digest("awesome"), attestation_id=31, repository_id=world.secret_id)
    # dave may write web (named) but cannot see secret (the attested repository).
    r = await _post(world, record_body(), token=world.dave)
    assert r.status_code == 404
    r = await _post(world, record_body(), token=world.alice)
    assert r.status_code == 200
    assert r.json()["deployment_records"][0]["attestation_id"] == 31
    listed = await world.api.get(f"/orgs/acme/artifacts/{digest('awesome')}/metadata/deployment-records")
    assert listed.json() == {"total_count": 0, "deployment_records": []}


async def test_fifty_concurrent_posts_for_one_key_leave_one_record(world: World) -> None:
    responses = await asyncio.gather(*(_post(world, record_body()) for _ in range(50)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["deployment_records"][0]["id"] for r in responses}) == 1
    assert len(await _records(world, digest("awesome"))) == 1
    history = await world.api.get("/waybill/orgs/acme/deployments/history", token=world.alice)
    assert [e["change"] for e in history.json()["history"]] == ["created"]


async def test_concurrent_posts_for_different_keys_lose_none(world: World) -> None:
    responses = await asyncio.gather(
        *(_post(world, record_body(deployment_name=f"pod-{i}")) for i in range(50))
    )
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["deployment_records"][0]["id"] for r in responses}) == 50
    assert len(await _records(world, digest("awesome"))) == 50
