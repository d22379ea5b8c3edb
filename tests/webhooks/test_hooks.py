"""The hook endpoints: create, read, change and delete organization and repository hooks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.webhooks.conftest import ORG_HOOKS, REPO_HOOKS, SECRET, World, hook_body


@pytest.mark.parametrize("collection", [ORG_HOOKS, REPO_HOOKS])
async def test_a_hook_is_created_read_listed_changed_and_deleted(world: World, collection: str) -> None:
    api = world.api
    created = await api.post(collection, token=world.owner, json=hook_body("https://example.com/a"))
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["config"] == {
        "url": "https://example.com/a",
        "content_type": "json",
        "insecure_ssl": "0",
        "secret": "********",
    }
    assert hook["events"] == ["*"]
    assert hook["active"] is True
    assert hook["name"] == "web"
    one = f"{collection}/{hook['id']}"
    assert created.headers["location"].endswith(one)
    assert (await api.get(one, token=world.owner)).json() == hook
    listed = await api.get(collection, token=world.owner)
    assert [h["id"] for h in listed.json()] == [hook["id"]]
    changed = await api.patch(one, token=world.owner, json={"active": False, "events": ["ping"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["active"] is False
    assert changed.json()["events"] == ["ping"]
    config = await api.patch(f"{one}/config", token=world.owner, json={"content_type": "form"})
    assert config.json()["content_type"] == "form"
    assert config.json()["secret"] == "********"
    assert (await api.get(f"{one}/config", token=world.owner)).json() == config.json()
    assert (await api.delete(one, token=world.owner)).status_code == 204
    assert (await api.get(one, token=world.owner)).status_code == 404


async def test_the_secret_never_appears_in_a_response(world: World) -> None:
    api = world.api
    created = await api.post(ORG_HOOKS, token=world.owner, json=hook_body("https://example.com/a"))
    one = f"{ORG_HOOKS}/{created.json()['id']}"
    for response in (
        created,
        await api.get(one, token=world.owner),
        await api.get(ORG_HOOKS, token=world.owner),
        await api.get(f"{one}/config", token=world.owner),
        await api.patch(f"{one}/config", token=world.owner, json={"url": "https://example.com/b"}),
    ):
        assert SECRET not in response.text


async def test_repository_hooks_add_and_remove_events(world: World) -> None:
    api = world.api
    created = await api.post(
        REPO_HOOKS, token=world.owner, json=hook_body("https://example.com/a", events=["ping"])
    )
    one = f"{REPO_HOOKS}/{created.json()['id']}"
    added = await api.patch(one, token=world.owner, json={"add_events": ["deployment_record", "attestation"]})
    assert added.json()["events"] == ["ping", "deployment_record", "attestation"]
    removed = await api.patch(one, token=world.owner, json={"remove_events": ["ping"]})
    assert removed.json()["events"] == ["deployment_record", "attestation"]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "config.url"),
        ({"url": "https://example.com", "content_type": "xml"}, "config.content_type"),
        ({"url": "https://example.com", "insecure_ssl": "2"}, "config.insecure_ssl"),
        ({"url": "ftp://example.com"}, "config.url"),
    ],
)
async def test_a_bad_config_is_a_422_naming_the_field(
    world: World, config: dict[str, Any], field: str
) -> None:
    response = await world.api.post(ORG_HOOKS, token=world.owner, json={"name": "web", "config": config})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_a_bad_event_name_is_a_422(world: World) -> None:
    body = hook_body("https://example.com", events=["Not An Event"])
    response = await world.api.post(ORG_HOOKS, token=world.owner, json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "events"


async def test_bad_json_is_a_400(world: World) -> None:
    response = await world.api.post(
        ORG_HOOKS, token=world.owner, content=b"{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Problems parsing JSON"


async def test_an_unknown_hook_is_a_404(world: World) -> None:
    for path in (f"{ORG_HOOKS}/999", f"{ORG_HOOKS}/abc", f"{REPO_HOOKS}/999/config"):
        response = await world.api.get(path, token=world.owner)
        assert response.status_code == 404, path


async def test_an_organization_hook_is_not_a_repository_hook(world: World) -> None:
    created = await world.api.post(ORG_HOOKS, token=world.owner, json=hook_body("https://example.com"))
    response = await world.api.get(f"{REPO_HOOKS}/{created.json()['id']}", token=world.owner)
    assert response.status_code == 404
