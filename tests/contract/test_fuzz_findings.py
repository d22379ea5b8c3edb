"""What fuzzing found, kept as exact regressions; each answered 500 on PostgreSQL before.

NUL characters: PostgreSQL text cannot hold them and no GitHub name or value contains one, so a
request carrying one is refused at the edge. Integers beyond the database's columns name nothing
(ids) or are invalid (snapshot version)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.cases_dependencies import snapshot
from tests.harness import Harness


async def test_nul_in_a_path_names_nothing(api: Harness) -> None:
    await api.user("alice")
    r = await api.get("/users/ali%00ce")
    assert r.status_code == 404
    assert r.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }


async def test_nul_in_a_query_value_is_a_bad_request(api: Harness) -> None:
    r = await api.get("/advisories?ecosystem=np%00m")
    assert r.status_code == 400
    assert r.json()["message"] == "Query parameter ecosystem contains a NUL character"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "web", "description": "a\u0000b"}, "description"),
        ({"name": "web\u0000"}, "name"),
    ],
)
async def test_nul_in_a_body_is_invalid(api: Harness, body: Any, field: str) -> None:
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


async def test_an_escaped_backslash_before_u0000_is_text(api: Harness) -> None:
    await api.user("alice")
    token = await api.token("alice")
    r = await api.post("/user/repos", token=token, json={"name": "web", "description": "C:\\u0000"})
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "C:\\u0000"


NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}


@pytest.mark.parametrize("attestation_id", ["9223372036854775808", "2677426369329042030592", "\u00b2"])
async def test_attestation_ids_beyond_bigint_name_nothing(api: Harness, attestation_id: Any) -> None:
    await api.user("alice")
    token = await api.token("alice")
    r = await api.delete(f"/users/alice/attestations/{attestation_id}", token=token)
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


async def test_cluster_job_ids_beyond_bigint_name_nothing(api: Harness) -> None:
    await api.user("alice")
    await api.org("acme", owner="alice")
    token = await api.token("alice")
    r = await api.get(
        "/orgs/acme/artifacts/metadata/deployment-record/cluster/moda-1/jobs/99999999999999999999",
        token=token,
    )
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


async def test_snapshot_version_beyond_the_column_is_invalid(api: Harness) -> None:
    await api.user("alice")
    await api.repo("alice/web")
    token = await api.token("alice")
    body = snapshot("a" * 40, {"left-pad": "pkg:npm/left-pad@1.3.0"})
    body["version"] = -17592186044417
    r = await api.post("/repos/alice/web/dependency-graph/snapshots", token=token, json=body)
    assert r.status_code == 422, r.text
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("version", "invalid")]


async def test_cwe_filter_of_unicode_digits_is_invalid(api: Harness) -> None:
    r = await api.get("/advisories?cwes=CWE-\u00b2")
    assert r.status_code == 422, r.text
