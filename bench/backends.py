"""The two databases a run measures: a fresh SQLite file and a fresh PostgreSQL database (created and
dropped by the run). Each knows how to point the server at itself, how to provision the bench
accounts, how to bulk-load rows directly, and how to run its raw-write ceiling."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from waybill.config import Settings
from waybill.core.db import SQLITE_PRAGMAS, Database
from waybill.core.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Production settings, except the hourly quotas (per token, and per address for the anonymous no-op
# ceiling), which a load test exhausts in a second: the limiter stays on (its cost is part of every
# figure) with quotas no run reaches.
RATE_LIMIT_NO_QUOTA = str(10**9)


@dataclass(frozen=True)
class Fixture:
    """What the provisioning made: the names the scenarios use and the token they send."""

    org: str
    org_id: int
    repo: str
    repo_id: int
    user: str
    token: str


def percentiles_ms(latencies_s: Sequence[float]) -> tuple[float, float]:
    if not latencies_s:
        return 0.0, 0.0
    ordered = sorted(latencies_s)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return round(p50 * 1000, 3), round(p99 * 1000, 3)


class Backend:
    name: str
    workdir: Path
    # The minimal same-stack app (bench.minimal_<minimal_app>) and its process count beside Waybill's.
    minimal_app: str

    def minimal_workers(self, workers: int) -> int:
        return workers

    def minimal_config(self, fixture: Fixture) -> dict[str, Any]:
        """What the minimal app holds in memory: the database, the token and the bench's ids."""
        return {
            "database": self.minimal_database,
            "tokens": [fixture.token],
            "orgs": {fixture.org: fixture.org_id},
            "repos": {f"{fixture.org}/{fixture.repo}": fixture.repo_id},
        }

    @property
    def minimal_database(self) -> str:
        return self.database_url

    def server_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAYBILL_")}
        env.update(
            WAYBILL_DATA_DIR=str(self.workdir / "data"),
            WAYBILL_DATABASE_URL=self.database_url,
            WAYBILL_RATE_LIMIT_AUTHENTICATED=RATE_LIMIT_NO_QUOTA,
            WAYBILL_RATE_LIMIT_ANONYMOUS=RATE_LIMIT_NO_QUOTA,
            # Every load generator connects from 127.0.0.1, the fleet with thousands of connections.
            WAYBILL_MAX_CONNECTIONS_PER_ADDRESS="0",
        )
        return env

    @property
    def database_url(self) -> str:
        raise NotImplementedError

    def settings(self) -> Settings:
        return Settings(data_dir=self.workdir / "data", database_url=self.database_url, run_worker=False)

    def create(self) -> None:
        raise NotImplementedError

    def drop(self) -> None:
        raise NotImplementedError

    def durability(self) -> dict[str, str]:
        raise NotImplementedError

    def provision(self) -> Fixture:
        """Schema, then one organization with a repository and a writer's classic token."""
        settings = self.settings()
        upgrade(settings)
        return asyncio.run(_provision(settings.resolved_database_url))

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        raise NotImplementedError

    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def scalar(self, sql: str) -> Any:
        raise NotImplementedError

    def raw_write(
        self, scenario_key: str, variables: Mapping[str, Any], connections: int, seconds: float
    ) -> dict[str, Any]:
        raise NotImplementedError


async def _provision(url: str) -> Fixture:
    from waybill.accounts import service as accounts
    from waybill.auth import tokens

    db = Database(url)
    try:
        async with db.write() as conn:
            user = await accounts.create_user(conn, "bench-bot")
            org = await accounts.create_org(conn, "bench", user.login)
            repo = await accounts.create_repository(conn, org, "app", private=False)
            token = await tokens.create_classic(conn, user.login, ["repo", "read:org", "write:org"])
    finally:
        await db.dispose()
    return Fixture(
        org=org.login, org_id=org.id, repo=repo.name, repo_id=repo.id, user=user.login, token=token
    )


