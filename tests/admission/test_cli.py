"""``waybill admission set`` and ``show``, and what the HTTP API then reads, on both backends."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from waybill.cli.main import main
from waybill.config import Settings


def _run(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setenv("WAYBILL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("WAYBILL_DATABASE_URL", settings.database_url)
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_set_and_show(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def waybill(*args: str) -> Result:
        return _run(settings, monkeypatch, *args)

    assert waybill("users", "create", "alice").exit_code == 0
    assert waybill("orgs", "create", "acme", "--owner", "alice").exit_code == 0
    result = waybill(
        "admission", "set", "acme", "--environment", "prod", "--mode", "enforce", "--require-provenance",
        "--max-open-alert-severity", "high", "--registry", "https://ghcr.io", "--registry", "https://quay.io",
        "--exempt-namespace", "kube-system",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert waybill("admission", "set", "acme", "--environment", "staging").exit_code == 0
    shown = json.loads(waybill("admission", "show", "acme").output)
    prod = shown["environments"]["prod"]
    assert prod["mode"] == "enforce"
    assert prod["require_provenance"] is True
    assert prod["max_open_alert_severity"] == "high"
    assert prod["registries"] == ["https://ghcr.io", "https://quay.io"]
    assert prod["exempt_namespaces"] == ["kube-system"]
    assert shown["environments"]["staging"]["mode"] == "audit"
    bad = waybill("admission", "set", "acme", "--environment", "prod", "--max-open-alert-severity", "severe")
    assert bad.exit_code == 2
    missing = waybill("admission", "show", "nobody")
    assert missing.exit_code == 1
