"""SARIF uploads: 202 and a receipt, the queued processing, the upload's status, and every refusal
of a body that is not gzip+base64 SARIF 2.1.0 within GitHub's limits."""

from __future__ import annotations

import base64
import gzip
import os
from typing import Any

import pytest
from testkit import sarifs

from tests.codescanning.conftest import Org
from tests.contract.description import API_VERSIONS, check_response
from waybill.app import JOB_HANDLERS
from waybill.codescanning import sarif, schemas
from waybill.core.jobs import Worker

UPLOAD = "code-scanning/upload-sarif"
STATUS = "code-scanning/get-sarif"


@pytest.mark.usefixtures("official_description")
@pytest.mark.parametrize("version", API_VERSIONS)
async def test_ruff_upload_is_processed_in_the_queue(org: Org, version: str) -> None:
    body = sarifs.upload(sarifs.real("ruff"), checkout_uri=sarifs.CHECKOUT)
    r = await org.api.post(
        "/repos/acme/web/code-scanning/sarifs", token=org.alice, json=body, version=version
    )
    assert r.status_code == 202, r.text
    check_response(r, UPLOAD)
    sarif_id = r.json()["id"]
    assert r.json()["url"] == f"http://waybill.test/repos/acme/web/code-scanning/sarifs/{sarif_id}"

    status = await org.api.get(
        f"/repos/acme/web/code-scanning/sarifs/{sarif_id}", token=org.alice, version=version
    )
    assert status.status_code == 200
    check_response(status, STATUS)
    assert status.json() == {"processing_status": "pending", "analyses_url": None, "errors": None}

    assert await org.api.app.worker.run_until_idle() == 1
    status = await org.api.get(
        f"/repos/acme/web/code-scanning/sarifs/{sarif_id}", token=org.alice, version=version
    )
    check_response(status, STATUS)
    assert status.json() == {
        "processing_status": "complete",
        "analyses_url": f"http://waybill.test/repos/acme/web/code-scanning/analyses?sarif_id={sarif_id}",
        "errors": None,
    }
    alerts = await org.alerts(sort="number", direction="asc")
    assert [a["rule"]["id"] for a in alerts] == ["S105", "S602", "S301", "S506", "S324", "S101", "E722"]
    assert {a["most_recent_instance"]["location"]["path"] for a in alerts} == {"app/handlers.py"}


async def _refused(org: Org, body: dict[str, Any]) -> tuple[int, str]:
    r = await org.upload(body)
    return r.status_code, r.json()["message"]


@pytest.mark.parametrize(
    ("sarif", "reason"),
    [
        ("not base64!", "Invalid SARIF: the sarif field is not base64"),
        (base64.b64encode(b"{}").decode(), "Invalid SARIF: the sarif field is not gzip-compressed"),
        (sarifs.encode(b"{not json"), "Invalid SARIF: not JSON"),
        (
            sarifs.encode({"version": "2.0.0", "runs": []}),
            "Invalid SARIF: version must be 2.1.0, got '2.0.0'",
        ),
    ],
    ids=["not base64", "not gzip", "not JSON", "SARIF 2.0.0"],
)
async def test_what_is_not_gzipped_base64_sarif_is_refused_with_the_reason(
    org: Org, sarif: str, reason: str
) -> None:
    status, message = await _refused(
        org, {"commit_sha": sarifs.SHA, "ref": "refs/heads/main", "sarif": sarif}
    )
    assert status == 400
    assert message.startswith(reason), message


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"version": "2.1.0"}, "Invalid SARIF: at (root): 'runs' is a required property"),
        (
            {"version": "2.1.0", "runs": [{"tool": {}}]},
            "Invalid SARIF: at runs/0/tool: 'driver' is a required property",
        ),
        ({"version": "2.1.0", "runs": 5}, "Invalid SARIF: at runs: 5 is not of type 'array'"),
        (
            {
                "version": "2.1.0",
                "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"locations": 1}]}],
            },
            "Invalid SARIF: at runs/0/results/0",
        ),
    ],
    ids=["no runs", "no driver", "runs not a list", "locations not a list"],
)
async def test_what_breaks_the_schema_is_accepted_then_failed_with_the_reason(
    org: Org, document: dict[str, Any], reason: str
) -> None:
    r = await org.upload(
        {"commit_sha": sarifs.SHA, "ref": "refs/heads/main", "sarif": sarifs.encode(document)}
    )
    assert r.status_code == 202, r.text
    sarif_id = r.json()["id"]
    assert await org.api.app.worker.run_until_idle() == 1
    status = await org.api.get(f"/repos/acme/web/code-scanning/sarifs/{sarif_id}", token=org.alice)
    assert status.status_code == 200
    body = status.json()
    assert (body["processing_status"], body["analyses_url"]) == ("failed", None)
    [error] = body["errors"]
    assert error.startswith(reason), error
    assert await org.alerts() == []
    analyses = await org.api.get("/repos/acme/web/code-scanning/analyses", token=org.alice)
    assert analyses.json() == []


