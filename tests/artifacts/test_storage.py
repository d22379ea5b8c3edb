"""Storage records: one per artifact and registry location, named by the artifact's first writer."""

from __future__ import annotations

from typing import Any

from tests.artifacts.conftest import STORAGE, World, digest
from tests.spec import assert_conforms

SUBJECT = digest("lib")


def _body(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "libfoo",
        "version": "1.2.3",
        "digest": SUBJECT,
        "registry_url": "https://reg.example.com/artifactory/",
        "repository": "bar",
        "github_repository": "web",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


async def _post(world: World, **overrides: Any) -> dict[str, Any]:
    r = await world.api.post(STORAGE, token=world.alice, json=_body(**overrides))
    assert_conforms(r, "orgs/create-artifact-storage-record")
    assert r.status_code == 200, r.text
    value: dict[str, Any] = r.json()
    return value


async def _list(world: World) -> dict[str, Any]:
    r = await world.api.get(f"/orgs/acme/artifacts/{SUBJECT}/metadata/storage-records", token=world.alice)
    assert_conforms(r, "orgs/list-artifact-storage-records")
    value: dict[str, Any] = r.json()
    return value


async def test_same_location_updates_and_another_location_adds(world: World) -> None:
    first = (await _post(world))["storage_records"][0]
    again = (await _post(world, status="eol", artifact_url="https://reg.example.com/x"))["storage_records"][0]
    assert (again["id"], again["created_at"]) == (first["id"], first["created_at"])
    assert (again["status"], again["artifact_url"]) == ("eol", "https://reg.example.com/x")
    other = (await _post(world, repository="baz"))["storage_records"][0]
    assert other["id"] != first["id"]
    assert [r["id"] for r in (await _list(world))["storage_records"]] == [first["id"], other["id"]]


async def test_the_first_writer_names_the_artifact(world: World) -> None:
    await _post(world, name="first", version="1")
    second = await _post(world, name="second", version="2", repository="baz")
    assert second["storage_records"][0]["name"] == "first"
    assert {r["name"] for r in (await _list(world))["storage_records"]} == {"first"}


async def test_absent_optional_values_are_null_on_create_and_left_out_in_lists(world: World) -> None:
    created = (await _post(world, repository=None, version=None))["storage_records"][0]
    assert (created["artifact_url"], created["repository"]) == (None, None)
    listed = (await _list(world))["storage_records"][0]
    assert "artifact_url" not in listed
    assert "repository" not in listed
    assert listed["status"] == "active"


async def test_return_records_false(world: World) -> None:
    assert await _post(world, return_records=False) == {"total_count": 1}


async def test_no_repository_resolves_to_not_found(world: World) -> None:
    r = await world.api.post(STORAGE, token=world.alice, json=_body(github_repository=None))
    assert r.status_code == 404
    assert r.json() == {
        "message": "No provenance attestation for this digest and no github_repository given",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }
