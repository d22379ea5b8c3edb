"""GitHub Apps over GitHub's routes: the app JWT, installations, installation tokens and what they
may do, on both backends."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import replace
from typing import Any

import pytest

from tests.apps.helpers import AppKey, install, installation_token, register
from tests.attestations.bundles import bundle_for, random_digest
from tests.harness import Harness, running
from waybill.apps import keys
from waybill.config import Settings


async def _world(api: Harness) -> AppKey:
    await api.user("octocat")
    await api.org("acme", owner="octocat")
    await api.repo("acme/web")
    await api.repo("acme/secret", private=True)
    await api.repo("acme/other")
    return await register(api, "tracker", "acme")


def _record(repo: str) -> dict[str, object]:
    return {
        "name": "web-image",
        "digest": random_digest(),
        "status": "deployed",
        "logical_environment": "prod",
        "deployment_name": "web",
        "github_repository": repo,
    }


async def test_get_app_with_its_jwt_by_id_or_client_id(api: Harness) -> None:
    app = await _world(api)
    for iss in (str(app.id), app.id, app.client_id):
        response = await api.get("/app", token=app.jwt(iss=iss))
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["id"], body["slug"], body["client_id"], body["owner"]["login"]) == (
            app.id,
            "tracker",
            app.client_id,
            "acme",
        )
        assert body["permissions"] == {
            "metadata": "read",
            "artifact_metadata": "write",
            "attestations": "write",
        }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"exp": -120}, "'Expiration time' claim ('exp') must be a numeric value"),
        ({"exp": 3600}, "'Expiration time' claim ('exp') is too far in the future"),
        ({"iat": 300}, "'Issued at' claim ('iat') must be an Integer"),
        ({"iss": "999999"}, "'Issuer' claim ('iss') must be the app's id or client id"),
    ],
)
async def test_jwt_claims_are_checked(api: Harness, change: dict[str, Any], message: str) -> None:
    app = await _world(api)
    # Times are seconds from now, taken as the test runs (not when the module is collected).
    claims = {k: time.time() + v if k in ("iat", "exp") else v for k, v in change.items()}
    response = await api.get("/app", token=app.jwt(**claims))
    assert response.status_code == 401
    assert response.json()["message"].startswith(message)


async def test_jwt_drift_of_a_minute_is_tolerated(api: Harness) -> None:
    app = await _world(api)
    now = time.time()
    assert (await api.get("/app", token=app.jwt(iat=now + 30, exp=now + 600 + 30))).status_code == 200


async def test_jwt_signed_by_another_key_is_refused(api: Harness) -> None:
    app = await _world(api)
    other, _ = keys.generate()
    response = await api.get("/app", token=app.jwt(key=other))
    assert response.status_code == 401
    assert response.json()["message"] == "A JSON web token could not be decoded"


async def test_installations_are_found_by_org_repo_and_user(api: Harness) -> None:
    app = await _world(api)
    installation_id = await install(api, "tracker", "acme")
    token = app.jwt()
    listed = await api.get("/app/installations", token=token)
    assert [i["id"] for i in listed.json()] == [installation_id]
    for path in (
        "/orgs/acme/installation",
        "/repos/acme/secret/installation",
        f"/app/installations/{installation_id}",
    ):
        response = await api.get(path, token=token)
        assert response.status_code == 200, path
        assert response.json()["account"]["login"] == "acme"
        assert response.json()["repository_selection"] == "all"
    assert (await api.get("/users/octocat/installation", token=token)).status_code == 404
    assert (await api.get("/orgs/acme/installation", token=await api.token("octocat"))).status_code == 401


async def test_installation_token_writes_a_deployment_record_as_the_bot(api: Harness) -> None:
    app = await _world(api)
    installation_id = await install(api, "tracker", "acme")
    response = await api.post(f"/app/installations/{installation_id}/access_tokens", token=app.jwt())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token"].startswith("ghs_")
    assert body["repository_selection"] == "all"
    token = body["token"]
    written = await api.post(
        "/orgs/acme/artifacts/metadata/deployment-record", token=token, json=_record("secret")
    )
    assert written.status_code == 200, written.text
    attested = await api.post(
        "/repos/acme/web/attestations", token=token, json={"bundle": bundle_for([random_digest()])}
    )
    assert attested.status_code == 201, attested.text
    me = await api.get("/user", token=token)
    assert me.json()["login"] == "tracker[bot]"
    assert me.json()["type"] == "Bot"


async def test_a_token_narrowed_to_a_repository_and_a_permission(api: Harness) -> None:
    app = await _world(api)
    installation_id = await install(api, "tracker", "acme")
    token = await installation_token(
        api, app, installation_id, repositories=["web"], permissions={"artifact_metadata": "write"}
    )
    ok = await api.post("/orgs/acme/artifacts/metadata/deployment-record", token=token, json=_record("web"))
    assert ok.status_code == 200, ok.text
    other = await api.post(
        "/orgs/acme/artifacts/metadata/deployment-record", token=token, json=_record("other")
    )
    assert other.status_code == 403
    assert other.json()["message"].startswith("Resource not accessible by integration")
    private = await api.post(
        "/orgs/acme/artifacts/metadata/deployment-record", token=token, json=_record("secret")
    )
    assert private.status_code == 404
    attested = await api.post(
        "/repos/acme/web/attestations", token=token, json={"bundle": bundle_for([random_digest()])}
    )
    assert attested.status_code == 403
    assert (
        attested.json()["message"] == "Resource not accessible by integration (requires attestations:write)."
    )
    listed = await api.get("/installation/repositories", token=token)
    assert listed.status_code == 200
    assert [r["full_name"] for r in listed.json()["repositories"]] == ["acme/web"]
    assert listed.json()["repository_selection"] == "selected"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"permissions": {"administration": "write"}}, "permissions"),
        ({"permissions": {"attestations": "admin"}}, "permissions"),
        ({"repositories": ["nope"]}, "repositories"),
        ({"repository_ids": [987654]}, "repository_ids"),
    ],
)
async def test_a_token_can_only_narrow(api: Harness, body: dict[str, object], field: str) -> None:
    app = await _world(api)
    installation_id = await install(api, "tracker", "acme")
    response = await api.post(
        f"/app/installations/{installation_id}/access_tokens", token=app.jwt(), json=body
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_a_selected_installation_reaches_only_its_repositories(api: Harness) -> None:
    app = await _world(api)
    installation_id = await install(api, "tracker", "acme", ["web"])
    response = await api.post(
        f"/app/installations/{installation_id}/access_tokens",
        token=app.jwt(),
        json={"repositories": ["other"]},
    )
    assert response.status_code == 422
    token = await installation_token(api, app, installation_id)
    listed = await api.get("/installation/repositories", token=token)
    assert listed.json()["total_count"] == 1
    assert (await api.get("/repos/acme/secret/installation", token=app.jwt())).status_code == 404


async def test_revoking_suspending_and_uninstalling_take_effect_at_once(api: Harness) -> None:
    app = await _world(api)
    installation_id = await install(api, "tracker", "acme")
    token = await installation_token(api, app, installation_id)
    assert (await api.get("/installation/repositories", token=token)).status_code == 200
    assert (await api.delete("/installation/token", token=token)).status_code == 204
    assert (await api.get("/installation/repositories", token=token)).status_code == 401

    token = await installation_token(api, app, installation_id)
    assert (await api.get("/installation/repositories", token=token)).status_code == 200
    suspended = await api.request("PUT", f"/app/installations/{installation_id}/suspended", token=app.jwt())
    assert suspended.status_code == 204
    assert (await api.get("/installation/repositories", token=token)).status_code == 401
    refused = await api.post(f"/app/installations/{installation_id}/access_tokens", token=app.jwt())
    assert refused.status_code == 403
    assert refused.json()["message"] == "This installation has been suspended"
    assert (await api.get(f"/app/installations/{installation_id}", token=app.jwt())).json()["suspended_at"]
    await api.delete(f"/app/installations/{installation_id}/suspended", token=app.jwt())

    token = await installation_token(api, app, installation_id)
    assert (await api.delete(f"/app/installations/{installation_id}", token=app.jwt())).status_code == 204
    assert (await api.get("/installation/repositories", token=token)).status_code == 401
    assert (await api.get(f"/app/installations/{installation_id}", token=app.jwt())).status_code == 404


async def test_another_apps_installation_is_not_found(api: Harness) -> None:
    await _world(api)
    installation_id = await install(api, "tracker", "acme")
    other = await register(api, "other-app", "acme")
    response = await api.post(f"/app/installations/{installation_id}/access_tokens", token=other.jwt())
    assert response.status_code == 404


async def test_installation_routes_refuse_a_personal_token(api: Harness) -> None:
    await _world(api)
    token = await api.token("octocat")
    assert (await api.get("/installation/repositories", token=token)).status_code == 403
    assert (await api.delete("/installation/token", token=token)).status_code == 403


async def test_site_administrators_register_and_install_over_http(api: Harness) -> None:
    await _world(api)
    await api.user("root", site_admin=True)
    admin = await api.token("root", "site_admin")
    created = await api.post(
        "/waybill/apps",
        token=admin,
        json={"slug": "ci-bot", "owner": "acme", "permissions": {"contents": "read"}},
    )
    assert created.status_code == 201, created.text
    assert created.json()["pem"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    installed = await api.post("/waybill/apps/ci-bot/installations", token=admin, json={"account": "acme"})
    assert installed.status_code == 201, installed.text
    assert installed.json()["app_slug"] == "ci-bot"
    taken = await api.post(
        "/waybill/apps", token=admin, json={"slug": "ci-bot", "owner": "acme", "permissions": {}}
    )
    assert taken.status_code == 422
    assert taken.json()["errors"][0]["field"] == "slug"
    not_admin = await api.post(
        "/waybill/apps",
        token=await api.token("octocat"),
        json={"slug": "x", "owner": "acme", "permissions": {}},
    )
    assert not_admin.status_code == 404


async def test_suspension_by_another_process_is_honoured_on_the_next_request(
    settings: Settings, backend: str
) -> None:
    """``waybill apps suspend`` in a process of its own; this server, which cached the installation
    token for a minute, refuses it on its very next request."""
    async with running(replace(settings, token_cache_seconds=60), backend) as api:
        app = await _world(api)
        installation_id = await install(api, "tracker", "acme")
        token = await installation_token(api, app, installation_id)
        assert (await api.get("/installation/repositories", token=token)).status_code == 200
        env = {"WAYBILL_DATA_DIR": str(settings.data_dir), "WAYBILL_DATABASE_URL": settings.database_url}
        suspend = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from waybill.cli.main import main; main()",
            *("apps", "suspend", "tracker", "acme"),
            env={**os.environ, **env},
            stdout=asyncio.subprocess.DEVNULL,
        )
        assert await suspend.wait() == 0
        await asyncio.sleep(0)  # PostgreSQL's notification arrives through the event loop
        assert (await api.get("/installation/repositories", token=token)).status_code == 401
