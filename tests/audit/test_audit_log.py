"""``GET /waybill/orgs/{org}/audit-log``: every write appears with its actor and request id, the
filters and cursor pages, owners only, and the retention job."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select, update

from tests.apps.helpers import install, installation_token, register
from tests.artifacts.conftest import RECORD, STORAGE, digest, record_body
from tests.dependencies.helpers import SHA_A
from tests.dependencies.test_import_stream import document
from tests.harness import Harness
from tests.webhooks.conftest import ORG_HOOKS, hook_body
from tests.webhooks.receiver import Receiver, start
from waybill.audit import jobs as audit_jobs
from waybill.auth import tokens
from waybill.cli.main import main
from waybill.config import Settings
from waybill.core import clock
from waybill.core.audit import audit_log
from waybill.webhooks.models import deliveries

LOG = "/waybill/orgs/acme/audit-log"
STORED = {
    "name": "image",
    "digest": digest("stored"),
    "version": "1.0",
    "registry_url": "https://registry.example.com",
    "repository": "acme/image",
    "github_repository": "web",
    "status": "active",
}


@pytest.fixture
async def owner(api: Harness) -> str:
    await api.user("octocat")
    await api.user("hubot")
    await api.user("mallory")
    await api.org("acme", owner="octocat")
    await api.member("acme", "hubot")
    await api.repo("acme/web")
    await api.repo("acme/api")
    token = await api.token("octocat", "repo,read:audit_log,admin:org_hook,admin:org")
    # The log starts empty: the setup's own entries are the next test's.
    await api.tx(lambda conn: conn.execute(delete(audit_log)))
    return token


async def test_the_setup_appears(api: Harness) -> None:
    await api.user("octocat")
    await api.org("acme", owner="octocat")
    await api.repo("acme/web")
    token = await api.token("octocat", "read:audit_log")
    entries = (await _log(api, token)).json()
    assert [(e["action"], e["target"]) for e in entries] == [
        ("repository.created", "acme/web"),
        ("organization.created", "acme"),
    ]


async def test_writes_beyond_the_supply_chain_appear(api: Harness, owner: str) -> None:
    """Accounts, tokens, apps, trusted publishers, policies and code scanning."""
    created = await api.post("/orgs/acme/repos", token=owner, json={"name": "docs"})
    assert created.status_code == 201, created.text
    await api.tx(
        lambda c: tokens.create_fine_grained(
            c, "octocat", resource_owner="acme", repositories=None, permissions={}, expires_in_days=None
        )
    )
    app = await register(api, "tracker", "acme")
    await installation_token(api, app, await install(api, "tracker", "acme"))
    await api.user("root", site_admin=True)
    # The verification policy is the operator's.
    root = await api.token("root", "site_admin,repo")
    for path, body, token in (
        ("/waybill/orgs/acme/attestation-policy", {"mode": "enforce"}, root),
        ("/waybill/orgs/acme/admission-policy", {"environments": {}}, owner),
    ):
        put = await api.request("PUT", path, token=token, json=body)
        assert put.status_code == 200, put.text
    removed = await api.delete("/waybill/orgs/acme/attestation-policy", token=root)
    assert removed.status_code == 200, removed.text
    entries = (await _log(api, owner)).json()
    assert [(e["action"], e["target"]) for e in entries] == [
        ("verification_policy.deleted", "acme"),
        ("admission_policy.replaced", None),
        ("verification_policy.updated", "acme"),
        ("installation_token.created", "tracker"),
        ("installation.created", "tracker"),
        ("app.created", "tracker"),
        ("token.created", "octocat"),
        ("repository.created", "acme/docs"),
    ]
    # The requests' callers (the rest were written here, beside the server).
    actors = {e["action"]: e["actor"] for e in entries}
    assert actors["verification_policy.deleted"] == actors["verification_policy.updated"] == "root"
    assert actors["admission_policy.replaced"] == actors["repository.created"] == "octocat"
    assert actors["installation_token.created"] == "tracker[bot]"


async def _log(api: Harness, token: str, **params: Any) -> httpx.Response:
    response = await api.get(LOG, token=token, params=params)
    assert response.status_code == 200, response.text
    return response


async def test_a_users_writes_appear_with_the_actor_and_request_id(api: Harness, owner: str) -> None:
    record = await api.post(RECORD, token=owner, json=record_body())
    assert record.status_code == 200, record.text
    stored = await api.post(STORAGE, token=owner, json=STORED)
    assert stored.status_code == 200, stored.text
    # Nothing changed: no entry.
    assert (await api.post(RECORD, token=owner, json=record_body())).status_code == 200
    entries = (await _log(api, owner)).json()
    assert [e["action"] for e in entries] == ["storage_record.written", "deployment_record.created"]
    storage, deployment = entries
    assert deployment["actor"] == storage["actor"] == "octocat"
    assert deployment["actor_type"] == "user"
    assert deployment["repo"] == "acme/web"
    assert deployment["target"] == "deployment-pod"
    assert storage["target"] == digest("stored")
    assert deployment["request_id"] == record.headers["x-github-request-id"]
    assert storage["request_id"] == stored.headers["x-github-request-id"]


async def test_an_app_installations_write_names_the_app(api: Harness, owner: str) -> None:
    app = await register(api, "tracker", "acme")
    token = await installation_token(api, app, await install(api, "tracker", "acme"))
    written = await api.post(RECORD, token=token, json=record_body())
    assert written.status_code == 200, written.text
    [entry] = (await _log(api, owner, action="deployment_record")).json()
    assert (entry["actor"], entry["actor_type"]) == ("tracker[bot]", "app")
    assert entry["request_id"] == written.headers["x-github-request-id"]


async def test_a_command_line_write_names_the_operator(
    api: Harness, owner: str, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYBILL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("WAYBILL_DATABASE_URL", settings.database_url)
    path = tmp_path / "bom.cdx.json"
    path.write_bytes(document(3))
    runner = CliRunner()
    # The command runs its own event loop: in a thread, beside this test's.
    result = await asyncio.to_thread(
        runner.invoke, main, ["sbom", "import", "acme/web", str(path), "--sha", SHA_A], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    [entry] = (await _log(api, owner)).json()
    assert entry["action"] == "dependency_snapshot.submitted"
    assert entry["actor_type"] == "cli"
    assert entry["repo"] == "acme/web"
    assert re.fullmatch(r"cli-[0-9a-f-]{36}", entry["request_id"])


async def test_filters(api: Harness, owner: str) -> None:
    member = await api.token("hubot", "repo")
    await api.collaborator("acme/api", "hubot", "write")
    assert (await api.post(RECORD, token=owner, json=record_body())).status_code == 200
    body = record_body(github_repository="api", deployment_name="api-pod")
    assert (await api.post(RECORD, token=member, json=body)).status_code == 200
    assert (await api.post(STORAGE, token=owner, json=STORED)).status_code == 200

    def actions(response: httpx.Response) -> list[str]:
        return [e["action"] + ":" + (e["target"] or "") for e in response.json()]

    assert [e["actor"] for e in (await _log(api, owner, actor="HUBOT")).json()] == ["hubot"]
    assert actions(await _log(api, owner, action="deployment_record")) == [
        "deployment_record.created:api-pod",
        "deployment_record.created:deployment-pod",
    ]
    assert len((await _log(api, owner, action="deployment_record.created")).json()) == 2
    assert (await _log(api, owner, action="deployment_record.dele")).json() == []
    assert actions(await _log(api, owner, repository="api")) == ["deployment_record.created:api-pod"]
    assert len((await _log(api, owner, repository="acme/web")).json()) == 2
    assert (await _log(api, owner, repository="nothing")).json() == []
    now = clock.now()
    assert len((await _log(api, owner, since=clock.iso(now - timedelta(minutes=5)))).json()) == 3
    assert (await _log(api, owner, since=clock.iso(now + timedelta(minutes=5)))).json() == []
    assert (await _log(api, owner, until=clock.iso(now - timedelta(minutes=5)))).json() == []
    bad = await api.get(LOG, token=owner, params={"since": "yesterday"})
    assert bad.status_code == 422
    assert "since" in bad.text


async def test_cursor_pages_with_a_link_header(api: Harness, owner: str) -> None:
    for n in range(5):
        body = record_body(deployment_name=f"pod-{n}")
        assert (await api.post(RECORD, token=owner, json=body)).status_code == 200
    seen: list[str] = []
    url: str | None = f"{LOG}?per_page=2"
    while url is not None:
        response = await api.get(url, token=owner)
        assert response.status_code == 200, response.text
        seen += [e["target"] for e in response.json()]
        found = response.links.get("next")
        url = None if found is None else httpx.URL(found["url"]).raw_path.decode()
    assert seen == [f"pod-{n}" for n in reversed(range(5))]
    first = await api.get(f"{LOG}?per_page=2", token=owner)
    second = await api.get(httpx.URL(first.links["next"]["url"]).raw_path.decode(), token=owner)
    back = await api.get(httpx.URL(second.links["prev"]["url"]).raw_path.decode(), token=owner)
    assert back.json() == first.json()


async def test_only_owners_read_it(api: Harness, owner: str) -> None:
    member = await api.token("hubot", "repo,read:audit_log")
    outsider = await api.token("mallory", "repo,read:audit_log")
    assert (await api.get(LOG, token=member)).status_code == 404
    assert (await api.get(LOG, token=outsider)).status_code == 404
    assert (await api.get(LOG)).status_code == 401
    assert (await api.get("/waybill/orgs/nobody/audit-log", token=owner)).status_code == 404
    unscoped = await api.get(LOG, token=await api.token("octocat", "repo"))
    assert unscoped.status_code == 403
    assert "read:audit_log" in unscoped.json()["message"]


async def _count(api: Harness, table: Any) -> int:
    async with api.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_the_retention_job_prunes_old_entries_and_attempts(api: Harness, owner: str) -> None:
    receiver: Receiver = start()
    try:
        created = await api.post(ORG_HOOKS, token=owner, json=hook_body(receiver.url))
        assert created.status_code == 201, created.text
        assert (await api.post(RECORD, token=owner, json=record_body())).status_code == 200
        assert (await api.post(STORAGE, token=owner, json=STORED)).status_code == 200
        await api.app.worker.run_until_idle()
    finally:
        receiver.close()
    assert await _count(api, deliveries) == 3
    old = clock.now() - timedelta(days=91)

    async def age(conn: Any) -> None:
        first = (await conn.execute(select(func.min(audit_log.c.id)))).scalar_one()
        await conn.execute(update(audit_log).where(audit_log.c.id == first).values(created_at=old))
        await conn.execute(update(deliveries).values(created_at=old, delivered_at=old))

    await api.tx(age)
    entries = await _count(api, audit_log)
    settings = api.app.settings
    result = await audit_jobs.prune(api.db, settings)
    assert result["audit_entries"] == 1
    assert result["delivery_attempts"] == 3
    assert await _count(api, audit_log) == entries - 1
    assert await _count(api, deliveries) == 0
    # The job queues its next run when it runs.
    await audit_jobs.schedule(api.db)
    assert await api.app.worker.run_until_idle() >= 1
    await audit_jobs.schedule(api.db)
    assert await api.app.worker.run_until_idle() == 0


async def test_hook_changes_appear(api: Harness, owner: str) -> None:
    created = await api.post(ORG_HOOKS, token=owner, json=hook_body("http://127.0.0.1:9/"))
    assert created.status_code == 201, created.text
    hook = f"{ORG_HOOKS}/{created.json()['id']}"
    assert (await api.patch(hook, token=owner, json={"active": False})).status_code == 200
    assert (await api.delete(hook, token=owner)).status_code == 204
    entries = (await _log(api, owner, action="hook")).json()
    assert [e["action"] for e in entries] == ["hook.deleted", "hook.updated", "hook.created"]
    assert {e["actor"] for e in entries} == {"octocat"}
    assert entries[0]["request_id"] is not None
