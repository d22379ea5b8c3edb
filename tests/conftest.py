"""Every API test runs twice: on SQLite and on PostgreSQL, each from a schema built by the migrations.

Per test worker, the schema is migrated once (a SQLite template file, a PostgreSQL database of the
worker's own); each test then starts clean (a copy of the template, or every table truncated).
PostgreSQL comes from ``WAYBILL_TEST_POSTGRES_URL``; when it is unreachable its half is skipped with
the reason shown, except under ``CI=true``, where that fails.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from testkit.database import sync_url, truncate_all

from tests.harness import Harness, running
from waybill.config import Settings
from waybill.core.migrate import upgrade

CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("WAYBILL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SHARED = Path(os.environ.get("WAYBILL_SHARED_DIR") or Path(__file__).resolve().parents[1].parent / "shared")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backend: the database backends a test runs on")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (specs, fixtures, advisories): skipped when absent, required under CI=true."""
    if not SHARED.is_dir():
        if CI:
            pytest.fail(f"CI=true but {SHARED} is missing")
        pytest.skip("../shared is not present on this machine (tests reading it are skipped)")
    return SHARED


def _base_settings(**overrides: object) -> Settings:
    # Hooks in the tests deliver to receivers on 127.0.0.1, which production refuses.
    return replace(
        Settings(),
        rate_limit_enabled=False,
        run_worker=False,
        webhook_allow_private=True,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("sqlite-template")
    upgrade(_base_settings(data_dir=data_dir))
    return data_dir / "waybill.db"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of this test worker's own, migrated once; its URL."""
    admin_url = sync_url(POSTGRES_URL)
    name = f"waybill_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if CI:
            pytest.fail(f"CI=true but PostgreSQL at {POSTGRES_URL} is unreachable: {exc}")
        pytest.skip(
            f"PostgreSQL at {POSTGRES_URL} is unreachable ({type(exc).__name__}); its half is skipped"
        )
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(_base_settings(database_url=url))
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copy(template, tmp_path / "waybill.db")
        return _base_settings(data_dir=tmp_path)
    url: str = request.getfixturevalue("postgres_database")
    truncate_all(url)
    return _base_settings(database_url=url, data_dir=tmp_path)


@pytest.fixture
async def api(settings: Settings, backend: str) -> AsyncIterator[Harness]:
    async with running(settings, backend) as harness:
        yield harness
