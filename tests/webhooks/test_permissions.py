"""Who may manage hooks: organization owners and repository admins, through tokens that carry
``admin:org_hook`` / ``admin:repo_hook`` (or the fine-grained Webhooks permissions)."""

from __future__ import annotations

import pytest

from tests.webhooks.conftest import ORG_HOOKS, REPO_HOOKS, World, hook_body


async def test_only_owners_see_organization_hooks(world: World) -> None:
    api = world.api
    for token in (world.member, world.outsider, None):
        response = await api.get(ORG_HOOKS, token=token)
        assert response.status_code == (401 if token is None else 404), response.text


async def test_organization_hooks_need_the_admin_org_hook_scope(world: World) -> None:
    token = await world.api.token("octocat", "repo,admin:org")
    response = await world.api.get(ORG_HOOKS, token=token)
    assert response.status_code == 403
    assert response.json()["message"] == (
        "Resource not accessible by personal access token (requires the admin:org_hook scope)."
    )


async def test_repository_hooks_need_an_admin(world: World) -> None:
    api = world.api
    await api.collaborator("acme/web", "hubot", "write")
    response = await api.get(REPO_HOOKS, token=world.member)
    assert response.status_code == 403
    assert response.json()["message"] == "Must have admin access to repository acme/web."
    # A private repository the caller cannot see does not exist for them.
    assert (await api.get("/repos/acme/api/hooks", token=world.outsider)).status_code == 404


@pytest.mark.parametrize(
    ("scopes", "method", "status"),
    [
        ("read:repo_hook", "GET", 200),
        ("read:repo_hook", "POST", 403),
        ("write:repo_hook", "POST", 201),
        ("admin:repo_hook", "POST", 201),
        ("public_repo", "GET", 403),
    ],
)
async def test_classic_repository_hook_scopes(world: World, scopes: str, method: str, status: int) -> None:
    token = await world.api.token("octocat", scopes)
    if method == "GET":
        response = await world.api.get(REPO_HOOKS, token=token)
    else:
        response = await world.api.post(REPO_HOOKS, token=token, json=hook_body("https://example.com"))
    assert response.status_code == status, response.text


async def test_write_repo_hook_cannot_delete(world: World) -> None:
    created = await world.api.post(REPO_HOOKS, token=world.owner, json=hook_body("https://example.com"))
    token = await world.api.token("octocat", "write:repo_hook")
    response = await world.api.delete(f"{REPO_HOOKS}/{created.json()['id']}", token=token)
    assert response.status_code == 403
    assert "admin:repo_hook" in response.json()["message"]


async def test_fine_grained_tokens_need_the_webhooks_permissions(world: World) -> None:
    api = world.api
    reader = await api.fine_grained("octocat", owner="acme", permissions={"repository_hooks": "read"})
    writer = await api.fine_grained("octocat", owner="acme", permissions={"repository_hooks": "write"})
    org_writer = await api.fine_grained("octocat", owner="acme", permissions={"organization_hooks": "write"})
    body = hook_body("https://example.com")
    assert (await api.get(REPO_HOOKS, token=reader)).status_code == 200
    refused = await api.post(REPO_HOOKS, token=reader, json=body)
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        "Resource not accessible by personal access token (requires repository_hooks:write)."
    )
    assert (await api.post(REPO_HOOKS, token=writer, json=body)).status_code == 201
    assert (await api.get(ORG_HOOKS, token=writer)).status_code == 403
    assert (await api.post(ORG_HOOKS, token=org_writer, json=body)).status_code == 201


async def test_private_destinations_are_refused_unless_allowed(world: World) -> None:
    from dataclasses import replace

    world.api.app.litestar.state.settings = replace(
        world.api.app.litestar.state.settings, webhook_allow_private=False
    )
    for url in ("http://127.0.0.1:8080/", "http://10.0.0.1/", "http://169.254.169.254/", "http://localhost/"):
        response = await world.api.post(ORG_HOOKS, token=world.owner, json=hook_body(url))
        assert response.status_code == 422, url
        assert response.json()["errors"][0]["message"] == (
            "url must not point to a loopback, link-local or private address"
        )
    response = await world.api.post(ORG_HOOKS, token=world.owner, json=hook_body("https://example.com/"))
    assert response.status_code == 201
