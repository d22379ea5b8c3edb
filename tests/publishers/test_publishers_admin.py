"""Binding publishers: over HTTP by a repository's administrators, and on the command line; trusting
issuers on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from testkit.oidc import running_issuer

from tests.harness import Harness
from waybill.cli.main import main
from waybill.config import Settings
from waybill.publishers import service as publishers

ISSUER = "https://token.actions.githubusercontent.com"


async def _world(api: Harness) -> None:
    await api.user("octocat")
    await api.user("mallory")
    await api.org("acme", owner="octocat")
    await api.repo("acme/web")
    await api.tx(lambda c: publishers.add_issuer(c, ISSUER))


BINDING = {
    "issuer": ISSUER,
    "claims": {"repository": "acme/web", "repository_id": "74"},
    "workflow": ".github/workflows/release.yml@refs/heads/main",
    "environment": "prod",
    "permissions": {"attestations": "write"},
}


async def test_an_administrator_binds_lists_and_removes(api: Harness) -> None:
    await _world(api)
    token = await api.token("octocat")
    created = await api.post("/waybill/repos/acme/web/publishers", token=token, json=BINDING)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["repository"], body["issuer"], body["claims"], body["environment"]) == (
        "acme/web",
        ISSUER,
        BINDING["claims"],
        "prod",
    )
    listed = await api.get("/waybill/repos/acme/web/publishers", token=token)
    assert [p["id"] for p in listed.json()] == [body["id"]]
    removed = await api.delete(f"/waybill/repos/acme/web/publishers/{body['id']}", token=token)
    assert removed.status_code == 204
    assert (await api.get("/waybill/repos/acme/web/publishers", token=token)).json() == []


async def test_others_cannot_see_or_bind(api: Harness) -> None:
    await _world(api)
    outsider = await api.token("mallory")
    response = await api.post("/waybill/repos/acme/web/publishers", token=outsider, json=BINDING)
    assert response.status_code == 403
    assert (await api.post("/waybill/repos/acme/web/publishers", json=BINDING)).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"issuer": "https://untrusted.example"}, "issuer"),
        ({"claims": {}}, "claims"),
        ({"workflow": "release.yml"}, "workflow"),
        ({"permissions": {"issues": "write"}}, "permissions"),
        ({"permissions": {"attestations": "admin"}}, "permissions"),
    ],
)
async def test_bad_bindings_name_the_field(api: Harness, change: dict[str, object], field: str) -> None:
    await _world(api)
    token = await api.token("octocat")
    response = await api.post("/waybill/repos/acme/web/publishers", token=token, json={**BINDING, **change})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


@pytest.fixture
def waybill(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WAYBILL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("WAYBILL_DATABASE_URL", settings.database_url)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_cli_trusts_issuers_and_binds_publishers(waybill, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    waybill("users", "create", "octocat")
    waybill("orgs", "create", "acme", "--owner", "octocat")
    waybill("repos", "create", "acme/web")
    assert waybill("oidc", "issuers", "add", ISSUER).output == (
        f"trusted issuer {ISSUER} (keys fetched through its discovery document)\n"
    )
    with running_issuer() as local:
        jwks = tmp_path / "jwks.json"
        jwks.write_text(json.dumps(local.jwks()))
        pinned = waybill("oidc", "issuers", "add", local.url, "--jwks-file", str(jwks))
        assert pinned.output == f"trusted issuer {local.url} (keys pinned from the file)\n"
    assert waybill("oidc", "issuers", "list").output == f"{ISSUER}\tdiscovered\n{local.url}\tpinned\n"
    added = waybill(
        "publishers", "add", "acme/web", "--issuer", ISSUER,
        "--claim", "repository=acme/web", "--workflow", ".github/workflows/release.yml@refs/heads/main",
        "--environment", "prod",
        "--permission", "attestations:write", "--permission", "artifact_metadata:write",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith(f"publisher 1: {ISSUER} repository=acme/web workflow=")
    assert "hint: bind an immutable id as well" in added.stderr
    bound = waybill(
        "publishers", "add", "acme/web", "--issuer", ISSUER, "--claim", "repository_id=74",
        "--permission", "attestations:write",
    )  # fmt: skip
    assert "hint" not in bound.stderr
    assert len(waybill("publishers", "list", "acme/web").output.splitlines()) == 2
    assert waybill("publishers", "remove", "acme/web", "1").output == "publisher 1 removed from acme/web\n"
    unknown = waybill(
        "publishers",
        "add",
        "acme/web",
        "--issuer",
        "https://gitlab.example",
        "--claim",
        "a=b",
        "--permission",
        "attestations:write",
    )
    assert unknown.exit_code == 1
    assert "issuer not trusted: https://gitlab.example" in unknown.stderr
    bad = waybill("oidc", "issuers", "add", "http://gitlab.example")
    assert (bad.exit_code, bad.stderr) == (
        1,
        "waybill: issuer must be an https:// URL: http://gitlab.example\n",
    )
