"""The official description must be installed (``make test`` runs ``npm ci``): skipped when it is
not, except under CI=true, where that fails."""

from __future__ import annotations

import pytest

from tests.contract import description


@pytest.fixture(scope="session")
def official_description() -> None:
    if not description.installed():
        message = f"{description.GENERATED} is missing: run `make test` (npm ci in tests/clients/js)"
        if description.CI:
            pytest.fail(message)
        pytest.skip(message)
