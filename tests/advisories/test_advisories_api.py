"""GET /advisories and GET /advisories/{ghsa_id}: GitHub's global-advisory shape, filters, cursors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.advisories.osv_docs import as_file, osv_document
from tests.harness import Harness
from tests.spec import assert_conforms
from waybill.alerts import service as alerts

LIST = "security-advisories/list-global-advisories"
GET = "security-advisories/get-global-advisory"

CVSS_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"  # 7.5
CVSS_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8


def _docs() -> list[dict[str, Any]]:
    return [
        osv_document(
            "GHSA-0001-0001-0001",
            "npm",
            "left-pad",
            [{"introduced": "0"}, {"fixed": "1.0.3"}],
            aliases=["CVE-2024-0001"],
            published="2024-01-10T00:00:00Z",
            modified="2024-01-11T00:00:00Z",
            severity=[{"type": "CVSS_V3", "score": CVSS_HIGH}],
            database_specific={"cwe_ids": ["CWE-79"], "github_reviewed": True},
        ),
        osv_document(
            "GHSA-0002-0002-0002",
            "PyPI",
            "Django",
            [{"introduced": "4.0"}, {"fixed": "4.2.1"}],
            published="2024-02-10T00:00:00Z",
            modified="2024-03-01T00:00:00Z",
            severity=[{"type": "CVSS_V3", "score": CVSS_CRITICAL}],
            database_specific={"cwe_ids": ["CWE-89", "CWE-79"]},
        ),
        osv_document(
            "PYSEC-2024-3",
            "PyPI",
            "requests",
            [{"introduced": "0"}, {"fixed": "2.31.0"}],
            published="2024-03-10T00:00:00Z",
            modified="2024-03-10T00:00:00Z",
        ),
        osv_document(
            "GHSA-0004-0004-0004",
            "npm",
            "evil-pkg",
            [{"introduced": "0"}],
            published="2024-04-10T00:00:00Z",
            database_specific={"github_reviewed": False, "severity": "LOW"},
        ),
        osv_document(
            "MAL-2024-5",
            "npm",
            "malware-pkg",
            [{"introduced": "0"}],
            published="2024-05-10T00:00:00Z",
        ),
        osv_document(
            "GHSA-0006-0006-0006",
            "Maven",
            "org.example:lib",
            [{"introduced": "1.0"}, {"fixed": "1.5"}],
            published="2024-06-10T00:00:00Z",
            modified="2024-06-11T00:00:00Z",
            withdrawn="2024-06-11T00:00:00Z",
            database_specific={"severity": "MODERATE"},
        ),
    ]


@pytest.fixture
async def loaded(api: Harness) -> Harness:
    await api.tx(lambda c: alerts.import_advisories(c, [as_file(d) for d in _docs()]))
    return api


async def _ids(api: Harness, **params: Any) -> list[str]:
    r = await api.get("/advisories", params=params)
    assert r.status_code == 200, r.text
    assert_conforms(r, LIST)
    return [a["ghsa_id"] for a in r.json()]


async def test_get_advisory_in_githubs_shape(loaded: Harness) -> None:
    r = await loaded.get("/advisories/GHSA-0001-0001-0001")
    assert r.status_code == 200, r.text
    assert_conforms(r, GET)
    body = r.json()
    assert body["url"] == "http://waybill.test/advisories/GHSA-0001-0001-0001"
    assert body["cve_id"] == "CVE-2024-0001"
    assert body["severity"] == "high"
    assert body["cvss"] == {"vector_string": CVSS_HIGH, "score": 7.5}
    assert body["cwes"] == [{"cwe_id": "CWE-79", "name": "CWE-79"}]
    assert body["vulnerabilities"] == [
        {
            "package": {"ecosystem": "npm", "name": "left-pad"},
            "vulnerable_version_range": "< 1.0.3",
            "first_patched_version": "1.0.3",
            "vulnerable_functions": [],
        }
    ]
    # Lower-case prefix, and API version 2026-03-10, which drops the deprecated cvss.
    r = await loaded.get("/advisories/ghsa-0001-0001-0001", version="2026-03-10")
    assert r.status_code == 200, r.text
    assert_conforms(r, GET)
    assert "cvss" not in r.json()
    assert r.json()["cvss_severities"]["cvss_v3"]["score"] == 7.5


async def test_a_record_without_ghsa_alias_keeps_its_osv_id(loaded: Harness) -> None:
    r = await loaded.get("/advisories/PYSEC-2024-3")
    assert r.status_code == 200, r.text
    assert_conforms(r, GET)
    assert r.json()["ghsa_id"] == "PYSEC-2024-3"
    assert r.json()["identifiers"] == []
    assert r.json()["severity"] == "unknown"


async def test_unknown_advisory_is_404(loaded: Harness) -> None:
    r = await loaded.get("/advisories/GHSA-9999-9999-9999")
    assert r.status_code == 404
    assert_conforms(r, GET)
    assert r.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }


async def test_default_list_is_reviewed_newest_first(loaded: Harness) -> None:
    assert await _ids(loaded) == [
        "GHSA-0006-0006-0006",
        "PYSEC-2024-3",
        "GHSA-0002-0002-0002",
        "GHSA-0001-0001-0001",
    ]
    assert await _ids(loaded, type="unreviewed") == ["GHSA-0004-0004-0004"]
    assert await _ids(loaded, type="malware") == ["MAL-2024-5"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ghsa_id": "GHSA-0002-0002-0002"}, ["GHSA-0002-0002-0002"]),
        ({"cve_id": "CVE-2024-0001"}, ["GHSA-0001-0001-0001"]),
        ({"ecosystem": "pip"}, ["PYSEC-2024-3", "GHSA-0002-0002-0002"]),
        ({"ecosystem": "maven"}, ["GHSA-0006-0006-0006"]),
        ({"ecosystem": "other"}, []),
        ({"severity": "critical"}, ["GHSA-0002-0002-0002"]),
        ({"severity": "medium"}, ["GHSA-0006-0006-0006"]),
        ({"cwes": "79"}, ["GHSA-0002-0002-0002", "GHSA-0001-0001-0001"]),
        ({"cwes[]": ["89", "CWE-1"]}, ["GHSA-0002-0002-0002"]),
        ({"is_withdrawn": "true"}, ["GHSA-0006-0006-0006"]),
        ({"is_withdrawn": "false", "ecosystem": "npm"}, ["GHSA-0001-0001-0001"]),
        ({"affects": "left-pad"}, ["GHSA-0001-0001-0001"]),
        ({"affects": "left-pad@1.0.2,django@4.2.0"}, ["GHSA-0002-0002-0002", "GHSA-0001-0001-0001"]),
        ({"affects": "left-pad@1.0.3"}, []),
        ({"affects[]": ["Django@3.9", "requests@2.30"]}, ["PYSEC-2024-3"]),
        ({"affects": "django@4.1", "ecosystem": "npm"}, []),
        ({"published": "2024-02-10"}, ["GHSA-0002-0002-0002"]),
        ({"published": ">2024-02-10"}, ["GHSA-0006-0006-0006", "PYSEC-2024-3"]),
        ({"published": "<=2024-02-10"}, ["GHSA-0002-0002-0002", "GHSA-0001-0001-0001"]),
        ({"published": "2024-01-01..2024-02-10"}, ["GHSA-0002-0002-0002", "GHSA-0001-0001-0001"]),
        ({"published": "2024-03-01..*"}, ["GHSA-0006-0006-0006", "PYSEC-2024-3"]),
        (
            {"updated": ">=2024-03-01T00:00:00Z"},
            ["GHSA-0006-0006-0006", "PYSEC-2024-3", "GHSA-0002-0002-0002"],
        ),
        ({"modified": "2024-03-01"}, ["GHSA-0002-0002-0002"]),
        ({"epss_percentage": ">0.5"}, []),
        (
            {"sort": "updated", "direction": "asc"},
            ["GHSA-0001-0001-0001", "GHSA-0002-0002-0002", "PYSEC-2024-3", "GHSA-0006-0006-0006"],
        ),
    ],
)
async def test_list_filters(loaded: Harness, params: dict[str, Any], expected: list[str]) -> None:
    assert await _ids(loaded, **params) == expected


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"severity": "severe"}, "severity must be one of: critical, high, medium, low, unknown"),
        (
            {"ecosystem": "cobol"},
            "ecosystem must be one of: pip, npm, maven, go, rubygems, nuget, composer, "
            "rust, erlang, pub, swift, actions, other",
        ),
        ({"published": ">yesterday"}, "published is not a date or date range"),
        ({"after": "bm90LWEtY3Vyc29y"}, "after is not a valid cursor"),
        ({"is_withdrawn": "maybe"}, "is_withdrawn must be one of: true, false"),
    ],
)
async def test_invalid_query_is_422(loaded: Harness, params: dict[str, str], message: str) -> None:
    r = await loaded.get("/advisories", params=params)
    assert r.status_code == 422, r.text
    assert_conforms(r, LIST)
    assert r.json() == {
        "message": "Validation Failed",
        "documentation_url": "https://docs.github.com/rest",
        "status": "422",
        "errors": [message],
    }


async def test_cursor_pagination_walks_both_ways(loaded: Harness) -> None:
    first = await loaded.get("/advisories", params={"per_page": 3, "type": "reviewed"})
    assert_conforms(first, LIST)
    assert [a["ghsa_id"] for a in first.json()] == [
        "GHSA-0006-0006-0006",
        "PYSEC-2024-3",
        "GHSA-0002-0002-0002",
    ]
    assert 'rel="prev"' not in first.headers["link"]
    next_url = first.links["next"]["url"]
    second = await loaded.get(next_url)
    assert_conforms(second, LIST)
    assert [a["ghsa_id"] for a in second.json()] == ["GHSA-0001-0001-0001"]
    assert "next" not in second.links
    back = await loaded.get(second.links["prev"]["url"])
    assert [a["ghsa_id"] for a in back.json()] == [
        "GHSA-0006-0006-0006",
        "PYSEC-2024-3",
        "GHSA-0002-0002-0002",
    ]
    assert "prev" not in back.links
    assert "next" in back.links
