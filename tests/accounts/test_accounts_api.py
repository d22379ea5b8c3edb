"""Users, organizations and repositories over HTTP, in GitHub's shapes."""

from __future__ import annotations

from tests.harness import Harness

NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}


async def _acme(api: Harness) -> str:
    await api.user("alice")
    await api.org("Acme", owner="alice")
    await api.repo("Acme/Web", private=True)
    await api.repo("Acme/site")
    return await api.token("alice")


async def test_names_are_case_insensitive_and_keep_their_display_case(api: Harness) -> None:
    token = await _acme(api)
    user = await api.get("/users/ALICE")
    assert user.status_code == 200
    assert user.json()["login"] == "alice"
    org = await api.get("/orgs/acme")
    assert org.json()["login"] == "Acme"
    assert org.json()["type"] == "Organization"
    repo = await api.get("/repos/ACME/web", token=token)
    assert repo.status_code == 200
    assert repo.json()["full_name"] == "Acme/Web"
    assert (await api.get("/repos/acme/WEB.git", token=token)).status_code == 200


async def test_user_and_repository_shapes(api: Harness) -> None:
    token = await _acme(api)
    me = (await api.get("/user", token=token)).json()
    assert me["login"] == "alice"
    assert me["type"] == "User"
    assert isinstance(me["id"], int)
    assert me["node_id"]
    assert me["url"] == "http://waybill.test/users/alice"
    assert me["created_at"].endswith("Z")
    repo = (await api.get("/repos/acme/site")).json()
    assert repo["private"] is False
    assert repo["visibility"] == "public"
    assert repo["owner"]["login"] == "Acme"
    assert repo["html_url"] == "http://waybill.test/Acme/site"
    assert repo["url"] == "http://waybill.test/repos/Acme/site"


async def test_private_repository_is_404_to_those_who_cannot_see_it(api: Harness) -> None:
    await _acme(api)
    await api.user("mallory")
    outsider = await api.token("mallory")
    assert (await api.get("/repos/acme/web")).json() == NOT_FOUND
    response = await api.get("/repos/acme/web", token=outsider)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


async def test_org_members_read_every_repository(api: Harness) -> None:
    await _acme(api)
    await api.user("bob")
    await api.member("acme", "bob")
    assert (await api.get("/repos/acme/web", token=await api.token("bob"))).status_code == 200


async def test_collaborator_reads_the_repository_they_were_given(api: Harness) -> None:
    await _acme(api)
    await api.user("carol")
    await api.collaborator("acme/web", "carol", "read")
    assert (await api.get("/repos/acme/web", token=await api.token("carol"))).status_code == 200


async def test_get_user_requires_authentication(api: Harness) -> None:
    response = await api.get("/user")
    assert response.status_code == 401
    assert response.json() == {
        "message": "Requires authentication",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }


async def test_orgs_endpoint_does_not_answer_for_users(api: Harness) -> None:
    await api.user("alice")
    assert (await api.get("/orgs/alice")).json() == NOT_FOUND
    assert (await api.get("/users/nobody")).json() == NOT_FOUND


async def test_site_admin_provisions_users_and_organizations(api: Harness) -> None:
    await api.user("root", site_admin=True)
    token = await api.token("root", "site_admin,repo")
    user = await api.post("/admin/users", token=token, json={"login": "Dave", "email": "dave@example.com"})
    assert user.status_code == 201
    assert user.json()["login"] == "Dave"
    org = await api.post("/admin/organizations", token=token, json={"login": "Globex", "admin": "dave"})
    assert org.status_code == 201
    assert org.json()["login"] == "Globex"
    duplicate = await api.post("/admin/users", token=token, json={"login": "dave"})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == [
        {
            "resource": "User",
            "field": "login",
            "code": "already_exists",
            "message": "login already exists: dave",
            "value": "dave",
        }
    ]


async def test_admin_endpoints_are_hidden_from_other_users(api: Harness) -> None:
    await api.user("alice")
    response = await api.post("/admin/users", token=await api.token("alice"), json={"login": "x"})
    assert response.status_code == 404


async def test_admin_endpoints_need_the_site_admin_scope(api: Harness) -> None:
    await api.user("root", site_admin=True)
    response = await api.post("/admin/users", token=await api.token("root", "repo"), json={"login": "x"})
    assert response.status_code == 403
    assert response.json()["message"] == (
        "Resource not accessible by personal access token (requires the site_admin scope)."
    )


async def test_invalid_login_is_a_validation_error_naming_the_field(api: Harness) -> None:
    await api.user("root", site_admin=True)
    token = await api.token("root", "site_admin")
    response = await api.post("/admin/users", token=token, json={"login": "-bad-"})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["resource"], error["field"], error["code"]) == ("User", "login", "invalid")


async def test_create_repositories_for_an_org_and_for_oneself(api: Harness) -> None:
    token = await _acme(api)
    created = await api.post("/orgs/ACME/repos", token=token, json={"name": "api", "visibility": "private"})
    assert created.status_code == 201
    assert created.json()["full_name"] == "Acme/api"
    assert created.json()["private"] is True
    mine = await api.post("/user/repos", token=token, json={"name": "dotfiles"})
    assert mine.status_code == 201
    assert mine.json()["full_name"] == "alice/dotfiles"
    again = await api.post("/user/repos", token=token, json={"name": "DOTFILES"})
    assert again.status_code == 422
    assert again.json()["errors"][0]["code"] == "already_exists"


async def test_repository_creation_by_non_members_is_404(api: Harness) -> None:
    await _acme(api)
    await api.user("mallory")
    response = await api.post("/orgs/acme/repos", token=await api.token("mallory"), json={"name": "x"})
    assert response.status_code == 404


async def test_repository_creation_names_the_missing_fine_grained_permission(api: Harness) -> None:
    await _acme(api)
    token = await api.fine_grained("alice", owner="acme", permissions={"contents": "write"})
    response = await api.post("/orgs/acme/repos", token=token, json={"name": "x"})
    assert response.status_code == 403
    assert response.json()["message"] == (
        "Resource not accessible by personal access token (requires administration:write)."
    )
