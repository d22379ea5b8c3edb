"""What immediate revocation costs a read, and how many token exchanges a process serves, in process.

    python -m bench.auth_cost [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Reads: CPU time per request for the token check (``GET /user``) and a hot read (deployment records by
digest), each three ways: the principal cache as it is (every hit compares its database's change
signal: eight mapped bytes on SQLite, a counter its NOTIFY listener bumps on PostgreSQL); the cache
without that comparison (what a per-process cache alone costs, which cannot see another process's
revocation); and no cache at all (a token lookup per request).

Exchanges: a CI job's OIDC token for a trusted publisher's token (``POST /waybill/oidc/token``,
signed by a test issuer whose keys are pinned, so that nothing is fetched), and an app's JWT for an
installation token (``POST /app/installations/{id}/access_tokens``); each one a write. Wall time,
one request at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import replace
from typing import Any

from asgi_lifespan import LifespanManager
from testkit.apps import app_jwt, app_private_key
from testkit.database import truncate_all
from testkit.oidc import Issuer, SigningKey

from bench.request_cost import DIGEST, call, provision
from bench.scratch import scratch_settings
from waybill.accounts import service as accounts
from waybill.app import create_app
from waybill.apps import keys
from waybill.apps import service as apps
from waybill.auth.cache import PRINCIPALS
from waybill.auth.signals import Signal
from waybill.config import Settings
from waybill.publishers import service as publishers


class _Constant(Signal):
    def version(self) -> int | None:
        return 0


_CONSTANT = _Constant()


def _constant_of(_database: object) -> Signal:
    return _CONSTANT


async def _cpu_per_request(app: Any, path: str, headers: dict[str, str], requests: int) -> float:
    for _ in range(50):
        assert await call(app, "GET", path, headers) == 200
    start = time.process_time()
    for _ in range(requests):
        await call(app, "GET", path, headers)
    return 1000 * (time.process_time() - start) / requests


def _hit_cost(compare: bool = True) -> float:
    """Microseconds one cache hit takes outside any request, the signal compared or not."""
    import tempfile

    from sqlalchemy.engine import make_url

    from waybill.accounts.types import Account, AccountType
    from waybill.auth.cache import PrincipalCache
    from waybill.auth.types import Principal
    from waybill.core import clock

    with tempfile.TemporaryDirectory() as tmp:
        url = make_url(f"sqlite+aiosqlite:///{tmp}/waybill.db")
        cache = PrincipalCache()
        if not compare:
            cache.signals.of = _constant_of  # type: ignore[method-assign,assignment]
        now = clock.now()
        cache.put(
            url,
            "h",
            Principal(Account(1, "u", AccountType.USER, None, None, False, now, now)),
            cache.stamp(url),
        )
        rounds = 100_000
        start = time.perf_counter()
        for _ in range(rounds):
            cache.get(url, "h", 60)
        return 1e6 * (time.perf_counter() - start) / rounds


async def reads(settings: Settings, requests: int) -> None:
    cases = {"token check (GET /user)": "/user", "deployment records by digest": None}
    results: dict[str, dict[str, float]] = {}
    # Each mode twice, interleaved, keeping the lower figure: the first app of a process pays for
    # warming what later ones reuse.
    for mode in ("signal", "per-process only", "no cache") * 2:
        run_settings = replace(settings, token_cache_seconds=0) if mode == "no cache" else settings
        app = create_app(run_settings)
        async with LifespanManager(app):
            headers = await provision(app)
            original = PRINCIPALS.signals.of
            if mode == "per-process only":
                PRINCIPALS.signals.of = _constant_of  # type: ignore[method-assign,assignment]
            try:
                for label, path in cases.items():
                    target = path or f"/orgs/bench/artifacts/{DIGEST}/metadata/deployment-records"
                    cpu = await _cpu_per_request(app, target, headers, requests)
                    by_mode = results.setdefault(label, {})
                    by_mode[mode] = min(cpu, by_mode.get(mode, cpu))
            finally:
                PRINCIPALS.signals.of = original  # type: ignore[method-assign]
        await _clear(settings)
    print(f"{'read':<30} {'signal':>10} {'per-process':>12} {'no cache':>10}  cpu ms/req; signal cost")
    with_signal, without = _hit_cost(), _hit_cost(False)
    print(f"one cache hit alone: {with_signal:.2f} us with the signal compared, {without:.2f} us without")
    for label, by_mode in results.items():
        cost = 1000 * (by_mode["signal"] - by_mode["per-process only"])
        print(
            f"{label:<30} {by_mode['signal']:>10.3f} {by_mode['per-process only']:>12.3f} "
            f"{by_mode['no cache']:>10.3f}  {cost:+.1f} us"
        )


async def _clear(settings: Settings) -> None:
    """Each mode provisions the same names: start again from an empty database."""
    if settings.database_url:
        await asyncio.to_thread(truncate_all, settings.database_url)
    else:
        (settings.data_dir / "waybill.db").unlink()
        from waybill.core.migrate import upgrade

        await asyncio.to_thread(upgrade, settings)


async def exchanges(settings: Settings, count: int) -> None:
    issuer = Issuer(url="https://token.actions.githubusercontent.com", keys=[SigningKey("bench")])
    audience = "https://waybill.example"
    app = create_app(replace(settings, oidc_audience=audience))
    async with LifespanManager(app):
        async with app.db.write() as conn:
            await accounts.create_user(conn, "owner")
            await accounts.create_org(conn, "acme", "owner")
            repo = await accounts.create_repository(conn, await accounts.get_account(conn, "acme"), "web")
            await publishers.add_issuer(conn, issuer.url, issuer.jwks())
            await publishers.add_publisher(
                conn,
                repo,
                issuer_url=issuer.url,
                claims={"repository": "acme/web", "repository_id": "74"},
                workflow=None,
                environment=None,
                permissions={"attestations": "write"},
            )
            private = app_private_key()
            created = await apps.create_app(
                conn,
                "bench-app",
                owner="acme",
                permissions={"contents": "read"},
                public_key=keys.parse_public(private),
            )
            installation = await apps.install(conn, "bench-app", "acme", None)
        oidc_bodies = [
            json.dumps({"token": issuer.sign(issuer.github_actions(audience))}).encode() for _ in range(count)
        ]
        json_headers = {"Content-Type": "application/json"}
        start = time.perf_counter()
        for body in oidc_bodies:
            assert await call(app, "POST", "/waybill/oidc/token", json_headers, body) == 201
        oidc_rate = count / (time.perf_counter() - start)
        app_headers = {**json_headers, "Authorization": f"Bearer {app_jwt(created.app.id, private)}"}
        path = f"/app/installations/{installation.id}/access_tokens"
        start = time.perf_counter()
        for _ in range(count):
            assert await call(app, "POST", path, app_headers) == 201
        app_rate = count / (time.perf_counter() - start)
    print(f"OIDC token exchanges: {oidc_rate:.0f}/s; installation tokens: {app_rate:.0f}/s (one at a time)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="PostgreSQL server to make a scratch database on")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--exchanges", type=int, default=300)
    args = parser.parse_args()
    with scratch_settings(args.database_url) as settings:
        asyncio.run(reads(settings, args.requests))
        asyncio.run(exchanges(settings, args.exchanges))


if __name__ == "__main__":
    main()
