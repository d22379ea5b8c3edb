"""Every case of every implemented operation, under both API versions, on both backends: the exact
status, and the response (status, content type, body) as GitHub's official description gives it."""

from __future__ import annotations

import pytest

from tests.contract import description, registry
from tests.contract.world import seed
from tests.harness import Harness

PARAMS = [
    pytest.param(c, version, id=f"{c.id}@{version}") for c in registry.cases() for version in c.versions
]


@pytest.mark.usefixtures("official_description")
@pytest.mark.parametrize(("case", "version"), PARAMS)
async def test_case(api: Harness, case: registry.Case, version: str) -> None:
    world = await seed(api, api)
    response = await case.call(api, world, version)
    assert response.status_code == case.status, response.text
    description.check_response(response, case.operation_id, version)
    description.check_no_removed_fields(response, case.operation_id, version)
    if case.message is not None:
        assert response.json()["message"] == case.message


@pytest.mark.usefixtures("official_description")
def test_both_versions_differ_where_github_says() -> None:
    """The 2026-03-10 description is the undated one with its breaking changes applied."""
    old = description.document("api.github.com", "2022-11-28")["components"]["schemas"]["root"]
    new = description.document("api.github.com", "2026-03-10")["components"]["schemas"]["root"]
    assert "authorizations_url" in old["properties"]
    assert "authorizations_url" not in new["properties"]
    assert "authorizations_url" not in new["required"]
