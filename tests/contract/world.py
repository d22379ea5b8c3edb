"""The data every conformance test names: accounts and tokens provisioned through the services,
then (as the API domains exist) records written through the API itself, so that positive requests
hit real resources."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

import httpx
from testkit import sarifs
from testkit.apps import app_jwt, app_private_key

from tests.advisories.osv_docs import as_file, osv_document
from tests.attestations.bundles import bundle_for, random_digest
from waybill.alerts import service as alerts
from waybill.apps import keys
from waybill.apps import service as apps
from waybill.auth.types import CLASSIC_SCOPES
from waybill.core.jobs import Worker
from waybill.webhooks import jobs as webhooks_jobs


class Provisioner(Protocol):
    async def tx(self, action: Any) -> Any: ...
    async def user(self, login: str, *, site_admin: bool = False) -> Any: ...
    async def org(self, login: str, *, owner: str) -> Any: ...
    async def member(self, org: str, login: str, role: str = "member") -> None: ...
    async def repo(self, full_name: str, *, private: bool = False) -> Any: ...
    async def token(self, login: str, scopes: str = "repo") -> str: ...


class Http(Protocol):
    async def request(
        self, method: str, path: str, *, token: str | None = None, version: str | None = None, **kwargs: Any
    ) -> httpx.Response: ...


ORG = "acme"
OWNER = "octocat"
OUTSIDER = "mallory"
ADMIN = "root"
ADVISORY = osv_document(
    "GHSA-c0nt-ract-0001",
    "npm",
    "left-pad",
    [{"introduced": "0"}, {"fixed": "1.3.1"}],
    aliases=["CVE-2026-0001"],
    published="2026-01-10T00:00:00Z",
    modified="2026-01-11T00:00:00Z",
    severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
    database_specific={"cwe_ids": ["CWE-79"], "github_reviewed": True},
)
EXAMPLE_ADMIN = "monalisaoctocat"
PUBLIC_REPO = "widgets"
PRIVATE_REPO = "secret"
USER_REPO = "hello"
ADMIN_REPO = "tools"
APP = "waybill-ci"
APP_PERMISSIONS = {"artifact_metadata": "write", "attestations": "write", "contents": "read"}


@cache
@dataclass(frozen=True)
class SeededApp:
    """The seeded GitHub App, installed on the organization (all repositories) and on the owner."""

    id: int
    client_id: str
    org_installation_id: int
    user_installation_id: int
    private_key: str
    slug: str = APP

    def jwt(self, lifetime: int = 600) -> str:
        return app_jwt(self.id, self.private_key, lifetime)


@dataclass
class World:
    admin_token: str
    owner_token: str
    outsider_token: str
    org: str = ORG
    owner: str = OWNER
    outsider: str = OUTSIDER
    public_repo: str = PUBLIC_REPO
    private_repo: str = PRIVATE_REPO
    user_repo: str = USER_REPO
    admin: str = ADMIN
    admin_repo: str = ADMIN_REPO
    app: SeededApp | None = None
    # Filled in by the domains' seeds as they land (digests, ids, ...).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def seeded_app(self) -> SeededApp:
        assert self.app is not None
        return self.app


async def seed(provision: Provisioner, http: Http) -> World:
    world = await seed_accounts(provision)
    await seed_records(world, http)
    return world


async def seed_accounts(provision: Provisioner) -> World:
    await provision.user(ADMIN, site_admin=True)
    await provision.user(OWNER)
    await provision.user(OUTSIDER)
    # The user GHES's description names as the admin in its create-organization example.
    await provision.user(EXAMPLE_ADMIN)
    await provision.org(ORG, owner=OWNER)
    await provision.member(ORG, ADMIN, "owner")
    await provision.repo(f"{ORG}/{PUBLIC_REPO}")
    await provision.repo(f"{ORG}/{PRIVATE_REPO}", private=True)
    await provision.repo(f"{OWNER}/{USER_REPO}")
    await provision.repo(f"{ADMIN}/{ADMIN_REPO}")
    await provision.tx(lambda c: alerts.import_advisories(c, [as_file(ADVISORY)]))
    return World(
        app=await seed_app(provision),
        extra={"ghsa_id": ADVISORY["id"]},
        admin_token=await provision.token(ADMIN, ",".join(sorted(CLASSIC_SCOPES))),
        owner_token=await provision.token(OWNER, ",".join(sorted(CLASSIC_SCOPES))),
        outsider_token=await provision.token(OUTSIDER, "repo"),
    )


async def seed_app(provision: Provisioner) -> SeededApp:
    private = app_private_key()
    public = keys.parse_public(private)

    async def register(conn: Any) -> SeededApp:
        created = await apps.create_app(conn, APP, owner=ORG, permissions=APP_PERMISSIONS, public_key=public)
        on_org = await apps.install(conn, APP, ORG, None)
        on_user = await apps.install(conn, APP, OWNER, None)
        return SeededApp(created.app.id, created.app.client_id, on_org.id, on_user.id, private)

    seeded: SeededApp = await provision.tx(register)
    return seeded


async def seed_records(world: World, http: Http) -> None:
    """Records written through the API, for the domains that exist."""
    await _seed_attestations(world, http)
    await _seed_code_scanning(world, http)
    await _seed_hooks(world, http)


async def attest(http: Http, world: World, repo: str, digests: list[str], token: str = "") -> int:
    """A signed test attestation of ``digests`` in ``repo`` (owner/name), written by its owner."""
    response = await http.request(
        "POST",
        f"/repos/{repo}/attestations",
        token=token or world.owner_token,
        json={"bundle": bundle_for(digests)},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _seed_attestations(world: World, http: Http) -> None:
    digest, user_digest = random_digest(), random_digest()
    world.extra["digest"] = digest
    world.extra["attestation_id"] = await attest(http, world, f"{world.org}/{world.public_repo}", [digest])
    await attest(http, world, f"{world.org}/{world.private_repo}", [digest])
    world.extra["user_digest"] = user_digest
    world.extra["user_attestation_id"] = await attest(
        http, world, f"{world.owner}/{world.user_repo}", [user_digest]
    )
    # The fuzzing token is the site administrator's: it finds the seeded digest under its own name too.
    await attest(http, world, f"{world.admin}/{world.admin_repo}", [digest], token=world.admin_token)
    world.extra.setdefault("path_examples", {}).update(
        {
            "subject_digest": digest,
            "attestation_id": world.extra["attestation_id"],
            "ghsa_id": world.extra["ghsa_id"],
            "installation_id": world.seeded_app.org_installation_id,
        }
    )


async def _seed_code_scanning(world: World, http: Http) -> None:
    """Bandit's SARIF uploaded to the public repository. A server with its worker running turns it
    into analysis 1 and alerts from 1; tests run the worker themselves."""
    response = await http.request(
        "POST",
        f"/repos/{world.org}/{world.public_repo}/code-scanning/sarifs",
        token=world.owner_token,
        json=sarifs.upload(sarifs.real("bandit")),
    )
    assert response.status_code == 202, response.text
    world.extra["sarif_id"] = response.json()["id"]
    world.extra.setdefault("path_examples", {}).update(
        {"sarif_id": world.extra["sarif_id"], "analysis_id": 1, "alert_number": 1}
    )


# Where nothing listens: the seeded hooks' deliveries fail to connect, quickly and offline.
HOOK_URL = "http://127.0.0.1:9/hook"


async def run_hook_jobs(http: Http) -> None:
    """In-process, deliver what the hooks queued (nothing else, so that other cases see their jobs
    pending); a live server's own worker runs by itself."""
    app: Any = getattr(http, "app", None)
    if app is not None:
        await Worker(app.db, webhooks_jobs.job_handlers(app.settings)).run_until_idle()


