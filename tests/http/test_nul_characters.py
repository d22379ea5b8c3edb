"""NUL characters: PostgreSQL text cannot hold them and no GitHub name or value contains one, so a
request carrying one is refused at the edge, the same on both backends (found by fuzzing)."""

from __future__ import annotations

import pytest


async def test_nul_in_a_path_names_nothing(api):
    await api.user("alice")
    r = await api.get("/users/ali%00ce")
    assert r.status_code == 404
    assert r.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }


async def test_nul_in_a_query_value_is_invalid(api):
    r = await api.get("/advisories?ecosystem=np%00m")
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "resource": "Query",
            "field": "ecosystem",
            "code": "invalid",
            "message": "ecosystem contains a NUL character",
        }
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "web", "description": "a\u0000b"}, "description"),
        ({"name": "web\u0000"}, "name"),
    ],
)
async def test_nul_in_a_body_is_invalid(api, body, field):
    await api.user("alice")
    token = await api.token("alice")
    r = await api.post("/user/repos", token=token, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {
            "resource": "Repository",
            "field": field,
            "code": "invalid",
            "message": f"{field} contains a NUL character",
        }
    ]


async def test_an_escaped_backslash_before_u0000_is_text(api):
    await api.user("alice")
    token = await api.token("alice")
    r = await api.post("/user/repos", token=token, json={"name": "web", "description": "C:\\u0000"})
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "C:\\u0000"
