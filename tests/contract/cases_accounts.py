"""Contract cases of the accounts operations (users, organizations, repositories, site administration)."""

from __future__ import annotations

import httpx

from tests.contract.registry import case
from tests.contract.world import Http, World

# meta/root


@case("meta/root", "anonymous", 200)
async def _root(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/", version=v)


@case("meta/root", "enterprise prefix", 200)
async def _root_v3(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/api/v3", version=v)


# users/get-authenticated


@case("users/get-authenticated", "token", 200)
async def _me(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/user", token=w.owner_token, version=v)


@case("users/get-authenticated", "anonymous", 401, message="Requires authentication")
async def _me_anonymous(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/user", version=v)


@case("users/get-authenticated", "bad token", 401, message="Bad credentials")
async def _me_bad_token(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/user", token="ghp_" + "0" * 36, version=v)


# users/get-by-username


@case("users/get-by-username", "user", 200)
async def _user(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/users/{w.owner}", version=v)


@case("users/get-by-username", "organization", 200)
async def _user_org(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/users/{w.org.upper()}", token=w.outsider_token, version=v)


@case("users/get-by-username", "unknown", 404, message="Not Found")
async def _user_unknown(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/users/nobody-here", version=v)


# orgs/get


@case("orgs/get", "organization", 200)
async def _org(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/orgs/{w.org}", token=w.owner_token, version=v)


@case("orgs/get", "a user is no organization", 404, message="Not Found")
async def _org_user(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/orgs/{w.owner}", version=v)


# repos/get


@case("repos/get", "public, anonymous", 200)
async def _repo_public(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/repos/{w.org}/{w.public_repo}", version=v)


@case("repos/get", "private, member", 200)
async def _repo_private(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/repos/{w.org}/{w.private_repo}", token=w.owner_token, version=v)


@case("repos/get", "private, outsider", 404, message="Not Found")
async def _repo_private_outsider(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/repos/{w.org}/{w.private_repo}", token=w.outsider_token, version=v)


@case("repos/get", "unknown API version", 400)
async def _repo_bad_version(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request(
        "GET", f"/repos/{w.org}/{w.public_repo}", headers={"X-GitHub-Api-Version": "2021-01-01"}
    )


# enterprise-admin/create-user


@case("enterprise-admin/create-user", "site administrator", 201)
async def _create_user(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request(
        "POST", "/admin/users", token=w.admin_token, version=v, json={"login": "newbie"}
    )


@case("enterprise-admin/create-user", "not a site administrator", 404, message="Not Found")
async def _create_user_not_admin(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request(
        "POST", "/admin/users", token=w.owner_token, version=v, json={"login": "newbie"}
    )


@case("enterprise-admin/create-user", "login taken", 422, message="Validation Failed")
async def _create_user_taken(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("POST", "/admin/users", token=w.admin_token, version=v, json={"login": w.owner})


@case("enterprise-admin/create-user", "not JSON", 400, message="Problems parsing JSON")
async def _create_user_not_json(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("POST", "/admin/users", token=w.admin_token, version=v, content=b"{login")


# enterprise-admin/create-org


@case("enterprise-admin/create-org", "site administrator", 201)
async def _create_org(http: Http, w: World, v: str) -> httpx.Response:
    body = {"login": "initech", "admin": w.owner, "profile_name": "Initech"}
    return await http.request("POST", "/admin/organizations", token=w.admin_token, version=v, json=body)


@case("enterprise-admin/create-org", "admin missing", 422, message="Validation Failed")
async def _create_org_no_admin(http: Http, w: World, v: str) -> httpx.Response:
    body = {"login": "initech"}
    return await http.request("POST", "/admin/organizations", token=w.admin_token, version=v, json=body)


# repos/create-in-org


@case("repos/create-in-org", "member", 201)
async def _create_org_repo(http: Http, w: World, v: str) -> httpx.Response:
    body = {"name": "gadgets", "private": True, "description": "gadgets"}
    return await http.request("POST", f"/orgs/{w.org}/repos", token=w.owner_token, version=v, json=body)


@case("repos/create-in-org", "name taken", 422, message="Validation Failed")
async def _create_org_repo_taken(http: Http, w: World, v: str) -> httpx.Response:
    body = {"name": w.public_repo}
    return await http.request("POST", f"/orgs/{w.org}/repos", token=w.owner_token, version=v, json=body)


@case("repos/create-in-org", "outsider", 404, message="Not Found")
async def _create_org_repo_outsider(http: Http, w: World, v: str) -> httpx.Response:
    body = {"name": "gadgets"}
    return await http.request("POST", f"/orgs/{w.org}/repos", token=w.outsider_token, version=v, json=body)


# repos/create-for-authenticated-user


@case("repos/create-for-authenticated-user", "token", 201)
async def _create_user_repo(http: Http, w: World, v: str) -> httpx.Response:
    body = {"name": "dotfiles", "visibility": "public"}
    return await http.request("POST", "/user/repos", token=w.owner_token, version=v, json=body)


@case("repos/create-for-authenticated-user", "anonymous", 401, message="Requires authentication")
async def _create_user_repo_anonymous(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("POST", "/user/repos", version=v, json={"name": "dotfiles"})


@case("repos/create-for-authenticated-user", "name missing", 422, message="Validation Failed")
async def _create_user_repo_no_name(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("POST", "/user/repos", token=w.owner_token, version=v, json={})
