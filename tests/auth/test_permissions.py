"""The permission rules, decided for every kind of caller without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from waybill.accounts.types import Account, AccountType, Repository, Role
from waybill.auth.permissions import decide
from waybill.auth.types import ANONYMOUS, Need, Principal, Token, TokenKind
from waybill.core.errors import NotFound, Unauthenticated

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ACME = Account(1, "acme", AccountType.ORGANIZATION, None, None, False, T0, T0)
OTHER = Account(2, "other", AccountType.ORGANIZATION, None, None, False, T0, T0)
ALICE = Account(3, "alice", AccountType.USER, None, None, False, T0, T0)
PRIVATE = Repository(10, ACME, "web", True, None, "main", T0, T0)
PUBLIC = Repository(11, ACME, "site", False, None, "main", T0, T0)
ELSEWHERE = Repository(12, OTHER, "lib", True, None, "main", T0, T0)

READ = Need(Role.READ, ("attestations",))
WRITE = Need(Role.WRITE, ("contents", "artifact_metadata"))


def classic(*scopes: str) -> Principal:
    return Principal(ALICE, Token(1, TokenKind.CLASSIC, frozenset(scopes), None, None, {}, None))


def fine(owner: Account = ACME, repos: frozenset[int] | None = None, **permissions: str) -> Principal:
    return Principal(ALICE, Token(2, TokenKind.FINE_GRAINED, frozenset(), owner.id, repos, permissions, None))


def outcome(error: Exception | None) -> str:
    if error is None:
        return "ok"
    message = str(error)
    return {NotFound: "404", Unauthenticated: "401"}.get(type(error), f"403 {message}")  # type: ignore[arg-type]


CASES = [
    # caller, repository, the user's own role, need, expected
    ("anonymous reads public", ANONYMOUS, PUBLIC, Role.READ, READ, "ok"),
    ("anonymous cannot see private", ANONYMOUS, PRIVATE, Role.NONE, READ, "404"),
    ("anonymous write to public needs auth", ANONYMOUS, PUBLIC, Role.READ, WRITE, "401"),
    ("classic repo reads private", classic("repo"), PRIVATE, Role.READ, READ, "ok"),
    ("classic without repo cannot see private", classic("read:org"), PRIVATE, Role.ADMIN, READ, "404"),
    ("classic repo writes", classic("repo"), PRIVATE, Role.WRITE, WRITE, "ok"),
    (
        "read-only user cannot write",
        classic("repo"),
        PRIVATE,
        Role.READ,
        WRITE,
        "403 Must have write access to repository acme/web.",
    ),
    ("public_repo writes public", classic("public_repo"), PUBLIC, Role.WRITE, WRITE, "ok"),
    ("public_repo cannot see private", classic("public_repo"), PRIVATE, Role.WRITE, WRITE, "404"),
    (
        "no scope cannot write public",
        classic(),
        PUBLIC,
        Role.WRITE,
        WRITE,
        "403 Resource not accessible by personal access token (requires the repo scope).",
    ),
    ("user without role cannot see private", classic("repo"), PRIVATE, Role.NONE, READ, "404"),
    ("fine-grained reads with permission", fine(attestations="read"), PRIVATE, Role.READ, READ, "ok"),
    (
        "fine-grained without permission is 403 naming it",
        fine(contents="read"),
        PRIVATE,
        Role.READ,
        READ,
        "403 Resource not accessible by personal access token (requires attestations:read).",
    ),
    (
        "fine-grained read level cannot write",
        fine(contents="read", artifact_metadata="read"),
        PRIVATE,
        Role.WRITE,
        WRITE,
        "403 Resource not accessible by personal access token (requires contents:write or "
        "artifact_metadata:write).",
    ),
    (
        "fine-grained any listed permission writes",
        fine(artifact_metadata="write"),
        PRIVATE,
        Role.WRITE,
        WRITE,
        "ok",
    ),
    (
        "fine-grained for another owner cannot see",
        fine(OTHER, attestations="read"),
        PRIVATE,
        Role.READ,
        READ,
        "404",
    ),
    (
        "fine-grained not selected cannot see",
        fine(repos=frozenset({11}), attestations="read"),
        PRIVATE,
        Role.READ,
        READ,
        "404",
    ),
    (
        "fine-grained selected sees",
        fine(repos=frozenset({10}), attestations="read"),
        PRIVATE,
        Role.READ,
        READ,
        "ok",
    ),
    ("fine-grained reads any public repository", fine(OTHER), PUBLIC, Role.READ, READ, "ok"),
    (
        "fine-grained cannot write public repositories it was not granted",
        fine(OTHER, contents="write"),
        PUBLIC,
        Role.WRITE,
        WRITE,
        "403 Resource not accessible by personal access token (requires contents:write or "
        "artifact_metadata:write).",
    ),
    ("fine-grained never exceeds the user", fine(contents="write"), ELSEWHERE, Role.NONE, WRITE, "404"),
]


@pytest.mark.parametrize(
    ("caller", "repo", "role", "need", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decide(caller: Principal, repo: Repository, role: Role, need: Need, expected: str) -> None:
    assert outcome(decide(caller, repo, role, need)) == expected
