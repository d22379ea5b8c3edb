"""An organization with code scanning: acme (owner alice) has public ``web`` and private ``secret``;
bob is a member (read), dave writes to ``web``, carol is an outsider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.contract import description
from tests.harness import Harness


@dataclass
class Org:
    api: Harness
    alice: str
    bob: str
    carol: str
    dave: str

    async def upload(
        self, body: dict[str, Any], repo: str = "web", token: str | None = None
    ) -> httpx.Response:
        return await self.api.post(
            f"/repos/acme/{repo}/code-scanning/sarifs", token=token or self.alice, json=body
        )

    async def uploaded(self, body: dict[str, Any], repo: str = "web") -> str:
        """Upload and process; the SARIF id."""
        r = await self.upload(body, repo)
        assert r.status_code == 202, r.text
        await self.api.app.worker.run_until_idle()
        return str(r.json()["id"])

    async def alerts(self, repo: str = "web", **params: Any) -> list[dict[str, Any]]:
        r = await self.api.get(f"/repos/acme/{repo}/code-scanning/alerts", token=self.alice, params=params)
        assert r.status_code == 200, r.text
        return list(r.json())


@pytest.fixture
async def org(api: Harness) -> Org:
    for login in ("alice", "bob", "carol", "dave"):
        await api.user(login)
    await api.org("acme", owner="alice")
    await api.member("acme", "bob")
    await api.repo("acme/web")
    await api.repo("acme/secret", private=True)
    await api.collaborator("acme/web", "dave", "write")
    return Org(api, *[await api.token(login) for login in ("alice", "bob", "carol", "dave")])


@pytest.fixture(scope="session")
def official_description() -> None:
    """GitHub's description from the pinned npm package: skipped when it is not installed, except
    under CI=true, where that fails."""
    if not description.installed():
        message = f"{description.GENERATED} is missing: run `make test` (npm ci in tests/clients/js)"
        if description.CI:
            pytest.fail(message)
        pytest.skip(message)
