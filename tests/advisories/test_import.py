"""Importing OSV advisories: the real PyPI set, idempotence, updates, withdrawals, GHSA merging,
and the file forms (YAML, JSON, directory, zip) through the command line."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from click.testing import CliRunner

from tests.advisories.osv_docs import as_file, osv_document
from tests.harness import Harness
from tests.spec import assert_conforms
from waybill.advisories import osv
from waybill.advisories import service as advisories
from waybill.alerts import service as alerts
from waybill.cli.main import main


async def _import(api: Harness, *files: tuple[str, bytes]) -> advisories.ImportCounts:
    return await api.tx(lambda conn: alerts.import_advisories(conn, list(files)))


async def test_real_pypi_set_imports_once_then_is_unchanged(api: Harness, shared_dir: Path) -> None:
    files = list(osv.load(shared_dir / "advisories" / "pypa-advisory-database"))
    assert len(files) == 2661
    first = await api.tx(lambda conn: alerts.import_advisories(conn, files))
    assert (first.added, first.updated, first.unchanged, first.withdrawn, first.invalid) == (
        2651,
        0,
        0,
        10,
        0,
    )
    # 306 GHSA ids are shared by several PyPI records (tensorflow-cpu and -gpu...): one advisory each.
    assert await api.tx(advisories.count_advisories) == 2120
    again = await api.tx(lambda conn: alerts.import_advisories(conn, files))
    assert (again.added, again.updated, again.unchanged, again.withdrawn) == (0, 0, 2661, 0)
    assert await api.tx(advisories.count_advisories) == 2120

    r = await api.get("/advisories/GHSA-23hm-7w47-xw72")
    assert r.status_code == 200, r.text
    assert_conforms(r, "security-advisories/get-global-advisory")
    packages = {v["package"]["name"] for v in r.json()["vulnerabilities"]}
    assert packages == {"tensorflow-cpu", "tensorflow-gpu"}
    # A withdrawn record (PYSEC-2023-73, redis) is retired: shown withdrawn, never matched.
    withdrawn = await api.get("/advisories", params={"is_withdrawn": "true", "per_page": 100})
    assert_conforms(withdrawn, "security-advisories/list-global-advisories")
    assert len(withdrawn.json()) == 10
    assert await api.tx(lambda c: advisories.affected(c, "PyPI", "aiohttp", "3.7.3"))


async def test_a_modified_advisory_is_updated(api: Harness) -> None:
    doc = osv_document("GHSA-aaaa-bbbb-cccc", "npm", "left-pad", [{"introduced": "0"}, {"fixed": "1.0.0"}])
    await _import(api, as_file(doc))
    assert await api.tx(lambda c: advisories.affected(c, "npm", "left-pad", "1.0.0")) == []

    changed = {**doc, "modified": "2024-02-01T00:00:00Z"}
    changed["affected"][0]["ranges"][0]["events"] = [{"introduced": "0"}, {"fixed": "1.1.0"}]
    counts = await _import(api, as_file(changed))
    assert (counts.added, counts.updated, counts.unchanged, counts.withdrawn) == (0, 1, 0, 0)
    assert await api.tx(lambda c: advisories.affected(c, "npm", "left-pad", "1.0.0")) == [
        "GHSA-aaaa-bbbb-cccc"
    ]
    r = await api.get("/advisories/GHSA-aaaa-bbbb-cccc")
    assert_conforms(r, "security-advisories/get-global-advisory")
    assert r.json()["updated_at"] == "2024-02-01T00:00:00Z"
    assert r.json()["vulnerabilities"][0]["first_patched_version"] == "1.1.0"

    # An older copy of the record never replaces the newer one.
    stale = await _import(api, as_file(doc))
    assert (stale.updated, stale.unchanged) == (0, 1)


async def test_a_withdrawn_advisory_is_retired(api: Harness) -> None:
    doc = osv_document("GHSA-dddd-eeee-ffff", "PyPI", "Flask", [{"introduced": "0"}, {"fixed": "2.0"}])
    await _import(api, as_file(doc))
    assert await api.tx(lambda c: advisories.affected(c, "PyPI", "flask", "1.0")) == ["GHSA-dddd-eeee-ffff"]

    retired = {**doc, "modified": "2024-03-01T00:00:00Z", "withdrawn": "2024-03-01T00:00:00Z"}
    counts = await _import(api, as_file(retired))
    assert (counts.added, counts.updated, counts.unchanged, counts.withdrawn) == (0, 0, 0, 1)
    assert await api.tx(lambda c: advisories.affected(c, "PyPI", "flask", "1.0")) == []
    r = await api.get("/advisories/GHSA-dddd-eeee-ffff")
    assert_conforms(r, "security-advisories/get-global-advisory")
    assert r.json()["withdrawn_at"] == "2024-03-01T00:00:00Z"


async def test_records_sharing_a_ghsa_alias_are_one_advisory(api: Harness) -> None:
    a = osv_document(
        "PYSEC-1",
        "PyPI",
        "tensorflow",
        [{"introduced": "0"}, {"fixed": "2.0"}],
        aliases=["GHSA-1111-2222-3333"],
    )
    b = osv_document(
        "PYSEC-2",
        "PyPI",
        "tensorflow-gpu",
        [{"introduced": "0"}, {"fixed": "2.0"}],
        aliases=["GHSA-1111-2222-3333", "CVE-2024-1"],
    )
    await _import(api, as_file(a), as_file(b))
    r = await api.get("/advisories/GHSA-1111-2222-3333")
    assert_conforms(r, "security-advisories/get-global-advisory")
    assert [v["package"]["name"] for v in r.json()["vulnerabilities"]] == ["tensorflow", "tensorflow-gpu"]
    assert r.json()["identifiers"] == [
        {"type": "GHSA", "value": "GHSA-1111-2222-3333"},
        {"type": "CVE", "value": "CVE-2024-1"},
    ]

    # Withdrawing one record drops its package; the advisory stands on the other.
    await _import(
        api, as_file({**b, "modified": "2024-05-01T00:00:00Z", "withdrawn": "2024-05-01T00:00:00Z"})
    )
    r = await api.get("/advisories/GHSA-1111-2222-3333")
    assert [v["package"]["name"] for v in r.json()["vulnerabilities"]] == ["tensorflow"]
    assert r.json()["withdrawn_at"] is None
    assert await api.tx(lambda c: advisories.affected(c, "PyPI", "tensorflow-gpu", "1.0")) == []


def test_cli_imports_yaml_json_directories_and_zips(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WAYBILL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("WAYBILL_DATABASE_URL", raising=False)
    tree = tmp_path / "advisory-database"
    (tree / "advisories" / "github-reviewed" / "2024").mkdir(parents=True)
    (tree / ".git").mkdir()
    doc = osv_document(
        "GHSA-xxxx-yyyy-zzzz", "Go", "github.com/example/mod", [{"introduced": "0"}, {"fixed": "1.2.0"}]
    )
    (tree / "advisories" / "github-reviewed" / "2024" / "GHSA-xxxx-yyyy-zzzz.json").write_text(
        json.dumps(doc)
    )
    (tree / ".git" / "ignored.json").write_text("{}")
    (tree / "advisories" / "broken.yaml").write_text("id: [unclosed")
    export = tmp_path / "npm.zip"
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr(
            "NPM-1.json",
            json.dumps(osv_document("NPM-1", "npm", "pad", [{"introduced": "0"}, {"fixed": "1.0.0"}])),
        )
        zf.writestr("NPM-2.json", json.dumps(osv_document("NPM-2", "npm", "pad", [{"introduced": "2.0.0"}])))
    runner = CliRunner()

    result = runner.invoke(main, ["advisories", "import", str(tree)])
    assert result.exit_code == 0, result.output
    assert (
        "1 added, 0 updated, 0 unchanged, 0 withdrawn, 1 invalid; 1 advisories in the database"
        in result.stdout
    )
    assert "broken.yaml" in result.stderr

    result = runner.invoke(main, ["advisories", "import", str(export)])
    assert result.exit_code == 0, result.output
    assert (
        "2 added, 0 updated, 0 unchanged, 0 withdrawn, 0 invalid; 3 advisories in the database"
        in result.stdout
    )

    result = runner.invoke(main, ["advisories", "import", str(export)])
    assert (
        "0 added, 0 updated, 2 unchanged, 0 withdrawn, 0 invalid; 3 advisories in the database"
        in result.stdout
    )
