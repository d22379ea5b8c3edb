"""``waybill apps``: create (a made key, or the operator's), install, suspend, uninstall."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from waybill.apps import keys
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


def test_create_install_suspend_uninstall(waybill, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert waybill("users", "create", "octocat").exit_code == 0
    assert waybill("orgs", "create", "acme", "--owner", "octocat").exit_code == 0
    assert waybill("repos", "create", "acme/web").exit_code == 0
    key = tmp_path / "tracker.pem"
    created = waybill(
        "apps",
        "create",
        "tracker",
        "--owner",
        "acme",
        "--permission",
        "artifact_metadata:write",
        "--private-key-out",
        str(key),
    )
    assert created.exit_code == 0, created.output
    assert re.fullmatch(r"app id \d+\nclient id Iv23[A-Za-z0-9]{16}\n", created.output)
    assert key.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert key.stat().st_mode & 0o077 == 0
    assert re.fullmatch(
        r"installation id \d+\n",
        waybill("apps", "install", "tracker", "acme", "--repositories", "web").output,
    )
    assert waybill("apps", "suspend", "tracker", "acme").output == "tracker is suspended on acme\n"
    assert (
        waybill("apps", "unsuspend", "tracker", "acme").output == "tracker is no longer suspended on acme\n"
    )
    assert waybill("apps", "uninstall", "tracker", "acme").output == "tracker is uninstalled from acme\n"
    missing = waybill("apps", "uninstall", "tracker", "acme")
    assert (missing.exit_code, missing.output) == (1, "waybill: tracker is not installed on acme\n")


def test_create_with_the_operators_public_key(waybill, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    waybill("users", "create", "octocat")
    _, public = keys.generate()
    pem = tmp_path / "public.pem"
    pem.write_text(public)
    created = waybill(
        "apps",
        "create",
        "mine",
        "--owner",
        "octocat",
        "--permission",
        "contents:read",
        "--public-key",
        str(pem),
    )
    assert created.exit_code == 0, created.output
    assert created.output.startswith("app id ")
    pem.write_text("not a key")
    bad = waybill("apps", "create", "mine2", "--owner", "octocat", "--public-key", str(pem))
    assert (bad.exit_code, bad.output) == (1, "waybill: not a PEM RSA key\n")
    unknown = waybill(
        "apps",
        "create",
        "mine3",
        "--owner",
        "octocat",
        "--permission",
        "issues:write",
        "--private-key-out",
        str(tmp_path / "k"),
    )
    assert (unknown.exit_code, unknown.output) == (1, "waybill: unknown permission: issues\n")
