"""What a read by digest costs the database: the hottest reads stay one statement, with no
transaction around it, once the caller's token is cached."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.artifacts.conftest import RECORD, STORAGE, digest, record_body

SUBJECT = digest("awesome")
STORAGE_BODY = {
    "name": "awesome-image",
    "digest": SUBJECT,
    "registry_url": "https://reg.example.com/",
    "repository": "bar",
    "github_repository": "web",
}


@pytest.mark.parametrize("kind", ["deployment-records", "storage-records"])
async def test_a_read_by_digest_is_one_statement(world, kind):
    api = world.api
    assert (await api.post(RECORD, token=world.alice, json=record_body())).status_code == 200
    assert (await api.post(STORAGE, token=world.alice, json=STORAGE_BODY)).status_code == 200
    path = f"/orgs/acme/artifacts/{SUBJECT}/metadata/{kind}"
    assert (await api.get(path, token=world.alice)).status_code == 200
    statements: list[str] = []

    @event.listens_for(api.db.engine.sync_engine, "before_cursor_execute")
    def _record(_conn, _cursor, statement, *_args):
        statements.append(statement.split(None, 1)[0].upper())

    response = await api.get(path, token=world.alice)
    assert response.json()["total_count"] == 1
    assert statements == ["SELECT"]


async def test_a_read_of_an_unknown_digest_still_tells_an_unknown_org(world):
    unknown = digest("nothing")
    for org, status in (("acme", 200), ("nobody", 404), ("alice", 404)):
        for kind in ("deployment-records", "storage-records"):
            r = await world.api.get(f"/orgs/{org}/artifacts/{unknown}/metadata/{kind}", token=world.alice)
            assert r.status_code == status, (org, kind, r.text)
