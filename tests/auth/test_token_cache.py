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
from waybill.auth.signals import Signal, Signals
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


async def test_revocation_by_another_process_is_honoured_on_the_next_request(
    settings: Settings, backend: str
) -> None:
    """A process of its own revokes the token; this server, which cached it for a minute, refuses
    it on the very next request (no waiting for the cache to age)."""
    async with running(replace(settings, token_cache_seconds=60), backend) as api:
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
        if backend == "postgresql":
            # The notification reaches this process's listener at commit, through the event loop:
            # one turn of the loop, which any next request of a server takes.
            await asyncio.sleep(0)
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


class _Signal(Signal):
    def __init__(self) -> None:
        self.value: int | None = 0

    def version(self) -> int | None:
        return self.value

    def changed(self) -> None:
        assert self.value is not None
        self.value += 1


class _Signals(Signals):
    def __init__(self) -> None:
        super().__init__()
        self.signal = _Signal()

    def of(self, database: object) -> Signal | None:
        return self.signal


def _principal(user_id: int) -> Principal:
    when = datetime(2026, 1, 1)
    return Principal(Account(user_id, f"u{user_id}", AccountType.USER, None, None, False, when, when))


@pytest.fixture
def cache() -> PrincipalCache:
    return PrincipalCache(max_entries=2, signals=_Signals())


def test_entries_serve_only_while_younger_than_max_age(cache: PrincipalCache) -> None:
    cache.put(URL, "h", _principal(1), cache.stamp(URL))
    assert cache.get(URL, "h", 60) == _principal(1)
    assert cache.get(URL, "h", 0) is None
    assert cache.get(URL, "h", 60) is None, "an expired entry is dropped"


def test_entries_belong_to_their_database(cache: PrincipalCache) -> None:
    cache.put(URL, "h", _principal(1), cache.stamp(URL))
    assert cache.get("postgresql+asyncpg://db/other", "h", 60) is None


def test_the_oldest_entry_makes_room(cache: PrincipalCache) -> None:
    for n in (1, 2, 3):
        cache.put(URL, f"h{n}", _principal(n), cache.stamp(URL))
    assert [cache.get(URL, f"h{n}", 60) for n in (1, 2, 3)] == [None, _principal(2), _principal(3)]


def test_a_lookup_that_overlapped_a_change_stores_nothing(cache: PrincipalCache) -> None:
    cache.put(URL, "h", _principal(1), cache.stamp(URL))
    before = cache.stamp(URL)
    connection_info: dict[str, object] = {}
    cache.change_started(connection_info, URL)
    assert cache.get(URL, "h", 60) is None, "a change empties the cache"
    # Read while the change was uncommitted: maybe the old row.
    cache.put(URL, "h", _principal(1), cache.stamp(URL))
    assert cache.get(URL, "h", 60) is None
    cache.change_ended(connection_info)
    # Begun before the change ended: refused too.
    cache.put(URL, "h", _principal(1), before)
    assert cache.get(URL, "h", 60) is None
    cache.put(URL, "h", _principal(1), cache.stamp(URL))
    assert cache.get(URL, "h", 60) == _principal(1)


def test_a_change_announced_by_another_process_stales_every_entry(cache: PrincipalCache) -> None:
    signals = cache.signals
    assert isinstance(signals, _Signals)
    cache.put(URL, "h", _principal(1), cache.stamp(URL))
    signals.signal.changed()
    assert cache.get(URL, "h", 60) is None


def test_a_lookup_begun_before_another_process_changed_serves_nothing(cache: PrincipalCache) -> None:
    signals = cache.signals
    assert isinstance(signals, _Signals)
    stamp = cache.stamp(URL)
    signals.signal.changed()
    cache.put(URL, "h", _principal(1), stamp)
    assert cache.get(URL, "h", 60) is None


def test_nothing_is_cached_while_changes_could_go_unnoticed(cache: PrincipalCache) -> None:
    signals = cache.signals
    assert isinstance(signals, _Signals)
    signals.signal.value = None
    cache.put(URL, "h", _principal(1), cache.stamp(URL))
    assert cache.get(URL, "h", 60) is None


async def test_behind_a_transaction_pooler_without_a_listen_url_nothing_is_cached(
    settings: Settings, backend: str
) -> None:
    """A transaction pooler does not keep a LISTEN, so revocations could go unheard: every request
    looks its token up, unless a direct URL to listen on is given."""
    if backend != "postgresql":
        pytest.skip("the pool mode is PostgreSQL's")
    pooled = replace(settings, database_pool_mode="transaction", token_cache_seconds=60)
    assert pooled.principal_listen_url is None
    assert (
        replace(pooled, database_listen_url="postgresql://db/x").principal_listen_url == "postgresql://db/x"
    )
    async with running(pooled, backend) as api:
        await api.user("alice")
        token = await api.token("alice")
        lookups = _token_lookups(api)
        for _ in range(2):
            assert (await api.get("/user", token=token)).status_code == 200
        assert len(lookups) == 2
