"""Permissions as GitHub documents them for code scanning: write access to the repository; classic
tokens with ``security_events`` or ``repo`` (``public_repo`` for public repositories); fine-grained
tokens with ``security_events`` read to read and write to upload, update and delete. What the
caller may not see answers 404."""

from __future__ import annotations

import pytest
from testkit import sarifs

from tests.codescanning.conftest import Org

WEB = "/repos/acme/web/code-scanning"
SECRET = "/repos/acme/secret/code-scanning"


async def test_who_may_upload(org: Org) -> None:
    body = sarifs.upload(sarifs.real("bandit"))
    assert (await org.upload(body, token=org.dave)).status_code == 202
    r = await org.upload(body, token=org.bob)
    assert (r.status_code, r.json()["message"]) == (403, "Must have write access to repository acme/web.")
    assert (await org.upload(body, token=org.carol)).status_code == 403
    assert (await org.upload(body, repo="secret", token=org.carol)).status_code == 404
    r = await org.api.post(f"{WEB}/sarifs", json=body)
    assert r.status_code == 401


async def test_classic_scopes(org: Org) -> None:
    await org.uploaded(sarifs.upload(sarifs.real("bandit")))
    await org.uploaded(sarifs.upload(sarifs.real("bandit")), repo="secret")
    for scopes, public, private in [
        ("security_events", 200, 200),
        ("repo", 200, 200),
        ("public_repo", 200, 404),
        ("read:org", 403, 404),
    ]:
        token = await org.api.token("alice", scopes)
        got = (
            (await org.api.get(f"{WEB}/alerts", token=token)).status_code,
            (await org.api.get(f"{SECRET}/alerts", token=token)).status_code,
        )
        assert got == (public, private), scopes
    token = await org.api.token("alice", "read:org")
    r = await org.api.get(f"{WEB}/analyses", token=token)
    assert r.json()["message"] == (
        "Resource not accessible by personal access token (requires the security_events scope)."
    )


@pytest.mark.parametrize(("level", "read", "write"), [("read", 200, 403), ("write", 200, 202)])
async def test_fine_grained_security_events(org: Org, level: str, read: int, write: int) -> None:
    await org.uploaded(sarifs.upload(sarifs.real("bandit")))
    token = await org.api.fine_grained("alice", owner="acme", permissions={"security_events": level})
    assert (await org.api.get(f"{WEB}/alerts/1", token=token)).status_code == read
    assert (await org.api.get(f"{WEB}/analyses", token=token)).status_code == read
    r = await org.upload(sarifs.upload(sarifs.real("bandit")), token=token)
    assert r.status_code == write, r.text
    if write == 403:
        assert r.json()["message"] == (
            "Resource not accessible by personal access token (requires security_events:write)."
        )
    other = await org.api.fine_grained("alice", owner="acme", permissions={"vulnerability_alerts": "write"})
    assert (await org.api.get(f"{WEB}/alerts", token=other)).status_code == 403


async def test_fine_grained_token_for_other_repositories_does_not_see_the_private_one(org: Org) -> None:
    await org.uploaded(sarifs.upload(sarifs.real("bandit")), repo="secret")
    token = await org.api.fine_grained(
        "alice", owner="acme", permissions={"security_events": "read"}, repositories=["web"]
    )
    assert (await org.api.get(f"{SECRET}/alerts", token=token)).status_code == 404
    assert (await org.api.get(f"{WEB}/alerts", token=token)).status_code == 200


async def test_organization_list_needs_an_owner(org: Org) -> None:
    await org.uploaded(sarifs.upload(sarifs.real("bandit")))
    assert (await org.api.get("/orgs/acme/code-scanning/alerts", token=org.alice)).status_code == 200
    assert (await org.api.get("/orgs/acme/code-scanning/alerts", token=org.bob)).status_code == 403
    assert (await org.api.get("/orgs/acme/code-scanning/alerts", token=org.carol)).status_code == 404
    assert (await org.api.get("/orgs/nobody/code-scanning/alerts", token=org.alice)).status_code == 404
