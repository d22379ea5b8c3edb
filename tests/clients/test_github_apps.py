"""GitHub Apps through real clients, unchanged, against ``waybill serve``: githubkit's app strategies,
``@octokit/auth-app`` with Octokit, and the request sequence of deployment-tracker's GitHub App mode.
Each acts as the seeded app (installed on the organization) and writes a deployment record and an
attestation with its installation token."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import jwt
import pytest
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy

from tests.attestations.bundles import bundle_for, random_digest
from tests.clients.node import run_script
from tests.live import LiveServer

pytestmark = pytest.mark.xdist_group("test_github_apps")

# What each client does as the app or its installation (the compatibility table's app column).
_AS_APP = {
    "apps/get-authenticated",
    "apps/get-org-installation",
    "apps/create-installation-access-token",
    "orgs/create-artifact-deployment-record",
    "repos/create-attestation",
    "apps/list-repos-accessible-to-installation",
}
OPERATIONS = {
    "githubkit": _AS_APP,
    "@octokit/auth-app": _AS_APP,
    "deployment-tracker": {"apps/create-installation-access-token", "orgs/create-artifact-deployment-record"},
}


def _record(s: LiveServer, digest: str) -> dict[str, Any]:
    return {
        "name": "web-image",
        "digest": digest,
        "status": "deployed",
        "logical_environment": "prod",
        "physical_environment": "eu-west",
        "cluster": "moda-1",
        "deployment_name": "tracker/web/app",
        "github_repository": s.world.private_repo,
    }


def test_githubkit_app_then_installation_strategy(server: LiveServer) -> None:
    app = server.world.seeded_app
    base = server.api_v3 + "/"
    # A cache of its own: githubkit's default one is per process, and each backend's server issues
    # its own tokens to an app and installation of the same ids.
    auth = AppAuthStrategy(app.id, app.private_key)
    with GitHub(auth, base_url=base, http_cache=False, cache_strategy=MemCacheStrategy()) as as_app:
        assert as_app.rest.apps.get_authenticated().parsed_data.slug == app.slug
        installation = as_app.rest.apps.get_org_installation(server.world.org).parsed_data
        assert installation.id == app.org_installation_id
        with as_app.with_auth(as_app.auth.as_installation(installation.id)) as as_installation:
            digest = random_digest()
            records = as_installation.rest.orgs.create_artifact_deployment_record(
                server.world.org, data=_record(server, digest)
            ).parsed_data
            assert [r.digest for r in records.deployment_records] == [digest]
            created = as_installation.rest.repos.create_attestation(
                server.world.org, server.world.public_repo, bundle=bundle_for([random_digest()])
            ).parsed_data
            assert created.id > 0
            listed = as_installation.rest.apps.list_repos_accessible_to_installation().parsed_data
            assert f"{server.world.org}/{server.world.private_repo}" in [
                r.full_name for r in listed.repositories
            ]


@pytest.mark.usefixtures("js_clients")
def test_octokit_auth_app(server: LiveServer) -> None:
    app = server.world.seeded_app
    digest = random_digest()
    result = run_script(
        "app-auth.mjs",
        {
            "baseUrl": server.api_v3,
            "appId": app.id,
            "privateKey": app.private_key,
            "org": server.world.org,
            "owner": server.world.org,
            "repo": server.world.public_repo,
            "record": _record(server, digest),
            "bundle": bundle_for([random_digest()]),
        },
    )
    assert result["app"] == app.slug
    assert result["installation"] == app.org_installation_id
    assert result["record"] == {"status": 200, "digest": digest}
    assert result["attestation"]["status"] == 201
    assert f"{server.world.org}/{server.world.private_repo}" in result["repositories"]


def _go_app_jwt(app_id: int, private_key: str) -> str:
    """The JWT of the Go client deployment-tracker authenticates with (ghinstallation): back-dated
    30 s, valid two minutes, ``iss`` the app id as a string."""
    now = int(time.time()) - 30
    return jwt.encode({"iat": now, "exp": now + 120, "iss": str(app_id)}, private_key, algorithm="RS256")


def test_deployment_tracker_github_app_sequence(server: LiveServer) -> None:
    """GH_APP_ID, GH_INSTALL_ID and GH_APP_PRIV_KEY: the app's JWT buys an installation token (the
    Go client posts JSON ``null`` when no options narrow it), which posts the record as a Bearer."""
    app = server.world.seeded_app
    with httpx.Client(base_url=server.url, timeout=30) as client:
        exchanged = client.post(
            f"/app/installations/{app.org_installation_id}/access_tokens",
            content=json.dumps(None),
            headers={
                "Authorization": f"Bearer {_go_app_jwt(app.id, app.private_key)}",
                "Accept": "application/vnd.github.v3+json",
                "Content-Type": "application/json",
            },
        )
        assert exchanged.status_code == 201, exchanged.text
        token = exchanged.json()["token"]
        assert token.startswith("ghs_")
        digest = random_digest()
        posted = client.post(
            f"/orgs/{server.world.org}/artifacts/metadata/deployment-record",
            content=json.dumps(_record(server, digest)),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert posted.status_code == 200, posted.text
        assert posted.json()["deployment_records"][0]["digest"] == digest