async def test_githubs_hard_limits(org: Org) -> None:
    twenty_one = sarifs.document(*[sarifs.run([]) for _ in range(21)])
    status, message = await _refused(org, sarifs.upload(twenty_one))
    assert (status, message) == (400, "Invalid SARIF: 21 runs; a file may have at most 20")
    crowded = sarifs.result("r", "a.py", 1)
    crowded["locations"] = crowded["locations"] * 1001
    status, message = await _refused(org, sarifs.upload(sarifs.document(sarifs.run([crowded]))))
    assert (status, message) == (
        400,
        "Invalid SARIF: runs/0/results/0 has 1001 locations; a result may have at most 1000",
    )


async def test_a_file_over_10_mb_gzipped_is_413(org: Org) -> None:
    # Random bytes do not compress: more than 10 MiB of them, as base64.
    big = base64.b64encode(os.urandom(10 * 1024 * 1024 + 16)).decode()
    r = await org.upload({"commit_sha": sarifs.SHA, "ref": "refs/heads/main", "sarif": big})
    assert r.status_code == 413, r.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ref": "refs/heads/main", "sarif": "x"}, "commit_sha"),
        ({"commit_sha": "xyz", "ref": "refs/heads/main", "sarif": "x"}, "commit_sha"),
        ({"commit_sha": sarifs.SHA, "ref": "main", "sarif": "x"}, "ref"),
        ({"commit_sha": sarifs.SHA, "ref": "refs/heads/main"}, "sarif"),
        ({"commit_sha": sarifs.SHA, "ref": "refs/heads/main", "sarif": "x", "extra": 1}, "extra"),
    ],
)
async def test_bad_fields_are_422_naming_the_field(org: Org, body: dict[str, Any], field: str) -> None:
    r = await org.upload(body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


async def test_gzip_bomb_is_not_inflated_whole(org: Org) -> None:
    bomb = gzip.compress(b" " * (sarif.MAX_JSON_BYTES + 1))
    r = await org.upload(
        {"commit_sha": sarifs.SHA, "ref": "refs/heads/main", "sarif": base64.b64encode(bomb).decode()}
    )
    assert r.status_code == 413, r.text


async def test_unknown_upload_is_404(org: Org) -> None:
    r = await org.api.get("/repos/acme/web/code-scanning/sarifs/nope", token=org.alice)
    assert r.status_code == 404


async def test_an_upload_whose_processing_gives_up_is_failed(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(gzipped: bytes, checkout_uri: str | None, *, strict: bool = False) -> None:
        raise RuntimeError("disk on fire")

    r = await org.upload(sarifs.upload(sarifs.real("bandit")))
    sarif_id = r.json()["id"]
    monkeypatch.setattr(sarif, "read", broken)
    worker = Worker(org.api.db, JOB_HANDLERS, max_attempts=1)
    assert await worker.run_once()
    status = await org.api.get(f"/repos/acme/web/code-scanning/sarifs/{sarif_id}", token=org.alice)
    assert status.json() == {
        "processing_status": "failed",
        "analyses_url": None,
        "errors": ["RuntimeError: disk on fire"],
    }


def _unfit() -> dict[str, Any]:
    located = sarifs.result("r", "a.py", 3)
    nowhere = sarifs.result("r", "a.py", 4)
    del nowhere["locations"]
    no_line = sarifs.result("r", "a.py", 5)
    del no_line["locations"][0]["physicalLocation"]["region"]
    return sarifs.document(sarifs.run([located, nowhere, no_line]))


async def test_validate_fails_a_file_code_scanning_cannot_show(org: Org) -> None:
    r = await org.upload({**sarifs.upload(_unfit()), "validate": True})
    assert r.status_code == 202, r.text
    await org.api.app.worker.run_until_idle()
    status = await org.api.get(f"/repos/acme/web/code-scanning/sarifs/{r.json()['id']}", token=org.alice)
    assert status.json() == {
        "processing_status": "failed",
        "analyses_url": None,
        "errors": [
            "runs/0/results/1/locations: a result must have at least one location",
            "runs/0/results/2/locations/0/physicalLocation/region: a location must have a startLine",
        ],
    }
    assert await org.alerts() == []


async def test_without_validate_such_a_file_is_stored_as_it_is(org: Org) -> None:
    for validate in (None, False):
        body = sarifs.upload(_unfit())
        if validate is not None:
            body["validate"] = validate
        sarif_id = await org.uploaded(body)
        status = await org.api.get(f"/repos/acme/web/code-scanning/sarifs/{sarif_id}", token=org.alice)
        assert status.json()["processing_status"] == "complete"
    assert len(await org.alerts()) == 3


async def test_validate_passes_real_scanners_output(org: Org) -> None:
    for tool in ("ruff", "bandit"):
        sarif_id = await org.uploaded({**sarifs.upload(sarifs.real(tool)), "validate": True})
        status = await org.api.get(f"/repos/acme/web/code-scanning/sarifs/{sarif_id}", token=org.alice)
        assert status.json()["processing_status"] == "complete", status.json()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src/app.py", []),
        ("tests/test_app.py", ["test"]),
        ("pkg/handler_test.go", ["test"]),
        ("web/button.spec.ts", ["test"]),
        ("node_modules/left-pad/index.js", ["library"]),
        ("vendor/github.com/x/y.go", ["library"]),
        ("api/service_pb2.py", ["generated"]),
        ("static/app.min.js", ["generated"]),
        ("third_party/gen/tests/x.py", ["test", "library", "generated"]),
    ],
)
def test_classifications_follow_the_path(path: str, expected: list[str]) -> None:
    assert schemas.classifications(path) == expected
