"""Values of the attestations domain's verification rules, shared with the CLI and other domains."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    """What happens to a bundle posted to a repository."""

    # Stored unchecked: no verdict.
    OFF = "off"
    # Verified and the verdict stored; stored whatever the verdict.
    RECORD = "record"
    # Verified; refused (422) unless it verifies and its signer is the repository (and an allowed
    # workflow, when the policy lists some).
    ENFORCE = "enforce"


DEFAULT_MODE = Mode.RECORD


class PolicySource(StrEnum):
    REPOSITORY = "repository"
    OWNER = "owner"
    DEFAULT = "default"


@dataclass(frozen=True)
class Policy:
    mode: Mode
    # Workflow URIs (``https://github.com/OWNER/REPO/.github/workflows/F.yml``, optionally ``@REF``);
    # empty: any workflow of the repository may sign.
    allowed_workflows: tuple[str, ...] = ()
    source: PolicySource = PolicySource.DEFAULT


DEFAULT_POLICY = Policy(DEFAULT_MODE)
