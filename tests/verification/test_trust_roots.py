"""Loading trust roots: the shipped ones, and the operator's added or replacing them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from testkit.sigstore import SigstoreDouble

from waybill.attestations.verification import GITHUB, PUBLIC_GOOD, TrustRootError, TrustRoots, verify
from waybill.config import Settings


def test_builtin_roots() -> None:
    roots = TrustRoots.builtin()
    assert roots.names == (PUBLIC_GOOD, GITHUB)
    assert len(roots[GITHUB].timestamp_authorities) == 6
    assert not roots[GITHUB].tlogs
    assert roots[PUBLIC_GOOD].has_ctlogs


def test_operator_directory_adds_a_root(tmp_path: Path) -> None:
    instance = SigstoreDouble(name="acme")
    (tmp_path / "acme.json").write_text(json.dumps(instance.trusted_root()))
    roots = TrustRoots.configured(tmp_path)
    assert roots.names == (PUBLIC_GOOD, GITHUB, "acme")
    verdict = verify(instance.bundle(), roots)
    assert (verdict.verified, verdict.trust_root) == (True, "acme")


def test_operator_file_replaces_a_root_of_the_same_name(tmp_path: Path) -> None:
    instance = SigstoreDouble(name="github")
    path = tmp_path / "github.json"
    path.write_text(json.dumps(instance.trusted_root()))
    roots = TrustRoots.configured(path)
    assert roots.names == (PUBLIC_GOOD, GITHUB)
    assert len(roots[GITHUB].timestamp_authorities) == 1


def test_not_a_trusted_root(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"mediaType": "application/json"}))
    with pytest.raises(TrustRootError, match="trust root 'broken': not a Sigstore trusted root"):
        TrustRoots.from_path(path)


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(TrustRootError, match=r"trust roots: no \*\.json file in"):
        TrustRoots.from_path(tmp_path)


def test_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WAYBILL_TRUST_ROOTS", str(tmp_path))
    assert Settings.from_env().trust_roots == tmp_path
    monkeypatch.delenv("WAYBILL_TRUST_ROOTS")
    assert Settings.from_env().trust_roots is None
