"""The resolved packages' references hold on both databases: foreign keys on SQLite, triggers
checking each statement on PostgreSQL (``dependencies_0002``)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from tests.dependencies.conftest import Setup
from tests.dependencies.helpers import SNAPSHOTS, snapshot
from waybill.config import Settings
from waybill.core.migrate import alembic_config
from waybill.dependencies.models import dependency_manifests, dependency_packages, dependency_resolved


async def _submit(alice: Setup) -> None:
    body = snapshot({"a": "pkg:npm/a@1.0.0", "b": "pkg:npm/b@2.0.0"}, edges={"a": ["b"]})
    response = await alice.api.post(SNAPSHOTS.format(repo="alice/web"), token=alice.token, json=body)
    assert response.status_code == 201, response.text


async def _count(alice: Setup) -> int:
    async with alice.api.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(dependency_resolved))).scalar_one())


async def test_a_resolved_row_naming_a_missing_package_is_refused(alice: Setup) -> None:
    await _submit(alice)
    async with alice.api.db.read() as conn:
        manifest_id = (await conn.execute(select(dependency_manifests.c.id))).scalar_one()
    row = {"manifest_id": manifest_id, "package_id": 10**9, "key": "ghost"}
    with pytest.raises(IntegrityError):
        async with alice.api.db.write() as conn:
            await conn.execute(insert(dependency_resolved), [row])
    assert await _count(alice) == 2


async def test_deleting_a_manifest_deletes_its_resolved_rows(alice: Setup) -> None:
    await _submit(alice)
    async with alice.api.db.write() as conn:
        await conn.execute(delete(dependency_manifests))
    assert await _count(alice) == 0


async def test_a_package_that_resolved_rows_name_cannot_be_deleted(alice: Setup) -> None:
    await _submit(alice)
    with pytest.raises(IntegrityError):
        async with alice.api.db.write() as conn:
            await conn.execute(delete(dependency_packages))
    assert await _count(alice) == 2


def test_the_migration_goes_down_and_up_again(settings: Settings) -> None:
    config = alembic_config(settings.resolved_database_url)
    command.downgrade(config, "dependencies_0001")
    command.upgrade(config, "heads")
