"""The ``waybill`` command's forms, success and error paths, on both backends."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

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


def test_provisioning_commands(waybill) -> None:  # type: ignore[no-untyped-def]
    assert waybill("db", "upgrade").output == "database is up to date\n"
    assert waybill("users", "create", "alice").output.startswith("created user alice (id ")
    assert waybill("users", "create", "root", "--site-admin").exit_code == 0
    assert waybill("orgs", "create", "Acme", "--owner", "alice").output.startswith(
        "created organization Acme"
    )
    assert waybill("users", "create", "bob").exit_code == 0
    assert (
        waybill("orgs", "add-member", "acme", "bob", "--role", "owner").output == "bob is now owner of acme\n"
    )
    assert waybill("repos", "create", "acme/web", "--private").output.startswith(
        "created private repository Acme/web"
    )
    result = waybill("repos", "add-collaborator", "acme/web", "bob", "--permission", "admin")
    assert result.output == "bob has admin access to acme/web\n"


def test_tokens_create_prints_the_token_alone(waybill) -> None:  # type: ignore[no-untyped-def]
    waybill("users", "create", "alice")
    waybill("orgs", "create", "acme", "--owner", "alice")
    waybill("repos", "create", "acme/web")
    waybill("repos", "create", "acme/api")
    classic = waybill("tokens", "create", "alice", "--scopes", "repo,read:org")
    assert classic.exit_code == 0
    assert classic.stdout.strip().startswith("wbp_")
    assert classic.stdout.count("\n") == 1
    fine = waybill(
        "tokens",
        "create",
        "alice",
        "--fine-grained",
        "--resource-owner",
        "acme",
        "--repositories",
        "web,API",
        "--permission",
        "contents:write",
        "--permission",
        "attestations:read",
        "--expires-in-days",
        "30",
    )
    assert fine.exit_code == 0, fine.output
    assert fine.stdout.strip().startswith("wbpat_")
    revoked = waybill("tokens", "revoke", classic.stdout.strip())
    assert revoked.output == "token revoked\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "create", "alice"), "waybill: login already exists: alice\n"),
        (
            ("users", "create", "bad_name!"),
            "waybill: login may only contain alphanumeric characters or single "
            "hyphens, cannot begin or end with a hyphen, and is at most 39 characters\n",
        ),
        (("orgs", "create", "acme", "--owner", "nobody"), "waybill: user not found: nobody\n"),
        (("orgs", "add-member", "nope", "alice"), "waybill: organization not found: nope\n"),
        (("repos", "create", "nobody/x"), "waybill: account not found: nobody\n"),
        (("repos", "add-collaborator", "alice/none", "alice"), "waybill: repository not found: alice/none\n"),
        (("tokens", "create", "nobody"), "waybill: user not found: nobody\n"),
        (("tokens", "create", "alice", "--scopes", "repo,fly"), "waybill: unknown scope: fly\n"),
        (
            (
                "tokens",
                "create",
                "alice",
                "--fine-grained",
                "--resource-owner",
                "alice",
                "--permission",
                "x:write",
            ),
            "waybill: unknown permission: x\n",
        ),
        (
            (
                "tokens",
                "create",
                "alice",
                "--fine-grained",
                "--resource-owner",
                "alice",
                "--permission",
                "contents:admin",
            ),
            "waybill: contents: level must be read or write\n",
        ),
        (
            (
                "tokens",
                "create",
                "alice",
                "--fine-grained",
                "--resource-owner",
                "alice",
                "--repositories",
                "ghost",
            ),
            "waybill: repository not found: alice/ghost\n",
        ),
        (("tokens", "revoke", "wbp_nothing"), "waybill: token not found (or already revoked)\n"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(waybill, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    waybill("users", "create", "alice")
    result = waybill(*args)
    assert result.exit_code == 1
    assert result.stderr == message
    assert result.stdout == ""


def test_usage_errors(waybill) -> None:  # type: ignore[no-untyped-def]
    waybill("users", "create", "alice")
    assert waybill("tokens", "create", "alice", "--fine-grained").exit_code == 2
    assert waybill("tokens", "create", "alice", "--permission", "contents:read").exit_code == 2
    assert waybill("repos", "create", "no-slash").exit_code == 2
    assert waybill("orgs", "add-member", "a", "b", "--role", "king").exit_code == 2
