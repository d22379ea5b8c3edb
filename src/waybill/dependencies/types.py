"""Values of the dependency graph domain: what a submission answers, and the current graph as the
other domains read it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Result(StrEnum):
    SUCCESS = "SUCCESS"
    ACCEPTED = "ACCEPTED"


@dataclass(frozen=True)
class Submitted:
    id: int
    created_at: str
    result: Result
    message: str


@dataclass(frozen=True, slots=True)
class Dependency:
    package_url: str
    ecosystem: str
    name: str
    version: str | None
    manifest: str
    scope: str | None
    relationship: str | None


@dataclass(frozen=True, slots=True)
class Dependent:
    repository_id: int
    dependency: Dependency
