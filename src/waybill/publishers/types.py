"""Values of trusted publishing: the OIDC issuers the operator trusts, the bindings (publishers)
that let a CI job's token stand for one repository, and what an exchange answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from waybill.accounts.types import Repository

# A CI job needs its token for minutes: long enough to attest and record, short enough not to matter.
PUBLISHER_TOKEN_LIFETIME = timedelta(minutes=15)
# Clock drift tolerated on exp, nbf and iat.
LEEWAY_SECONDS = 60
# Claims an issuer identifies a repository or project by that never change when it is renamed.
IMMUTABLE_CLAIMS = ("repository_id", "repository_owner_id", "project_id", "namespace_id")
GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True)
class Issuer:
    id: int
    url: str
    # A JWKS document the operator pinned; None: fetched through the issuer's discovery document.
    jwks: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True)
class StoredPublisher:
    """A publisher as stored: with its issuer, and the repository it binds tokens to by id."""

    id: int
    repository_id: int
    issuer: Issuer
    # Each an exact match on the token's claim of that name.
    claims: dict[str, str]
    # PATH@REF, matched against GitHub's job_workflow_ref or GitLab's ci_config_ref_uri.
    workflow: str | None
    environment: str | None
    permissions: dict[str, str]
    created_at: datetime


@dataclass(frozen=True)
class Publisher(StoredPublisher):
    """A publisher with its repository."""

    repository: Repository


class Check(StrEnum):
    """The checks a token must pass on its own, each named in the error that refuses it."""

    FORMAT = "format"
    ISSUER = "issuer"
    SIGNATURE = "signature"
    AUDIENCE = "audience"
    EXPIRATION = "exp"
    NOT_BEFORE = "nbf"
    ISSUED_AT = "iat"
    JTI = "jti"
    REPLAY = "replay"


@dataclass(frozen=True)
class Exchanged:
    token: str
    expires_at: datetime
    permissions: dict[str, str]
    repository: Repository
