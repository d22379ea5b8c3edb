"""What a read by digest costs the database: the hottest reads stay one statement, with no
transaction around it, once the caller's token is cached."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.artifacts.conftest import RECORD, STORAGE, World, digest, record_body

SUBJECT = digest("awesome")
STORAGE_BODY = {
    "name": "awesome-image",
    "digest": SUBJECT,
    "registry_url": "https://reg.example.com/",
    "repository": "bar",
    "github_repository": "web",
}


@pytest.mark.parametrize("kind", ["deployment-records", "storage-records"])
async def test_a_read_by_digest_is_one_statement(world: World, kind: str) -> None:
    api = world.api
    assert (await api.post(RECORD, token=world.alice, json=record_body())).status_code == 200
    assert (await api.post(STORAGE, token=world.alice, json=STORAGE_BODY)).status_code == 200
    path = f"/orgs/acme/artifacts/{SUBJECT}/metadata/{kind}"
    assert (await api.get(path, token=world.alice)).status_code == 200
    through_sqlalchemy: list[str] = []
    through_driver: list[str] = []

    @event.listens_for(api.db.engine.sync_engine, "before_cursor_execute")
    def _record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        through_sqlalchemy.append(statement.split(None, 1)[0].upper())

    api.db.trace(lambda statement: through_driver.append(statement.split(None, 1)[0].upper()))
    response = await api.get(path, token=world.alice)
    assert response.json()["total_count"] == 1
    assert through_sqlalchemy == []
    assert through_driver == ["SELECT"]


async def test_a_write_is_two_round_trips_on_postgresql(world: World, backend: str) -> None:
    """What the caller may do where, then the write (artifact, record and history in one statement)."""
    api = world.api
    assert (await api.post(RECORD, token=world.alice, json=record_body())).status_code == 200
    sent: list[str] = []
    api.db.trace(lambda statement: sent.append(statement.split(None, 1)[0].upper()))
    changed = record_body(digest=digest("another"))
    response = await api.post(RECORD, token=world.alice, json=changed)
    assert response.status_code == 200
    if backend == "postgresql":
        assert sent == ["WITH", "WITH"]
    else:
        # The same two steps; the write is one savepoint in a group the writer commits.
        assert sent[0] == "WITH"
        assert sent[1:3] == ["BEGIN", "SAVEPOINT"]
        assert sent[-2:] == ["RELEASE", "COMMIT"]


async def test_a_read_of_an_unknown_digest_still_tells_an_unknown_org(world: World) -> None:
    unknown = digest("nothing")
    for org, status in (("acme", 200), ("nobody", 404), ("alice", 404)):
        for kind in ("deployment-records", "storage-records"):
            r = await world.api.get(f"/orgs/{org}/artifacts/{unknown}/metadata/{kind}", token=world.alice)
            assert r.status_code == status, (org, kind, r.text)
