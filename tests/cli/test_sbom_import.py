"""``waybill sbom import OWNER/REPO FILE --sha SHA`` on both backends: the same graph as the HTTP
import, its one-line summary, and its errors (one line on stderr, exit 1, nothing written)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.dependencies.helpers import SHA_A
from tests.dependencies.test_import_stream import document, graph, reference, stored
from tests.harness import running
from waybill.cli.main import main
from waybill.config import Settings


@pytest.fixture
def waybill(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WAYBILL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("WAYBILL_DATABASE_URL", settings.database_url)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


async def test_cli_and_http_imports_give_the_same_graph(waybill, settings, backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    raw = document(500)
    path = tmp_path / "bom.cdx.json"
    path.write_bytes(raw)
    # The command runs its own event loop: in a thread, beside this test's.
    await asyncio.to_thread(waybill, "users", "create", "alice")
    await asyncio.to_thread(waybill, "repos", "create", "alice/web")
    await asyncio.to_thread(waybill, "repos", "create", "alice/copy")
    result = await asyncio.to_thread(waybill, "sbom", "import", "alice/web", str(path), "--sha", SHA_A)
    assert result.exit_code == 0, result.output
    edges = sum(len(d["dependsOn"]) for d in json.loads(raw)["dependencies"])
    assert result.stdout.startswith(
        f"imported 500 components and {edges} dependency edges into alice/web in "
    )
    assert result.stdout.rstrip().endswith("(snapshot 1, success)")
    async with running(settings, backend) as api:
        token = await api.token("alice")
        r = await api.post(
            f"/waybill/repos/alice/copy/dependency-graph/sbom-import?sha={SHA_A}", token=token, content=raw
        )
        assert r.status_code == 201, r.text
        from_cli = await graph(api, "alice/web")
        assert from_cli == await graph(api, "alice/copy") == reference(raw)


HEAD = b'{"bomFormat": "CycloneDX", "specVersion": "1.6", '


@pytest.mark.parametrize(
    ("target", "content", "message"),
    [
        ("alice/none", b"{}", "waybill: repository not found: alice/none\n"),
        ("alice/web", HEAD + b'"components": [', "waybill: Problems parsing JSON\n"),
        (
            "alice/web",
            HEAD + b'"components": [{"bom-ref": "x", "purl": "pkg:npm/x@1"}]}',
            "waybill: components.x.name is missing\n",
        ),
        (
            "alice/web",
            b'{"bomFormat": "CycloneDX", "specVersion": "1.2"}',
            "waybill: CycloneDX 1.4, 1.5, 1.6 are supported\n",
        ),
    ],
)
async def test_errors_print_one_line_exit_1_and_write_nothing(  # type: ignore[no-untyped-def]
    waybill, settings, backend, tmp_path: Path, target: str, content: bytes, message: str
) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(content)
    await asyncio.to_thread(waybill, "users", "create", "alice")
    await asyncio.to_thread(waybill, "repos", "create", "alice/web")
    result = await asyncio.to_thread(waybill, "sbom", "import", target, str(path), "--sha", SHA_A)
    assert result.exit_code == 1
    assert result.stderr == message
    assert result.stdout == ""
    async with running(settings, backend) as api:
        assert await stored(api) == (0, 0)


def test_usage_errors(waybill, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bom.json"
    path.write_bytes(b"{}")
    assert waybill("sbom", "import", "alice/web", str(path)).exit_code == 2  # no --sha
    missing = str(tmp_path / "missing.json")
    assert waybill("sbom", "import", "alice/web", missing, "--sha", SHA_A).exit_code == 2
