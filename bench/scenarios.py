"""What is measured: each scenario builds the request the Lua driver sends (and whatever data it
reads), names the GitHub operation Prism mocks for it, the raw write that is its database ceiling,
and the issue's targets. A scenario runs once its route is registered in the app."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from bench.backends import Backend, Fixture
from bench.measure import RequestSpec
from bench.report import Target

Kind = Literal["write", "read", "reference"]
V2022 = "2022-11-28"
V2026 = "2026-03-10"


@dataclass
class Context:
    """One server on one backend at one scale level."""

    base: str
    backend: Backend
    fixture: Fixture
    client: httpx.Client
    workdir: Path
    rng: random.Random = field(default_factory=random.Random)
    # Filled by the loaders and by the scenarios' own setup (e.g. digests known to exist).
    data: dict[str, Any] = field(default_factory=dict)

    def headers(self, version: str = V2022, json_body: bool = False) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.fixture.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": version,
        }
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    kind: Kind
    method: str
    # The route as the spec writes it ({org}, not {org:str}): present in the app means "landed".
    route: str
    build: Callable[[Context], RequestSpec]
    # The GitHub operation Prism mocks for the same request, and the description version it reads.
    operation: str | None = None
    spec_version: str = V2022
    connections: int = 16
    raw: str | None = None
    at_scale: bool = False
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True)
class RawWrite:
    """The scenario's write straight to the database: a pgbench script (variables :org_id, :repo_id,
    :nonce, :client_id) and the SQLite statement with the parameters one iteration binds."""

    pgbench: str
    sqlite: str
    sqlite_params: Callable[[random.Random, int, Mapping[str, int]], Mapping[str, Any]]


def hex64(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


# ---------------------------------------------------------------------------------------------- targets

PRISM_3X = Target("≥3x Prism", "ratio:prism", ">=", 3.0)
READ_HALF_PING = Target("≥0.5x no-op", "ratio:ping", ">=", 0.5)
READ_P99_10MS = Target("p99 <10 ms", "p99_ms", "<", 10.0)
PG_UPSERT_RAW = Target("≥0.4x pgbench", "ratio:raw_db", ">=", 0.4, backends=("postgresql",))


# ------------------------------------------------------------------------------------------- scenarios


def _current_user(ctx: Context) -> RequestSpec:
    return RequestSpec("GET", "/user", ctx.headers())


SCENARIOS: list[Scenario] = [
    # Not one of the figures: the same server's cost of a token check and one read
    # transaction, which every authenticated operation pays on top of the no-op endpoint.
    Scenario("token_check", "token check (GET /user)", "reference", "GET", "/user", _current_user),
]

RAW_WRITES: dict[str, RawWrite] = {}
