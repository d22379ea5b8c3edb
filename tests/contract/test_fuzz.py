"""The short, deterministic Schemathesis run of ``make test``: every implemented operation, both API
versions, against ``waybill serve`` on SQLite and on PostgreSQL. ``make fuzz`` is the long run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract import description
from tests.contract.fuzz import run_schemathesis
from tests.live import live_server

SEED = 20261110
MAX_EXAMPLES = 5


@pytest.mark.usefixtures("official_description")
def test_schemathesis_short_run(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if backend == "postgresql":
        request.getfixturevalue("postgres_database")  # skips (or fails under CI) when unreachable
    with live_server(backend, tmp_path / "server") as server:
        for version in description.API_VERSIONS:
            # Requests are the same under both versions (only responses differ), so the coverage
            # phase's boundary values run once; ``make fuzz`` runs every phase under both.
            phases = (
                "examples,coverage,fuzzing,stateful"
                if version == description.DEFAULT_VERSION
                else ("examples,fuzzing,stateful")
            )
            result = run_schemathesis(
                server, version, max_examples=MAX_EXAMPLES, seed=SEED, workdir=tmp_path, phases=phases
            )
            where = f"API {version}, {backend}"
            assert result.generated > 0, f"{where}: nothing generated\n{result.output[-5000:]}"
            assert not result.failures, f"{where}:\n" + "\n".join(result.failures) + result.output[-20000:]
            assert result.exit_code == 0, f"{where}:\n{result.output[-20000:]}"