async def attempted_delivery(http: Http, world: World, hooks: str, hook_id: int) -> int:
    """The id of the hook's latest attempted delivery (its ping), waiting for the worker to make it."""
    for _ in range(100):
        await run_hook_jobs(http)
        response = await http.request("GET", f"{hooks}/{hook_id}/deliveries", token=world.owner_token)
        assert response.status_code == 200, response.text
        if response.json():
            return int(response.json()[0]["id"])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no delivery of hook {hook_id} was attempted")


async def create_hook(http: Http, world: World, hooks: str, version: str | None = None) -> int:
    body = {
        "name": "web",
        "events": ["*"],
        "config": {"url": HOOK_URL, "content_type": "json", "secret": "s"},
    }
    response = await http.request("POST", hooks, token=world.owner_token, version=version, json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _seed_hooks(world: World, http: Http) -> None:
    """An organization hook and a repository hook, each with its ping attempted; the fuzzer names the
    repository hook (``hook_id``) and its delivery (``delivery_id``)."""
    org_hooks = f"/orgs/{world.org}/hooks"
    repo_hooks = f"/repos/{world.org}/{world.public_repo}/hooks"
    world.extra["org_hook_id"] = await create_hook(http, world, org_hooks)
    world.extra["repo_hook_id"] = hook_id = await create_hook(http, world, repo_hooks)
    delivery_id = await attempted_delivery(http, world, repo_hooks, hook_id)
    world.extra["org_delivery_id"] = await attempted_delivery(
        http, world, org_hooks, world.extra["org_hook_id"]
    )
    world.extra["repo_delivery_id"] = delivery_id
    world.extra.setdefault("path_examples", {}).update({"hook_id": hook_id, "delivery_id": delivery_id})