class SQLiteBackend(Backend):
    name = "sqlite"
    minimal_app = "sqlite"

    def minimal_workers(self, workers: int) -> int:
        return 1  # one writer for the whole database: a second process would queue on its lock

    @property
    def minimal_database(self) -> str:
        return str(self.path)

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="waybill-bench-sqlite-"))

    @property
    def database_url(self) -> str:
        return ""  # the embedded database in the data directory, as in production

    @property
    def path(self) -> Path:
        return self.workdir / "data" / "waybill.db"

    def create(self) -> None:
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)

    def drop(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def durability(self) -> dict[str, str]:
        return {k: SQLITE_PRAGMAS[k] for k in ("journal_mode", "synchronous")}

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None)
        for name, value in SQLITE_PRAGMAS.items():
            conn.execute(f"PRAGMA {name}={value}")
        return conn

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        conn = self._connect()
        count = 0
        try:
            batch: list[Sequence[Any]] = []
            conn.execute("BEGIN")
            for row in rows:
                batch.append(row)
                if len(batch) >= 50_000:
                    conn.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            conn.executemany(sql, batch)
            count += len(batch)
            conn.execute("COMMIT")
            conn.execute("ANALYZE")
        finally:
            conn.close()
        return count

    def execute(self, sql: str) -> None:
        conn = self._connect()
        try:
            conn.execute(sql)
        finally:
            conn.close()

    def scalar(self, sql: str) -> Any:
        conn = self._connect()
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()

    def raw_write(
        self, scenario_key: str, variables: Mapping[str, Any], connections: int, seconds: float
    ) -> dict[str, Any]:
        """A tight loop in its own process, one transaction per write with the server's PRAGMAs
        (SQLite has one writer at a time, so more connections would only queue)."""
        context = json.dumps(dict(variables))
        command = [
            sys.executable,
            "-m",
            "bench.sqlite_loop",
            str(self.path),
            scenario_key,
            str(seconds),
            context,
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1]
        )
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        result["how"] = "in-process loop, 1 writer, " + ", ".join(
            f"{k}={v}" for k, v in self.durability().items()
        )
        return result


class PostgresBackend(Backend):
    name = "postgresql"
    minimal_app = "postgres"

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="waybill-bench-pg-"))
        self.dbname = f"waybill_bench_{secrets.token_hex(4)}"
        self.admin_url = POSTGRES_ADMIN_URL

    @property
    def database_url(self) -> str:
        return make_url(self.admin_url).set(database=self.dbname).render_as_string(hide_password=False)

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.admin_url, autocommit=True)

    def create(self) -> None:
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.dbname}"')

    def drop(self) -> None:
        try:
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def durability(self) -> dict[str, str]:
        with psycopg.connect(self.database_url) as conn:
            names = ("synchronous_commit", "fsync", "wal_sync_method", "server_version")
            return {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        count = 0
        with psycopg.connect(self.database_url) as conn:
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            conn.commit()
            conn.autocommit = True
            conn.execute(f"VACUUM ANALYZE {table}")
        return count

    def execute(self, sql: str) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(sql)

    def scalar(self, sql: str) -> Any:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            row = conn.execute(sql).fetchone()
            return None if row is None else row[0]

    def raw_write(
        self, scenario_key: str, variables: Mapping[str, Any], connections: int, seconds: float
    ) -> dict[str, Any]:
        """pgbench with the equivalent ``INSERT ... ON CONFLICT`` at the same concurrency."""
        from bench.scenarios import RAW_WRITES

        raw = RAW_WRITES[scenario_key]
        url = make_url(self.database_url)
        script = self.workdir / f"{scenario_key}.pgbench.sql"
        script.write_text(raw.pgbench)
        logs = self.workdir / f"pgbench-{scenario_key}"
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir()
        command = [
            "pgbench", "-n", "-M", "prepared" if raw.prepared else "simple",
            "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
            "-U", url.username or "postgres", "-c", str(connections), "-j", "1",
            "-T", str(max(1, round(seconds))), "-f", str(script), "-l", "--log-prefix", str(logs / "tx"),
            *(a for k, v in variables.items() for a in ("-D", f"{k}={v}")), self.dbname,
        ]  # fmt: skip
        env = {**os.environ, "PGPASSWORD": url.password or ""}
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed: {done.stderr or done.stdout}")
        tps = parse_pgbench_tps(done.stdout)
        latencies = [
            int(line.split()[2]) / 1e6 for f in logs.iterdir() for line in f.read_text().splitlines()
        ]
        p50, p99 = percentiles_ms(latencies)
        return {
            "rps": tps,
            "requests": len(latencies),
            "p50_ms": p50,
            "p99_ms": p99,
            "how": f"pgbench -c {connections} -j 1{' -M prepared' if raw.prepared else ''},"
            " synchronous_commit as configured",
        }


def parse_pgbench_tps(output: str) -> float:
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise ValueError("pgbench printed no tps line:\n" + output[-2000:])


def backends(names: Iterable[str]) -> list[Backend]:
    made: dict[str, type[Backend]] = {"sqlite": SQLiteBackend, "postgresql": PostgresBackend}
    return [made[n]() for n in names]


def pragma_table(pragmas: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in pragmas.items())
