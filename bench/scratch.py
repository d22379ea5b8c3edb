"""A throwaway database for the in-process benchmark scripts: SQLite in a temporary directory, or a
PostgreSQL database of their own, created, migrated, and dropped at the end."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from waybill.config import Settings
from waybill.core.migrate import upgrade


@contextmanager
def scratch_settings(database_url: str) -> Iterator[Settings]:
    """Settings for a migrated, empty database; PostgreSQL when ``database_url`` is given."""
    base = replace(Settings(), rate_limit_enabled=False, run_worker=False)
    if not database_url:
        with tempfile.TemporaryDirectory() as tmp:
            settings = replace(base, data_dir=Path(tmp))
            upgrade(settings)
            print("backend: SQLite")
            yield settings
        return
    admin = create_engine(
        database_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    name = f"waybill_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
        settings = replace(base, database_url=url)
        upgrade(settings)
        print("backend: PostgreSQL")
        yield settings
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
