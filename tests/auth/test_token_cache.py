"""The principal cache: a token looked up once is reused for a few seconds, yet a revoked or expired
token stops working (at once when revoked in this process, within the cache lifetime from another)."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import event

from tests.harness import Harness, running
from waybill.accounts.types import Account, AccountType
from waybill.auth.cache import PrincipalCache
from waybill.auth.types import Principal
from waybill.cli.main import main
from waybill.config import Settings
from waybill.core import clock


def _token_lookups(api: Harness) -> list[str]:
    """The statements that read the tokens table from now on."""
    seen: list[str] = []

    @event.listens_for(api.db.engine.sync_engine, "before_cursor_execute")
    def _record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if "FROM tokens" in statement:
            seen.append(statement)

    return seen


async def test_a_token_is_looked_up_once_while_cached(api: Harness) -> None:
    await api.user("alice")
    token = await api.token("alice")
    lookups = _token_lookups(api)
    for _ in range(3):
        assert (await api.get("/user", token=token)).status_code == 200
    assert len(lookups) == 1


def _cli_env(settings: Settings) -> dict[str, str]:
    return {"WAYBILL_DATA_DIR": str(settings.data_dir), "WAYBILL_DATABASE_URL": settings.database_url}


async def test_revocation_through_the_cli_is_honoured_at_once(
    api: Harness, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await api.user("alice")
    token = await api.token("alice")
    assert (await api.get("/user", token=token)).status_code == 200
    for name, value in _cli_env(settings).items():
        monkeypatch.setenv(name, value)
    # The command runs its own event loop, so it runs in a thread of this process.
    result = await asyncio.to_thread(CliRunner().invoke, main, ["tokens", "revoke", token])
    assert result.output == "token revoked\n"
    assert (await api.get("/user", token=token)).status_code == 401


async def test_expiry_is_honoured_while_cached(api: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    await api.user("alice")
    token = await api.fine_grained("alice", owner="alice", permissions={}, expires_in_days=1)
    lookups = _token_lookups(api)
    assert (await api.get("/user", token=token)).status_code == 200
    later = clock.now() + timedelta(days=1, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert (await api.get("/user", token=token)).status_code == 401
    assert len(lookups) == 1, "the second request should have been served from the cache"


async def test_revocation_by_another_process_is_honoured_within_the_cache_lifetime(
    settings: Settings, backend: str
) -> None:
    lifetime = 0.5
    async with running(replace(settings, token_cache_seconds=lifetime), backend) as api:
        await api.user("alice")
        token = await api.token("alice")
        assert (await api.get("/user", token=token)).status_code == 200
        revoke = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from waybill.cli.main import main; main()",
            "tokens",
            "revoke",
            token,
            env={**os.environ, **_cli_env(settings)},
        )
        assert await revoke.wait() == 0
        await asyncio.sleep(lifetime)
        assert (await api.get("/user", token=token)).status_code == 401


async def test_without_a_cache_lifetime_every_request_looks_the_token_up(
    settings: Settings, backend: str
) -> None:
    async with running(replace(settings, token_cache_seconds=0), backend) as api:
        await api.user("alice")
        token = await api.token("alice")
        lookups = _token_lookups(api)
        for _ in range(2):
            assert (await api.get("/user", token=token)).status_code == 200
        assert len(lookups) == 2


# The cache's own rules, without a database.

URL = "sqlite+aiosqlite:///waybill.db"


def _principal(user_id: int) -> Principal:
    when = datetime(2026, 1, 1)
    return Principal(Account(user_id, f"u{user_id}", AccountType.USER, None, None, False, when, when))


@pytest.fixture
def cache() -> PrincipalCache:
    return PrincipalCache(max_entries=2)


def test_entries_serve_only_while_younger_than_max_age(cache: PrincipalCache) -> None:
    cache.put(URL, "h", _principal(1), cache.generation)
    assert cache.get(URL, "h", 60) == _principal(1)
    assert cache.get(URL, "h", 0) is None
    assert cache.get(URL, "h", 60) is None, "an expired entry is dropped"


def test_entries_belong_to_their_database(cache: PrincipalCache) -> None:
    cache.put(URL, "h", _principal(1), cache.generation)
    assert cache.get("postgresql+asyncpg://db/other", "h", 60) is None


def test_the_oldest_entry_makes_room(cache: PrincipalCache) -> None:
    for n in (1, 2, 3):
        cache.put(URL, f"h{n}", _principal(n), cache.generation)
    assert [cache.get(URL, f"h{n}", 60) for n in (1, 2, 3)] == [None, _principal(2), _principal(3)]


def test_a_lookup_that_overlapped_a_change_stores_nothing(cache: PrincipalCache) -> None:
    cache.put(URL, "h", _principal(1), cache.generation)
    before = cache.generation
    connection_info: dict[str, object] = {}
    cache.change_started(connection_info)
    assert cache.get(URL, "h", 60) is None, "a change empties the cache"
    # Read while the change was uncommitted: maybe the old row.
    cache.put(URL, "h", _principal(1), cache.generation)
    assert cache.get(URL, "h", 60) is None
    cache.change_ended(connection_info)
    # Begun before the change ended: refused too.
    cache.put(URL, "h", _principal(1), before)
    assert cache.get(URL, "h", 60) is None
    cache.put(URL, "h", _principal(1), cache.generation)
    assert cache.get(URL, "h", 60) == _principal(1)
