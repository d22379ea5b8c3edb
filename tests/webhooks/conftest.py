"""An organization with an owner, a member and repositories, a receiver, and helpers for hooks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.harness import Harness
from tests.webhooks.receiver import Receiver, start

ORG_HOOKS = "/orgs/acme/hooks"
REPO_HOOKS = "/repos/acme/web/hooks"
SECRET = "It's a Secret to Everybody"


@dataclass
class World:
    api: Harness
    owner: str
    member: str
    outsider: str

    async def run_jobs(self) -> int:
        return await self.api.app.worker.run_until_idle()


@pytest.fixture
async def world(api: Harness) -> World:
    await api.user("octocat")
    await api.user("hubot")
    await api.user("mallory")
    await api.org("acme", owner="octocat")
    await api.member("acme", "hubot")
    await api.repo("acme/web")
    await api.repo("acme/api", private=True)
    return World(
        api,
        owner=await api.token("octocat", "repo,admin:org_hook"),
        member=await api.token("hubot", "repo,admin:org_hook,admin:repo_hook"),
        outsider=await api.token("mallory", "repo,admin:org_hook,admin:repo_hook"),
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = start()
    try:
        yield r
    finally:
        r.close()


def hook_body(url: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "web",
        "active": True,
        "events": ["*"],
        "config": {"url": url, "content_type": "json", "secret": SECRET},
    }
    body.update(overrides)
    return body
