"""Token kinds, schemes, revocation and expiry, seen through the API; tokens are never kept in clear."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.harness import Harness
from waybill.auth import tokens
from waybill.auth.models import tokens as tokens_table
from waybill.core import clock

BAD_CREDENTIALS = {
    "message": "Bad credentials",
    "documentation_url": "https://docs.github.com/rest",
    "status": "401",
}


async def test_classic_and_fine_grained_tokens_have_their_prefixes(api: Harness) -> None:
    await api.user("alice")
    classic = await api.token("alice", "repo,read:org")
    fine = await api.fine_grained("alice", owner="alice", permissions={"contents": "read"})
    assert classic.startswith("wbp_")
    assert fine.startswith("wbpat_")
    for token in (classic, fine):
        me = await api.get("/user", token=token)
        assert me.status_code == 200
        assert me.json()["login"] == "alice"


@pytest.mark.parametrize("scheme", ["Bearer", "token", "bearer"])
async def test_authorization_schemes(api: Harness, scheme: str) -> None:
    await api.user("alice")
    token = await api.token("alice")
    response = await api.get("/user", headers={"Authorization": f"{scheme} {token}"})
    assert response.status_code == 200


async def test_basic_authentication_with_the_token_as_password(api: Harness) -> None:
    await api.user("alice")
    token = await api.token("alice")
    basic = base64.b64encode(f"alice:{token}".encode()).decode()
    assert (await api.get("/user", headers={"Authorization": f"Basic {basic}"})).status_code == 200


@pytest.mark.parametrize("header", ["Bearer wbp_unknown", "Digest abc", "Bearer", "Basic !!!"])
async def test_bad_credentials(api: Harness, header: str) -> None:
    response = await api.get("/user", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS


async def test_revoked_token_stops_working(api: Harness) -> None:
    await api.user("alice")
    token = await api.token("alice")
    assert (await api.get("/user", token=token)).status_code == 200
    await api.tx(lambda c: tokens.revoke(c, token))
    response = await api.get("/user", token=token)
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS


async def test_expired_token_stops_working(api: Harness) -> None:
    await api.user("alice")
    token = await api.fine_grained("alice", owner="alice", permissions={}, expires_in_days=1)
    assert (await api.get("/user", token=token)).status_code == 200

    async def expire(conn):  # type: ignore[no-untyped-def]
        await conn.execute(update(tokens_table).values(expires_at=clock.now() - timedelta(seconds=1)))

    await api.tx(expire)
    assert (await api.get("/user", token=token)).json() == BAD_CREDENTIALS


async def test_tokens_are_stored_only_as_hashes_and_never_logged(
    api: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await api.user("alice")
    token = await api.token("alice")
    await api.get("/user", token=token)
    await api.get("/repos/alice/none", token=token)

    async def stored(conn):  # type: ignore[no-untyped-def]
        return (await conn.execute(select(tokens_table))).mappings().all()

    [row] = await api.tx(stored)
    assert token not in repr(dict(row))
    assert row["token_hash"] == tokens.digest(token)
    assert row["hint"] == token[-4:]
    assert token not in caplog.text
