"""Contract cases of the GitHub Apps operations: the app's JWT, its installations, and the tokens
they issue."""

from __future__ import annotations

import httpx

from tests.contract.description import API_VERSIONS
from tests.contract.registry import case
from tests.contract.world import Http, World

BAD_JWT = "A JSON web token could not be decoded"


async def _token(http: Http, w: World, v: str, **body: object) -> str:
    app = w.seeded_app
    response = await http.request(
        "POST",
        f"/app/installations/{app.org_installation_id}/access_tokens",
        token=app.jwt(),
        version=v,
        json=body or None,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


# apps/get-authenticated


@case("apps/get-authenticated", "app JWT", 200)
async def _app(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/app", token=w.seeded_app.jwt(), version=v)


@case("apps/get-authenticated", "personal token", 401, message=BAD_JWT)
async def _app_personal(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/app", token=w.owner_token, version=v)


@case("apps/get-authenticated", "expires too far ahead", 401)
async def _app_long_lived(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/app", token=w.seeded_app.jwt(lifetime=3600), version=v)


# apps/list-installations


@case("apps/list-installations", "app JWT", 200)
async def _installations(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/app/installations?per_page=1", token=w.seeded_app.jwt(), version=v)


@case("apps/list-installations", "anonymous", 401, message="Requires authentication")
async def _installations_anonymous(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/app/installations", version=v)


# apps/get-installation


@case("apps/get-installation", "its own", 200)
async def _installation(http: Http, w: World, v: str) -> httpx.Response:
    app = w.seeded_app
    return await http.request(
        "GET", f"/app/installations/{app.org_installation_id}", token=app.jwt(), version=v
    )


@case("apps/get-installation", "unknown", 404, message="Not Found")
async def _installation_unknown(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/app/installations/999999", token=w.seeded_app.jwt(), version=v)


# apps/delete-installation


@case("apps/delete-installation", "its own", 204, versions=API_VERSIONS[:1])
@case("apps/delete-installation", "its own, answered as accepted", 202, versions=API_VERSIONS[1:])
async def _uninstall(http: Http, w: World, v: str) -> httpx.Response:
    app = w.seeded_app
    return await http.request(
        "DELETE", f"/app/installations/{app.user_installation_id}", token=app.jwt(), version=v
    )


@case("apps/delete-installation", "unknown", 404, message="Not Found")
async def _uninstall_unknown(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("DELETE", "/app/installations/999999", token=w.seeded_app.jwt(), version=v)


# apps/suspend-installation, apps/unsuspend-installation


@case("apps/suspend-installation", "its own", 204)
async def _suspend(http: Http, w: World, v: str) -> httpx.Response:
    app = w.seeded_app
    return await http.request(
        "PUT", f"/app/installations/{app.org_installation_id}/suspended", token=app.jwt(), version=v
    )


@case("apps/suspend-installation", "unknown", 404, message="Not Found")
async def _suspend_unknown(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request(
        "PUT", "/app/installations/999999/suspended", token=w.seeded_app.jwt(), version=v
    )


@case("apps/unsuspend-installation", "its own", 204)
async def _unsuspend(http: Http, w: World, v: str) -> httpx.Response:
    app = w.seeded_app
    await _suspend(http, w, v)
    return await http.request(
        "DELETE", f"/app/installations/{app.org_installation_id}/suspended", token=app.jwt(), version=v
    )


@case("apps/unsuspend-installation", "personal token", 401, message=BAD_JWT)
async def _unsuspend_personal(http: Http, w: World, v: str) -> httpx.Response:
    app = w.seeded_app
    return await http.request(
        "DELETE", f"/app/installations/{app.org_installation_id}/suspended", token=w.owner_token, version=v
    )


# apps/get-org-installation, apps/get-repo-installation, apps/get-user-installation


@case("apps/get-org-installation", "installed", 200)
async def _org_installation(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/orgs/{w.org}/installation", token=w.seeded_app.jwt(), version=v)


@case("apps/get-org-installation", "a user is no organization", 404, message="Not Found")
async def _org_installation_user(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/orgs/{w.owner}/installation", token=w.seeded_app.jwt(), version=v)


@case("apps/get-repo-installation", "private repository", 200)
async def _repo_installation(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request(
        "GET", f"/repos/{w.org}/{w.private_repo}/installation", token=w.seeded_app.jwt(), version=v
    )


@case("apps/get-repo-installation", "not installed there", 404, message="Not Found")
async def _repo_installation_none(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request(
        "GET", f"/repos/{w.admin}/{w.admin_repo}/installation", token=w.seeded_app.jwt(), version=v
    )


@case("apps/get-user-installation", "installed", 200)
async def _user_installation(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/users/{w.owner}/installation", token=w.seeded_app.jwt(), version=v)


@case("apps/get-user-installation", "not installed", 404, message="Not Found")
async def _user_installation_none(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/users/{w.outsider}/installation", token=w.seeded_app.jwt(), version=v)


# apps/create-installation-access-token


@case("apps/create-installation-access-token", "the installation's grant", 201)
async def _create_token(http: Http, w: World, v: str) -> httpx.Response:
    app = w.seeded_app
    return await http.request(
        "POST", f"/app/installations/{app.org_installation_id}/access_tokens", token=app.jwt(), version=v
    )


@case("apps/create-installation-access-token", "narrowed", 201)
async def _create_token_narrowed(http: Http, w: World, v: str) -> httpx.Response:
    app = w.seeded_app
    return await http.request(
        "POST",
        f"/app/installations/{app.org_installation_id}/access_tokens",
        token=app.jwt(),
        version=v,
        json={"repositories": [w.public_repo], "permissions": {"artifact_metadata": "write"}},
    )


@case("apps/create-installation-access-token", "more than granted", 422, message="Validation Failed")
async def _create_token_wider(http: Http, w: World, v: str) -> httpx.Response:
    app = w.seeded_app
    return await http.request(
        "POST",
        f"/app/installations/{app.org_installation_id}/access_tokens",
        token=app.jwt(),
        version=v,
        json={"permissions": {"contents": "write"}},
    )


@case(
    "apps/create-installation-access-token", "suspended", 403, message="This installation has been suspended"
)
async def _create_token_suspended(http: Http, w: World, v: str) -> httpx.Response:
    await _suspend(http, w, v)
    return await _create_token(http, w, v)


@case("apps/create-installation-access-token", "personal token", 401, message=BAD_JWT)
async def _create_token_personal(http: Http, w: World, v: str) -> httpx.Response:
    app = w.seeded_app
    return await http.request(
        "POST", f"/app/installations/{app.org_installation_id}/access_tokens", token=w.owner_token, version=v
    )


# apps/list-repos-accessible-to-installation


@case("apps/list-repos-accessible-to-installation", "installation token", 200)
async def _repositories(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/installation/repositories", token=await _token(http, w, v), version=v)


@case("apps/list-repos-accessible-to-installation", "narrowed token", 200)
async def _repositories_narrowed(http: Http, w: World, v: str) -> httpx.Response:
    token = await _token(http, w, v, repositories=[w.private_repo])
    return await http.request("GET", "/installation/repositories", token=token, version=v)


@case("apps/list-repos-accessible-to-installation", "personal token", 403)
async def _repositories_personal(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/installation/repositories", token=w.owner_token, version=v)


# apps/revoke-installation-access-token


@case("apps/revoke-installation-access-token", "its own", 204)
async def _revoke(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("DELETE", "/installation/token", token=await _token(http, w, v), version=v)


@case("apps/revoke-installation-access-token", "already revoked", 401, message="Bad credentials")
async def _revoke_twice(http: Http, w: World, v: str) -> httpx.Response:
    token = await _token(http, w, v)
    await http.request("DELETE", "/installation/token", token=token, version=v)
    return await http.request("DELETE", "/installation/token", token=token, version=v)
